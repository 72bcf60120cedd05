"""The app factory: ``create_app(settings)`` builds the API over an opened runtime."""

from __future__ import annotations

import importlib

from fastapi import FastAPI
from pydantic import BaseModel
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from likeness_ledger import __version__
from likeness_ledger.config import Settings
from likeness_ledger.errors import PayloadTooLarge
from likeness_ledger.runtime import Runtime, open_runtime
from likeness_ledger.web.deps import AppState
from likeness_ledger.web.errors import error_response, install_error_handlers

# The API's route modules under ``likeness_ledger.web.api``, in the order the docs list them.
_ROUTERS = (
    "accounts",
    "registry",
    "assets",
    "consent",
    "clearances",
    "log",
    "detection",
    "usage",
)

# Routes whose bodies are raw file uploads; they stream and enforce their own (larger) limit.
_UPLOAD_SUFFIXES = (
    "/assets",
    "/authority-document",
    "/signed-document",
    "/detection/references",
    "/detection/scan",
    "/detection/jobs",
)


class Health(BaseModel):
    """The health check's answer."""

    ok: bool
    version: str


class BodyLimit:
    """Refuse JSON bodies over the limit, whether or not the client sent a Content-Length."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the declared length, then count the bytes as they arrive."""
        if scope["type"] != "http" or scope["path"].endswith(_UPLOAD_SUFFIXES):
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                response = error_response(413, f"body: over the {self.limit}-byte limit for JSON requests")
                await response(scope, receive, send)
                return
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise PayloadTooLarge(f"body: over the {self.limit}-byte limit for JSON requests")
            return message

        await self.app(scope, counting_receive, send)


def create_app(settings: Settings, *, runtime: Runtime | None = None) -> FastAPI:
    """Build the API. Pass a runtime to share one (tests); otherwise one is opened from settings."""
    rt = runtime or open_runtime(settings)
    app = FastAPI(
        title="Likeness Ledger",
        version=__version__,
        description="Consent registry, encrypted replica vault and clearance API for performers' likenesses.",
    )
    app.state.ledger = AppState(settings=rt.settings, db=rt.db, store=rt.store)
    install_error_handlers(app)

    @app.get("/health", tags=["meta"])
    def health() -> Health:
        """Liveness and database reachability; the only route that needs no token."""
        with rt.db.read() as session:
            session.connection().exec_driver_sql("SELECT 1")
        return Health(ok=True, version=__version__)

    for name in _ROUTERS:
        app.include_router(importlib.import_module(f"likeness_ledger.web.api.{name}").router)
    app.add_middleware(BodyLimit, limit=settings.max_json_bytes)
    return app
