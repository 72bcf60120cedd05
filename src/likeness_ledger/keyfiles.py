"""Secret files in the data folder: created once with 0600 permissions, refused if others can read them.

Both the vault's master key and the log's signing key go through these two functions, so every
secret gets the same atomic creation and the same checks on read.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path
from typing import Final

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from likeness_ledger.errors import ConfigurationError

SECRET_FILE_MODE: Final = 0o600
SIGNING_KEY_LENGTH: Final = 32


def fsync_dir(path: Path) -> None:
    """Flush a directory entry change (create, rename, link) to disk."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def create_secret(path: Path, data: bytes) -> None:
    """Create ``path`` holding ``data`` with mode 0600, atomically; an existing file is kept.

    The secret is written and fsynced under a temporary name, then hard-linked into place, so a
    concurrent process sees either no file or the complete secret; if two processes race, both
    end up with the one linked first.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, SECRET_FILE_MODE)
    try:
        try:
            os.fchmod(fd, SECRET_FILE_MODE)  # the open() mode is filtered by the umask
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        # FileExistsError: another process won the race; its secret stands.
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    fsync_dir(path.parent)


def read_secret(path: Path, *, length: int, label: str, error: type[ConfigurationError] = ConfigurationError) -> bytes:
    """Read exactly ``length`` bytes from a regular 0600 file; FileNotFoundError if it is absent.

    Any other problem raises ``error`` with a message that starts with ``label`` and the path.
    """
    # Check the opened descriptor rather than the path, so the file cannot be swapped between the
    # check and the read. Symlinks are followed on purpose: secret mounts (Kubernetes, systemd
    # credentials) are usually symlinks. O_NONBLOCK: a FIFO planted at the path must fail the
    # regular-file check below rather than hang; it has no effect on regular files.
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise error(f"{label} {path}: cannot open ({exc.strerror})") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise error(f"{label} {path}: expected a regular file")
        mode = stat.S_IMODE(st.st_mode)
        if mode & 0o077:
            raise error(
                f"{label} {path}: permissions too open: expected mode 0600 (no group or other access), "
                f"got {mode:04o}; run chmod 600 {path}"
            )
        # One byte more than asked for, so that a longer file is noticed.
        secret = os.read(fd, length + 1)
    finally:
        os.close(fd)
    if len(secret) != length:
        raise error(f"{label} {path}: expected {length} bytes, got {'more' if len(secret) > length else len(secret)}")
    return secret


def load_or_create_signing_key(path: Path, *, create: bool) -> Ed25519PrivateKey:
    """The transparency log's Ed25519 signing key, created on first run when ``create`` is set."""
    label = "signing key file"
    try:
        raw = read_secret(path, length=SIGNING_KEY_LENGTH, label=label)
    except FileNotFoundError:
        if not create:
            raise ConfigurationError(f"{path}: signing key missing; run `likeness init` to create it") from None
        seed = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        create_secret(path, seed)
        raw = read_secret(path, length=SIGNING_KEY_LENGTH, label=label)
    return Ed25519PrivateKey.from_private_bytes(raw)
