"""Errors raised by the transparency log primitives.

Every verifier in this package raises (never returns ``False``), and every failure is a
:class:`VerificationError`, so callers that only care whether something checks out catch one
class. Messages follow the "expected ... got ..." form so a failed check says what was wrong.
"""

from __future__ import annotations

from likeness_ledger.errors import Error


class VerificationError(Error):
    """A Merkle proof, signature, signed note, checkpoint or receipt did not verify."""

    http_status = 400


class FormatError(VerificationError):
    """Bytes that should be a note, checkpoint, key or receipt do not parse as one.

    A malformed input can never verify, so this is a kind of :class:`VerificationError`.
    """


class KeyFormatError(FormatError):
    """A verifier key (``name+keyid+base64``) or signer key (``PRIVATE+KEY+...``) is malformed."""


class InvalidSignatureError(VerificationError):
    """A signature made by a known key failed to verify, so the whole note is rejected."""


class UnverifiedNoteError(VerificationError):
    """A well-formed note carries no valid signature from any of the trusted keys."""


class ReceiptInvalid(VerificationError):
    """A consent receipt is malformed or does not verify against the trusted log keys."""


class TreeRangeError(Error):
    """A proof or root was requested for an index or size the tree does not have."""

    http_status = 400
