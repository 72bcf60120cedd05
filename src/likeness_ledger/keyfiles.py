"""Secret files in the data folder: created once with 0600 permissions, refused if others can read them."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from likeness_ledger.errors import ConfigurationError


def write_secret(path: Path, data: bytes) -> None:
    """Create ``path`` exclusively with mode 0600; never overwrite an existing secret."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def read_secret(path: Path) -> bytes:
    """Read a secret file, refusing one that group or others may read or write."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError as exc:
        raise ConfigurationError(f"{path}: key file missing; run `likeness init` to create it") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigurationError(f"{path}: permissions {oct(mode & 0o777)} are too open; expected 0600")
    return path.read_bytes()


def load_or_create_signing_key(path: Path, *, create: bool) -> Ed25519PrivateKey:
    """The transparency log's Ed25519 signing key, created on first run when ``create`` is set."""
    if not path.exists():
        if not create:
            raise ConfigurationError(f"{path}: signing key missing; run `likeness init` to create it")
        key = Ed25519PrivateKey.generate()
        raw = key.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        write_secret(path, raw)
        return key
    raw = read_secret(path)
    if len(raw) != 32:
        raise ConfigurationError(f"{path}: expected a 32-byte Ed25519 seed, found {len(raw)} bytes")
    return Ed25519PrivateKey.from_private_bytes(raw)
