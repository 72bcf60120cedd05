"""Consent routes: grants and their revocations and signed documents, and consent requests."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from sqlalchemy.orm import Session

from likeness_ledger.consent import schemas
from likeness_ledger.consent import services as svc
from likeness_ledger.consent.models import ConsentGrant, ConsentRequest, RequestStatus
from likeness_ledger.schemas import Page
from likeness_ledger.web.api import ERROR_RESPONSES
from likeness_ledger.web.api.assets import _BINARY_BODY, store_document_body
from likeness_ledger.web.deps import CurrentPrincipal, Paging, ReadSession, State

router = APIRouter(responses=ERROR_RESPONSES)

Id = Annotated[uuid.UUID, Path(description="record id")]


def grant_out(grant: ConsentGrant) -> schemas.GrantOut:
    """The API view of a grant."""
    return schemas.GrantOut.model_validate(grant)


def request_out(request: ConsentRequest) -> schemas.RequestOut:
    """The API view of a consent request."""
    return schemas.RequestOut.model_validate(request)


def _grants_page(rows: list[Any], total: int, page: Any) -> Page[schemas.GrantOut]:
    return Page(items=[grant_out(r) for r in rows], total=total, limit=page.limit, offset=page.offset)


@router.post("/consents", status_code=201, tags=["consents"])
def create_grant(state: State, principal: CurrentPrincipal, body: schemas.GrantIn) -> schemas.GrantOut:
    """Record a signed consent (the performer or their representative; the union or an admin)."""
    with state.db.write() as session:
        return grant_out(svc.create_grant(session, principal, body))


@router.get("/consents", tags=["consents"])
def list_grants(
    session: ReadSession,
    principal: CurrentPrincipal,
    page: Paging,
    performer_id: uuid.UUID | None = None,
    production_id: uuid.UUID | None = None,
) -> Page[schemas.GrantOut]:
    """Consents the caller may see (a producer: those for its productions)."""
    rows, total = svc.list_grants(
        session,
        principal,
        limit=page.limit,
        offset=page.offset,
        performer_id=performer_id,
        production_id=production_id,
    )
    return _grants_page(rows, total, page)


@router.get("/consents/{grant_id}", tags=["consents"])
def get_grant(session: ReadSession, principal: CurrentPrincipal, grant_id: Id) -> schemas.GrantOut:
    """One consent, with its revocation if any."""
    return grant_out(svc.get_grant(session, principal, grant_id))


@router.get("/consents/{grant_id}/odrl", tags=["consents"])
def get_grant_odrl(session: ReadSession, principal: CurrentPrincipal, grant_id: Id) -> dict[str, Any]:
    """The consent as an ODRL 2.2 Agreement (JSON-LD): permission, constraints and duties."""
    return svc.grant_odrl(session, principal, grant_id)


@router.post("/consents/{grant_id}/revocations", status_code=201, tags=["consents"])
def revoke_grant(
    state: State, principal: CurrentPrincipal, grant_id: Id, body: schemas.RevocationIn
) -> schemas.RevocationOut:
    """Revoke a consent from a day on (default today): a new record, the grant itself is unchanged."""
    with state.db.write() as session:
        return schemas.RevocationOut.model_validate(svc.revoke_grant(session, principal, grant_id, body))


@router.post("/consents/{grant_id}/signed-document", openapi_extra=_BINARY_BODY, tags=["consents"])
async def upload_signed_document(
    request: Request, state: State, principal: CurrentPrincipal, grant_id: Id
) -> schemas.GrantOut:
    """Store the signed consent document (raw body) in the vault and put its SHA-256 on the grant (once)."""
    with state.db.read() as session:
        svc.check_document_upload(session, principal, grant_id)  # refuse before any bytes move
    digest = await store_document_body(request, state)
    with state.db.write() as session:
        return grant_out(svc.attach_grant_document(session, principal, grant_id, digest))


# --- requests --------------------------------------------------------------------------------------


def _request_view(session: Session, request: ConsentRequest) -> schemas.RequestOut:
    session.flush()
    session.refresh(request, ["grant"])
    return request_out(request)


@router.post("/consent-requests", status_code=201, tags=["consent requests"])
def create_request(state: State, principal: CurrentPrincipal, body: schemas.RequestIn) -> schemas.RequestOut:
    """A producer asks a performer for consent: to scan them, or to use a replica, in its production."""
    with state.db.write() as session:
        return _request_view(session, svc.create_request(session, principal, body))


@router.get("/consent-requests", tags=["consent requests"])
def list_requests(
    session: ReadSession, principal: CurrentPrincipal, page: Paging, status: RequestStatus | None = None
) -> Page[schemas.RequestOut]:
    """Consent requests the caller may see."""
    rows, total = svc.list_requests(session, principal, limit=page.limit, offset=page.offset, status=status)
    return Page(items=[request_out(r) for r in rows], total=total, limit=page.limit, offset=page.offset)


@router.get("/consent-requests/{request_id}", tags=["consent requests"])
def get_request(session: ReadSession, principal: CurrentPrincipal, request_id: Id) -> schemas.RequestOut:
    """One consent request with its timestamped steps."""
    return request_out(svc.get_request(session, principal, request_id))


@router.post("/consent-requests/{request_id}/approve", tags=["consent requests"])
def approve_request(
    state: State, principal: CurrentPrincipal, request_id: Id, body: schemas.ApproveIn
) -> schemas.RequestOut:
    """Approve (fewer uses or a shorter term: approve in part); the grant is created."""
    with state.db.write() as session:
        request, _ = svc.approve_request(session, principal, request_id, body)
        return _request_view(session, request)


@router.post("/consent-requests/{request_id}/refuse", tags=["consent requests"])
def refuse_request(
    state: State, principal: CurrentPrincipal, request_id: Id, body: schemas.NoteIn
) -> schemas.RequestOut:
    """Refuse a pending request."""
    with state.db.write() as session:
        return _request_view(session, svc.refuse_request(session, principal, request_id, body.note))


@router.post("/consent-requests/{request_id}/send-back", tags=["consent requests"])
def send_back_request(
    state: State, principal: CurrentPrincipal, request_id: Id, body: schemas.NoteIn
) -> schemas.RequestOut:
    """Send a request back: its uses are not described specifically enough (say why in the note)."""
    with state.db.write() as session:
        return _request_view(session, svc.send_back_request(session, principal, request_id, body.note))


@router.post("/consent-requests/{request_id}/resubmit", tags=["consent requests"])
def resubmit_request(
    state: State, principal: CurrentPrincipal, request_id: Id, body: schemas.ResubmitIn
) -> schemas.RequestOut:
    """The producer resubmits a sent-back request with more specific descriptions."""
    with state.db.write() as session:
        return _request_view(session, svc.resubmit_request(session, principal, request_id, body))


@router.post("/consent-requests/{request_id}/withdraw", tags=["consent requests"])
def withdraw_request(
    state: State, principal: CurrentPrincipal, request_id: Id, body: schemas.NoteIn
) -> schemas.RequestOut:
    """The producer withdraws a pending or sent-back request."""
    with state.db.write() as session:
        return _request_view(session, svc.withdraw_request(session, principal, request_id, body.note))
