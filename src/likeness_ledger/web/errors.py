"""The one exception handler: every error leaves as ``{"ok": false, "error", "errors", "status"}``."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from likeness_ledger.errors import Error

log = logging.getLogger(__name__)


class ErrorBody(BaseModel):
    """The JSON shape of every error response."""

    ok: bool = False
    error: str
    errors: list[str]
    status: int


def error_response(status: int, message: str, errors: list[str] | None = None) -> JSONResponse:
    """Build the envelope; 401 responses also say how to authenticate."""
    body = ErrorBody(error=message, errors=errors or [message], status=status)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def _loc(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def install_error_handlers(app: FastAPI) -> None:
    """Route every exception through the envelope."""

    @app.exception_handler(Error)
    async def _domain(_: Request, exc: Error) -> JSONResponse:
        if exc.http_status >= 500:
            log.error("server-side failure: %s", exc.diagnostics())
        return error_response(exc.http_status, exc.message, exc.errors)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for err in exc.errors():
            msg = str(err.get("msg", "invalid"))
            if err.get("type") == "json_invalid":
                errors.append(f"body: malformed JSON ({err.get('ctx', {}).get('error', msg)})")
                continue
            errors.append(f"{_loc(tuple(err.get('loc', ())))}: {msg}")
        return error_response(422, errors[0] if len(errors) == 1 else f"{len(errors)} invalid fields", errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(exc.status_code, str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return error_response(500, "internal error")
