"""Replica asset routes: streamed upload into the vault, records, and release of the bytes."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

import anyio
import anyio.from_thread
import anyio.to_thread
from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import StreamingResponse

from likeness_ledger.errors import InvalidInput, PayloadTooLarge
from likeness_ledger.registry import schemas
from likeness_ledger.registry import services as registry
from likeness_ledger.registry.schemas import AssetMeta
from likeness_ledger.schemas import Page, page_of
from likeness_ledger.vault import services as vault
from likeness_ledger.web.api import ERROR_RESPONSES
from likeness_ledger.web.deps import AppState, CurrentPrincipal, Paging, ReadSession, State

router = APIRouter(responses=ERROR_RESPONSES, tags=["assets"])

Id = Annotated[uuid.UUID, Path(description="asset id")]

_BINARY_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


class _BlockingBody:
    """Lets the vault's synchronous writer pull the request body from the event loop chunk by chunk.

    Bridging instead of spooling keeps a multi-GB upload out of memory and off the disk twice.
    """

    def __init__(self, stream: AsyncIterator[bytes]) -> None:
        self._stream = stream

    async def _next(self) -> bytes:
        return await self._stream.__anext__()

    def __iter__(self) -> Iterator[bytes]:
        while True:
            try:
                chunk: bytes = anyio.from_thread.run(self._next)
            except StopAsyncIteration:
                return
            if chunk:
                yield chunk


def _declared_length(request: Request, limit: int) -> int | None:
    raw = request.headers.get("content-length")
    if raw is None:
        return None
    if not raw.isdigit():
        raise InvalidInput("Content-Length: not a number")
    length = int(raw)
    if length > limit:
        raise PayloadTooLarge(f"body: {length} bytes is over the {limit}-byte upload limit")
    return length


async def store_document_body(request: Request, state: AppState) -> str:
    """Stream a document upload (the raw request body) into the vault; return its SHA-256."""
    length = _declared_length(request, state.settings.max_upload_bytes)
    body = _BlockingBody(request.stream().__aiter__())
    digest: str = await anyio.to_thread.run_sync(
        lambda: vault.store_blob(
            state.db, state.store, body, max_size=state.settings.max_upload_bytes, expected_size=length
        )
    )
    return digest


@router.post("/assets", status_code=201, openapi_extra=_BINARY_BODY)
async def upload_asset(
    request: Request,
    response: Response,
    state: State,
    principal: CurrentPrincipal,
    meta: Annotated[AssetMeta, Query()],
) -> schemas.AssetOut:
    """Upload a replica file as the raw request body; describe it with query parameters.

    Send ``size`` (or a Content-Length) and optionally ``sha256``; a body shorter than declared or
    with another digest is refused and nothing is stored. Uploading identical bytes again returns
    the existing record with status 200.
    """
    length = _declared_length(request, state.settings.max_upload_bytes)
    if meta.size is not None and length is not None and meta.size != length:
        raise InvalidInput(f"size: {meta.size} does not match Content-Length {length}")
    if meta.size is None and length is not None:
        meta = meta.model_copy(update={"size": length})
    body = _BlockingBody(request.stream().__aiter__())
    stored = await anyio.to_thread.run_sync(
        lambda: vault.store_replica(
            state.db, state.store, principal, meta, body, max_size=state.settings.max_upload_bytes
        )
    )
    if not stored.created:
        response.status_code = 200
    return schemas.AssetOut.model_validate(stored.asset)


@router.get("/assets", tags=["assets"])
def list_assets(
    session: ReadSession, principal: CurrentPrincipal, page: Paging, performer_id: uuid.UUID | None = None
) -> Page[schemas.AssetOut]:
    """Replica asset records the caller may see."""
    rows, total = registry.list_assets(
        session, principal, limit=page.limit, offset=page.offset, performer_id=performer_id
    )
    return page_of(schemas.AssetOut, rows, total, limit=page.limit, offset=page.offset)


@router.get("/assets/{asset_id}")
def get_asset(session: ReadSession, principal: CurrentPrincipal, asset_id: Id) -> schemas.AssetOut:
    """One replica asset record."""
    return schemas.AssetOut.model_validate(registry.get_asset(session, principal, asset_id))


@router.get(
    "/assets/{asset_id}/content",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}},
)
def download_asset(
    state: State,
    principal: CurrentPrincipal,
    asset_id: Id,
    purpose: Annotated[str, Query(min_length=1, max_length=500, description="why the bytes are needed")],
) -> StreamingResponse:
    """Release a replica's bytes: allowed only when the release policy allows; every release is recorded."""
    asset, chunks = vault.release(state.db, state.store, principal, asset_id, purpose)
    headers = {
        "Content-Length": str(asset.size),
        "X-Content-SHA256": asset.sha256,
        "Content-Disposition": f'attachment; filename="{asset.id}"',
    }
    return StreamingResponse(chunks, media_type=asset.content_type, headers=headers)


@router.get("/assets/{asset_id}/releases")
def list_releases(
    session: ReadSession, principal: CurrentPrincipal, asset_id: Id, page: Paging
) -> Page[schemas.ReleaseOut]:
    """Who received this replica's bytes, when, and for what purpose."""
    rows, total = vault.list_releases(session, principal, asset_id, limit=page.limit, offset=page.offset)
    return page_of(schemas.ReleaseOut, rows, total, limit=page.limit, offset=page.offset)


@router.post("/representatives/{rep_id}/authority-document", openapi_extra=_BINARY_BODY, tags=["representatives"])
async def upload_authority_document(
    request: Request, state: State, principal: CurrentPrincipal, rep_id: Annotated[uuid.UUID, Path()]
) -> schemas.RepresentativeOut:
    """Store the document that gives a representative authority (raw body) and link it."""
    with state.db.read() as session:
        registry.get_representative(session, principal, rep_id)  # 404 before any bytes move
    digest = await store_document_body(request, state)
    with state.db.write() as session:
        rep = registry.attach_authority_document(session, principal, rep_id, digest)
        return schemas.RepresentativeOut.model_validate(rep)
