"""Signed notes (c2sp.org/signed-note) and transparency log checkpoints (c2sp.org/tlog-checkpoint).

A signed note is UTF-8 text ending in a newline, a blank line, then one or more signature lines
``— <key name> base64(key ID || signature)``. Verifiers are configured with *verifier keys* in
the ``<name>+<hex key ID>+base64(type byte || public key)`` form of golang.org/x/mod/sumdb/note;
signers with ``PRIVATE+KEY+<name>+<hex key ID>+base64(0x01 || Ed25519 seed)``. Supported
signature types:

* ``0x01`` Ed25519 over the note text (RFC 8032), key ID
  ``SHA-256(name || 0x0A || 0x01 || public key)[:4]``; signing and verification.
* ``0x02`` ECDSA (P-256/P-384/P-521) over SHA-256 of the text, DER signature, key ID
  ``SHA-256(DER SPKI)[:4]``, as transparency-dev/witness and Rekor use it; verification only.
* ``0x04`` timestamped Ed25519 witness cosignatures (c2sp.org/tlog-cosignature); both ways.

Verification follows the spec to the letter: signatures from unknown keys (name *and* key ID
must match) are ignored, a signature from a known key that fails rejects the whole note, and a
note with no verified signature is rejected. Like Go's implementation, at most
:data:`MAX_SIGNATURES` signature lines are parsed (the spec requires accepting at least 16).

A checkpoint is a note whose text is an origin line, the decimal tree size, the base64 RFC 6962
root hash and optional non-empty extension lines (:class:`Checkpoint`).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from likeness_ledger.transparency.errors import (
    FormatError,
    InvalidSignatureError,
    KeyFormatError,
    UnverifiedNoteError,
    VerificationError,
)
from likeness_ledger.transparency.merkle import HASH_SIZE

__all__ = [
    "ALG_COSIGNATURE_V1",
    "ALG_ECDSA",
    "ALG_ED25519",
    "COSIGNATURE_V1_HEADER",
    "MAX_SIGNATURES",
    "SIGNATURE_LINE_PREFIX",
    "Checkpoint",
    "Cosigner",
    "Note",
    "NoteSignature",
    "Signer",
    "Verifier",
    "cosignature_message",
    "cosignature_timestamp",
    "generate_signer",
    "key_id",
    "sign_note",
    "verify_checkpoint",
    "verify_note",
]

SIGNATURE_LINE_PREFIX: Final = "\u2014 "
"""Every signature line starts with an em dash (U+2014) and a space."""

KEY_ID_SIZE: Final = 4
"""Bytes of key ID in front of every signature."""

MAX_SIGNATURES: Final = 100
"""Most signature lines parsed in one note (Go's limit; the spec requires at least 16)."""

ALG_ED25519: Final = 0x01
"""Signature type byte of plain Ed25519 note signatures."""

ALG_ECDSA: Final = 0x02
"""Signature type byte of ECDSA note signatures (transparency-dev/witness, Rekor)."""

ALG_COSIGNATURE_V1: Final = 0x04
"""Signature type byte of timestamped Ed25519 cosignatures (c2sp.org/tlog-cosignature)."""

COSIGNATURE_V1_HEADER: Final = "cosignature/v1\n"
"""Domain-separation header line of the message a cosignature/v1 signs."""

_SKEY_PREFIX: Final = "PRIVATE+KEY+"
_ED25519_KEY_SIZE: Final = 32
_ED25519_SIGNATURE_SIZE: Final = 64
_TIMESTAMP_SIZE: Final = 8
_MAX_TIMESTAMP: Final = 2**63 - 1  # tlog-cosignature: "MUST NOT exceed 2^63 - 1"
_MAX_TREE_SIZE: Final = 2**64 - 1  # sizes are uint64 everywhere they are encoded
_ECDSA_CURVES: Final = frozenset({"secp256r1", "secp384r1", "secp521r1"})
# signed-note: no ASCII control characters other than newline.
_CONTROL: Final = re.compile(r"[\x00-\x09\x0b-\x1f]")
_TREE_SIZE: Final = re.compile(r"0|[1-9][0-9]*", re.ASCII)
_KEY_ID_HEX: Final = re.compile(r"[0-9a-fA-F]{8}", re.ASCII)


# --- small helpers -------------------------------------------------------------------------------


def _b64encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _b64decode(value: str, what: str, error: type[FormatError] = FormatError) -> bytes:
    """Decode standard padded base64, refusing anything but the canonical encoding.

    Canonical-only means a signature or hash has exactly one spelling, so a flipped "unused"
    padding bit cannot produce a different-looking note that still verifies.
    """
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise error(f"{what}: expected standard base64, got {value!r}") from exc
    if _b64encode(raw) != value:
        raise error(f"{what}: expected canonical base64, got {value!r}")
    return raw


def _check_key_name(name: str, error: type[FormatError] = FormatError) -> None:
    # signed-note: key names are non-empty, with no Unicode spaces and no '+'.
    if not name or "+" in name or any(ch.isspace() for ch in name) or _CONTROL.search(name):
        raise error(f"key name: expected no spaces, '+' or control characters, got {name!r}")


def _check_utf8(text: str, what: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise FormatError(f"{what}: expected valid UTF-8, got unpaired surrogates") from exc


def _check_note_text(text: str) -> None:
    _check_utf8(text, "note text")
    if not text.endswith("\n"):
        raise FormatError("note text: expected a final newline, got none")
    if match := _CONTROL.search(text):
        raise FormatError(
            f"note text: expected no control characters but newline, "
            f"got {match.group()!r} at offset {match.start()}"
        )


def key_id(name: str, key_type: int, public_key: bytes) -> bytes:
    """Return the 4-byte key ID ``SHA-256(name || 0x0A || type || public key)[:4]`` (signed-note)."""
    material = name.encode("utf-8") + b"\n" + bytes([key_type]) + public_key
    return hashlib.sha256(material).digest()[:KEY_ID_SIZE]


# --- notes -----------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class NoteSignature:
    """One signature line of a note: key name, 4-byte key ID and the signature bytes after it."""

    name: str
    key_id: bytes
    signature: bytes

    def __post_init__(self) -> None:
        _check_key_name(self.name)
        if len(self.key_id) != KEY_ID_SIZE:
            raise FormatError(f"key ID: expected {KEY_ID_SIZE} bytes, got {len(self.key_id)}")
        if not self.signature:
            raise FormatError("signature: expected at least one byte after the key ID, got none")

    @classmethod
    def from_line(cls, line: str) -> NoteSignature:
        """Parse ``— <name> <base64>`` (without the newline)."""
        if not line.startswith(SIGNATURE_LINE_PREFIX):
            raise FormatError(
                f"signature line: expected to start with {SIGNATURE_LINE_PREFIX!r}, "
                f"got {line[:40]!r}"
            )
        name, _, encoded = line[len(SIGNATURE_LINE_PREFIX) :].partition(" ")
        _check_key_name(name)
        raw = _b64decode(encoded, f"signature of {name!r}")
        if len(raw) <= KEY_ID_SIZE:
            raise FormatError(
                f"signature of {name!r}: expected more than {KEY_ID_SIZE} bytes, got {len(raw)}"
            )
        return cls(name=name, key_id=raw[:KEY_ID_SIZE], signature=raw[KEY_ID_SIZE:])

    def to_line(self) -> str:
        """Return the signature line, without the trailing newline."""
        encoded = _b64encode(self.key_id + self.signature)
        return f"{SIGNATURE_LINE_PREFIX}{self.name} {encoded}"


@dataclass(frozen=True, kw_only=True)
class Note:
    """A signed note: its text (ending in a newline) and its signatures, in order.

    ``verified_by`` is empty on a merely parsed note; :func:`verify_note` returns a copy that
    lists the verifier keys (vkey strings) whose signatures verified.
    """

    text: str
    signatures: tuple[NoteSignature, ...]
    verified_by: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_note_text(self.text)
        if not self.signatures:
            raise FormatError("note: expected at least one signature line, got none")
        if len(self.signatures) > MAX_SIGNATURES:
            raise FormatError(
                f"note: expected at most {MAX_SIGNATURES} signatures, got {len(self.signatures)}"
            )

    @classmethod
    def from_text(cls, note: str | bytes) -> Note:
        """Parse a signed note without verifying anything; raise :class:`FormatError` if malformed.

        ``bytes`` are decoded as strict UTF-8, so invalid encodings are rejected as the spec
        requires rather than replaced.
        """
        if isinstance(note, bytes):
            try:
                note = note.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise FormatError("note: expected valid UTF-8") from exc
        _check_utf8(note, "note")
        if match := _CONTROL.search(note):
            raise FormatError(
                f"note: expected no control characters but newline, "
                f"got {match.group()!r} at offset {match.start()}"
            )
        # The text ends at the *last* blank line; the text itself may contain blank lines.
        split = note.rfind("\n\n")
        if split < 0:
            raise FormatError("note: expected a blank line before the signatures, got none")
        text, block = note[: split + 1], note[split + 2 :]
        if not block.endswith("\n"):
            got = "no signature lines" if not block else "a last line without newline"
            raise FormatError(f"note: expected newline-terminated signature lines, got {got}")
        lines = block[:-1].split("\n")
        # Bound the work before decoding anything (Go's sumdb/note does the same).
        if len(lines) > MAX_SIGNATURES:
            raise FormatError(
                f"note: expected at most {MAX_SIGNATURES} signatures, got {len(lines)}"
            )
        return cls(text=text, signatures=tuple(NoteSignature.from_line(ln) for ln in lines))

    def to_text(self) -> str:
        """Return the note as transmitted: text, blank line, signature lines."""
        lines = "".join(f"{sig.to_line()}\n" for sig in self.signatures)
        return f"{self.text}\n{lines}"

    def with_signatures(self, *signatures: NoteSignature) -> Note:
        """Return a copy with more signature lines appended (for example a cosignature)."""
        return Note(text=self.text, signatures=self.signatures + signatures)

    def verify(self, verifier_keys: Sequence[str | Verifier]) -> Note:
        """Verify against trusted keys; return a copy whose ``verified_by`` lists them.

        Raises :class:`InvalidSignatureError` if any signature by a known key fails and
        :class:`UnverifiedNoteError` if none verifies. Unknown signers are ignored.
        """
        if isinstance(verifier_keys, str):
            raise TypeError("verifier_keys: expected a sequence of vkeys, got a single string")
        known: dict[tuple[str, bytes], Verifier] = {}
        for item in verifier_keys:
            verifier = item if isinstance(item, Verifier) else Verifier.from_vkey(item)
            slot = (verifier.name, verifier.key_id)
            other = known.setdefault(slot, verifier)
            if other.vkey != verifier.vkey:
                raise KeyFormatError(
                    f"verifier keys: expected one key per name and key ID, got two for "
                    f"{verifier.name}+{verifier.key_id.hex()}"
                )
        message = self.text.encode("utf-8")
        verified: list[str] = []
        for sig in self.signatures:
            signer = known.get((sig.name, sig.key_id))
            if signer is None:
                continue  # signed-note: signatures from unknown keys MUST be ignored
            signer.verify(message, sig.signature)
            if signer.vkey not in verified:
                verified.append(signer.vkey)
        if not verified:
            trusted = ", ".join(sorted(f"{n}+{k.hex()}" for n, k in known)) or "none"
            present = ", ".join(f"{s.name}+{s.key_id.hex()}" for s in self.signatures)
            raise UnverifiedNoteError(
                f"note: expected a signature from a trusted key ({trusted}), got only {present}"
            )
        return dataclasses.replace(self, verified_by=tuple(verified))


def verify_note(text: str | bytes, verifier_keys: Sequence[str | Verifier]) -> Note:
    """Parse and verify a signed note; return it with ``verified_by`` filled in.

    ``verifier_keys`` are ``name+keyid+base64`` strings (or parsed :class:`Verifier` objects).
    Raises :class:`FormatError` for a malformed note or key, :class:`InvalidSignatureError` if a
    known key's signature fails, :class:`UnverifiedNoteError` if no known key signed.
    """
    return Note.from_text(text).verify(verifier_keys)


# --- verifier keys ---------------------------------------------------------------------------------


class Verifier:
    """A parsed verifier key: checks one signer's signatures.

    Build it with :meth:`from_vkey` (or :meth:`ed25519`); ``vkey`` is its canonical string.
    """

    __slots__ = ("_check", "key_id", "key_type", "name", "vkey")

    def __init__(
        self,
        *,
        name: str,
        key_id: bytes,
        key_type: int,
        vkey: str,
        check: Callable[[bytes, bytes], str | None],
    ) -> None:
        self.name = name
        self.key_id = key_id
        self.key_type = key_type
        self.vkey = vkey
        # check(message, signature) returns None when valid, else why not.
        self._check = check

    def __repr__(self) -> str:
        return f"Verifier({self.name}+{self.key_id.hex()}, type=0x{self.key_type:02x})"

    @classmethod
    def from_vkey(cls, vkey: str) -> Verifier:
        """Parse ``name+keyid+base64(type || key)``; raise :class:`KeyFormatError` if malformed.

        Only the first two ``+`` separate fields: the base64 part may contain ``+`` itself.
        The key ID must match the one derived from the key.
        """
        parts = vkey.split("+", 2)
        if len(parts) != 3:
            raise KeyFormatError(f"verifier key: expected name+keyid+base64, got {vkey!r}")
        name, id_hex, encoded = parts
        _check_key_name(name, KeyFormatError)
        if not _KEY_ID_HEX.fullmatch(id_hex):
            raise KeyFormatError(f"verifier key {name!r}: expected 8 hex digits, got {id_hex!r}")
        raw = _b64decode(encoded, f"verifier key {name!r}", KeyFormatError)
        if len(raw) < 2:
            raise KeyFormatError(f"verifier key {name!r}: expected type byte and key, got {raw!r}")
        key_type, material = raw[0], raw[1:]
        if key_type in (ALG_ED25519, ALG_COSIGNATURE_V1):
            if len(material) != _ED25519_KEY_SIZE:
                raise KeyFormatError(
                    f"verifier key {name!r}: expected a {_ED25519_KEY_SIZE}-byte Ed25519 key, "
                    f"got {len(material)} bytes"
                )
            derived = key_id(name, key_type, material)
            # Any 32 bytes load; a non-point key just never verifies anything.
            public = ed25519.Ed25519PublicKey.from_public_bytes(material)
            check = (
                _ed25519_check(public)
                if key_type == ALG_ED25519
                else _cosignature_v1_check(public)
            )
        elif key_type == ALG_ECDSA:
            derived = hashlib.sha256(material).digest()[:KEY_ID_SIZE]
            check = _ecdsa_check(_load_ecdsa_key(name, material))
        else:
            raise KeyFormatError(
                f"verifier key {name!r}: expected type 0x01, 0x02 or 0x04, got 0x{key_type:02x}"
            )
        if derived != bytes.fromhex(id_hex):
            raise KeyFormatError(
                f"verifier key {name!r}: expected key ID {derived.hex()}, got {id_hex.lower()}"
            )
        canonical = f"{name}+{derived.hex()}+{encoded}"
        return cls(name=name, key_id=derived, key_type=key_type, vkey=canonical, check=check)

    @classmethod
    def ed25519(cls, name: str, public_key: bytes) -> Verifier:
        """Return the type 0x01 verifier for a raw 32-byte Ed25519 public key."""
        return cls.from_vkey(_vkey(name, ALG_ED25519, public_key))

    def verify(self, message: bytes, signature: bytes) -> None:
        """Check ``signature`` (without key ID) over ``message``; raise if it does not verify."""
        problem = self._check(message, signature)
        if problem is not None:
            raise InvalidSignatureError(
                f"signature by {self.name}+{self.key_id.hex()}: expected a valid "
                f"signature over the note text, got {problem}"
            )


def _vkey(name: str, key_type: int, public_key: bytes) -> str:
    ident = key_id(name, key_type, public_key).hex()
    return f"{name}+{ident}+{_b64encode(bytes([key_type]) + public_key)}"


def _ed25519_check(public: ed25519.Ed25519PublicKey) -> Callable[[bytes, bytes], str | None]:
    def check(message: bytes, signature: bytes) -> str | None:
        if len(signature) != _ED25519_SIGNATURE_SIZE:
            return f"{len(signature)} bytes instead of {_ED25519_SIGNATURE_SIZE}"
        try:
            public.verify(signature, message)
        except InvalidSignature:
            return "an Ed25519 signature that does not verify"
        return None

    return check


def _load_ecdsa_key(name: str, spki: bytes) -> ec.EllipticCurvePublicKey:
    try:
        public = serialization.load_der_public_key(spki)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise KeyFormatError(f"verifier key {name!r}: expected a DER SPKI public key") from exc
    if not isinstance(public, ec.EllipticCurvePublicKey) or public.curve.name not in _ECDSA_CURVES:
        raise KeyFormatError(
            f"verifier key {name!r}: expected an ECDSA P-256/P-384/P-521 key, "
            f"got {type(public).__name__}"
        )
    return public


def _ecdsa_check(public: ec.EllipticCurvePublicKey) -> Callable[[bytes, bytes], str | None]:
    # transparency-dev/formats hashes with SHA-256 whatever the curve; so must we.
    algorithm = ec.ECDSA(hashes.SHA256())

    def check(message: bytes, signature: bytes) -> str | None:
        try:
            public.verify(signature, message, algorithm)
        except (InvalidSignature, ValueError):
            return "an ECDSA signature that does not verify"
        return None

    return check


def _cosignature_v1_check(
    public: ed25519.Ed25519PublicKey,
) -> Callable[[bytes, bytes], str | None]:
    def check(message: bytes, signature: bytes) -> str | None:
        if len(signature) != _TIMESTAMP_SIZE + _ED25519_SIGNATURE_SIZE:
            return f"{len(signature)} bytes instead of a timestamp and an Ed25519 signature"
        timestamp = int.from_bytes(signature[:_TIMESTAMP_SIZE], "big")
        if timestamp > _MAX_TIMESTAMP:
            return f"timestamp {timestamp} above 2^63 - 1"
        try:
            # A cosignature is a statement about a checkpoint; over anything else it is void.
            Checkpoint.from_text(message.decode("utf-8"))
        except VerificationError:
            return "a cosignature over a note that is not a checkpoint"
        signed = f"{COSIGNATURE_V1_HEADER}time {timestamp}\n".encode() + message
        try:
            public.verify(signature[_TIMESTAMP_SIZE:], signed)
        except InvalidSignature:
            return "a cosignature/v1 signature that does not verify"
        return None

    return check


# --- signers ---------------------------------------------------------------------------------------


class Signer:
    """An Ed25519 note signer (type 0x01) with its key name.

    The private key never leaves the object except through :attr:`skey`, which exists so keys
    can be generated once and stored in a secret store.
    """

    __slots__ = ("_private_key", "key_id", "name", "public_key")

    def __init__(self, name: str, private_key: ed25519.Ed25519PrivateKey) -> None:
        _check_key_name(name, KeyFormatError)
        self.name = name
        self._private_key = private_key
        self.public_key = private_key.public_key().public_bytes_raw()
        self.key_id = key_id(name, ALG_ED25519, self.public_key)

    def __repr__(self) -> str:
        return f"Signer({self.name}+{self.key_id.hex()})"

    @classmethod
    def generate(cls, name: str) -> Signer:
        """Return a signer with a fresh random Ed25519 key."""
        return cls(name, ed25519.Ed25519PrivateKey.generate())

    @classmethod
    def from_skey(cls, skey: str) -> Signer:
        """Parse ``PRIVATE+KEY+name+keyid+base64(0x01 || seed)`` (golang.org/x/mod/sumdb/note).

        Raises :class:`KeyFormatError` if malformed or if the key ID does not match the key.
        """
        if not skey.startswith(_SKEY_PREFIX):
            raise KeyFormatError("signer key: expected PRIVATE+KEY+name+keyid+base64")
        parts = skey[len(_SKEY_PREFIX) :].split("+", 2)
        if len(parts) != 3:
            raise KeyFormatError("signer key: expected PRIVATE+KEY+name+keyid+base64")
        name, id_hex, encoded = parts
        _check_key_name(name, KeyFormatError)
        if not _KEY_ID_HEX.fullmatch(id_hex):
            # Not echoed: with a field missing, this "key ID" is really part of the secret.
            raise KeyFormatError(f"signer key {name!r}: expected an 8-hex-digit key ID")
        # Never echo the secret into an error message: label it instead of showing it.
        try:
            raw = _b64decode(encoded, "signer key", KeyFormatError)
        except KeyFormatError:
            raise KeyFormatError(f"signer key {name!r}: expected standard base64") from None
        if len(raw) != 1 + _ED25519_KEY_SIZE or raw[0] != ALG_ED25519:
            raise KeyFormatError(
                f"signer key {name!r}: expected 0x01 and a 32-byte Ed25519 seed, "
                f"got {len(raw)} bytes"
            )
        signer = cls(name, ed25519.Ed25519PrivateKey.from_private_bytes(raw[1:]))
        if signer.key_id != bytes.fromhex(id_hex):
            raise KeyFormatError(
                f"signer key {name!r}: expected key ID {signer.key_id.hex()}, "
                f"got {id_hex.lower()}"
            )
        return signer

    @property
    def vkey(self) -> str:
        """The verifier key string to publish: ``name+keyid+base64(0x01 || public key)``."""
        return _vkey(self.name, ALG_ED25519, self.public_key)

    @property
    def skey(self) -> str:
        """The signer key string (secret): ``PRIVATE+KEY+name+keyid+base64(0x01 || seed)``."""
        seed = self._private_key.private_bytes_raw()
        encoded = _b64encode(bytes([ALG_ED25519]) + seed)
        return f"{_SKEY_PREFIX}{self.name}+{self.key_id.hex()}+{encoded}"

    def verifier(self) -> Verifier:
        """Return the matching :class:`Verifier`."""
        return Verifier.from_vkey(self.vkey)

    def sign(self, text: str) -> NoteSignature:
        """Sign a note text (UTF-8, ending in newline, no control characters)."""
        _check_note_text(text)
        signature = self._private_key.sign(text.encode("utf-8"))
        return NoteSignature(name=self.name, key_id=self.key_id, signature=signature)


def generate_signer(name: str) -> tuple[str, str]:
    """Generate a fresh Ed25519 note key; return ``(skey, vkey)`` strings. Keep skey secret."""
    signer = Signer.generate(name)
    return signer.skey, signer.vkey


def sign_note(text: str, signers: Sequence[Signer]) -> str:
    """Return the signed note for ``text``, with one signature line per signer, in order."""
    if not signers:
        raise ValueError("signers: expected at least one signer, got none")
    return Note(text=text, signatures=tuple(s.sign(text) for s in signers)).to_text()


class Cosigner:
    """An Ed25519 witness cosigner (c2sp.org/tlog-cosignature, signature type 0x04).

    Its key ID uses type byte 0x04, so the same key pair cannot be confused with a 0x01 signer.
    """

    __slots__ = ("_private_key", "key_id", "name", "public_key")

    def __init__(self, name: str, private_key: ed25519.Ed25519PrivateKey) -> None:
        _check_key_name(name, KeyFormatError)
        self.name = name
        self._private_key = private_key
        self.public_key = private_key.public_key().public_bytes_raw()
        self.key_id = key_id(name, ALG_COSIGNATURE_V1, self.public_key)

    def __repr__(self) -> str:
        return f"Cosigner({self.name}+{self.key_id.hex()})"

    @property
    def vkey(self) -> str:
        """The verifier key string: ``name+keyid+base64(0x04 || public key)``."""
        return _vkey(self.name, ALG_COSIGNATURE_V1, self.public_key)

    def sign(self, checkpoint_text: str, *, timestamp: int) -> NoteSignature:
        """Cosign a checkpoint text at ``timestamp`` (POSIX seconds)."""
        Checkpoint.from_text(checkpoint_text)
        signature = self._private_key.sign(cosignature_message(checkpoint_text, timestamp))
        return NoteSignature(
            name=self.name,
            key_id=self.key_id,
            signature=timestamp.to_bytes(_TIMESTAMP_SIZE, "big") + signature,
        )


def cosignature_message(checkpoint_text: str, timestamp: int) -> bytes:
    """Return the exact bytes a cosignature/v1 signs (c2sp.org/tlog-cosignature).

    ``cosignature/v1``, ``time <timestamp>``, then the whole checkpoint text.
    """
    if not 0 <= timestamp <= _MAX_TIMESTAMP:
        raise FormatError(f"timestamp: expected 0..2^63-1, got {timestamp}")
    return f"{COSIGNATURE_V1_HEADER}time {timestamp}\n{checkpoint_text}".encode()


def cosignature_timestamp(signature: NoteSignature) -> int:
    """Return the POSIX timestamp embedded in a cosignature/v1 signature.

    Raises :class:`FormatError` unless the signature is an 8-byte timestamp plus 64 bytes.
    """
    raw = signature.signature
    if len(raw) != _TIMESTAMP_SIZE + _ED25519_SIGNATURE_SIZE:
        raise FormatError(
            f"cosignature of {signature.name!r}: expected "
            f"{_TIMESTAMP_SIZE + _ED25519_SIGNATURE_SIZE} bytes after the key ID, got {len(raw)}"
        )
    timestamp = int.from_bytes(raw[:_TIMESTAMP_SIZE], "big")
    if timestamp > _MAX_TIMESTAMP:
        raise FormatError(
            f"cosignature of {signature.name!r}: expected timestamp <= 2^63-1, got {timestamp}"
        )
    return timestamp


# --- checkpoints -----------------------------------------------------------------------------------


def _check_line(what: str, value: str) -> None:
    if not value:
        raise FormatError(f"{what}: expected a non-empty line, got an empty one")
    if "\n" in value or _CONTROL.search(value):
        raise FormatError(f"{what}: expected one line without control characters, got {value!r}")
    _check_utf8(value, what)


@dataclass(frozen=True, kw_only=True)
class Checkpoint:
    """A transparency log checkpoint body (c2sp.org/tlog-checkpoint).

    ``origin`` names the log, ``size`` is the number of leaves and ``root_hash`` the 32-byte
    RFC 6962 root at that size; ``extensions`` are optional opaque extra lines (NOT RECOMMENDED
    by the spec, as monitors cannot audit them). Invalid values raise :class:`FormatError`.
    """

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_line("checkpoint origin", self.origin)
        if type(self.size) is not int or not 0 <= self.size <= _MAX_TREE_SIZE:
            raise FormatError(f"checkpoint size: expected 0..2^64-1, got {self.size!r}")
        if type(self.root_hash) is not bytes or len(self.root_hash) != HASH_SIZE:
            raise FormatError(
                f"checkpoint root hash: expected {HASH_SIZE} bytes, got {self.root_hash!r}"
            )
        for number, line in enumerate(self.extensions, start=4):
            _check_line(f"checkpoint extension line {number}", line)

    @classmethod
    def from_text(cls, text: str) -> Checkpoint:
        """Parse a checkpoint body (the note text, without the blank line and signatures)."""
        if not text.endswith("\n"):
            raise FormatError("checkpoint: expected a final newline, got none")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise FormatError(
                f"checkpoint: expected origin, size and root hash lines, got {len(lines)} lines"
            )
        origin, size_line, root_line, *extensions = lines
        if not _TREE_SIZE.fullmatch(size_line):
            raise FormatError(
                f"checkpoint size: expected a decimal without leading zeros, got {size_line!r}"
            )
        root_hash = _b64decode(root_line, "checkpoint root hash")
        return cls(
            origin=origin,
            size=int(size_line),
            root_hash=root_hash,
            extensions=tuple(extensions),
        )

    def to_text(self) -> str:
        """Return the checkpoint body, ready to be signed as a note text."""
        extra = "".join(f"{line}\n" for line in self.extensions)
        return f"{self.origin}\n{self.size}\n{_b64encode(self.root_hash)}\n{extra}"

    def sign(self, signers: Sequence[Signer]) -> str:
        """Return this checkpoint as a signed note."""
        return sign_note(self.to_text(), signers)


def verify_checkpoint(
    note_text: str | bytes,
    verifier_keys: Sequence[str | Verifier],
    *,
    origin: str | None = None,
) -> tuple[Checkpoint, Note]:
    """Verify a signed checkpoint and parse it; return the checkpoint and the verified note.

    With ``origin``, the checkpoint must name exactly that log (tlog-checkpoint: clients check
    the origin line; the signing key's name may differ from it, as sum.golang.org's does).
    """
    note = verify_note(note_text, verifier_keys)
    checkpoint = Checkpoint.from_text(note.text)
    if origin is not None and checkpoint.origin != origin:
        raise VerificationError(
            f"checkpoint origin: expected {origin!r}, got {checkpoint.origin!r}"
        )
    return checkpoint, note
