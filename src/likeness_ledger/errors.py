"""One error root for the whole package.

Every error the project raises on purpose derives from :class:`Error`. Each class carries the HTTP
status it maps to (``http_status``) and the CLI exit code (``exit_code``), so the web layer and the
CLI translate errors in one place and services never import a web framework.
"""

from __future__ import annotations

import sys
from typing import ClassVar, NoReturn


class Error(Exception):
    """Root of every deliberate Likeness Ledger error.

    ``errors`` holds one line per problem (for example one per invalid field) so clients can show
    them all at once; ``str(error)`` is the summary.
    """

    http_status: ClassVar[int] = 400
    exit_code: ClassVar[int] = 2

    def __init__(self, message: str, *, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = list(errors) if errors else [message]

    def diagnostics(self) -> str:
        """Return a human-readable explanation, one problem per line."""
        if self.errors == [self.message]:
            return self.message
        return self.message + "\n" + "\n".join(f"  - {e}" for e in self.errors)

    def log_and_exit(self) -> NoReturn:
        """Print the diagnostics to stderr and exit with this error's exit code."""
        sys.stderr.write(f"error: {self.diagnostics()}\n")
        raise SystemExit(self.exit_code)


class InvalidInput(Error):
    """The caller sent something malformed; the message names the field."""

    http_status = 422


class NotFound(Error):
    """The record does not exist, or the caller may not know that it exists."""

    http_status = 404


class Conflict(Error):
    """The request clashes with stored state (a duplicate, a state transition not allowed)."""

    http_status = 409


class Unauthenticated(Error):
    """No valid credential came with the request."""

    http_status = 401


class Forbidden(Error):
    """The caller is known but its role may not perform this action."""

    http_status = 403


class PayloadTooLarge(Error):
    """An upload or request body exceeds the configured limit."""

    http_status = 413


class IntegrityFailure(Error):
    """Stored bytes or records do not match their recorded digests."""

    http_status = 500
    exit_code = 1


class ConfigurationError(Error):
    """Settings are missing, insecure or contradictory."""

    exit_code = 2
