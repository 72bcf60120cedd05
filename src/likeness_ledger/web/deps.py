"""FastAPI dependencies: the app's state, database sessions and the authenticated principal."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from likeness_ledger.accounts.services import Principal, authenticate
from likeness_ledger.config import Settings
from likeness_ledger.db import Database
from likeness_ledger.vault.store import BlobStore


@dataclass
class AppState:
    """What every request needs, built once by the app factory."""

    settings: Settings
    db: Database
    store: BlobStore


def get_state(request: Request) -> AppState:
    """The app's state object."""
    state: AppState = request.app.state.ledger
    return state


State = Annotated[AppState, Depends(get_state)]

_bearer = HTTPBearer(auto_error=False, description="API token from `likeness demo` or `likeness token create`")


def get_principal(
    state: State, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    """Authenticate the bearer token; every API route except /health depends on this."""
    with state.db.read() as session:
        return authenticate(session, credentials.credentials if credentials else None)


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def read_session(state: State) -> Iterator[Session]:
    """A read-only session for the request."""
    with state.db.read() as session:
        yield session


ReadSession = Annotated[Session, Depends(read_session)]


@dataclass(frozen=True)
class PageParams:
    """Validated pagination parameters."""

    limit: int
    offset: int


def page_params(
    state: State,
    limit: Annotated[int, Query(ge=1, le=500, description="items per page")] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="items to skip")] = 0,
) -> PageParams:
    """Pagination query parameters, capped by settings."""
    return PageParams(limit=min(limit, state.settings.page_size_max), offset=offset)


Paging = Annotated[PageParams, Depends(page_params)]
