"""Transparency-log routes: signed checkpoints, the verifier key, receipts and C2SP tlog-tiles.

Who may read what, and why:

* The signed checkpoint (``/log/checkpoint``), the verifier key (``/log/key``) and the **hash
  tiles** (``/log/tile/<L>/<N>``) go to every authenticated account. They hold only hashes,
  which reveal nothing about the events, and they are exactly what a witness or monitor needs
  to check that the log is append-only and that every party sees the same tree.
* **Entry bundles** (``/log/tile/entries/<N>``) hold the events themselves: legal names,
  birth dates, who released which replica. They go to the union and admins only, who already
  read every registry record; anyone else gets 403. (A performer gets their own events as
  receipts instead.)
* A **receipt** is an event plus its proof, so it follows the event's audience: a performer
  or their representative gets receipts for the leaves that concern that performer, the union
  and admins get any, and everyone else gets 404, as if the leaf did not exist.

A receipt needs a checkpoint that covers its leaf; if the latest stored checkpoint is older
than the leaf, one is signed then (the same as ``likeness log receipt`` does).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import PlainTextResponse, Response

from likeness_ledger.accounts.models import Role
from likeness_ledger.accounts.services import Principal
from likeness_ledger.errors import NotFound
from likeness_ledger.schemas import Page
from likeness_ledger.transparency import log, tiles
from likeness_ledger.transparency.checkpoint import Checkpoint, Note
from likeness_ledger.transparency.receipts import Receipt
from likeness_ledger.transparency.schemas import ReceiptOut
from likeness_ledger.web.api import ERROR_RESPONSES
from likeness_ledger.web.deps import AppState, CurrentPrincipal, Paging, ReadSession, State

router = APIRouter(responses=ERROR_RESPONSES, tags=["transparency log"])

_NOTE = "text/plain; charset=utf-8"
_TEXT_RESPONSE: dict[int | str, dict[str, Any]] = {200: {"content": {"text/plain": {"schema": {"type": "string"}}}}}
_BINARY_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}
}
# Tiles are immutable once served (they contain only complete subtrees); the token makes them private.
_TILE_CACHE = "private, max-age=31536000, immutable"


def _checkpoint_size(note: str) -> int:
    return Checkpoint.from_text(Note.from_text(note).text).size


def _receipts(state: AppState, indices: Sequence[int]) -> list[Receipt]:
    """Receipts for ``indices`` under one checkpoint, signing a new one only when none covers them."""
    if not indices:
        return []
    newest = max(indices)
    with state.db.read() as session:
        note = log.latest_checkpoint(session)
        if note is not None and _checkpoint_size(note) > newest:
            return log.receipts_under(session, indices, note)
    settings = state.settings
    with state.db.write() as session:
        note = log.covering_checkpoint(session, log.log_signer(settings), settings.log_origin, newest)
        return log.receipts_under(session, indices, note)


def _may_read_performer(principal: Principal, performer_id: uuid.UUID) -> bool:
    return principal.sees_all or (principal.acts_for_performer and principal.performer_id == performer_id)


@router.get("/log/checkpoint", response_model=None, responses=_TEXT_RESPONSE)
def get_checkpoint(session: ReadSession, principal: CurrentPrincipal) -> PlainTextResponse:
    """The latest signed checkpoint (a C2SP signed note, text/plain); 404 before the first is signed."""
    note = log.latest_checkpoint(session)
    if note is None:
        raise NotFound("no checkpoint signed yet")
    return PlainTextResponse(note, media_type=_NOTE, headers={"Cache-Control": "no-cache"})


@router.post("/log/checkpoint", response_model=None, responses=_TEXT_RESPONSE)
def sign_checkpoint(state: State, principal: CurrentPrincipal) -> PlainTextResponse:
    """Sign and store a checkpoint of the whole log now and return it (union, admin)."""
    principal.require(Role.UNION, Role.ADMIN, action="sign checkpoint")
    settings = state.settings
    with state.db.write() as session:
        note = log.sign_checkpoint(session, log.log_signer(settings), settings.log_origin)
    return PlainTextResponse(note, media_type=_NOTE)


@router.get("/log/key", response_model=None, responses=_TEXT_RESPONSE)
def get_key(state: State, principal: CurrentPrincipal) -> PlainTextResponse:
    """The log's verifier key (``name+keyid+base64``): all `likeness verify` needs besides a receipt."""
    return PlainTextResponse(log.verifier_key(state.settings) + "\n", media_type=_NOTE)


@router.get("/log/receipts/{leaf_index}")
def get_receipt(
    state: State,
    principal: CurrentPrincipal,
    leaf_index: Annotated[int, Path(ge=0, le=2**53, description="0-based leaf index")],
) -> ReceiptOut:
    """A receipt proving the event at ``leaf_index`` is in the log, checkable offline.

    Performers and representatives get receipts for leaves concerning their performer; the union
    and admins for any leaf; others get 404.
    """
    with state.db.read() as session:
        if principal.sees_all:
            visible = leaf_index < log.size(session)
        elif principal.acts_for_performer and principal.performer_id is not None:
            visible = log.leaf_concerns(session, leaf_index, principal.performer_id)
        else:
            visible = False
    if not visible:
        raise NotFound(f"leaf {leaf_index} not found")
    return ReceiptOut.of(_receipts(state, [leaf_index])[0])


@router.get("/performers/{performer_id}/receipts", tags=["performers"])
def list_performer_receipts(
    state: State,
    principal: CurrentPrincipal,
    page: Paging,
    performer_id: Annotated[uuid.UUID, Path(description="performer id")],
) -> Page[ReceiptOut]:
    """Receipts for every logged event concerning a performer, in log order, all under one checkpoint.

    The performer and their representatives, the union and admins; others get 404.
    """
    if not _may_read_performer(principal, performer_id):
        raise NotFound(f"performer {performer_id} not found")
    with state.db.read() as session:
        indices, total = log.performer_leaves(session, performer_id, limit=page.limit, offset=page.offset)
    items = [ReceiptOut.of(made) for made in _receipts(state, indices)]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.get("/log/tile/{tile_path:path}", response_model=None, responses=_BINARY_RESPONSE)
def get_tile(
    session: ReadSession,
    principal: CurrentPrincipal,
    tile_path: Annotated[str, Path(description="`<L>/<N>[.p/<W>]` or `entries/<N>[.p/<W>]` (c2sp.org/tlog-tiles)")],
) -> Response:
    """A C2SP tlog-tiles hash tile (any account) or entry bundle (union, admin), as raw bytes."""
    ref = tiles.parse_tile_path(tile_path)
    tree_size = log.size(session)
    if ref.is_entries:
        principal.require(Role.UNION, Role.ADMIN, action="read log entry bundles")
        body = tiles.entry_bundle(session, ref, tree_size)
    else:
        body = tiles.hash_tile(session, ref, tree_size)
    return Response(body, media_type="application/octet-stream", headers={"Cache-Control": _TILE_CACHE})
