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
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import func, select

from likeness_ledger.compensation.rates import RateTable
from likeness_ledger.consent.clearance import (
    _DEFAULT_RATES,  # the engine's default table: sharing the object keeps its owed-cache semantics
    ZERO_TOTAL,
    Decision,
    _owed,  # the engine's own payment and disclosure rules, reused so both paths owe the same
    case_rate_table,
)
from likeness_ledger.consent.models import ConsentGrant, GrantRevocation, GrantUse
from likeness_ledger.consent.rules import RULEBOOKS, ConsentDenied, policy_for, rulebook_in_force
from likeness_ledger.consent.rules.common import find_coverage
from likeness_ledger.consent.rules.context import Ask, Grant
from likeness_ledger.consent.rules.policy import Reason
from likeness_ledger.errors import Conflict, InvalidInput, NotFound
from likeness_ledger.registry.models import Performer, Production, ReplicaAsset, ScanSession, ScanStatus

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

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
        #: How many revocations were on file when loaded: a cheap check that another process
        #: has not revoked a consent since.
        self.revocation_count = 0

    # -- loading --

    @classmethod
    def load(cls, session: Session) -> ClearanceIndex:
        """Read every record the rules need, with a handful of whole-table queries."""
        index = cls()
        index._load(session)
        return index

    def _load(self, session: Session) -> None:
        conn = session.connection()
        perf_t, prod_t = Performer.__table__, Production.__table__
        asset_t, scan_t = ReplicaAsset.__table__, ScanSession.__table__
        grant_t, use_t, rev_t = ConsentGrant.__table__, GrantUse.__table__, GrantRevocation.__table__
        self.performers = {
            r.id.int: PerformerView(str(r.id), _value(r.category), r.born_on, r.died_on)
            for r in conn.execute(select(perf_t.c.id, perf_t.c.category, perf_t.c.born_on, perf_t.c.died_on))
        }
        self.productions = {
            r.id.int: ProductionView(
                str(r.id), str(r.producer_id), r.title, _value(r.type), r.agreement, r.jurisdiction
            )
            for r in conn.execute(
                select(
                    prod_t.c.id,
                    prod_t.c.producer_id,
                    prod_t.c.title,
                    prod_t.c.type,
                    prod_t.c.agreement,
                    prod_t.c.jurisdiction,
                )
            )
        }
        scans: dict[tuple[int, int], list[ScanView]] = defaultdict(list)
        scan_made: dict[uuid.UUID, tuple[str, date]] = {}
        for r in conn.execute(
            select(
                scan_t.c.id,
                scan_t.c.performer_id,
                scan_t.c.production_id,
                scan_t.c.scheduled_at,
                scan_t.c.engaged_at,
                scan_t.c.notice_sent_at,
                scan_t.c.scan_only_call,
                scan_t.c.status,
            )
        ):
            scan_made[r.id] = (str(r.production_id), r.scheduled_at.date())
            if _value(r.status) != ScanStatus.CANCELLED.value:
                view = ScanView(r.scheduled_at, r.engaged_at, r.notice_sent_at, bool(r.scan_only_call))
                scans[(r.performer_id.int, r.production_id.int)].append(view)
        self.scans = {key: tuple(sorted(views, key=lambda s: s.at)) for key, views in scans.items()}
        self.replicas = {}
        for a in conn.execute(
            select(
                asset_t.c.id,
                asset_t.c.performer_id,
                asset_t.c.kind,
                asset_t.c.media,
                asset_t.c.scan_session_id,
                asset_t.c.created_at,
            )
        ):
            made = scan_made.get(a.scan_session_id) if a.scan_session_id is not None else None
            self.replicas[a.id.int] = ReplicaView(
                id=str(a.id),
                performer_id=a.performer_id,
                kind=_value(a.kind),
                media=_value(a.media),
                created_for=made[0] if made else None,
                created_on=made[1] if made else a.created_at.date(),
            )
        uses: dict[uuid.UUID, list[str]] = defaultdict(list)
        for grant_id, key in conn.execute(select(use_t.c.grant_id, use_t.c.key).order_by(use_t.c.position)):
            uses[grant_id].append(key)
        revoked: dict[uuid.UUID, date] = {
            r.grant_id: r.effective_on for r in conn.execute(select(rev_t.c.grant_id, rev_t.c.effective_on))
        }
        self.revocation_count = len(revoked)
        # Many grants describe the same uses; sharing one frozenset per distinct list saves memory
        # at a million grants.
        shared_uses: dict[tuple[str, ...], frozenset[str]] = {}
        grouped: dict[tuple[int, str], list[Grant]] = defaultdict(list)
        for g in conn.execute(
            select(
                grant_t.c.id,
                grant_t.c.performer_id,
                grant_t.c.scope,
                grant_t.c.replica_asset_id,
                grant_t.c.production_id,
                grant_t.c.specific,
                grant_t.c.separately_signed,
                grant_t.c.signed_by,
                grant_t.c.signed_on,
                grant_t.c.valid_from,
                grant_t.c.expires_on,
                grant_t.c.representation,
            )
        ):
            keys = tuple(uses.get(g.id, ()))
            key_set = shared_uses.get(keys)
            if key_set is None:
                key_set = shared_uses[keys] = frozenset(keys)
            scope = _value(g.scope)
            grouped[(g.performer_id.int, scope)].append(
                make_grant(
                    grant_id=str(g.id),
                    scope=scope,
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
            )
        self.grants = {
            key: tuple(sorted(items, key=lambda g: grant_order(g.signed_on, g.id))) for key, items in grouped.items()
        }
        # The same grants again by production, in the same order: most questions are about a
        # production the performer consented to, and then the answer is in this small bucket.
        buckets: dict[tuple[int, str, str], list[Grant]] = defaultdict(list)
        for (performer, scope), items in self.grants.items():
            for grant in items:
                buckets[(performer, scope, grant.production)].append(grant)
        self.by_production = {key: tuple(items) for key, items in buckets.items()}

    def refresh(self, session: Session) -> None:
        """Reload everything from the database."""
        self._load(session)

    def stale(self, session: Session) -> bool:
        """Whether a revocation was recorded since loading (by this process or another)."""
        count = session.scalar(select(func.count()).select_from(GrantRevocation)) or 0
        return count != self.revocation_count

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
