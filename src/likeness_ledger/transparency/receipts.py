"""Consent receipts: an event, its place in the log, and the signed checkpoint that commits to it.

A receipt lets anyone holding the log's verifier key check, offline, that a consent event was
logged: the event's leaf hash is ``leaf_hash(RFC 8785 canonical JSON of the event)`` (RFC 6962
§2.1 leaf hashing; canonical JSON so every party derives the same bytes), the inclusion proof
leads from that leaf to the root hash of a checkpoint (c2sp.org/tlog-checkpoint), and the
checkpoint carries the log's signature (c2sp.org/signed-note).

On the wire a receipt is one JSON object::

    {"checkpoint": "<signed note>", "event": {...}, "inclusion_proof": ["<hex>", ...],
     "leaf_index": 5, "tree_size": 8}

:meth:`Receipt.to_json` writes it as RFC 8785 canonical JSON. :meth:`Receipt.from_json` accepts
any equivalent JSON but is strict about everything that could give one receipt two meanings:
duplicate or unknown keys, non-integer numbers, upper-case hex and non-canonical base64 are all
rejected, so that altering any byte of a canonical receipt makes it fail to parse or to verify.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import rfc8785

from likeness_ledger.transparency import merkle
from likeness_ledger.transparency.checkpoint import (
    Checkpoint,
    Note,
    Verifier,
    verify_checkpoint,
)
from likeness_ledger.transparency.errors import ReceiptInvalid, VerificationError

__all__ = [
    "Receipt",
    "ReceiptInvalid",
    "event_leaf_hash",
    "verify_consistency_between",
]

_FIELDS: Final = frozenset({"checkpoint", "event", "inclusion_proof", "leaf_index", "tree_size"})
_HASH_HEX: Final = re.compile(r"[0-9a-f]{64}", re.ASCII)
# A proof never has more hashes than the tree has levels (sizes are uint64).
_MAX_PROOF_LENGTH: Final = 64


def event_leaf_hash(event: dict[str, Any]) -> bytes:
    """Return the log leaf hash of a consent event: ``leaf_hash(RFC 8785 JSON of event)``.

    The log appends exactly this hash, so receipts and the log agree byte for byte. Raises
    :class:`ReceiptInvalid` if the event cannot be canonicalised (for example integers beyond
    ±2^53, which RFC 8785 cannot represent exactly, or non-string keys).
    """
    try:
        canonical = rfc8785.dumps(event)
    except rfc8785.CanonicalizationError as exc:
        raise ReceiptInvalid(f"event: expected RFC 8785-serialisable JSON, got {exc}") from exc
    return merkle.leaf_hash(canonical)


def _is_int(value: object) -> bool:
    # bool is an int subclass in Python; a JSON true is not a leaf index.
    return type(value) is int


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ReceiptInvalid(f"receipt JSON: expected unique keys, got {key!r} twice")
        result[key] = value
    return result


def _reject_constant(name: str) -> Any:
    raise ReceiptInvalid(f"receipt JSON: expected finite numbers, got {name}")


@dataclass(frozen=True, kw_only=True)
class Receipt:
    """Proof that one consent event was appended to the log, checkable offline.

    Build it with :meth:`from_json` / :meth:`from_dict`, or directly with keyword arguments;
    every constructor validates shape and cross-field invariants (the event is canonicalisable
    JSON, the index lies inside the tree, proof hashes are lower-case hex, the checkpoint parses
    and has the same size) and raises :class:`ReceiptInvalid` listing every problem found.
    :meth:`verify` then checks the cryptography.
    """

    event: dict[str, Any]
    leaf_index: int
    tree_size: int
    inclusion_proof: tuple[str, ...]
    checkpoint: str

    def __post_init__(self) -> None:
        # Keep a private copy, so the caller's dict can't change after it was validated.
        object.__setattr__(self, "event", copy.deepcopy(self.event))
        problems = self._problems()
        if problems:
            raise ReceiptInvalid(f"receipt is malformed: {'; '.join(problems)}", errors=problems)

    def _problems(self) -> list[str]:
        problems: list[str] = []
        if not isinstance(self.event, dict):
            problems.append(f"event: expected a JSON object, got {type(self.event).__name__}")
        else:
            try:
                event_leaf_hash(self.event)
            except ReceiptInvalid as exc:
                problems.append(exc.message)
        if not _is_int(self.leaf_index) or self.leaf_index < 0:
            problems.append(f"leaf_index: expected an integer >= 0, got {self.leaf_index!r}")
        if not _is_int(self.tree_size) or self.tree_size <= 0:
            problems.append(f"tree_size: expected an integer > 0, got {self.tree_size!r}")
        elif _is_int(self.leaf_index) and not self.leaf_index < self.tree_size:
            problems.append(
                f"leaf_index: expected < tree_size {self.tree_size}, got {self.leaf_index}"
            )
        problems.extend(self._proof_problems())
        problems.extend(self._checkpoint_problems())
        return problems

    def _proof_problems(self) -> list[str]:
        proof = self.inclusion_proof
        if not isinstance(proof, tuple) or len(proof) > _MAX_PROOF_LENGTH:
            return [f"inclusion_proof: expected at most {_MAX_PROOF_LENGTH} hashes in a tuple"]
        return [
            f"inclusion_proof[{i}]: expected 64 lower-case hex digits, got {item!r}"
            for i, item in enumerate(proof)
            if not isinstance(item, str) or not _HASH_HEX.fullmatch(item)
        ]

    def _checkpoint_problems(self) -> list[str]:
        if not isinstance(self.checkpoint, str):
            return [f"checkpoint: expected a signed note string, got {self.checkpoint!r}"]
        try:
            parsed = Checkpoint.from_text(Note.from_text(self.checkpoint).text)
        except VerificationError as exc:
            return [f"checkpoint: {exc.message}"]
        if _is_int(self.tree_size) and parsed.size != self.tree_size:
            return [f"tree_size: expected the checkpoint's {parsed.size}, got {self.tree_size}"]
        return []

    @classmethod
    def from_dict(cls, data: object) -> Receipt:
        """Build a receipt from already-decoded JSON; raise :class:`ReceiptInvalid` if invalid."""
        if not isinstance(data, dict):
            raise ReceiptInvalid(f"receipt: expected a JSON object, got {type(data).__name__}")
        keys = set(data)
        if keys != _FIELDS:
            missing = ", ".join(sorted(_FIELDS - keys)) or "none"
            unknown = ", ".join(sorted(map(str, keys - _FIELDS))) or "none"
            raise ReceiptInvalid(
                f"receipt: expected exactly the fields {', '.join(sorted(_FIELDS))}; "
                f"missing: {missing}; unknown: {unknown}"
            )
        proof = data["inclusion_proof"]
        if not isinstance(proof, list):
            raise ReceiptInvalid(
                f"inclusion_proof: expected a list of hex strings, got {type(proof).__name__}"
            )
        return cls(
            event=data["event"],
            leaf_index=data["leaf_index"],
            tree_size=data["tree_size"],
            inclusion_proof=tuple(proof),
            checkpoint=data["checkpoint"],
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> Receipt:
        """Parse a receipt from JSON text (bytes must be UTF-8); raise :class:`ReceiptInvalid`."""
        if isinstance(text, bytes):
            try:
                text = text.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ReceiptInvalid("receipt JSON: expected UTF-8") from exc
        try:
            data = json.loads(
                text,
                object_pairs_hook=_reject_duplicates,
                parse_constant=_reject_constant,
            )
        except json.JSONDecodeError as exc:
            raise ReceiptInvalid(f"receipt JSON: expected valid JSON, got {exc}") from exc
        return cls.from_dict(data)

    def to_dict(self) -> dict[str, Any]:
        """Return the receipt as a JSON-ready dict."""
        return {
            "checkpoint": self.checkpoint,
            "event": self.event,
            "inclusion_proof": list(self.inclusion_proof),
            "leaf_index": self.leaf_index,
            "tree_size": self.tree_size,
        }

    def to_json(self) -> str:
        """Return the receipt as RFC 8785 canonical JSON text."""
        return rfc8785.dumps(self.to_dict()).decode("utf-8")

    @property
    def leaf_hash(self) -> bytes:
        """The leaf hash the log committed to for this event."""
        return event_leaf_hash(self.event)

    def verify(
        self, verifier_keys: Sequence[str | Verifier], *, origin: str | None = None
    ) -> None:
        """Check the receipt against the log's trusted verifier keys; raise if it does not hold.

        Checks, in order: the checkpoint's signature (and ``origin`` if given), that the
        checkpoint's size is ``tree_size``, and that the inclusion proof leads from the event's
        leaf hash at ``leaf_index`` to the checkpoint's root. Raises :class:`ReceiptInvalid`
        whose message says which check failed.
        """
        try:
            self._verify(verifier_keys, origin)
        except ReceiptInvalid:
            raise
        except VerificationError as exc:
            raise ReceiptInvalid(
                f"receipt for leaf {self.leaf_index} does not verify: {exc.message}"
            ) from exc

    def _verify(self, verifier_keys: Sequence[str | Verifier], origin: str | None) -> None:
        checkpoint, _ = verify_checkpoint(self.checkpoint, verifier_keys, origin=origin)
        if checkpoint.size != self.tree_size:
            # Unreachable for receipts built through the constructor, which checks it; kept
            # because verification must not rely on how the object was made.
            raise VerificationError(
                f"tree size: expected the checkpoint's {checkpoint.size}, got {self.tree_size}"
            )
        merkle.verify_inclusion(
            self.leaf_hash,
            self.leaf_index,
            checkpoint.size,
            [bytes.fromhex(item) for item in self.inclusion_proof],
            checkpoint.root_hash,
        )


def verify_consistency_between(
    old_checkpoint: str | bytes,
    new_checkpoint: str | bytes,
    proof: Sequence[str | bytes],
    verifier_keys: Sequence[str | Verifier],
) -> tuple[Checkpoint, Checkpoint]:
    """Check that a newer signed checkpoint extends an older one; return both, parsed.

    Both notes must verify under ``verifier_keys`` and name the same origin, and ``proof`` (hex
    strings or raw hashes) must be an RFC 9162 consistency proof from the old size to the new.
    Following transparency-dev, a proof from an empty tree is rejected. Raises
    :class:`~likeness_ledger.transparency.errors.VerificationError`.
    """
    old, _ = verify_checkpoint(old_checkpoint, verifier_keys)
    new, _ = verify_checkpoint(new_checkpoint, verifier_keys, origin=old.origin)
    hashes: list[bytes] = []
    for position, item in enumerate(proof):
        if isinstance(item, bytes):
            hashes.append(item)
        elif _HASH_HEX.fullmatch(item):
            hashes.append(bytes.fromhex(item))
        else:
            raise VerificationError(
                f"consistency proof[{position}]: expected 64 lower-case hex digits, got {item!r}"
            )
    merkle.verify_consistency(old.size, new.size, hashes, old.root_hash, new.root_hash)
    return old, new
