"""REST API routers, one module per domain."""

from __future__ import annotations

from typing import Any

from likeness_ledger.web.errors import ErrorBody

# Every route documents the envelope for the statuses it can return, so clients (and schemathesis)
# see one error shape in the OpenAPI document.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text}
    for status, text in {
        400: "Bad request",
        401: "Missing or invalid token",
        403: "Role may not do this",
        404: "Not found, or not visible to the caller",
        409: "Conflicts with stored state",
        413: "Body too large",
        422: "Invalid input; `errors` names each field",
    }.items()
}
