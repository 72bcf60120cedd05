"""Registry routes: performers, representatives, producers, productions, scan sessions."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path

from likeness_ledger.registry import schemas
from likeness_ledger.registry import services as svc
from likeness_ledger.schemas import Page, page_of
from likeness_ledger.web.api import ERROR_RESPONSES
from likeness_ledger.web.deps import CurrentPrincipal, Paging, ReadSession, State

router = APIRouter(responses=ERROR_RESPONSES)

Id = Annotated[uuid.UUID, Path(description="record id")]


@router.post("/performers", status_code=201, tags=["performers"])
def create_performer(state: State, principal: CurrentPrincipal, body: schemas.PerformerIn) -> schemas.PerformerOut:
    """Register a performer (union, admin)."""
    with state.db.write() as session:
        return schemas.PerformerOut.model_validate(svc.create_performer(session, principal, body))


@router.get("/performers", tags=["performers"])
def list_performers(session: ReadSession, principal: CurrentPrincipal, page: Paging) -> Page[schemas.PerformerOut]:
    """Performers the caller may see."""
    rows, total = svc.list_performers(session, principal, limit=page.limit, offset=page.offset)
    return page_of(schemas.PerformerOut, rows, total, limit=page.limit, offset=page.offset)


@router.get("/performers/{performer_id}", tags=["performers"])
def get_performer(session: ReadSession, principal: CurrentPrincipal, performer_id: Id) -> schemas.PerformerOut:
    """One performer."""
    return schemas.PerformerOut.model_validate(svc.get_performer(session, principal, performer_id))


@router.patch("/performers/{performer_id}", tags=["performers"])
def update_performer(
    state: State, principal: CurrentPrincipal, performer_id: Id, body: schemas.PerformerUpdate
) -> schemas.PerformerOut:
    """Change a performer's legal or stage name, category, domicile or date of death (union, admin)."""
    with state.db.write() as session:
        return schemas.PerformerOut.model_validate(svc.update_performer(session, principal, performer_id, body))


@router.post("/representatives", status_code=201, tags=["representatives"])
def create_representative(
    state: State, principal: CurrentPrincipal, body: schemas.RepresentativeIn
) -> schemas.RepresentativeOut:
    """Record an estate, agent or counsel for a performer."""
    with state.db.write() as session:
        return schemas.RepresentativeOut.model_validate(svc.create_representative(session, principal, body))


@router.get("/representatives", tags=["representatives"])
def list_representatives(
    session: ReadSession, principal: CurrentPrincipal, page: Paging, performer_id: uuid.UUID | None = None
) -> Page[schemas.RepresentativeOut]:
    """Representatives the caller may see."""
    rows, total = svc.list_representatives(
        session, principal, limit=page.limit, offset=page.offset, performer_id=performer_id
    )
    return page_of(schemas.RepresentativeOut, rows, total, limit=page.limit, offset=page.offset)


@router.get("/representatives/{rep_id}", tags=["representatives"])
def get_representative(session: ReadSession, principal: CurrentPrincipal, rep_id: Id) -> schemas.RepresentativeOut:
    """One representative."""
    return schemas.RepresentativeOut.model_validate(svc.get_representative(session, principal, rep_id))


@router.post("/producers", status_code=201, tags=["producers"])
def create_producer(state: State, principal: CurrentPrincipal, body: schemas.ProducerIn) -> schemas.ProducerOut:
    """Register a producer company (union, admin)."""
    with state.db.write() as session:
        return schemas.ProducerOut.model_validate(svc.create_producer(session, principal, body))


@router.get("/producers", tags=["producers"])
def list_producers(session: ReadSession, principal: CurrentPrincipal, page: Paging) -> Page[schemas.ProducerOut]:
    """Producers the caller may see."""
    rows, total = svc.list_producers(session, principal, limit=page.limit, offset=page.offset)
    return page_of(schemas.ProducerOut, rows, total, limit=page.limit, offset=page.offset)


@router.get("/producers/{producer_id}", tags=["producers"])
def get_producer(session: ReadSession, principal: CurrentPrincipal, producer_id: Id) -> schemas.ProducerOut:
    """One producer."""
    return schemas.ProducerOut.model_validate(svc.get_producer(session, principal, producer_id))


@router.post("/productions", status_code=201, tags=["productions"])
def create_production(state: State, principal: CurrentPrincipal, body: schemas.ProductionIn) -> schemas.ProductionOut:
    """Create a production (a producer for itself; union and admin for anyone)."""
    with state.db.write() as session:
        return schemas.ProductionOut.model_validate(svc.create_production(session, principal, body))


@router.get("/productions", tags=["productions"])
def list_productions(session: ReadSession, principal: CurrentPrincipal, page: Paging) -> Page[schemas.ProductionOut]:
    """Productions the caller may see."""
    rows, total = svc.list_productions(session, principal, limit=page.limit, offset=page.offset)
    return page_of(schemas.ProductionOut, rows, total, limit=page.limit, offset=page.offset)


@router.get("/productions/{production_id}", tags=["productions"])
def get_production(session: ReadSession, principal: CurrentPrincipal, production_id: Id) -> schemas.ProductionOut:
    """One production."""
    return schemas.ProductionOut.model_validate(svc.get_production(session, principal, production_id))


@router.post("/scan-sessions", status_code=201, tags=["scan sessions"])
def create_scan_session(
    state: State, principal: CurrentPrincipal, body: schemas.ScanSessionIn
) -> schemas.ScanSessionOut:
    """Schedule a scan for one of the caller's productions."""
    with state.db.write() as session:
        return schemas.ScanSessionOut.model_validate(svc.create_scan_session(session, principal, body))


@router.get("/scan-sessions", tags=["scan sessions"])
def list_scan_sessions(session: ReadSession, principal: CurrentPrincipal, page: Paging) -> Page[schemas.ScanSessionOut]:
    """Scan sessions the caller may see."""
    rows, total = svc.list_scan_sessions(session, principal, limit=page.limit, offset=page.offset)
    return page_of(schemas.ScanSessionOut, rows, total, limit=page.limit, offset=page.offset)


@router.get("/scan-sessions/{scan_id}", tags=["scan sessions"])
def get_scan_session(session: ReadSession, principal: CurrentPrincipal, scan_id: Id) -> schemas.ScanSessionOut:
    """One scan session."""
    return schemas.ScanSessionOut.model_validate(svc.get_scan_session(session, principal, scan_id))


@router.post("/scan-sessions/{scan_id}/status", tags=["scan sessions"])
def set_scan_status(
    state: State, principal: CurrentPrincipal, scan_id: Id, body: schemas.ScanSessionStatusIn
) -> schemas.ScanSessionOut:
    """Mark a scheduled scan completed or cancelled."""
    with state.db.write() as session:
        return schemas.ScanSessionOut.model_validate(svc.set_scan_status(session, principal, scan_id, body.status))
