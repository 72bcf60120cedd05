"""Encrypted, content-addressed blob store for likeness replicas.

Blobs are addressed by the SHA-256 of their plaintext and stored at ``blobs/ab/cd/<sha256>``
under the store root. Each blob gets its own random data key, wrapped by the vault master key
(RFC 3394, see :mod:`.keys`), and is encrypted with AES-256-GCM (NIST SP 800-38D) in fixed-size
chunks using the STREAM construction of Hoang, Reyhanitabar, Rogaway and Vizár, "Online
Authenticated-Encryption and its Nonce-Reuse Misuse-Resistance" (CRYPTO 2015), so that a blob
can be written and read in bounded memory while reordering, truncation and extension of chunks
are all detected.

File format (version 1), all integers big-endian::

    header   stream header: magic "LLVAULT" (7) | version (1) | chunk_size u32
                            | nonce prefix (8)                               = 20 bytes
             key slot:      master key id (8) | wrapped data key (40)       = 48 bytes
    chunk i  AES-256-GCM(data key, nonce = nonce prefix || u32 i,
                         plaintext_i, aad_i) = ciphertext_i || tag_i (16)

    aad_i    stream header || u64 i || 0x00                        every chunk but the last
    aad_last stream header || u64 i || 0x01 || u64 size || sha256   the last chunk

Every chunk but the last holds exactly ``chunk_size`` plaintext bytes; the last holds
``size mod chunk_size`` bytes, so it is always shorter than a full chunk and is empty when the
size is a multiple of the chunk size (or zero). A reader therefore knows from the file length
alone which chunk must carry the last-chunk flag: cutting the file at a chunk boundary, dropping
or appending chunks, or swapping them all make some tag fail. The stream header is in every
chunk's associated data, so its fields are authenticated. The key slot is deliberately not: the
wrapped key protects itself (the RFC 3394 integrity check fails under any other master key or
after any change), a valid wrapped key copied from another blob unwraps to a different data key
so every tag fails, and the key id is only a hint for error messages. Keeping it outside lets a
master-key rotation rewrite the 48-byte key slot of each blob without touching its chunks. The
last chunk's associated data also commits to the plaintext size and SHA-256, binding the
ciphertext to its content address; the reader additionally recomputes both.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import os
import re
import secrets
import struct
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Final, NoReturn, Self

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from likeness_ledger.errors import ConfigurationError, InvalidInput
from likeness_ledger.vault.errors import (
    BlobNotFound,
    DigestMismatch,
    TruncatedUpload,
    UploadSizeMismatch,
    UploadTooLarge,
    VaultIntegrityError,
)
from likeness_ledger.vault.keys import KEY_ID_LENGTH, WRAPPED_KEY_LENGTH, MasterKey, new_data_key

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from types import TracebackType

MAGIC: Final = b"LLVAULT"
FORMAT_VERSION: Final = 1
NONCE_PREFIX_LENGTH: Final = 8
TAG_LENGTH: Final = 16

_HEADER = struct.Struct(f">7sBI{NONCE_PREFIX_LENGTH}s{KEY_ID_LENGTH}s{WRAPPED_KEY_LENGTH}s")
HEADER_LENGTH: Final = _HEADER.size
STREAM_HEADER_LENGTH: Final = 7 + 1 + 4 + NONCE_PREFIX_LENGTH
"""The header bytes bound into every chunk's associated data (magic to nonce prefix)."""
_NONCE_COUNTER = struct.Struct(">I")
_AAD_CHUNK = struct.Struct(">QB")
_AAD_LAST = struct.Struct(">QBQ32s")
_NOT_LAST: Final = 0
_LAST: Final = 1

MAX_CHUNKS: Final = 2**32
"""The nonce carries a 32-bit chunk counter; a blob may not need more chunks than that."""

MIN_CHUNK_SIZE: Final = 16
"""Smallest chunk size accepted; tests use small chunks, production should not."""

MAX_CHUNK_SIZE: Final = 16 * 1024 * 1024
"""Largest chunk size accepted. A reader allocates one chunk from the (not yet authenticated)
header value, so the bound keeps a corrupted header from making it allocate gigabytes."""

DEFAULT_CHUNK_SIZE: Final = 4 * 1024 * 1024
"""Chosen by measurement (docs/benchmarks.md): a 1 GiB put reached 73% of the disk-write
baseline with 1 MiB chunks and 93-96% with 4, 8 or 16 MiB, while peak RSS rose from 53 MB
(4 MiB) to 69 MB and 103 MB. A put holds three chunk buffers, a read about three chunks."""

WRITEBACK_WINDOW: Final = 32 * 1024 * 1024
"""Bytes written between requests to start writeback early (see ``_start_writeback``)."""

_DIGEST_RE: Final = re.compile(r"[0-9a-f]{64}")
_TEMP_SUFFIX: Final = ".part"
_BACKGROUND_MIN: Final = 256 * 1024
"""Tasks on smaller buffers run inline: a thread handoff costs more than it saves."""


@dataclass(frozen=True, slots=True, kw_only=True)
class BlobInfo:
    """What :meth:`BlobStore.put` stored: the plaintext digest and size.

    ``created`` is False when a blob with that digest was already present (idempotent upload).
    """

    sha256: str
    size: int
    created: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class _Header:
    chunk_size: int
    key_id: bytes
    nonce_prefix: bytes
    wrapped_key: bytes

    def pack(self) -> bytes:
        return _HEADER.pack(
            MAGIC,
            FORMAT_VERSION,
            self.chunk_size,
            self.nonce_prefix,
            self.key_id,
            self.wrapped_key,
        )

    @classmethod
    def unpack(cls, raw: bytes, digest: str) -> _Header:
        if len(raw) != HEADER_LENGTH:
            raise VaultIntegrityError(f"header: expected {HEADER_LENGTH} bytes, got {len(raw)}", digest=digest)
        magic, version, chunk_size, nonce_prefix, key_id, wrapped = _HEADER.unpack(raw)
        if magic != MAGIC:
            raise VaultIntegrityError(f"header: expected magic {MAGIC!r}, got {magic!r}", digest=digest)
        if version != FORMAT_VERSION:
            raise VaultIntegrityError(f"header: expected format version {FORMAT_VERSION}, got {version}", digest=digest)
        if not MIN_CHUNK_SIZE <= chunk_size <= MAX_CHUNK_SIZE:
            raise VaultIntegrityError(
                f"header: expected chunk size in [{MIN_CHUNK_SIZE}, {MAX_CHUNK_SIZE}], got {chunk_size}",
                digest=digest,
            )
        return cls(chunk_size=chunk_size, key_id=key_id, nonce_prefix=nonce_prefix, wrapped_key=wrapped)


def _nonce(prefix: bytes, index: int) -> bytes:
    return prefix + _NONCE_COUNTER.pack(index)


def _aad(header: bytes, index: int) -> bytes:
    return header + _AAD_CHUNK.pack(index, _NOT_LAST)


def _aad_last(header: bytes, index: int, size: int, digest: bytes) -> bytes:
    return header + _AAD_LAST.pack(index, _LAST, size, digest)


def _normalise_digest(value: str, *, field: str = "sha256") -> str:
    # Digests become path components; a strict pattern also rules out path traversal.
    lowered = value.lower()
    if not _DIGEST_RE.fullmatch(lowered):
        raise InvalidInput(f"{field}: expected 64 hexadecimal characters, got {value!r}")
    return lowered


def _reusable(buffers: list[memoryview], index: int, length: int) -> memoryview:
    """Return buffer ``index % 2`` of a double-buffered pair, allocating it on first use."""
    if len(buffers) <= index % 2:
        buffers.append(memoryview(bytearray(length)))
    return buffers[index % 2]


def _write_all(fd: int, data: memoryview) -> None:
    while data:
        written = os.write(fd, data)
        data = data[written:]


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _start_writeback(fd: int, offset: int, length: int) -> None:
    # Python has no sync_file_range(). On Linux, POSIX_FADV_DONTNEED on a dirty range starts
    # asynchronous writeback of it (WB_SYNC_NONE) without waiting, so the disk works while we
    # hash and encrypt the following chunks instead of all at once in the final fsync. Measured
    # on the benchmark machine (c1 vs c2 in docs/benchmarks.md): 1.15-2x faster than
    # write-then-fsync; periodic fdatasync() was slower than either because it blocks the
    # writer. It also keeps write-once blobs from crowding the page cache. Elsewhere it is a
    # harmless hint, and absent on macOS.
    if hasattr(os, "posix_fadvise"):
        os.posix_fadvise(fd, offset, length, os.POSIX_FADV_DONTNEED)


class _Source:
    """Fills fixed-size buffers from a binary stream or an iterable of byte strings."""

    def __init__(self, stream: BinaryIO | Iterable[bytes]) -> None:
        self._readinto: Callable[[memoryview], int | None] | None = None
        self._read: Callable[[int], bytes] | None = None
        self._pieces: Iterator[bytes] | None = None
        self._pending = memoryview(b"")
        if isinstance(stream, bytes | bytearray | memoryview):
            # A bare bytes object is an Iterable[int]; take it as one piece, not 1-byte ints.
            self._pieces = iter((bytes(stream),))
        elif hasattr(stream, "readinto"):
            self._readinto = stream.readinto
        elif hasattr(stream, "read"):
            self._read = stream.read
        else:
            self._pieces = iter(stream)

    def fill(self, buf: memoryview) -> int:
        """Fill ``buf`` completely unless the stream ends first; return the bytes filled."""
        filled = 0
        wanted = len(buf)
        while filled < wanted:
            n = self._next_into(buf[filled:])
            if n == 0:
                break
            filled += n
        return filled

    def _next_into(self, buf: memoryview) -> int:
        if self._readinto is not None:
            n = self._readinto(buf)
            if n is None:
                raise InvalidInput("upload stream returned no data; non-blocking streams are unsupported")
            return n
        if self._read is not None:
            piece = self._read(len(buf))
            buf[: len(piece)] = piece
            return len(piece)
        assert self._pieces is not None
        while not self._pending:
            next_piece = next(self._pieces, None)
            if next_piece is None:
                return 0
            self._pending = memoryview(next_piece).cast("B")
        n = min(len(buf), len(self._pending))
        buf[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


class _Lane:
    """Runs tasks in order on one helper thread, one task behind the caller.

    :meth:`run` first waits for the previous task, so the caller knows every buffer except the
    one handed to the newest task is free again; two buffers are enough to overlap. hashlib,
    AESGCM, os.read and os.write all release the GIL on large buffers, so lanes give real
    parallelism: SHA-256 (~1.4 GB/s here, the slowest CPU step) runs beside AES-GCM and the
    write, and neither waits for the next chunk of a slow upload. Measured on the benchmark
    machine (docs/benchmarks.md), 1 GiB: all in one thread, a put ran at 242 MB/s (78% of
    the disk-write baseline) and a read at 494 MB/s; with the lanes, 330 MB/s (103%) and
    665 MB/s. Small tasks run inline; blobs below one chunk never start a thread.
    """

    def __init__(self, name: str) -> None:
        self._name = name
        self._pool: ThreadPoolExecutor | None = None
        self._pending: Future[None] | None = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close(suppress_errors=exc_type is not None)

    def close(self, *, suppress_errors: bool = False) -> None:
        """Wait for the last task and stop the thread.

        With ``suppress_errors`` (the caller is already failing) the task is still awaited,
        since it may use a buffer or descriptor the caller is about to release, but its own
        exception is dropped so that the original one propagates.
        """
        try:
            if suppress_errors:
                with contextlib.suppress(Exception):
                    self.wait()
            else:
                self.wait()
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None

    def run(self, task: Callable[[], None], *, size: int) -> None:
        """Wait for the previous task, then start ``task`` (inline if ``size`` is small)."""
        self.wait()
        if size < _BACKGROUND_MIN:
            task()
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=self._name)
        self._pending = self._pool.submit(task)

    def wait(self) -> None:
        """Block until the last task is done, re-raising its exception."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()


class _Sealer:
    """Encrypts chunks and appends them to the temp file, starting writeback as it goes.

    Used by one thread at a time (the seal lane), so it can reuse a single ciphertext buffer.
    """

    def __init__(self, fd: int, header: _Header, data_key: bytes) -> None:
        self._fd = fd
        self._aead = AESGCM(data_key)
        packed = header.pack()
        self._header = packed[:STREAM_HEADER_LENGTH]
        self._nonce_prefix = header.nonce_prefix
        self._chunk_size = header.chunk_size
        self._buffer: memoryview | None = None
        self._written = 0
        self._flushed = 0
        self._write(memoryview(packed))

    def seal(self, index: int, plain: memoryview) -> None:
        """Encrypt and write full chunk ``index``."""
        if self._buffer is None:
            self._buffer = memoryview(bytearray(self._chunk_size + TAG_LENGTH))
        self._aead.encrypt_into(_nonce(self._nonce_prefix, index), plain, _aad(self._header, index), self._buffer)
        self._write(self._buffer)

    def seal_last(self, index: int, plain: memoryview, size: int, digest: bytes) -> None:
        """Encrypt and write the final (short, possibly empty) chunk."""
        length = len(plain) + TAG_LENGTH
        out = self._buffer[:length] if self._buffer is not None else memoryview(bytearray(length))
        aad = _aad_last(self._header, index, size, digest)
        self._aead.encrypt_into(_nonce(self._nonce_prefix, index), plain, aad, out)
        self._write(out)

    def _write(self, data: memoryview) -> None:
        _write_all(self._fd, data)
        self._written += len(data)
        if self._written - self._flushed >= WRITEBACK_WINDOW:
            _start_writeback(self._fd, self._flushed, self._written - self._flushed)
            self._flushed = self._written


class BlobStore:
    """Encrypted content-addressed storage of replica blobs on a local filesystem.

    The store knows nothing about owners or consent: a database record on top decides who may
    read a digest. Methods are safe to call from several threads and processes at once; writers
    never modify a published blob, they only add new ones by an atomic link.
    """

    def __init__(self, root: Path, master_key: MasterKey, *, chunk_size: int = DEFAULT_CHUNK_SIZE) -> None:
        if not MIN_CHUNK_SIZE <= chunk_size <= MAX_CHUNK_SIZE:
            raise ConfigurationError(f"chunk_size: expected {MIN_CHUNK_SIZE}..{MAX_CHUNK_SIZE} bytes, got {chunk_size}")
        self.root = Path(root)
        self.master_key = master_key
        self.chunk_size = chunk_size
        self._blobs = self.root / "blobs"
        # Temp files live under the same root so the final link is on the same filesystem.
        self._tmp = self.root / "tmp"
        for folder in (self.root, self._blobs, self._tmp):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"BlobStore(root={str(self.root)!r}, chunk_size={self.chunk_size})"

    # -- writing ---------------------------------------------------------------------------

    def put(
        self,
        stream: BinaryIO | Iterable[bytes],
        *,
        max_size: int | None = None,
        expected_size: int | None = None,
        expected_sha256: str | None = None,
    ) -> BlobInfo:
        """Encrypt and store a stream, returning its digest and size.

        The stream is read in ``chunk_size`` pieces; nothing is published until it has been
        fully read, checked against the limits, written and fsynced. Raises
        :class:`UploadTooLarge` past ``max_size`` bytes, :class:`TruncatedUpload` or
        :class:`UploadSizeMismatch` when the length differs from ``expected_size``, and
        :class:`DigestMismatch` when the SHA-256 differs from ``expected_sha256``; in every
        failure the temporary file is removed. Storing content that is already present returns
        ``created=False`` and leaves the existing blob's bytes untouched (its :meth:`mtime` is
        refreshed).
        """
        if max_size is not None and max_size < 0:
            raise InvalidInput(f"max_size: expected a non-negative integer, got {max_size}")
        if expected_size is not None:
            if expected_size < 0:
                raise InvalidInput(f"expected_size: expected a non-negative integer, got {expected_size}")
            if max_size is not None and expected_size > max_size:
                raise UploadTooLarge(f"upload declares {expected_size} bytes; the limit is {max_size}")
        if expected_sha256 is not None:
            expected_sha256 = _normalise_digest(expected_sha256, field="expected_sha256")
        # Even when expected_sha256 names a blob we already hold, the stream is read and
        # hashed: returning early would let anyone who merely knows a digest "upload" it and
        # obtain a record for content they do not have.

        tmp_path = self._tmp / f"{secrets.token_hex(16)}{_TEMP_SUFFIX}"
        fd = os.open(tmp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            try:
                size, digest = self._write_blob(fd, _Source(stream), max_size=max_size, expected_size=expected_size)
                if expected_sha256 is not None and digest != expected_sha256:
                    raise DigestMismatch(f"upload: expected sha256 {expected_sha256}, got {digest}")
                os.fsync(fd)
            finally:
                os.close(fd)
            created = self._publish(tmp_path, digest)
        finally:
            tmp_path.unlink(missing_ok=True)
        return BlobInfo(sha256=digest, size=size, created=created)

    def _write_blob(
        self, fd: int, source: _Source, *, max_size: int | None, expected_size: int | None
    ) -> tuple[int, str]:
        """Write header and chunks to ``fd``; return (plaintext size, hex digest)."""
        chunk_size = self.chunk_size
        data_key = new_data_key()
        header = _Header(
            chunk_size=chunk_size,
            key_id=self.master_key.key_id,
            nonce_prefix=secrets.token_bytes(NONCE_PREFIX_LENGTH),
            wrapped_key=self.master_key.wrap(data_key),
        )
        sealer = _Sealer(fd, header, data_key)
        limit = min(x for x in (max_size, expected_size, 2**64 - 1) if x is not None)

        # Three stages run at once: this thread reads chunk i + 1 while the hash lane hashes
        # chunk i and the seal lane encrypts and writes it, both from the same plaintext
        # buffer (read-only). Each lane is one task behind, so two plaintext buffers suffice,
        # and the seal lane needs one ciphertext buffer: memory is three chunks whatever the
        # blob size, with no per-chunk bytes objects. The second plaintext buffer is only
        # allocated if the upload is longer than one chunk.
        plains: list[memoryview] = []
        hasher = hashlib.sha256()
        size = 0
        index = 0
        with _Lane("vault-sha256") as hash_lane, _Lane("vault-seal") as seal_lane:
            while True:
                plain = _reusable(plains, index, chunk_size)
                n = source.fill(plain)
                size += n
                if size > limit:
                    self._raise_over_limit(size, max_size=max_size, expected_size=expected_size)
                if n < chunk_size:
                    break
                if index + 1 >= MAX_CHUNKS:
                    raise UploadTooLarge(f"upload needs more than {MAX_CHUNKS} chunks")
                hash_lane.run(functools.partial(hasher.update, plain), size=n)
                seal_lane.run(functools.partial(sealer.seal, index, plain), size=n)
                index += 1

            if expected_size is not None and size < expected_size:
                raise TruncatedUpload(f"upload: expected {expected_size} bytes, got {size} before the stream ended")
            # The last chunk's associated data commits to the digest, so hashing must finish
            # before it is sealed; it is short, so this costs little.
            last = plain[:n]
            hash_lane.wait()
            hasher.update(last)
            digest = hasher.digest()
            seal_lane.run(functools.partial(sealer.seal_last, index, last, size, digest), size=n)
        return size, digest.hex()

    @staticmethod
    def _raise_over_limit(size: int, *, max_size: int | None, expected_size: int | None) -> NoReturn:
        if max_size is not None and size > max_size:
            raise UploadTooLarge(f"upload: expected at most {max_size} bytes, got more")
        raise UploadSizeMismatch(f"upload: expected {expected_size} bytes, got more")

    def _publish(self, tmp_path: Path, digest: str) -> bool:
        """Move a complete temp file to its content address; False if it was already there."""
        final = self._path(digest)
        if self._refresh(final):
            return False
        self._make_dirs(final.parent)
        # os.link refuses to replace an existing name, unlike rename(), so two concurrent puts
        # of the same content agree on which one created the blob, and a published blob is
        # never swapped under a reader. The caller unlinks the temp name afterwards.
        try:
            os.link(tmp_path, final)
        except FileExistsError:
            self._refresh(final)
            return False
        _fsync_dir(final.parent)
        return True

    @staticmethod
    def _refresh(final: Path) -> bool:
        """Touch an existing blob's mtime; return False if it does not exist.

        A re-upload of content that is stored but has no database record yet (or whose record
        was deleted) must not be garbage-collected before the caller commits its new record;
        resetting the mtime restarts the collector's grace period.
        """
        try:
            os.utime(final)
        except FileNotFoundError:
            return False
        return True

    def _make_dirs(self, folder: Path) -> None:
        # Create the two fan-out levels and fsync each parent whose entries changed, so a crash
        # right after put() returns cannot lose the directory holding the blob.
        missing: list[Path] = []
        current = folder
        while not current.exists() and current != self._blobs:
            missing.append(current)
            current = current.parent
        for new in reversed(missing):
            new.mkdir(mode=0o700, exist_ok=True)
            _fsync_dir(new.parent)

    # -- reading ---------------------------------------------------------------------------

    def open(self, sha256: str) -> BlobReader:
        """Open a blob for streaming decryption.

        Errors that can be found without decrypting (no such blob, bad header, wrong master
        key, impossible length) are raised here, before any byte is returned, so a web layer
        can still answer with an error status. See :class:`BlobReader` for what is verified
        while iterating.
        """
        digest = _normalise_digest(sha256)
        try:
            f = self._path(digest).open("rb", buffering=0)
        except FileNotFoundError:
            raise BlobNotFound(digest) from None
        try:
            return BlobReader(f, digest, self.master_key)
        except BaseException:
            f.close()
            raise

    def iter_plaintext(self, sha256: str) -> Iterator[bytes]:
        """Return the decrypted chunks of a blob; the same as :meth:`open`."""
        return self.open(sha256)

    # -- inspection and maintenance ----------------------------------------------------------

    def exists(self, sha256: str) -> bool:
        """Return whether a blob with this digest is stored."""
        return self._path(_normalise_digest(sha256)).is_file()

    def size(self, sha256: str) -> int:
        """Return a blob's plaintext size as implied by its header and length.

        This reads only the header; the size is authenticated when the blob is read in full.
        """
        with self.open(sha256) as reader:
            return reader.size

    def delete(self, sha256: str) -> bool:
        """Remove a blob; return False if it was not there.

        Empty fan-out folders are left in place: removing them could race with a concurrent
        put linking a new blob into the same folder, and there are at most 65,536 of them.
        """
        try:
            self._path(_normalise_digest(sha256)).unlink()
        except FileNotFoundError:
            return False
        return True

    def iter_digests(self) -> Iterator[str]:
        """Yield the digest of every stored blob, in sorted order.

        Meant for garbage collection: compare against the database and :meth:`delete` the
        rest. Files that are not where their name says are skipped, not reported as blobs.
        """
        for level1 in _sorted_dirs(self._blobs):
            for level2 in _sorted_dirs(level1):
                for entry in sorted(os.scandir(level2), key=lambda e: e.name):
                    name = entry.name
                    if (
                        entry.is_file(follow_symlinks=False)
                        and _DIGEST_RE.fullmatch(name)
                        and name[:2] == level1.name
                        and name[2:4] == level2.name
                    ):
                        yield name

    def mtime(self, sha256: str) -> float:
        """Return when a blob was last published or re-uploaded (POSIX timestamp).

        Garbage collection uses it as a grace period for uploads whose database record has not
        been committed yet; :meth:`put` refreshes it when the content was already present.
        """
        try:
            return self._path(_normalise_digest(sha256)).stat().st_mtime
        except FileNotFoundError:
            raise BlobNotFound(sha256) from None

    def remove_stale_temp(self, older_than: timedelta | float) -> int:
        """Delete temp files not modified for ``older_than`` (seconds or a timedelta).

        Returns how many were removed.
        A crash between writing and publishing leaves a temp file behind. A put in progress
        touches its file at every chunk, so choose ``older_than`` well above the longest stall
        an upload may have (an hour is a safe default).
        """
        seconds = older_than.total_seconds() if isinstance(older_than, timedelta) else older_than
        cutoff = time.time() - seconds
        removed = 0
        for entry in os.scandir(self._tmp):
            if not entry.name.endswith(_TEMP_SUFFIX) or not entry.is_file(follow_symlinks=False):
                continue
            try:
                if entry.stat(follow_symlinks=False).st_mtime < cutoff:
                    Path(entry.path).unlink()
                    removed += 1
            except FileNotFoundError:
                continue  # removed concurrently
        return removed

    def _path(self, digest: str) -> Path:
        return self._blobs / digest[:2] / digest[2:4] / digest


def _sorted_dirs(folder: Path) -> list[Path]:
    return sorted(
        (Path(e.path) for e in os.scandir(folder) if e.is_dir(follow_symlinks=False)),
        key=lambda p: p.name,
    )


class BlobReader:
    """Iterator over the decrypted chunks of one blob; obtain it from :meth:`BlobStore.open`.

    Every chunk's GCM tag is checked before the chunk is returned, so each chunk returned is
    authentic and in its place. Truncation, extension and a wrong digest can only be known at
    the end: the iteration raises :class:`VaultIntegrityError` instead of finishing, and the
    consumer must treat the data as valid only once iteration has ended normally (for a web
    response, abort the connection rather than completing it). Close the reader, or use it as
    a context manager, if you stop early.
    """

    def __init__(self, f: io.FileIO, digest: str, master_key: MasterKey) -> None:
        self.sha256 = digest
        self._file = f
        header_raw = f.read(HEADER_LENGTH)
        header = _Header.unpack(header_raw, digest)
        if header.key_id != master_key.key_id:
            raise VaultIntegrityError(
                f"sealed under master key {header.key_id.hex()}, "
                f"expected {master_key.key_id.hex()} (wrong master key?)",
                digest=digest,
            )
        try:
            data_key = master_key.unwrap(header.wrapped_key)
        except VaultIntegrityError as exc:
            raise VaultIntegrityError(exc.message, digest=digest) from None
        self._aead = AESGCM(data_key)
        self._header = header_raw[:STREAM_HEADER_LENGTH]
        self._nonce_prefix = header.nonce_prefix
        self._chunk_size = header.chunk_size

        # Layout check from the file length: full chunks of chunk_size + tag, then a last
        # chunk of 0..chunk_size-1 bytes + tag. Anything else cannot be a complete blob.
        body = os.fstat(f.fileno()).st_size - HEADER_LENGTH
        sealed_full = self._chunk_size + TAG_LENGTH
        full_chunks, remainder = divmod(body, sealed_full)
        if body < TAG_LENGTH or remainder < TAG_LENGTH or full_chunks >= MAX_CHUNKS:
            raise VaultIntegrityError(
                f"length: expected header + whole chunks + a final chunk, got {body} body bytes "
                f"(truncated or extended?)",
                digest=digest,
            )
        self.size: int = full_chunks * self._chunk_size + remainder - TAG_LENGTH
        """Plaintext size implied by the file length; authenticated by the last chunk."""
        self._last_index = full_chunks
        self._index = 0
        self._buffer = bytearray(min(sealed_full, body))  # a small blob needs no full chunk
        self._hasher = hashlib.sha256()
        self._hash_lane = _Lane("vault-sha256")

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> bytes:
        while self._index <= self._last_index:
            chunk = self._next_chunk()
            if chunk:
                return chunk
        self.close()
        raise StopIteration

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()

    def close(self) -> None:
        """Release the file; further iteration stops."""
        self._index = getattr(self, "_last_index", 0) + 1
        # getattr: close() also runs from __del__ when __init__ raised half-way.
        lane = getattr(self, "_hash_lane", None)
        if lane is not None:
            lane.close(suppress_errors=True)
        file = getattr(self, "_file", None)
        if file is not None:
            file.close()

    def _next_chunk(self) -> bytes:
        index = self._index
        is_last = index == self._last_index
        length = (self.size % self._chunk_size if is_last else self._chunk_size) + TAG_LENGTH
        sealed = memoryview(self._buffer)[:length]
        got = 0
        while got < length:
            n = self._file.readinto(sealed[got:])
            if not n:
                self._fail(f"chunk {index}: file ended early (changed while reading?)")
            got += n
        if is_last:
            aad = _aad_last(self._header, index, self.size, bytes.fromhex(self.sha256))
        else:
            aad = _aad(self._header, index)
        try:
            plain = self._aead.decrypt(_nonce(self._nonce_prefix, index), sealed, aad)
        except InvalidTag:
            self._fail(
                f"chunk {index} of {self._last_index + 1} failed authentication "
                "(tampered, reordered, truncated or extended)"
            )
        # ``plain`` is a new immutable bytes object, so hashing it may lag behind the caller.
        self._hash_lane.run(functools.partial(self._hasher.update, plain), size=len(plain))
        self._index += 1
        if is_last:
            self._finish()
        return plain

    def _finish(self) -> None:
        # Belt and braces: the last tag already commits to size and digest, but recomputing
        # them does not depend on the AEAD and catches a writer bug as well as tampering.
        if self._file.read(1):
            self._fail("data after the final chunk (file extended while reading?)")
        self._hash_lane.wait()
        actual = self._hasher.hexdigest()
        if actual != self.sha256:
            self._fail(f"expected plaintext sha256 {self.sha256}, got {actual}")
        self.close()

    def _fail(self, message: str) -> NoReturn:
        self.close()
        raise VaultIntegrityError(message, digest=self.sha256)
