"""Vault master key and data-key wrapping (AES key wrap, RFC 3394).

Every blob is encrypted under its own random 256-bit data key; the data key is stored in the blob
header wrapped by the vault's :class:`MasterKey`. The wrapped key sits outside the chunks'
associated data, so rotating the master key means rewrapping 40 bytes per blob, never
re-encrypting blob contents.

Why RFC 3394 AES key wrap rather than AES-GCM for the wrapping:

* it is purpose-built for wrapping key material (NIST SP 800-38F "KW") and needs no nonce, so
  there is no nonce to generate, store or get wrong; being deterministic is harmless because the
  wrapped input is always a fresh random key;
* its 64-bit integrity check makes a wrong master key or a corrupted wrapped key fail loudly at
  unwrap time;
* it costs 40 bytes per blob instead of 60 (nonce + key + tag).

It takes no associated data; the rest of the blob header (chunk size, nonce prefix) is
authenticated by the chunks, whose associated data includes it (see :mod:`.store`).
"""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path
from typing import Final

from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

from likeness_ledger.keyfiles import create_secret, read_secret
from likeness_ledger.vault.errors import KeyFileError, VaultIntegrityError

MASTER_KEY_LENGTH: Final = 32
"""Bytes in a master key and in a data key (AES-256)."""

WRAPPED_KEY_LENGTH: Final = MASTER_KEY_LENGTH + 8
"""RFC 3394 output length: the input plus one 64-bit integrity block."""

KEY_ID_LENGTH: Final = 8
"""Bytes of the key identifier stored in each blob header."""

KEY_ID_DOMAIN: Final = b"likeness-ledger/vault/master-key-id/v1\x00"
"""Domain-separation prefix hashed with the key to derive its public identifier."""



def new_data_key() -> bytes:
    """Return a fresh random 256-bit data key for one blob."""
    return secrets.token_bytes(MASTER_KEY_LENGTH)


class MasterKey:
    """The vault's 256-bit key-encryption key.

    Build one with :meth:`generate`, :meth:`load` or :meth:`load_or_create`; the constructor
    refuses anything but exactly 32 bytes. ``key_id`` is a non-secret fingerprint stored in blob
    headers so that reading with the wrong master key is reported as such instead of as
    corruption. The secret never appears in ``repr``.
    """

    __slots__ = ("_secret", "key_id")

    def __init__(self, secret: bytes) -> None:
        if len(secret) != MASTER_KEY_LENGTH:
            raise KeyFileError(f"master key: expected {MASTER_KEY_LENGTH} bytes, got {len(secret)}")
        self._secret = bytes(secret)
        self.key_id: bytes = hashlib.sha256(KEY_ID_DOMAIN + self._secret).digest()[:KEY_ID_LENGTH]

    def __repr__(self) -> str:
        return f"MasterKey(key_id={self.key_id.hex()})"

    @classmethod
    def generate(cls) -> MasterKey:
        """Return a new random master key (not persisted)."""
        return cls(secrets.token_bytes(MASTER_KEY_LENGTH))

    @classmethod
    def load(cls, path: Path) -> MasterKey:
        """Read a master key file: exactly 32 raw bytes, a regular file, mode 0600 or stricter.

        Raises :class:`KeyFileError` if the file is missing, has the wrong length, or can be
        read or written by group or others.
        """
        try:
            return cls._read(path)
        except FileNotFoundError:
            raise KeyFileError(f"master key file {path} does not exist") from None

    @classmethod
    def load_or_create(cls, path: Path) -> MasterKey:
        """Load the master key at ``path``, creating a new random one with mode 0600 if absent.

        Creation is atomic (see :func:`likeness_ledger.keyfiles.create_secret`): a concurrent
        process sees no file or the complete key, and racing processes share the first one linked.
        """
        try:
            return cls._read(path)
        except FileNotFoundError:
            pass
        create_secret(path, secrets.token_bytes(MASTER_KEY_LENGTH))
        return cls._read(path)

    @classmethod
    def _read(cls, path: Path) -> MasterKey:
        return cls(read_secret(path, length=MASTER_KEY_LENGTH, label="master key file", error=KeyFileError))

    def wrap(self, data_key: bytes) -> bytes:
        """Wrap a 32-byte data key with RFC 3394 AES key wrap; returns 40 bytes."""
        if len(data_key) != MASTER_KEY_LENGTH:
            raise ValueError(f"data key: expected {MASTER_KEY_LENGTH} bytes, got {len(data_key)}")
        return aes_key_wrap(self._secret, data_key)

    def unwrap(self, wrapped: bytes) -> bytes:
        """Unwrap a data key; raises :class:`VaultIntegrityError` if the integrity check fails."""
        if len(wrapped) != WRAPPED_KEY_LENGTH:
            raise VaultIntegrityError(f"wrapped data key: expected {WRAPPED_KEY_LENGTH} bytes, got {len(wrapped)}")
        try:
            return aes_key_unwrap(self._secret, wrapped)
        except InvalidUnwrap:
            raise VaultIntegrityError(
                "wrapped data key failed the RFC 3394 integrity check (corrupted header or a different master key)"
            ) from None

