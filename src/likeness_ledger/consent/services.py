"""Consent services: grants, revocations, requests, and clearance answered from the database.

Who may do what (visibility is enforced here, as in the registry: a record the caller may not see
answers 404):

- a producer proposes through requests, for its own productions; it sees the grants and
  requests of its productions only;
- the performer, or a representative acting for them, approves (in whole or in part), refuses
  or sends back a request, records a consent signed outside the flow, and revokes;
- the union and admins see everything, record consents signed on paper (e.g. signed by the union
  for a deceased performer without an identifiable representative) and may revoke.

A grant is never edited: a revocation is a new record, and the signed document may be attached
once. :func:`evaluate` answers a :class:`ClearanceQuery` with the pure engine over a case built from
the records; :func:`clearance_index` keeps an in-memory :class:`ClearanceIndex` fresh for
throughput; :func:`check_release` gates the vault; :func:`check_scan_schedule`,
:func:`check_scan_start` and :func:`scan_obligations` serve scan sessions.
"""

from __future__ import annotations

import gc
import threading
import uuid
import weakref
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import ColumnElement, event, false, func, select, true
from sqlalchemy.orm import Session

from likeness_ledger.accounts.models import Role
from likeness_ledger.consent.cases import Case, parse_case
from likeness_ledger.consent.clearance import Decision, Obligation, clear
from likeness_ledger.consent.engine import (
    DEFAULT_CASE_ID,
    ClearanceIndex,
    ProductionView,
    ReplicaView,
    ScanView,
    check_agreement,
    check_query,
    grant_order,
    performer_view,
    production_view,
    replica_view,
    scan_view,
    select_scan,
)
from likeness_ledger.consent.models import (
    ConsentGrant,
    ConsentRequest,
    ConsentScope,
    GrantRevocation,
    GrantUse,
    RequestEvent,
    RequestStatus,
    RequestUse,
    Signer,
)
from likeness_ledger.consent.query import ClearanceQuery
from likeness_ledger.db import set_actor, utcnow
from likeness_ledger.errors import Conflict, Forbidden, InvalidInput, NotFound
from likeness_ledger.registry import services as registry
from likeness_ledger.registry.models import (
    Performer,
    Production,
    ReplicaAsset,
    ScanSession,
    ScanStatus,
)

if TYPE_CHECKING:
    from likeness_ledger.accounts.services import Principal
    from likeness_ledger.compensation.rates import RateTable
    from likeness_ledger.consent import schemas
    from likeness_ledger.consent.rules import Reason
    from likeness_ledger.db import Database


def today_utc() -> date:
    """Today's date in UTC: the day releases and revocations are judged on by default."""
    return datetime.now(UTC).date()


# --- clearance from the database -------------------------------------------------------------------


def evaluate(
    session: Session, query: ClearanceQuery, *, rates: RateTable | None = None, case_id: str = DEFAULT_CASE_ID
) -> Decision:
    """Decide a query with the pure engine, over a case built from the records it concerns.

    Raises NotFound for a performer, production or replica asset that does not exist, and
    InvalidInput (naming the field) for a query the engine cannot answer. Visibility is the
    caller's business: see :func:`check_query_visible`.
    """
    return clear(build_case(session, query, case_id=case_id), rates=rates)


def build_case(session: Session, query: ClearanceQuery, *, case_id: str = DEFAULT_CASE_ID) -> Case:
    """The ``likeness-case/1`` case the records make of ``query``, validated like any case file."""
    check_query(query)
    performer_row = session.get(Performer, query.performer_id)
    if performer_row is None:
        raise NotFound(f"performer_id: performer {query.performer_id} not found")
    production_row = session.get(Production, query.production_id)
    if production_row is None:
        raise NotFound(f"production_id: production {query.production_id} not found")
    production = production_view(production_row)
    check_agreement(production)
    performer = performer_view(performer_row)
    replica: ReplicaView | None = None
    if query.asset_id is not None:
        asset = session.get(ReplicaAsset, query.asset_id)
        if asset is None:
            raise NotFound(f"asset_id: replica asset {query.asset_id} not found")
        if asset.performer_id != query.performer_id:
            raise InvalidInput(f"asset_id: replica asset {query.asset_id} is not of performer {performer.id}")
        scan = session.get(ScanSession, asset.scan_session_id) if asset.scan_session_id is not None else None
        replica = replica_view(asset, scan)
    scope = ConsentScope.CREATION if query.action == "create" else ConsentScope.USE
    grants = list(
        session.scalars(
            select(ConsentGrant).where(ConsentGrant.performer_id == query.performer_id, ConsentGrant.scope == scope)
        )
    )
    grants.sort(key=lambda g: grant_order(g.signed_on, str(g.id)))
    facts: list[dict[str, Any]] = []
    if query.action == "create":
        scans = [
            scan_view(s)
            for s in session.scalars(
                select(ScanSession).where(
                    ScanSession.performer_id == query.performer_id,
                    ScanSession.production_id == query.production_id,
                    ScanSession.status != ScanStatus.CANCELLED,
                )
            )
        ]
        facts = _scan_facts(select_scan(scans, query.on))
    data: dict[str, Any] = {
        "format": "likeness-case/1",
        "id": case_id,
        "title": f"{query.action} for performer {performer.id} in production {production.id}",
        "as_of": query.on.isoformat(),
        "jurisdiction": production.jurisdiction,
        "agreement": production.agreement,
        "performer": {
            "id": performer.id,
            "category": performer.category,
            "born": _iso(performer.born),
            "died": _iso(performer.died),
        },
        "productions": {production.id: _production_entry(production)},
        "consents": [_consent_entry(g) for g in grants],
        "facts": facts,
        "request": {
            "action": query.action,
            "replica": replica.id if replica is not None else None,
            "production": production.id,
            "use": query.use,
            "on": query.on.isoformat(),
            "role": query.role,
            "estimated_days": query.estimated_days,
            "replaces_in_person_work": query.replaces_in_person_work,
            "alteration": query.alteration,
        },
    }
    if replica is not None:
        data["replica"] = {
            "id": replica.id,
            "kind": replica.kind,
            "media": [replica.media],
            "created_for": replica.created_for,
            "created_on": replica.created_on.isoformat(),
        }
    return parse_case(data, source="clearance query")


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _production_entry(production: ProductionView) -> dict[str, str]:
    return {"title": production.title, "producer": production.producer, "type": production.type}


def _consent_entry(grant: ConsentGrant) -> dict[str, Any]:
    revocation = grant.revocation
    return {
        "id": str(grant.id),
        "scope": grant.scope.value,
        "replica": str(grant.replica_asset_id) if grant.replica_asset_id is not None else None,
        "production": str(grant.production_id),
        "uses": [{"key": u.key, "description": u.description} for u in grant.uses],
        "specific": grant.specific,
        "separately_signed": grant.separately_signed,
        "signed_by": grant.signed_by.value,
        "signed_on": grant.signed_on.isoformat(),
        "valid_from": _iso(grant.valid_from),
        "expires_on": _iso(grant.expires_on),
        "revoked_on": _iso(revocation.effective_on) if revocation is not None else None,
        "representation": grant.representation.value,
    }


def _scan_facts(scan: ScanView | None) -> list[dict[str, Any]]:
    if scan is None:
        return []
    facts: list[dict[str, Any]] = []
    if scan.engaged_at is not None:
        facts.append({"type": "engaged", "at": scan.engaged_at.isoformat()})
    if scan.notice_at is not None:
        facts.append({"type": "scan_notice", "at": scan.notice_at.isoformat()})
    facts.append({"type": "scan_scheduled", "at": scan.at.isoformat(), "scan_only_call": scan.scan_only_call})
    return facts


def check_query_visible(session: Session, principal: Principal, query: ClearanceQuery) -> None:
    """Only the parties may ask: a producer about its productions, a performer about themself.

    Anything else answers 404, as if the record did not exist.
    """
    if principal.sees_all:
        return
    if principal.role is Role.PRODUCER:
        production = session.get(Production, query.production_id)
        if production is None or production.producer_id != principal.producer_id:
            raise NotFound(f"production_id: production {query.production_id} not found")
        return
    if principal.acts_for_performer:
        if query.performer_id != principal.performer_id:
            raise NotFound(f"performer_id: performer {query.performer_id} not found")
        return
    raise NotFound(f"performer_id: performer {query.performer_id} not found")


# --- the shared in-memory index --------------------------------------------------------------------

#: Tables whose rows the index reads; a commit touching any of them makes loaded indexes stale.
_INDEXED: Final = (ConsentGrant, GrantUse, GrantRevocation, Performer, Production, ReplicaAsset, ScanSession)
#: Commits of this process that touched those tables, counted per database (by URL).
_generations: dict[str, int] = {}
_index_lock = threading.Lock()
_indexes: weakref.WeakKeyDictionary[Database, tuple[ClearanceIndex, int]] = weakref.WeakKeyDictionary()


@event.listens_for(Session, "after_flush")
def _note_indexed_changes(session: Session, _context: Any) -> None:
    # Counted on commit, not on flush: an index reloaded between the two would miss the change.
    if any(isinstance(obj, _INDEXED) for obj in (*session.new, *session.dirty, *session.deleted)):
        session.info["clearance_dirty"] = True


@event.listens_for(Session, "after_commit")
def _bump_generation(session: Session) -> None:
    if session.info.pop("clearance_dirty", False):
        key = _database_key(session.get_bind())
        _generations[key] = _generations.get(key, 0) + 1


def _database_key(bind: Any) -> str:
    return str(bind.url.render_as_string(hide_password=False))


@event.listens_for(Session, "after_rollback")
def _forget_changes(session: Session) -> None:
    session.info.pop("clearance_dirty", None)


def clearance_index(db: Database) -> ClearanceIndex:
    """The database's in-memory index, brought up to date with every committed change first.

    Each call catches up with the transparency log (:meth:`ClearanceIndex.catch_up`): the
    changes committed since the index last read, by this process or any other, are applied by
    re-reading just the records they name, so a grant or revocation written anywhere counts from
    the next call on. A write of this process made with event logging off leaves no leaf to
    follow; the session events above notice it, and the index is then reloaded in full.
    """
    with _index_lock:
        cached = _indexes.get(db)
        with db.read() as session:
            generation = _generations.get(_database_key(db.engine), 0)
            if cached is None:
                index = ClearanceIndex.load(session)
            else:
                index, built = cached
                outcome = index.catch_up(session)
                if built != generation and outcome == "current":
                    # A local commit touched the indexed tables but the log shows nothing new:
                    # it was written without events, so only a full read can see it.
                    index.refresh(session)
                    outcome = "reload"
                if outcome == "current":
                    _indexes[db] = (index, generation)
                    return index
        # The index is millions of long-lived objects: moved out of the collector's generations, a
        # full collection no longer walks them all (pauses of seconds under load). They hold no
        # cycles, so reference counting still frees an index that is replaced.
        gc.freeze()
        _indexes[db] = (index, generation)
        return index


# --- visibility ------------------------------------------------------------------------------------


def grant_filter(principal: Principal) -> ColumnElement[bool]:
    """Which grants the principal may read."""
    if principal.sees_all:
        return true()
    if principal.acts_for_performer:
        return ConsentGrant.performer_id == principal.performer_id
    if principal.role is Role.PRODUCER:
        mine = select(Production.id).where(Production.producer_id == principal.producer_id)
        return ConsentGrant.production_id.in_(mine)
    return false()


def request_filter(principal: Principal) -> ColumnElement[bool]:
    """Which consent requests the principal may read."""
    if principal.sees_all:
        return true()
    if principal.acts_for_performer:
        return ConsentRequest.performer_id == principal.performer_id
    if principal.role is Role.PRODUCER:
        return ConsentRequest.producer_id == principal.producer_id
    return false()


def _page(
    session: Session, model: Any, visible: ColumnElement[bool], where: list[Any], *, limit: int, offset: int
) -> tuple[list[Any], int]:
    conditions = [visible, *where]
    total = session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0
    rows = session.scalars(
        select(model).where(*conditions).order_by(model.created_at, model.id).limit(limit).offset(offset)
    )
    return list(rows), total


# --- grants ----------------------------------------------------------------------------------------


def get_grant(session: Session, principal: Principal, grant_id: uuid.UUID) -> ConsentGrant:
    """Read one grant the principal may see."""
    grant = session.scalars(select(ConsentGrant).where(ConsentGrant.id == grant_id, grant_filter(principal))).first()
    if grant is None:
        raise NotFound(f"consent {grant_id} not found")
    return grant


def list_grants(
    session: Session,
    principal: Principal,
    *,
    limit: int,
    offset: int,
    performer_id: uuid.UUID | None = None,
    production_id: uuid.UUID | None = None,
) -> tuple[list[ConsentGrant], int]:
    """List the grants the principal may see, optionally of one performer or production."""
    where: list[Any] = []
    if performer_id is not None:
        where.append(ConsentGrant.performer_id == performer_id)
    if production_id is not None:
        where.append(ConsentGrant.production_id == production_id)
    return _page(session, ConsentGrant, grant_filter(principal), where, limit=limit, offset=offset)


def _check_replica(session: Session, performer_id: uuid.UUID, asset_id: uuid.UUID | None) -> None:
    if asset_id is None:
        return
    asset = session.get(ReplicaAsset, asset_id)
    if asset is None:
        raise NotFound(f"replica_asset_id: replica asset {asset_id} not found")
    if asset.performer_id != performer_id:
        raise InvalidInput(f"replica_asset_id: replica asset {asset_id} is not of performer {performer_id}")


def _signer_for(principal: Principal, given: Signer | None) -> Signer:
    """Who signs when the signature is made by the caller."""
    if principal.role is Role.PERFORMER:
        own = Signer.PERFORMER
    elif principal.role is Role.REPRESENTATIVE:
        own = Signer.AUTHORIZED_REPRESENTATIVE
    else:
        if given is None:
            raise InvalidInput("signed_by: required when the union or an admin records a consent")
        return given
    if given is not None and given is not own:
        raise InvalidInput(f"signed_by: a {principal.role.value} signs as {own.value}, not {given.value}")
    return own


def create_grant(session: Session, principal: Principal, data: schemas.GrantIn) -> ConsentGrant:
    """Record a signed consent (performer or representative for themself; union and admins for anyone)."""
    set_actor(session, principal.name)
    principal.require(Role.PERFORMER, Role.REPRESENTATIVE, Role.UNION, Role.ADMIN, action="record consent")
    if principal.acts_for_performer and data.performer_id != principal.performer_id:
        raise NotFound(f"performer_id: performer {data.performer_id} not found")
    if session.get(Performer, data.performer_id) is None:
        raise NotFound(f"performer_id: performer {data.performer_id} not found")
    if session.get(Production, data.production_id) is None:
        raise NotFound(f"production_id: production {data.production_id} not found")
    _check_replica(session, data.performer_id, data.replica_asset_id)
    grant = ConsentGrant(
        performer_id=data.performer_id,
        scope=data.scope,
        replica_asset_id=data.replica_asset_id,
        production_id=data.production_id,
        specific=data.specific,
        specific_found_by=principal.account_id,
        specific_found_at=utcnow(),
        separately_signed=data.separately_signed,
        signed_by=_signer_for(principal, data.signed_by),
        signed_on=data.signed_on,
        valid_from=data.valid_from,
        expires_on=data.expires_on,
        representation=data.representation,
        recorded_by=principal.account_id,
        uses=[GrantUse(position=i, key=u.key, description=u.description) for i, u in enumerate(data.uses)],
    )
    session.add(grant)
    session.flush()
    return grant


def _may_act_on_grant(principal: Principal, grant: ConsentGrant, action: str) -> None:
    if principal.sees_all:  # the union and admins
        return
    if not (principal.acts_for_performer and principal.performer_id == grant.performer_id):
        raise Forbidden(f"{action}: only the performer, their representative, the union or an admin may do this")


def revoke_grant(
    session: Session,
    principal: Principal,
    grant_id: uuid.UUID,
    data: schemas.RevocationIn,
    *,
    today: date | None = None,
) -> GrantRevocation:
    """Withdraw a consent from ``effective_on`` (default today) on; a new record, never an edit.

    A revocation cannot reach into the past: uses made while the consent held were made under it.
    """
    set_actor(session, principal.name)
    grant = get_grant(session, principal, grant_id)
    _may_act_on_grant(principal, grant, "revoke consent")
    day = today or today_utc()
    effective = data.effective_on or day
    if effective < day:
        raise InvalidInput(f"effective_on: {effective.isoformat()} is in the past (today is {day.isoformat()})")
    if grant.revocation is not None or session.scalar(
        select(GrantRevocation.id).where(GrantRevocation.grant_id == grant.id)
    ):
        raise Conflict(f"consent {grant.id} is already revoked")
    revocation = GrantRevocation(
        grant_id=grant.id, effective_on=effective, reason=data.reason, revoked_by=principal.account_id
    )
    session.add(revocation)
    session.flush()
    session.expire(grant, ["revocation"])
    return revocation


def check_document_upload(session: Session, principal: Principal, grant_id: uuid.UUID) -> ConsentGrant:
    """Raise unless the caller may attach the grant's signed document and none is attached yet."""
    grant = get_grant(session, principal, grant_id)
    _may_act_on_grant(principal, grant, "attach consent document")
    if grant.document_sha256 is not None:
        raise Conflict(f"consent {grant.id} already has its signed document ({grant.document_sha256})")
    return grant


def attach_grant_document(session: Session, principal: Principal, grant_id: uuid.UUID, sha256: str) -> ConsentGrant:
    """Link the signed document (already in the vault) to a grant; once only, never replaced."""
    set_actor(session, principal.name)
    grant = get_grant(session, principal, grant_id)
    _may_act_on_grant(principal, grant, "attach consent document")
    if grant.document_sha256 is not None:
        if grant.document_sha256 == sha256:
            return grant
        raise Conflict(f"consent {grant.id} already has its signed document ({grant.document_sha256})")
    grant.document_sha256 = sha256
    session.flush()
    return grant


def grant_odrl(session: Session, principal: Principal, grant_id: uuid.UUID) -> dict[str, Any]:
    """The grant as an ODRL 2.2 Agreement in JSON-LD (the pay agreed comes from its request)."""
    from likeness_ledger.consent.odrl import grant_to_odrl  # noqa: PLC0415 - only this export needs it

    grant = get_grant(session, principal, grant_id)
    production = session.get(Production, grant.production_id)
    assert production is not None  # narrowing: a foreign key
    per_day: Decimal | None = None
    if grant.request_id is not None:
        request = session.get(ConsentRequest, grant.request_id)
        if request is not None and request.proposed_daily_pay is not None:
            per_day = Decimal(request.proposed_daily_pay)
    return grant_to_odrl(grant.to_terms(producer_id=production.producer_id, per_day=per_day))


# --- requests --------------------------------------------------------------------------------------

#: Which steps may follow which (anything else is a 409).
TRANSITIONS: Final = {
    RequestStatus.PENDING: frozenset(
        {
            RequestStatus.APPROVED,
            RequestStatus.PARTIALLY_APPROVED,
            RequestStatus.REFUSED,
            RequestStatus.SENT_BACK,
            RequestStatus.WITHDRAWN,
        }
    ),
    RequestStatus.SENT_BACK: frozenset({RequestStatus.PENDING, RequestStatus.WITHDRAWN}),
    RequestStatus.APPROVED: frozenset(),
    RequestStatus.PARTIALLY_APPROVED: frozenset(),
    RequestStatus.REFUSED: frozenset(),
    RequestStatus.WITHDRAWN: frozenset(),
}


def _step(session: Session, principal: Principal, request: ConsentRequest, to: RequestStatus, note: str | None) -> None:
    if to not in TRANSITIONS[request.status]:
        raise Conflict(f"status: a {request.status.value} request cannot become {to.value}")
    now = utcnow()
    request.status = to
    request.updated_at = now
    request.events.append(RequestEvent(status=to, at=now, account_id=principal.account_id, note=note))


def create_request(session: Session, principal: Principal, data: schemas.RequestIn) -> ConsentRequest:
    """A producer asks a performer for consent on one of its productions."""
    set_actor(session, principal.name)
    principal.require(Role.PRODUCER, action="request consent")
    production = registry.get_production(session, principal, data.production_id)
    if session.get(Performer, data.performer_id) is None:
        raise NotFound(f"performer_id: performer {data.performer_id} not found")
    if data.replica_asset_id is not None:
        registry.get_asset(session, principal, data.replica_asset_id)  # 404 unless the producer may see it
        _check_replica(session, data.performer_id, data.replica_asset_id)
    pay = data.proposed_daily_pay
    request = ConsentRequest(
        producer_id=production.producer_id,
        production_id=production.id,
        performer_id=data.performer_id,
        scope=data.scope,
        replica_asset_id=data.replica_asset_id,
        valid_from=data.valid_from,
        expires_on=data.expires_on,
        proposed_daily_pay=f"{Decimal(pay):.2f}" if pay is not None else None,
        note=data.note,
        status=RequestStatus.PENDING,
        requested_by=principal.account_id,
        uses=[RequestUse(position=i, key=u.key, description=u.description) for i, u in enumerate(data.uses)],
        events=[RequestEvent(status=RequestStatus.PENDING, account_id=principal.account_id, note=data.note)],
    )
    session.add(request)
    session.flush()
    return request


def get_request(session: Session, principal: Principal, request_id: uuid.UUID) -> ConsentRequest:
    """Read one consent request the principal may see."""
    request = session.scalars(
        select(ConsentRequest).where(ConsentRequest.id == request_id, request_filter(principal))
    ).first()
    if request is None:
        raise NotFound(f"consent request {request_id} not found")
    return request


def list_requests(
    session: Session, principal: Principal, *, limit: int, offset: int, status: RequestStatus | None = None
) -> tuple[list[ConsentRequest], int]:
    """List the consent requests the principal may see, optionally in one status."""
    where = [ConsentRequest.status == status] if status is not None else []
    return _page(session, ConsentRequest, request_filter(principal), where, limit=limit, offset=offset)


def request_grant_id(session: Session, request: ConsentRequest) -> uuid.UUID | None:
    """The grant an approval created, if any."""
    return session.scalar(select(ConsentGrant.id).where(ConsentGrant.request_id == request.id))


def _require_signer(principal: Principal, request: ConsentRequest, action: str) -> None:
    if not (principal.acts_for_performer and principal.performer_id == request.performer_id):
        raise Forbidden(f"{action}: only the performer or their representative may do this")


def approve_request(
    session: Session,
    principal: Principal,
    request_id: uuid.UUID,
    data: schemas.ApproveIn,
    *,
    today: date | None = None,
) -> tuple[ConsentRequest, ConsentGrant]:
    """Approve a pending request, creating the grant; fewer uses or a shorter term approve it in part."""
    set_actor(session, principal.name)
    request = get_request(session, principal, request_id)
    _require_signer(principal, request, "approve consent request")
    asked = {u.key: u for u in request.uses}
    keys = list(data.uses) if data.uses is not None else list(asked)
    if not keys:
        raise InvalidInput("uses: approve at least one use (or refuse the request)")
    for index, key in enumerate(keys):
        if key not in asked:
            raise InvalidInput(f"uses[{index}]: {key!r} was not asked for (asked: {', '.join(asked)})")
    if len(set(keys)) != len(keys):
        raise InvalidInput("uses: a use key is listed twice")
    valid_from = data.valid_from or request.valid_from
    expires_on = data.expires_on or request.expires_on
    if request.valid_from is not None and valid_from is not None and valid_from < request.valid_from:
        raise InvalidInput(f"valid_from: cannot start before the {request.valid_from.isoformat()} asked for")
    if request.expires_on is not None and expires_on is not None and expires_on > request.expires_on:
        raise InvalidInput(f"expires_on: cannot run past the {request.expires_on.isoformat()} asked for")
    if valid_from is not None and expires_on is not None and expires_on < valid_from:
        raise InvalidInput("expires_on: must not be before valid_from")
    partial = (
        len(keys) < len(asked)
        or (valid_from is not None and valid_from != request.valid_from)
        or (expires_on is not None and expires_on != request.expires_on)
    )
    _step(
        session,
        principal,
        request,
        RequestStatus.PARTIALLY_APPROVED if partial else RequestStatus.APPROVED,
        data.note,
    )
    grant = ConsentGrant(
        performer_id=request.performer_id,
        scope=request.scope,
        replica_asset_id=request.replica_asset_id,
        production_id=request.production_id,
        specific=data.specific,
        specific_found_by=principal.account_id,
        specific_found_at=utcnow(),
        separately_signed=data.separately_signed,
        signed_by=_signer_for(principal, None),
        signed_on=data.signed_on or today or today_utc(),
        valid_from=valid_from,
        expires_on=expires_on,
        representation=data.representation,
        request_id=request.id,
        recorded_by=principal.account_id,
        uses=[GrantUse(position=i, key=k, description=asked[k].description) for i, k in enumerate(keys)],
    )
    session.add(grant)
    session.flush()
    return request, grant


def refuse_request(session: Session, principal: Principal, request_id: uuid.UUID, note: str | None) -> ConsentRequest:
    """Refuse a pending request."""
    set_actor(session, principal.name)
    request = get_request(session, principal, request_id)
    _require_signer(principal, request, "refuse consent request")
    _step(session, principal, request, RequestStatus.REFUSED, note)
    session.flush()
    return request


def send_back_request(
    session: Session, principal: Principal, request_id: uuid.UUID, note: str | None
) -> ConsentRequest:
    """Send a pending request back because its uses are not described specifically enough."""
    set_actor(session, principal.name)
    request = get_request(session, principal, request_id)
    _require_signer(principal, request, "send back consent request")
    if not note:
        raise InvalidInput("note: say what is not specific enough")
    _step(session, principal, request, RequestStatus.SENT_BACK, note)
    session.flush()
    return request


def resubmit_request(
    session: Session, principal: Principal, request_id: uuid.UUID, data: schemas.ResubmitIn
) -> ConsentRequest:
    """The producer answers a sending back with new descriptions; the request is pending again."""
    set_actor(session, principal.name)
    request = get_request(session, principal, request_id)
    principal.require(Role.PRODUCER, action="resubmit consent request")
    _step(session, principal, request, RequestStatus.PENDING, data.note)
    # Replace the described uses: the old ones were found not specific.
    request.uses.clear()
    session.flush()
    request.uses.extend(RequestUse(position=i, key=u.key, description=u.description) for i, u in enumerate(data.uses))
    session.flush()
    return request


def withdraw_request(session: Session, principal: Principal, request_id: uuid.UUID, note: str | None) -> ConsentRequest:
    """The producer withdraws a request that is pending or sent back."""
    set_actor(session, principal.name)
    request = get_request(session, principal, request_id)
    principal.require(Role.PRODUCER, action="withdraw consent request")
    _step(session, principal, request, RequestStatus.WITHDRAWN, note)
    session.flush()
    return request


# --- the vault's gate ------------------------------------------------------------------------------

PURPOSE_FORMAT: Final = "USE_KEY@PRODUCTION_ID, optionally followed by a note"


class ConsentReleaseDenied(Forbidden):
    """The engine does not allow the use a producer asked a replica's bytes for."""

    def __init__(self, message: str, *, reasons: tuple[Reason, ...] = (), errors: list[str] | None = None) -> None:
        super().__init__(message, errors=errors)
        self.reasons = reasons


def parse_purpose(purpose: str) -> tuple[str, uuid.UUID]:
    """Read ``use-key@production-id [note]`` from a release purpose."""
    head = purpose.strip().split(maxsplit=1)[0] if purpose.strip() else ""
    key, at, production = head.partition("@")
    if not at or not key:
        raise ConsentReleaseDenied(
            f"release: a producer's purpose names the use and the production as {PURPOSE_FORMAT}"
        )
    try:
        return key, uuid.UUID(production)
    except ValueError:
        raise ConsentReleaseDenied(
            f"release: {production!r} in the purpose is not a production id ({PURPOSE_FORMAT})"
        ) from None


def check_release(session: Session, principal: Principal, asset_id: uuid.UUID, purpose: str, *, on: date) -> Decision:
    """Allow a producer a replica's bytes only for a use the engine allows on ``on``.

    The purpose names the use and the production (``stadium-crowd@<production id>``). The
    replica plays the part its performer is engaged for, and is taken to replace in-person work
    (the stricter reading of AB 2602-type laws, which only the producer could contradict).
    Raises :class:`ConsentReleaseDenied` carrying the engine's reasons.
    """
    use, production_id = parse_purpose(purpose)
    asset = session.get(ReplicaAsset, asset_id)
    production = session.get(Production, production_id)
    if asset is None or production is None or production.producer_id != principal.producer_id:
        raise ConsentReleaseDenied(f"release: production {production_id} in the purpose is not one of yours")
    performer = session.get(Performer, asset.performer_id)
    assert performer is not None  # narrowing: a foreign key
    query = ClearanceQuery(
        action="use",
        performer_id=asset.performer_id,
        production_id=production_id,
        on=on,
        role=performer.category.value,
        replaces_in_person_work=True,
        asset_id=asset_id,
        use=use,
    )
    decision = evaluate(session, query)
    if not decision.allowed:
        lines = [f"{r.code.value}: {r.message} ({r.rule})" for r in decision.reasons]
        raise ConsentReleaseDenied(
            f"release denied by the clearance engine: {'; '.join(decision.codes)}",
            reasons=decision.reasons,
            errors=lines,
        )
    return decision


# --- scans -----------------------------------------------------------------------------------------


class ScanNotCleared(Conflict):
    """A scan session cannot be scheduled or held: the engine's reasons say why."""


def _scan_query(session: Session, scan: ScanSession) -> ClearanceQuery:
    performer = session.get(Performer, scan.performer_id)
    if performer is None:
        raise NotFound(f"performer_id: performer {scan.performer_id} not found")
    return ClearanceQuery(
        action="create",
        performer_id=scan.performer_id,
        production_id=scan.production_id,
        on=scan.scheduled_at.date(),
        role=performer.category.value,
        replaces_in_person_work=False,
    )


def _refuse(what: str, reasons: tuple[Reason, ...]) -> ScanNotCleared:
    lines = [f"{r.code.value}: {r.message} ({r.rule})" for r in reasons]
    return ScanNotCleared(f"{what}: {'; '.join(r.code.value for r in reasons)}", errors=lines)


def check_scan_schedule(session: Session, scan: ScanSession) -> None:
    """Refuse to schedule a scan whose notice breaks the 48-hour rule (the session is flushed)."""
    decision = evaluate(session, _scan_query(session, scan))
    late = tuple(r for r in decision.reasons if r.code.value == "SCAN_NOTICE_LATE")
    if late:
        raise _refuse("notice_sent_at: the scan cannot be scheduled", late)


def check_scan_start(session: Session, scan: ScanSession) -> Decision:
    """Refuse to hold a scan unless the engine allows creating the replica (consent and notice)."""
    decision = evaluate(session, _scan_query(session, scan))
    if not decision.allowed:
        raise _refuse("status: the scan cannot take place", decision.reasons)
    return decision


def scan_obligations(
    session: Session, scan_session: ScanSession, *, rates: RateTable | None = None
) -> list[Obligation]:
    """What holding this scan owes: one paid day for a scan-only call, when the engine allows it.

    Nothing is stored here: the usage and payments service persists what this returns. ``rates``
    is the scale table to use (default: the engine's verified and reported rows).
    """
    decision = evaluate(session, _scan_query(session, scan_session), rates=rates)
    if not decision.allowed:
        return []
    return list(decision.obligations)
