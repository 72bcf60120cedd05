"""Account and token routes."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path

from likeness_ledger.accounts import services as svc
from likeness_ledger.accounts.models import Account, Role
from likeness_ledger.accounts.schemas import AccountIn, AccountOut, NewToken, TokenIn, TokenOut
from likeness_ledger.db import set_actor
from likeness_ledger.schemas import Page
from likeness_ledger.web.api import ERROR_RESPONSES
from likeness_ledger.web.deps import CurrentPrincipal, Paging, ReadSession, State

router = APIRouter(responses=ERROR_RESPONSES, tags=["accounts"])


def _out(account: Account) -> AccountOut:
    return AccountOut.model_validate(account)


@router.get("/me")
def me(session: ReadSession, principal: CurrentPrincipal) -> AccountOut:
    """The account behind the token."""
    return _out(svc.get_account(session, principal, principal.account_id))


@router.post("/accounts", status_code=201)
def create_account(state: State, principal: CurrentPrincipal, body: AccountIn) -> AccountOut:
    """Create an account (admin)."""
    principal.require(Role.ADMIN, action="create account")
    with state.db.write() as session:
        set_actor(session, principal.name)
        return _out(svc.create_account(session, **body.model_dump()))


@router.get("/accounts")
def list_accounts(session: ReadSession, principal: CurrentPrincipal, page: Paging) -> Page[AccountOut]:
    """Every account (admin)."""
    rows, total = svc.list_accounts(session, principal, limit=page.limit, offset=page.offset)
    return Page(items=[_out(a) for a in rows], total=total, limit=page.limit, offset=page.offset)


@router.get("/accounts/{account_id}")
def get_account(
    session: ReadSession, principal: CurrentPrincipal, account_id: Annotated[uuid.UUID, Path()]
) -> AccountOut:
    """One account (admin, or the account itself)."""
    return _out(svc.get_account(session, principal, account_id))


@router.post("/accounts/{account_id}/disable")
def disable_account(state: State, principal: CurrentPrincipal, account_id: Annotated[uuid.UUID, Path()]) -> AccountOut:
    """Disable an account; its tokens stop working (admin)."""
    with state.db.write() as session:
        return _out(svc.disable_account(session, principal, account_id))


@router.post("/accounts/{account_id}/tokens", status_code=201)
def create_token(
    state: State, principal: CurrentPrincipal, account_id: Annotated[uuid.UUID, Path()], body: TokenIn
) -> NewToken:
    """Issue a token for an account (admin, or the account itself); the secret is returned once."""
    with state.db.write() as session:
        set_actor(session, principal.name)
        account = svc.get_account(session, principal, account_id)
        token, secret = svc.issue_token(session, account, label=body.label)
        return NewToken.model_validate({**TokenOut.model_validate(token).model_dump(), "token": secret})


@router.post("/tokens/{token_id}/revoke")
def revoke_token(state: State, principal: CurrentPrincipal, token_id: Annotated[uuid.UUID, Path()]) -> TokenOut:
    """Revoke a token (admin, or the owner); it stops working at once."""
    with state.db.write() as session:
        return TokenOut.model_validate(svc.revoke_token(session, principal, token_id))
