"""Errors raised by the replica vault's blob layer.

Each class derives from one of the generic classes in :mod:`likeness_ledger.errors`, so the web
layer and the CLI map them to an HTTP status and exit code without knowing about the vault.
"""

from __future__ import annotations

from likeness_ledger.errors import (
    ConfigurationError,
    IntegrityFailure,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
)


class VaultIntegrityError(IntegrityFailure):
    """A stored blob failed authentication or its digest/size check.

    ``digest`` names the blob when the failure concerns one (it is ``None`` for failures found
    before a blob is known, such as a wrapped key that does not unwrap).
    """

    def __init__(self, message: str, *, digest: str | None = None) -> None:
        super().__init__(f"blob {digest}: {message}" if digest else message)
        self.digest = digest


class BlobNotFound(NotFound):
    """No blob with the requested digest is stored."""

    def __init__(self, digest: str) -> None:
        super().__init__(f"blob {digest} is not in the vault")
        self.digest = digest


class UploadTooLarge(PayloadTooLarge):
    """An upload exceeded the ``max_size`` the caller allowed."""


class UploadSizeMismatch(InvalidInput):
    """An upload's length differs from the ``expected_size`` the caller declared."""


class TruncatedUpload(UploadSizeMismatch):
    """An upload ended before reaching its declared ``expected_size``."""


class DigestMismatch(InvalidInput):
    """An upload's SHA-256 differs from the ``expected_sha256`` the caller declared."""


class KeyFileError(ConfigurationError):
    """The master key file is malformed or readable by users other than its owner."""
