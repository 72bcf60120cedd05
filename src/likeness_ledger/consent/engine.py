"""The clearance engine over the database: the views it reads, and an in-memory index for speed.

:func:`likeness_ledger.consent.services.evaluate` answers one :class:`ClearanceQuery` by reading
the records it needs and building a ``likeness-case/1`` :class:`~likeness_ledger.consent.cases.Case`
for the pure engine (:func:`~likeness_ledger.consent.clearance.clear`). That is exact but costs a
few queries and a validated case per decision.

:class:`ClearanceIndex` loads every grant (with its revocation), performer, production, replica
and scan once, indexed by performer and scope, and then answers queries without touching the
database: it builds the engine's compiled request (:class:`~likeness_ledger.consent.rules.Ask`)
directly, the way :func:`~likeness_ledger.consent.clearance.compile_case` builds it from a case, and
runs the same policies and the same payment rules. Both paths see the same records through the
small views below (one scan per request, consents ordered by signature date then id), which is
what makes their decisions identical; tests check that on random worlds.

Keeping the index fresh costs little: every committed change, in any process, appends an event
naming its table and row to the transparency log (``log_leaves``). The index remembers how many
leaves there were when it read the records (its high-water mark); :meth:`ClearanceIndex.catch_up`
reads only the leaves since, and re-reads just the records they name (a performer's grants, a
production, a replica, a scan), instead of reloading millions of rows.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import Select, func, select

from likeness_ledger.compensation.rates import RateTable
from likeness_ledger.consent.clearance import (
    _DEFAULT_RATES,  # the engine's default table: sharing the object keeps its owed-cache semantics
    ZERO_TOTAL,
    Decision,
    _owed,  # the engine's own payment and disclosure rules, reused so both paths owe the same
    case_rate_table,
)
from likeness_ledger.consent.models import ConsentGrant, ConsentScope, GrantRevocation, GrantUse
from likeness_ledger.consent.rules import RULEBOOKS, ConsentDenied, policy_for, rulebook_in_force
from likeness_ledger.consent.rules.common import find_coverage
from likeness_ledger.consent.rules.context import Ask, Grant
from likeness_ledger.consent.rules.policy import Reason
from likeness_ledger.errors import Conflict, InvalidInput, NotFound
from likeness_ledger.registry.models import Performer, Production, ReplicaAsset, ScanSession, ScanStatus
from likeness_ledger.transparency.models import LogLeaf

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Iterator, Sequence

    from sqlalchemy import Connection
    from sqlalchemy.orm import Session

    from likeness_ledger.consent.query import ClearanceQuery

DEFAULT_CASE_ID: Final = "clearance"

#: A case's own rate table, empty: queries from the database carry no rates of their own.
_NO_CASE_RATES: Final = case_rate_table(())


# --- views shared by both paths ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PerformerView:
    """What the rules read about a performer."""

    id: str
    category: str
    born: date | None
    died: date | None


@dataclass(frozen=True, slots=True)
class ProductionView:
    """What the rules read about a production; ``agreement`` is checked against the rulebooks."""

    id: str
    producer: str
    title: str
    type: str
    agreement: str | None
    jurisdiction: str | None


@dataclass(frozen=True, slots=True)
class ReplicaView:
    """What the rules read about a replica asset.

    ``created_for`` and ``created_on`` come from the scan session it was captured in, when there
    is one: that is the production and the day the replica was made (AB 2602-type laws test the
    day); an asset uploaded without a session was made no later than its upload.
    """

    id: str
    performer_id: uuid.UUID
    kind: str
    media: str
    created_for: str | None
    created_on: date


@dataclass(frozen=True, slots=True)
class ScanView:
    """One scan session, as the facts ``engaged``, ``scan_notice`` and ``scan_scheduled``."""

    at: datetime
    engaged_at: datetime | None
    notice_at: datetime | None
    scan_only_call: bool


def check_query(query: ClearanceQuery) -> None:
    """Refuse a query the engine cannot answer; errors name the field."""
    if query.action == "use" and not query.use:
        raise InvalidInput("use: required for action 'use'")
    if query.action in ("use", "alter") and query.asset_id is None:
        raise InvalidInput(f"asset_id: required for action {query.action!r}")
    if query.action == "alter" and query.alteration is None:
        raise InvalidInput("alteration: required for action 'alter'")
    if query.action != "alter" and query.alteration is not None:
        raise InvalidInput(f"alteration: must be null for action {query.action!r}")
    if query.estimated_days is not None and query.estimated_days < 0:
        raise InvalidInput("estimated_days: must not be negative")


def check_agreement(production: ProductionView) -> None:
    """A production under an agreement the engine does not know cannot be judged as if under none."""
    if production.agreement is not None and production.agreement not in RULEBOOKS:
        known = ", ".join(sorted(RULEBOOKS))
        raise Conflict(
            f"production_id: production {production.id} is under agreement {production.agreement!r}, "
            f"which the rules engine does not know (known: {known})"
        )


def select_scan(scans: Sequence[ScanView], on: date) -> ScanView | None:
    """The scan a creation request is about: the one held on ``on``, failing that the earliest."""
    if not scans:
        return None
    for scan in scans:
        if scan.at.date() == on:
            return scan
    return min(scans, key=lambda s: s.at)


def grant_order(signed_on: date, grant_id: str) -> tuple[date, str]:
    """Consents are tried oldest signature first (ties by id), in both paths alike."""
    return signed_on, grant_id


def performer_view(row: Performer) -> PerformerView:
    """The view of a performer row."""
    return PerformerView(str(row.id), row.category.value, row.born_on, row.died_on)


def production_view(row: Production) -> ProductionView:
    """The view of a production row."""
    return ProductionView(str(row.id), str(row.producer_id), row.title, row.type.value, row.agreement, row.jurisdiction)


def replica_view(row: ReplicaAsset, scan: ScanSession | None) -> ReplicaView:
    """The view of a replica asset row and the scan session it came from."""
    return ReplicaView(
        id=str(row.id),
        performer_id=row.performer_id,
        kind=row.kind.value,
        media=row.media.value,
        created_for=str(scan.production_id) if scan is not None else None,
        created_on=scan.scheduled_at.date() if scan is not None else row.created_at.date(),
    )


def scan_view(row: ScanSession) -> ScanView:
    """The view of a scan session row."""
    return ScanView(row.scheduled_at, row.engaged_at, row.notice_sent_at, row.scan_only_call)


# --- reading rows ----------------------------------------------------------------------------------

_PERF: Final = Performer.__table__
_PROD: Final = Production.__table__
_ASSET: Final = ReplicaAsset.__table__
_SCAN: Final = ScanSession.__table__
_GRANT: Final = ConsentGrant.__table__
_USE: Final = GrantUse.__table__
_REV: Final = GrantRevocation.__table__
_SCOPES: Final = tuple(scope.value for scope in ConsentScope)
# The tables as the transparency log's events name them.
_PERF_TABLE: Final = Performer.__tablename__
_PROD_TABLE: Final = Production.__tablename__
_ASSET_TABLE: Final = ReplicaAsset.__tablename__
_SCAN_TABLE: Final = ScanSession.__tablename__
_GRANT_TABLE: Final = ConsentGrant.__tablename__
#: Log tables whose events change a performer's grants.
_GRANT_TABLES: Final = frozenset({_GRANT_TABLE, GrantUse.__tablename__, GrantRevocation.__tablename__})
#: The event types (``<table>.<action>``) of every table the index reads.
_EVENT_TYPES: Final = tuple(
    f"{table}.{action}"
    for table in sorted({*_GRANT_TABLES, _PERF_TABLE, _PROD_TABLE, _ASSET_TABLE, _SCAN_TABLE})
    for action in ("created", "updated", "deleted")
)
#: Beyond this many leaves since the mark, one pass over the tables beats following them.
DEFAULT_MAX_GAP: Final = 50_000
#: Ids per ``IN (...)`` list, well under SQLite's limit on bound parameters.
_CHUNK: Final = 500


def _log_size(conn: Connection) -> int:
    last = conn.scalar(select(func.max(LogLeaf.__table__.c.index)))
    return 0 if last is None else int(last) + 1


def _revocation_count(conn: Connection) -> int:
    return int(conn.scalar(select(func.count()).select_from(_REV)) or 0)


def _rows_by(conn: Connection, query: Select[Any], column: Any, ids: Iterable[uuid.UUID]) -> Iterator[Any]:
    """The rows of ``query`` whose ``column`` is one of ``ids``, a chunk of ids per statement."""
    wanted = list(ids)
    for start in range(0, len(wanted), _CHUNK):
        yield from conn.execute(query.where(column.in_(wanted[start : start + _CHUNK])))


def _put(mapping: dict[Any, Any], key: Any, value: Any) -> None:
    # A record re-read replaces the one held; one gone (deleted) leaves the index.
    if value is None:
        mapping.pop(key, None)
    else:
        mapping[key] = value


def _uuid(raw: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(raw)) if raw is not None else None
    except ValueError:
        return None


def _performer_rows() -> Select[Any]:
    return select(_PERF.c.id, _PERF.c.category, _PERF.c.born_on, _PERF.c.died_on)


def _performer(r: Any) -> PerformerView:
    return PerformerView(str(r.id), _value(r.category), r.born_on, r.died_on)


def _production_rows() -> Select[Any]:
    return select(_PROD.c.id, _PROD.c.producer_id, _PROD.c.title, _PROD.c.type, _PROD.c.agreement, _PROD.c.jurisdiction)


def _production(r: Any) -> ProductionView:
    return ProductionView(str(r.id), str(r.producer_id), r.title, _value(r.type), r.agreement, r.jurisdiction)


def _scan_rows() -> Select[Any]:
    return select(
        _SCAN.c.id,
        _SCAN.c.performer_id,
        _SCAN.c.production_id,
        _SCAN.c.scheduled_at,
        _SCAN.c.engaged_at,
        _SCAN.c.notice_sent_at,
        _SCAN.c.scan_only_call,
        _SCAN.c.status,
    )


def _scan(r: Any) -> ScanView:
    return ScanView(r.scheduled_at, r.engaged_at, r.notice_sent_at, bool(r.scan_only_call))


def _scan_time(scan: ScanView) -> datetime:
    return scan.at


def _asset_rows() -> Select[Any]:
    return select(
        _ASSET.c.id, _ASSET.c.performer_id, _ASSET.c.kind, _ASSET.c.media, _ASSET.c.scan_session_id, _ASSET.c.created_at
    )


def _replica(a: Any, made: tuple[str, date] | None) -> ReplicaView:
    return ReplicaView(
        id=str(a.id),
        performer_id=a.performer_id,
        kind=_value(a.kind),
        media=_value(a.media),
        created_for=made[0] if made else None,
        created_on=made[1] if made else a.created_at.date(),
    )


def _grant_rows() -> Select[Any]:
    return select(
        _GRANT.c.id,
        _GRANT.c.performer_id,
        _GRANT.c.scope,
        _GRANT.c.replica_asset_id,
        _GRANT.c.production_id,
        _GRANT.c.specific,
        _GRANT.c.separately_signed,
        _GRANT.c.signed_by,
        _GRANT.c.signed_on,
        _GRANT.c.valid_from,
        _GRANT.c.expires_on,
        _GRANT.c.representation,
    )


def _grant_key(grant: Grant) -> tuple[date, str]:
    return grant_order(grant.signed_on, grant.id)


@dataclass(slots=True)
class _Changes:
    """The records a run of log events names, by table."""

    grants: set[uuid.UUID] = field(default_factory=set)
    grant_performers: set[uuid.UUID] = field(default_factory=set)
    performers: set[uuid.UUID] = field(default_factory=set)
    productions: set[uuid.UUID] = field(default_factory=set)
    assets: set[uuid.UUID] = field(default_factory=set)
    scans: set[uuid.UUID] = field(default_factory=set)
    scan_pairs: set[tuple[uuid.UUID, uuid.UUID]] = field(default_factory=set)

    @classmethod
    def of(cls, events: Iterable[dict[str, Any]]) -> _Changes:
        """Sort the events' records by table; an id that does not parse names nothing."""
        changes = cls()
        for event in events:
            table = event.get("table")
            data = event.get("data") or {}
            entity = event.get("entity_id")
            if table in _GRANT_TABLES:
                # The event names the grant's performer; the grant id is looked up as well, in
                # case an event was written without it.
                for performer in event.get("performer_ids") or ():
                    _add(changes.grant_performers, performer)
                _add(changes.grants, entity if table == _GRANT_TABLE else data.get("grant_id"))
            elif table == _PERF_TABLE:
                _add(changes.performers, entity)
            elif table == _PROD_TABLE:
                _add(changes.productions, entity)
            elif table == _ASSET_TABLE:
                _add(changes.assets, entity)
            elif table == _SCAN_TABLE:
                _add(changes.scans, entity)
                # The pair it was filed under, also for a deleted session (its data is its last state).
                performer, production = _uuid(data.get("performer_id")), _uuid(data.get("production_id"))
                if performer is not None and production is not None:
                    changes.scan_pairs.add((performer, production))
        return changes


def _add(ids: set[uuid.UUID], raw: object) -> None:
    parsed = _uuid(raw)
    if parsed is not None:
        ids.add(parsed)


# --- the in-memory index -------------------------------------------------------------------------


class ClearanceIndex:
    """Every record the rules read, loaded once and indexed, answering queries without the database.

    Grants are kept as the engine's own :class:`Grant` records, grouped by (performer, scope) and
    in the order both paths try them; the engine's coverage step then narrows them to the replica,
    production and use asked about. Build it with :meth:`load`; refresh it with
    :meth:`refresh` after writes (:func:`likeness_ledger.consent.services.clearance_index` does
    that for the API).
    """

    def __init__(self) -> None:
        # Keyed by the ids' integer values: hashing a UUID runs Python code, hashing an int does not,
        # and these lookups are most of the work of a decision.
        self.performers: dict[int, PerformerView] = {}
        self.productions: dict[int, ProductionView] = {}
        self.replicas: dict[int, ReplicaView] = {}
        self.grants: dict[tuple[int, str], tuple[Grant, ...]] = {}
        self.by_production: dict[tuple[int, str, str], tuple[Grant, ...]] = {}
        self.scans: dict[tuple[int, int], tuple[ScanView, ...]] = {}
        #: How many grants held here are revoked (one revocation row each): compared with the
        #: table, it catches a revocation written without its log event.
        self.revocation_count = 0
        #: The transparency log's size when the records were last read: every change committed
        #: since, by any process, is a leaf at or after this mark.
        self.log_size = 0
        #: How the last :meth:`catch_up` went: ``"current"``, ``"incremental"`` or ``"reload"``.
        self.last_refresh = "load"
        # Many grants describe the same uses; sharing one frozenset per distinct list saves memory
        # at a million grants.
        self._use_sets: dict[tuple[str, ...], frozenset[str]] = {}

    # -- loading --

    @classmethod
    def load(cls, session: Session) -> ClearanceIndex:
        """Read every record the rules need, with a handful of whole-table queries."""
        index = cls()
        index._load(session)
        return index

    def _load(self, session: Session) -> None:
        conn = session.connection()
        # The mark is read before the records: a change committed in between is then both in the
        # records and after the mark, and applying it once more is harmless (catching up re-reads
        # current rows, it does not replay events).
        self.log_size = _log_size(conn)
        self.performers = {r.id.int: _performer(r) for r in conn.execute(_performer_rows())}
        self.productions = {r.id.int: _production(r) for r in conn.execute(_production_rows())}
        scans: dict[tuple[int, int], list[ScanView]] = defaultdict(list)
        scan_made: dict[uuid.UUID, tuple[str, date]] = {}
        for r in conn.execute(_scan_rows()):
            scan_made[r.id] = (str(r.production_id), r.scheduled_at.date())
            if _value(r.status) != ScanStatus.CANCELLED.value:
                scans[(r.performer_id.int, r.production_id.int)].append(_scan(r))
        self.scans = {key: tuple(sorted(views, key=_scan_time)) for key, views in scans.items()}
        self.replicas = {}
        for a in conn.execute(_asset_rows()):
            made = scan_made.get(a.scan_session_id) if a.scan_session_id is not None else None
            self.replicas[a.id.int] = _replica(a, made)
        uses: dict[uuid.UUID, list[str]] = defaultdict(list)
        for grant_id, key in conn.execute(select(_USE.c.grant_id, _USE.c.key).order_by(_USE.c.position)):
            uses[grant_id].append(key)
        revoked: dict[uuid.UUID, date] = {
            r.grant_id: r.effective_on for r in conn.execute(select(_REV.c.grant_id, _REV.c.effective_on))
        }
        self.revocation_count = 0
        grouped: dict[tuple[int, str], list[Grant]] = defaultdict(list)
        for g in conn.execute(_grant_rows()):
            grant = self._grant(g, uses, revoked)
            self.revocation_count += grant.revoked_on is not None
            grouped[(g.performer_id.int, grant.scope)].append(grant)
        self.grants = {key: tuple(sorted(items, key=_grant_key)) for key, items in grouped.items()}
        # The same grants again by production, in the same order: most questions are about a
        # production the performer consented to, and then the answer is in this small bucket.
        buckets: dict[tuple[int, str, str], list[Grant]] = defaultdict(list)
        for (performer, scope), items in self.grants.items():
            for grant in items:
                buckets[(performer, scope, grant.production)].append(grant)
        self.by_production = {key: tuple(items) for key, items in buckets.items()}

    def _grant(self, g: Any, uses: dict[uuid.UUID, list[str]], revoked: dict[uuid.UUID, date]) -> Grant:
        keys = tuple(uses.get(g.id, ()))
        key_set = self._use_sets.get(keys)
        if key_set is None:
            key_set = self._use_sets[keys] = frozenset(keys)
        return make_grant(
            grant_id=str(g.id),
            scope=_value(g.scope),
            replica=_shared_id(self.replicas, g.replica_asset_id),
            production=_shared_id(self.productions, g.production_id) or str(g.production_id),
            uses=key_set,
            specific=bool(g.specific),
            separately_signed=bool(g.separately_signed),
            signed_by=_value(g.signed_by),
            signed_on=g.signed_on,
            valid_from=g.valid_from,
            expires_on=g.expires_on,
            revoked_on=revoked.get(g.id),
            representation=_value(g.representation),
        )

    def refresh(self, session: Session) -> None:
        """Reload everything from the database."""
        self._load(session)
        self.last_refresh = "reload"

    def stale(self, session: Session) -> bool:
        """Whether anything the index reads changed since it last read (by this process or another)."""
        conn = session.connection()
        return _log_size(conn) != self.log_size or _revocation_count(conn) != self.revocation_count

    def catch_up(self, session: Session, *, max_gap: int = DEFAULT_MAX_GAP) -> str:
        """Apply every change committed since the index last read, by any process; say how.

        Reads the transparency log's leaves after :attr:`log_size` that concern the indexed
        tables and re-reads only the records they name: all grants of each performer a grant,
        grant use or revocation event concerns (a few rows each), and each performer, production,
        replica and scan session changed (with the replicas captured in a changed session).
        Answers ``"current"`` when nothing the index reads changed, ``"incremental"`` when some
        records were re-read, and ``"reload"`` when everything was: more than ``max_gap`` events
        about the indexed tables were appended (one pass over the tables is then cheaper), the
        log shrank (another database), or the revocations on file do not match the index (a
        revocation written with event logging off must still stop releases at once).
        """
        conn = session.connection()
        size = _log_size(conn)
        outcome = "current"
        if size < self.log_size:
            self._load(session)
            outcome = "reload"
        elif size > self.log_size:
            leaf = LogLeaf.__table__
            # Only the events about the indexed tables, and no more than a reload's worth: leaves
            # about usage, payments or the log itself cost one range scan and nothing else.
            texts = conn.scalars(
                select(leaf.c.event)
                .where(leaf.c.index >= self.log_size, leaf.c.index < size, leaf.c.event_type.in_(_EVENT_TYPES))
                .order_by(leaf.c.index)
                .limit(max_gap + 1)
            ).all()
            if len(texts) > max_gap:
                self._load(session)
                outcome = "reload"
            else:
                if texts:
                    self._apply(conn, [json.loads(text) for text in texts])
                    outcome = "incremental"
                self.log_size = size
        if outcome != "reload" and _revocation_count(conn) != self.revocation_count:
            self._load(session)
            outcome = "reload"
        self.last_refresh = outcome
        return outcome

    def _apply(self, conn: Connection, events: Sequence[dict[str, Any]]) -> None:  # noqa: PLR0912 - a step per table
        """Re-read the records the events name and put them in place of what the index held."""
        changed = _Changes.of(events)
        performers, productions, assets = changed.performers, changed.productions, changed.assets
        scan_ids, scan_pairs = changed.scans, changed.scan_pairs
        grant_ids, grant_performers = changed.grants, changed.grant_performers
        if performers:
            found = {r.id: _performer(r) for r in _rows_by(conn, _performer_rows(), _PERF.c.id, performers)}
            for performer_id in performers:
                _put(self.performers, performer_id.int, found.get(performer_id))
        if productions:
            found_p = {r.id: _production(r) for r in _rows_by(conn, _production_rows(), _PROD.c.id, productions)}
            for production_id in productions:
                _put(self.productions, production_id.int, found_p.get(production_id))
        if scan_ids:
            for r in _rows_by(conn, select(_SCAN.c.performer_id, _SCAN.c.production_id), _SCAN.c.id, scan_ids):
                scan_pairs.add((r.performer_id, r.production_id))
            # Replicas captured in a changed session were made for its production on its day.
            assets.update(r.id for r in _rows_by(conn, select(_ASSET.c.id), _ASSET.c.scan_session_id, scan_ids))
        if scan_pairs:
            by_pair: dict[tuple[int, int], list[ScanView]] = defaultdict(list)
            owners = {performer for performer, _ in scan_pairs}
            for r in _rows_by(conn, _scan_rows(), _SCAN.c.performer_id, owners):
                if _value(r.status) != ScanStatus.CANCELLED.value:
                    by_pair[(r.performer_id.int, r.production_id.int)].append(_scan(r))
            for performer, production in scan_pairs:
                key = (performer.int, production.int)
                views = by_pair.get(key)
                _put(self.scans, key, tuple(sorted(views, key=_scan_time)) if views else None)
        if assets:
            made_rows = _asset_rows().add_columns(
                _SCAN.c.production_id.label("made_for"), _SCAN.c.scheduled_at.label("made_at")
            )
            made_rows = made_rows.select_from(_ASSET.outerjoin(_SCAN, _ASSET.c.scan_session_id == _SCAN.c.id))
            found_a = {
                a.id: _replica(a, (str(a.made_for), a.made_at.date()) if a.made_for is not None else None)
                for a in _rows_by(conn, made_rows, _ASSET.c.id, assets)
            }
            for asset_id in assets:
                _put(self.replicas, asset_id.int, found_a.get(asset_id))
        if grant_ids:
            grant_performers.update(
                r.performer_id for r in _rows_by(conn, select(_GRANT.c.performer_id), _GRANT.c.id, grant_ids)
            )
        if grant_performers:
            self._reload_grants(conn, grant_performers)

    def _reload_grants(self, conn: Connection, performers: Collection[uuid.UUID]) -> None:
        """Replace the named performers' grants (every scope) with what the database holds now."""
        rows = list(_rows_by(conn, _grant_rows(), _GRANT.c.performer_id, performers))
        ids = [g.id for g in rows]
        uses: dict[uuid.UUID, list[str]] = defaultdict(list)
        for r in _rows_by(conn, select(_USE.c.grant_id, _USE.c.key).order_by(_USE.c.position), _USE.c.grant_id, ids):
            uses[r.grant_id].append(r.key)
        revoked = {
            r.grant_id: r.effective_on
            for r in _rows_by(conn, select(_REV.c.grant_id, _REV.c.effective_on), _REV.c.grant_id, ids)
        }
        grouped: dict[tuple[int, str], list[Grant]] = defaultdict(list)
        for g in rows:
            grant = self._grant(g, uses, revoked)
            grouped[(g.performer_id.int, grant.scope)].append(grant)
        for performer in performers:
            for scope in _SCOPES:
                key = (performer.int, scope)
                old = self.grants.get(key, ())
                new = tuple(sorted(grouped.get(key, ()), key=_grant_key))
                self.revocation_count += sum(g.revoked_on is not None for g in new)
                self.revocation_count -= sum(g.revoked_on is not None for g in old)
                # New entries go in before stale ones come out, each a single dict assignment: a
                # decision running in another thread meanwhile sees one state or the other per key.
                buckets: dict[str, list[Grant]] = defaultdict(list)
                for grant in new:
                    buckets[grant.production].append(grant)
                for production, items in buckets.items():
                    self.by_production[(performer.int, scope, production)] = tuple(items)
                _put(self.grants, key, new or None)
                for production in {g.production for g in old} - buckets.keys():
                    self.by_production.pop((performer.int, scope, production), None)

    def production(self, production_id: uuid.UUID) -> ProductionView | None:
        """The loaded view of a production, if it exists."""
        return self.productions.get(production_id.int)

    @property
    def grant_count(self) -> int:
        """How many grants the index holds."""
        return sum(len(items) for items in self.grants.values())

    # -- answering --

    def evaluate(  # noqa: PLR0915 - one flat function: it is the hot path, and calls cost here
        self, query: ClearanceQuery, *, rates: RateTable | None = None, case_id: str = DEFAULT_CASE_ID
    ) -> Decision:
        """Decide one query exactly as :func:`~likeness_ledger.consent.services.evaluate` would."""
        check_query(query)
        performer = self.performers.get(query.performer_id.int)
        if performer is None:
            raise NotFound(f"performer_id: performer {query.performer_id} not found")
        production = self.productions.get(query.production_id.int)
        if production is None:
            raise NotFound(f"production_id: production {query.production_id} not found")
        check_agreement(production)
        replica: ReplicaView | None = None
        if query.asset_id is not None:
            replica = self.replicas.get(query.asset_id.int)
            if replica is None:
                raise NotFound(f"asset_id: replica asset {query.asset_id} not found")
            if replica.performer_id != query.performer_id:
                raise InvalidInput(f"asset_id: replica asset {query.asset_id} is not of performer {performer.id}")
        on = query.on
        action = query.action
        book = rulebook_in_force(production.agreement, on)
        scope = "creation" if action == "create" else "use"
        replica_id = replica.id if replica is not None else None
        # The engine's coverage step. ``find_coverage`` narrows the performer's grants by scope,
        # replica, production and use, keeping their order; the production's bucket holds the
        # same grants of this scope for this production in that order, so narrowing it by replica
        # and use gives the very same tuple. When nothing covers, ``find_coverage`` itself works
        # out which step failed and why.
        use = query.use
        covering: tuple[Grant, ...] = ()
        bucket = self.by_production.get((query.performer_id.int, scope, production.id))
        if bucket:
            covering = tuple(
                g
                for g in bucket
                if (g.replica is None or replica_id is None or g.replica == replica_id)
                and (use is None or use in g.uses)
            )
        gap: Reason | None = None
        if not covering:
            gap, covering = find_coverage(
                self.grants.get((query.performer_id.int, scope), ()),
                action=action,
                performer_id=performer.id,
                replica_id=replica_id,
                production=production.id,
                use=use,
                rulebook=book,
            )
        scan = (
            select_scan(self.scans.get((query.performer_id.int, query.production_id.int), ()), on)
            if action == "create"
            else None
        )
        ask = _new_ask()
        _set_case_id(ask, case_id)
        _set_action(ask, action)
        _set_on(ask, on)
        _set_performer_id(ask, performer.id)
        _set_category(ask, performer.category)
        _set_died(ask, performer.died)
        _set_own_daily_rate(ask, None)  # the registry keeps no performer's own daily rate
        _set_jurisdiction(ask, production.jurisdiction)
        _set_rulebook(ask, book)
        _set_role(ask, query.role)
        _set_use(ask, query.use)
        _set_estimated_days(ask, query.estimated_days)
        _set_replaces_in_person_work(ask, query.replaces_in_person_work)
        _set_alteration(ask, query.alteration)
        _set_replica_id(ask, replica_id)
        # A replica not made yet (action create) is made on the day of the request, as in compile_case.
        _set_replica_created_on(ask, replica.created_on if replica is not None else on)
        _set_coverage_gap(ask, gap)
        _set_covering(ask, covering)
        _set_engaged_at(ask, scan.engaged_at if scan is not None else None)
        _set_notice_at(ask, scan.notice_at if scan is not None else None)
        _set_scan_at(ask, scan.at if scan is not None else None)
        _set_scan_only_call(ask, scan is not None and scan.scan_only_call)
        _set_strikes(ask, ())  # strikes are not recorded in the registry yet
        try:
            reasons = policy_for(book, action, query.alteration).check(ask)
        except ConsentDenied as denial:
            return Decision(case_id, "deny", denial.reasons, (), ZERO_TOTAL)
        obligations, payment_total = _owed(ask, (_NO_CASE_RATES, rates if rates is not None else _DEFAULT_RATES))
        return Decision(case_id, "allow", reasons, obligations, payment_total)

    def evaluate_many(
        self, queries: Iterable[ClearanceQuery], *, rates: RateTable | None = None, case_id: str = DEFAULT_CASE_ID
    ) -> list[Decision]:
        """Decide many queries."""
        return [self.evaluate(q, rates=rates, case_id=case_id) for q in queries]


# --- building the engine's Ask fast -----------------------------------------------------------------
#
# ``Ask`` is a frozen, slotted dataclass of 23 fields; its generated ``__init__`` sets each through
# ``object.__setattr__`` and costs about as much as the rules that read it. ``evaluate`` fills the
# slots through their descriptors instead (a third of the cost). This is sound because ``Ask`` has
# no ``__post_init__`` and no defaults; the check below fails at import if a field is added or
# renamed without ``evaluate`` setting it, and the equivalence tests compare every field's effect.
_ASK_FIELDS: Final = tuple(f.name for f in fields(Ask))
_ASK_SET: Final = frozenset(
    {
        "case_id", "action", "on", "performer_id", "category", "died", "own_daily_rate", "jurisdiction",
        "rulebook", "role", "use", "estimated_days", "replaces_in_person_work", "alteration", "replica_id",
        "replica_created_on", "coverage_gap", "covering", "engaged_at", "notice_at", "scan_at",
        "scan_only_call", "strikes",
    }
)  # fmt: skip
if set(_ASK_FIELDS) != _ASK_SET or hasattr(Ask, "__post_init__"):  # pragma: no cover - guards an engine change
    raise ImportError(f"consent.engine builds Ask field by field; Ask now has {_ASK_FIELDS}")


def _slot(name: str) -> Any:
    return getattr(Ask, name).__set__


def _new_ask() -> Ask:
    return object.__new__(Ask)


_set_case_id, _set_action, _set_on, _set_performer_id = map(_slot, ("case_id", "action", "on", "performer_id"))
_set_category, _set_died, _set_own_daily_rate = map(_slot, ("category", "died", "own_daily_rate"))
_set_jurisdiction, _set_rulebook, _set_role, _set_use = map(_slot, ("jurisdiction", "rulebook", "role", "use"))
_set_estimated_days, _set_replaces_in_person_work = map(_slot, ("estimated_days", "replaces_in_person_work"))
_set_alteration, _set_replica_id, _set_replica_created_on = map(
    _slot, ("alteration", "replica_id", "replica_created_on")
)
_set_coverage_gap, _set_covering, _set_engaged_at = map(_slot, ("coverage_gap", "covering", "engaged_at"))
_set_notice_at, _set_scan_at, _set_scan_only_call, _set_strikes = map(
    _slot, ("notice_at", "scan_at", "scan_only_call", "strikes")
)


def make_grant(
    *,
    grant_id: str,
    scope: str,
    replica: str | None,
    production: str,
    uses: frozenset[str],
    specific: bool,
    separately_signed: bool,
    signed_by: str,
    signed_on: date,
    valid_from: date | None,
    expires_on: date | None,
    revoked_on: date | None,
    representation: str,
) -> Grant:
    """The engine's record of a consent, with the first day it counts worked out as the engine does."""
    return Grant(
        id=grant_id,
        scope=scope,
        replica=replica,
        production=production,
        uses=uses,
        specific=specific,
        separately_signed=separately_signed,
        signed_by=signed_by,
        signed_on=signed_on,
        starts_on=max(signed_on, valid_from) if valid_from else signed_on,
        expires_on=expires_on,
        revoked_on=revoked_on,
        representation=representation,
    )


def _shared_id(views: dict[int, Any], record_id: uuid.UUID | None) -> str | None:
    # Reuse the view's id string: a million grants then hold a few thousand strings, not millions.
    if record_id is None:
        return None
    view = views.get(record_id.int)
    return view.id if view is not None else str(record_id)


def _value(raw: Any) -> str:
    # Core queries return enum columns as the Enum member; keep the stored value either way.
    return str(raw.value) if hasattr(raw, "value") else str(raw)


__all__ = [
    "DEFAULT_CASE_ID",
    "DEFAULT_MAX_GAP",
    "ClearanceIndex",
    "PerformerView",
    "ProductionView",
    "ReplicaView",
    "ScanView",
    "check_agreement",
    "check_query",
    "make_grant",
    "select_scan",
]
