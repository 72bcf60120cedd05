"""Registry services: every create, read and list, with the visibility rules applied.

Reads filter by what the principal may see and answer NotFound otherwise; writes check the
principal's role and links first. Callers own the transaction (``Database.write()``), so a service
that raises leaves nothing behind.
"""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, false, func, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from likeness_ledger.accounts.models import Role
from likeness_ledger.accounts.services import Principal
from likeness_ledger.db import set_actor
from likeness_ledger.errors import Conflict, Forbidden, InvalidInput, NotFound
from likeness_ledger.registry import schemas
from likeness_ledger.registry.models import (
    Performer,
    Producer,
    Production,
    ReplicaAsset,
    Representative,
    ScanSession,
    ScanStatus,
)

M = TypeVar("M")


# --- visibility --------------------------------------------------------------------------------


def _producer_productions(principal: Principal) -> Select[uuid.UUID]:
    return select(Production.id).where(Production.producer_id == principal.producer_id)


def performer_filter(principal: Principal) -> ColumnElement[bool]:
    """Which performers the principal may read."""
    if principal.sees_all:
        return true()
    if principal.acts_for_performer:
        return Performer.id == principal.performer_id
    if principal.role is Role.PRODUCER:
        # A producer sees the performers it has engaged for a scan on one of its productions.
        engaged = select(ScanSession.performer_id).where(
            ScanSession.production_id.in_(_producer_productions(principal))
        )
        return Performer.id.in_(engaged)
    return false()


def production_filter(principal: Principal) -> ColumnElement[bool]:
    """Which productions the principal may read."""
    if principal.sees_all:
        return true()
    if principal.role is Role.PRODUCER:
        return Production.producer_id == principal.producer_id
    if principal.acts_for_performer:
        mine = select(ScanSession.production_id).where(ScanSession.performer_id == principal.performer_id)
        return Production.id.in_(mine)
    return false()


def producer_filter(principal: Principal) -> ColumnElement[bool]:
    """Which producer companies the principal may read."""
    if principal.sees_all:
        return true()
    if principal.role is Role.PRODUCER:
        return Producer.id == principal.producer_id
    if principal.acts_for_performer:
        return Producer.id.in_(select(Production.producer_id).where(production_filter(principal)))
    return false()


def scan_session_filter(principal: Principal) -> ColumnElement[bool]:
    """Which scan sessions the principal may read."""
    if principal.sees_all:
        return true()
    if principal.role is Role.PRODUCER:
        return ScanSession.production_id.in_(_producer_productions(principal))
    if principal.acts_for_performer:
        return ScanSession.performer_id == principal.performer_id
    return false()


def representative_filter(principal: Principal) -> ColumnElement[bool]:
    """Which representatives the principal may read (producers see none)."""
    if principal.sees_all:
        return true()
    if principal.acts_for_performer:
        return Representative.performer_id == principal.performer_id
    return false()


def asset_filter(principal: Principal) -> ColumnElement[bool]:
    """Which replica assets' records the principal may read (reading a record is not a release)."""
    if principal.sees_all:
        return true()
    if principal.acts_for_performer:
        return ReplicaAsset.performer_id == principal.performer_id
    if principal.role is Role.PRODUCER:
        sessions = select(ScanSession.id).where(ScanSession.production_id.in_(_producer_productions(principal)))
        return ReplicaAsset.scan_session_id.in_(sessions)
    return false()


def _get_visible(session: Session, model: type[M], visible: ColumnElement[bool], record_id: uuid.UUID, label: str) -> M:
    stmt = select(model).where(model.id == record_id, visible)  # type: ignore[attr-defined] # every registry model has an id
    obj: M | None = session.scalars(stmt).first()
    if obj is None:
        raise NotFound(f"{label} {record_id} not found")
    return obj


def _page(
    session: Session,
    model: type[M],
    visible: ColumnElement[bool],
    *,
    limit: int,
    offset: int,
    where: list[Any] | None = None,
) -> tuple[list[M], int]:
    conditions = [visible, *(where or [])]
    total = session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0
    order = (model.created_at, model.id)  # type: ignore[attr-defined] # every registry model has both
    rows = session.scalars(select(model).where(*conditions).order_by(*order).limit(limit).offset(offset))
    return list(rows), total


def _flush(session: Session, what: str) -> None:
    try:
        session.flush()
    except IntegrityError as exc:
        # Constraint names come from db.NAMING_CONVENTION, so the message can name the clash.
        raise Conflict(f"{what}: conflicts with an existing record ({exc.orig})") from exc


# --- performers --------------------------------------------------------------------------------


def create_performer(session: Session, principal: Principal, data: schemas.PerformerIn) -> Performer:
    """Register a performer (union and admins)."""
    set_actor(session, principal.name)
    principal.require(Role.UNION, Role.ADMIN, action="create performer")
    if data.union_member_id and session.scalar(
        select(Performer.id).where(Performer.union_member_id == data.union_member_id)
    ):
        raise Conflict(f"union_member_id: {data.union_member_id!r} is already registered")
    performer = Performer(**data.model_dump())
    session.add(performer)
    _flush(session, "performer")
    return performer


def update_performer(
    session: Session, principal: Principal, performer_id: uuid.UUID, data: schemas.PerformerUpdate
) -> Performer:
    """Change a performer's mutable fields (union and admins); only fields sent are changed."""
    set_actor(session, principal.name)
    performer = get_performer(session, principal, performer_id)
    principal.require(Role.UNION, Role.ADMIN, action="update performer")
    changes = data.model_dump(exclude_unset=True)
    died = changes.get("died_on")
    if died is not None and performer.born_on is not None and died < performer.born_on:
        raise InvalidInput("died_on: must not be before born_on")
    for field, value in changes.items():
        setattr(performer, field, value)
    _flush(session, "performer")
    return performer


def get_performer(session: Session, principal: Principal, performer_id: uuid.UUID) -> Performer:
    """Read one performer the principal may see."""
    return _get_visible(session, Performer, performer_filter(principal), performer_id, "performer")


def list_performers(session: Session, principal: Principal, *, limit: int, offset: int) -> tuple[list[Performer], int]:
    """List the performers the principal may see."""
    return _page(session, Performer, performer_filter(principal), limit=limit, offset=offset)


# --- representatives ---------------------------------------------------------------------------


def create_representative(
    session: Session, principal: Principal, data: schemas.RepresentativeIn, *, authority_sha256: str | None = None
) -> Representative:
    """Record who may act for a performer: the union, admins, or the performer themself."""
    set_actor(session, principal.name)
    if principal.role is Role.PERFORMER:
        if data.performer_id != principal.performer_id:
            raise NotFound(f"performer {data.performer_id} not found")
    else:
        principal.require(Role.UNION, Role.ADMIN, Role.PERFORMER, action="create representative")
    if session.get(Performer, data.performer_id) is None:
        raise NotFound(f"performer_id: performer {data.performer_id} not found")
    rep = Representative(**data.model_dump(), authority_document_sha256=authority_sha256)
    session.add(rep)
    _flush(session, "representative")
    return rep


def get_representative(session: Session, principal: Principal, rep_id: uuid.UUID) -> Representative:
    """Read one representative the principal may see."""
    return _get_visible(session, Representative, representative_filter(principal), rep_id, "representative")


def list_representatives(
    session: Session, principal: Principal, *, limit: int, offset: int, performer_id: uuid.UUID | None = None
) -> tuple[list[Representative], int]:
    """List the representatives the principal may see, optionally of one performer."""
    where = [Representative.performer_id == performer_id] if performer_id else []
    return _page(session, Representative, representative_filter(principal), limit=limit, offset=offset, where=where)


def attach_authority_document(session: Session, principal: Principal, rep_id: uuid.UUID, sha256: str) -> Representative:
    """Link a stored vault object as the representative's authority document."""
    set_actor(session, principal.name)
    rep = get_representative(session, principal, rep_id)
    if principal.role is Role.REPRESENTATIVE:
        raise Forbidden("representative: a representative cannot replace its own authority document")
    rep.authority_document_sha256 = sha256
    return rep


# --- producers and productions -----------------------------------------------------------------


def create_producer(session: Session, principal: Principal, data: schemas.ProducerIn) -> Producer:
    """Register a producer company (union and admins)."""
    set_actor(session, principal.name)
    principal.require(Role.UNION, Role.ADMIN, action="create producer")
    if session.scalar(select(Producer.id).where(Producer.name == data.name)):
        raise Conflict(f"name: a producer named {data.name!r} already exists")
    producer = Producer(name=data.name)
    session.add(producer)
    _flush(session, "producer")
    return producer


def get_producer(session: Session, principal: Principal, producer_id: uuid.UUID) -> Producer:
    """Read one producer the principal may see."""
    return _get_visible(session, Producer, producer_filter(principal), producer_id, "producer")


def list_producers(session: Session, principal: Principal, *, limit: int, offset: int) -> tuple[list[Producer], int]:
    """List the producers the principal may see."""
    return _page(session, Producer, producer_filter(principal), limit=limit, offset=offset)


def create_production(session: Session, principal: Principal, data: schemas.ProductionIn) -> Production:
    """Create a production: a producer for itself, or the union and admins for any producer."""
    set_actor(session, principal.name)
    principal.require(Role.PRODUCER, Role.UNION, Role.ADMIN, action="create production")
    producer_id = data.producer_id
    if principal.role is Role.PRODUCER:
        if producer_id is not None and producer_id != principal.producer_id:
            raise NotFound(f"producer {producer_id} not found")
        producer_id = principal.producer_id
    if producer_id is None:
        raise InvalidInput("producer_id: required")
    if session.get(Producer, producer_id) is None:
        raise NotFound(f"producer_id: producer {producer_id} not found")
    production = Production(**data.model_dump(exclude={"producer_id"}), producer_id=producer_id)
    session.add(production)
    _flush(session, "production")
    return production


def get_production(session: Session, principal: Principal, production_id: uuid.UUID) -> Production:
    """Read one production the principal may see."""
    return _get_visible(session, Production, production_filter(principal), production_id, "production")


def list_productions(
    session: Session, principal: Principal, *, limit: int, offset: int
) -> tuple[list[Production], int]:
    """List the productions the principal may see."""
    return _page(session, Production, production_filter(principal), limit=limit, offset=offset)


# --- scan sessions -----------------------------------------------------------------------------


def create_scan_session(session: Session, principal: Principal, data: schemas.ScanSessionIn) -> ScanSession:
    """Schedule a scan of a performer for one of the caller's productions."""
    set_actor(session, principal.name)
    principal.require(Role.PRODUCER, Role.UNION, Role.ADMIN, action="schedule scan session")
    get_production(session, principal, data.production_id)  # 404 for a production not the caller's
    if session.get(Performer, data.performer_id) is None:
        raise NotFound(f"performer_id: performer {data.performer_id} not found")
    scan = ScanSession(**data.model_dump())
    session.add(scan)
    _flush(session, "scan session")
    from likeness_ledger.consent.services import check_scan_schedule  # noqa: PLC0415 - consent reads the registry

    check_scan_schedule(session, scan)  # the 48-hour notice rule; the transaction rolls back on refusal
    return scan


def get_scan_session(session: Session, principal: Principal, scan_id: uuid.UUID) -> ScanSession:
    """Read one scan session the principal may see."""
    return _get_visible(session, ScanSession, scan_session_filter(principal), scan_id, "scan session")


def list_scan_sessions(
    session: Session, principal: Principal, *, limit: int, offset: int
) -> tuple[list[ScanSession], int]:
    """List the scan sessions the principal may see."""
    return _page(session, ScanSession, scan_session_filter(principal), limit=limit, offset=offset)


_TRANSITIONS = {
    ScanStatus.SCHEDULED: {ScanStatus.COMPLETED, ScanStatus.CANCELLED},
    ScanStatus.COMPLETED: set(),
    ScanStatus.CANCELLED: set(),
}


def set_scan_status(session: Session, principal: Principal, scan_id: uuid.UUID, status: ScanStatus) -> ScanSession:
    """Complete or cancel a scheduled scan session."""
    set_actor(session, principal.name)
    scan = get_scan_session(session, principal, scan_id)
    principal.require(Role.PRODUCER, Role.UNION, Role.ADMIN, action="change scan session status")
    if status is not scan.status and status not in _TRANSITIONS[scan.status]:
        raise Conflict(f"status: cannot go from {scan.status.value} to {status.value}")
    if status is ScanStatus.COMPLETED and scan.status is not ScanStatus.COMPLETED:
        from likeness_ledger.consent.services import check_scan_start  # noqa: PLC0415 - consent reads the registry

        check_scan_start(session, scan)  # creation consent and notice, as the engine decides on the scan's day
    scan.status = status
    return scan


# --- replica assets (records; bytes are in vault.services) -------------------------------------


def check_asset_upload(session: Session, principal: Principal, meta: schemas.AssetMeta) -> None:
    """Raise unless the principal may add this replica asset record (checked before any bytes move)."""
    principal.require(
        Role.PRODUCER, Role.PERFORMER, Role.REPRESENTATIVE, Role.UNION, Role.ADMIN, action="upload replica asset"
    )
    if principal.acts_for_performer and meta.performer_id != principal.performer_id:
        raise NotFound(f"performer {meta.performer_id} not found")
    if session.get(Performer, meta.performer_id) is None:
        raise NotFound(f"performer_id: performer {meta.performer_id} not found")
    if principal.role is Role.PRODUCER and meta.scan_session_id is None:
        raise InvalidInput("scan_session_id: a producer uploads replicas only from a scan session")
    if meta.scan_session_id is not None:
        scan = get_scan_session(session, principal, meta.scan_session_id)
        if scan.performer_id != meta.performer_id:
            raise InvalidInput("scan_session_id: that session scanned a different performer")
        if scan.status is ScanStatus.CANCELLED:
            raise Conflict("scan_session_id: the scan session was cancelled")


def get_asset(session: Session, principal: Principal, asset_id: uuid.UUID) -> ReplicaAsset:
    """Read one replica asset record the principal may see."""
    return _get_visible(session, ReplicaAsset, asset_filter(principal), asset_id, "asset")


def list_assets(
    session: Session, principal: Principal, *, limit: int, offset: int, performer_id: uuid.UUID | None = None
) -> tuple[list[ReplicaAsset], int]:
    """List the replica asset records the principal may see."""
    where = [ReplicaAsset.performer_id == performer_id] if performer_id else []
    return _page(session, ReplicaAsset, asset_filter(principal), limit=limit, offset=offset, where=where)
