"""Tests for the encrypted content-addressed blob store.

Most tests use 16-byte chunks so that multi-chunk layouts stay tiny; one class uses 256 KiB
chunks to exercise the helper-thread path that only large chunks take.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from likeness_ledger.errors import (
    ConfigurationError,
    IntegrityFailure,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
)
from likeness_ledger.vault import (
    BlobInfo,
    BlobNotFound,
    BlobStore,
    DigestMismatch,
    MasterKey,
    TruncatedUpload,
    UploadSizeMismatch,
    UploadTooLarge,
    VaultIntegrityError,
)
from likeness_ledger.vault.store import HEADER_LENGTH, MAGIC, TAG_LENGTH

CHUNK = 16
SEALED = CHUNK + TAG_LENGTH


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_all(store: BlobStore, digest: str) -> bytes:
    return b"".join(store.open(digest))


def blob_files(root: Path) -> list[Path]:
    return sorted(p for p in (root / "blobs").rglob("*") if p.is_file())


def temp_files(root: Path) -> list[Path]:
    return sorted((root / "tmp").iterdir())


@pytest.fixture
def master_key() -> MasterKey:
    return MasterKey.generate()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "vault"


@pytest.fixture
def store(root: Path, master_key: MasterKey) -> BlobStore:
    return BlobStore(root, master_key, chunk_size=CHUNK)


class ReadOnlyStream:
    """A stream with read() but no readinto(), like some upload wrappers."""

    def __init__(self, data: bytes) -> None:
        self._buf = io.BytesIO(data)

    def read(self, n: int) -> bytes:
        return self._buf.read(min(n, 5))  # short reads on purpose


class TestRoundTrip:
    @pytest.mark.parametrize(
        "size",
        [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 5],
        ids=["empty", "one-byte", "under-chunk", "one-chunk", "chunk+1", "multiple", "multi"],
    )
    def test_put_then_read(self, store: BlobStore, root: Path, size: int) -> None:
        data = os.urandom(size)
        info = store.put(io.BytesIO(data))
        assert info == BlobInfo(sha256=sha(data), size=size, created=True)
        assert read_all(store, info.sha256) == data
        assert store.size(info.sha256) == size
        assert store.exists(info.sha256)
        # One final chunk always exists and is shorter than a full chunk (empty for multiples).
        (path,) = blob_files(root)
        assert path.stat().st_size == HEADER_LENGTH + (size // CHUNK + 1) * TAG_LENGTH + size

    def test_file_is_private_encrypted_and_content_addressed(self, store: BlobStore, root: Path) -> None:
        data = b"likeness " * 20
        info = store.put(io.BytesIO(data))
        path = root / "blobs" / info.sha256[:2] / info.sha256[2:4] / info.sha256
        raw = path.read_bytes()
        assert raw.startswith(MAGIC + b"\x01")
        assert b"likeness" not in raw
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(root.stat().st_mode) == 0o700

    def test_put_from_iterable_of_uneven_pieces(self, store: BlobStore) -> None:
        pieces: list[bytes | bytearray | memoryview] = [
            b"a",
            b"",
            b"bc" * 20,
            memoryview(b"defg"),
            bytearray(b"h" * 33),
        ]
        data = b"".join(pieces)
        info = store.put(pieces)  # type: ignore[arg-type]  # memoryview/bytearray pieces too
        assert read_all(store, info.sha256) == data

    def test_put_from_bytes_object(self, store: BlobStore) -> None:
        data = b"x" * 40
        info = store.put(data)  # type: ignore[arg-type]  # bytes is Iterable[int], accepted anyway
        assert info.size == 40
        assert read_all(store, info.sha256) == data

    def test_put_from_stream_without_readinto(self, store: BlobStore) -> None:
        data = os.urandom(3 * CHUNK + 7)
        info = store.put(ReadOnlyStream(data))  # type: ignore[arg-type]  # duck-typed stream
        assert read_all(store, info.sha256) == data

    def test_reader_reports_size_and_closes(self, store: BlobStore) -> None:
        data = os.urandom(2 * CHUNK + 3)
        info = store.put(io.BytesIO(data))
        with store.open(info.sha256) as reader:
            assert reader.size == len(data)
            assert reader.sha256 == info.sha256
            first = next(reader)
        assert first == data[:CHUNK]
        assert list(reader) == []  # closed: iteration stops

    def test_chunks_are_never_empty(self, store: BlobStore) -> None:
        info = store.put(io.BytesIO(b"z" * (2 * CHUNK)))
        assert [len(c) for c in store.iter_plaintext(info.sha256)] == [CHUNK, CHUNK]
        assert list(store.iter_plaintext(store.put(io.BytesIO(b"")).sha256)) == []

    def test_store_reads_blobs_written_with_another_chunk_size(self, root: Path, master_key: MasterKey) -> None:
        data = os.urandom(100)
        info = BlobStore(root, master_key, chunk_size=CHUNK).put(io.BytesIO(data))
        assert read_all(BlobStore(root, master_key, chunk_size=64), info.sha256) == data

    def test_digest_lookup_is_case_insensitive(self, store: BlobStore) -> None:
        info = store.put(io.BytesIO(b"abc"))
        assert read_all(store, info.sha256.upper()) == b"abc"

    @pytest.mark.parametrize("chunk_size", [0, 15, 16 * 1024 * 1024 + 1])
    def test_refuses_chunk_size_out_of_range(self, root: Path, master_key: MasterKey, chunk_size: int) -> None:
        with pytest.raises(ConfigurationError, match="chunk_size"):
            BlobStore(root, master_key, chunk_size=chunk_size)


class TestLargeChunks:
    """256 KiB chunks: hashing and writing run on helper threads."""

    BIG = 256 * 1024

    @pytest.fixture
    def big_store(self, root: Path, master_key: MasterKey) -> BlobStore:
        return BlobStore(root, master_key, chunk_size=self.BIG)

    @pytest.mark.parametrize("size", [4 * BIG, 4 * BIG + 12345])
    def test_round_trip(self, big_store: BlobStore, size: int) -> None:
        data = os.urandom(size)
        info = big_store.put(io.BytesIO(data))
        assert info.sha256 == sha(data)
        assert read_all(big_store, info.sha256) == data

    def test_failure_mid_stream_leaves_nothing(self, big_store: BlobStore, root: Path) -> None:
        with pytest.raises(UploadTooLarge):
            big_store.put(io.BytesIO(os.urandom(5 * self.BIG)), max_size=3 * self.BIG + 1)
        assert blob_files(root) == []
        assert temp_files(root) == []

    def test_tampering_detected(self, big_store: BlobStore, root: Path) -> None:
        data = os.urandom(3 * self.BIG)
        info = big_store.put(io.BytesIO(data))
        (path,) = blob_files(root)
        raw = bytearray(path.read_bytes())
        raw[HEADER_LENGTH + self.BIG + TAG_LENGTH + 100] ^= 1  # inside the second chunk
        path.write_bytes(raw)
        with pytest.raises(VaultIntegrityError, match="chunk 1 of 4"):
            read_all(big_store, info.sha256)


class TestIdempotentPut:
    def test_same_content_twice_is_stored_once(self, store: BlobStore, root: Path) -> None:
        first = store.put(io.BytesIO(b"same bytes" * 5))
        (path,) = blob_files(root)
        before = path.stat()
        second = store.put([b"same bytes" * 5])
        assert second == BlobInfo(sha256=first.sha256, size=first.size, created=False)
        after = path.stat()
        assert (after.st_ino, after.st_size) == (before.st_ino, before.st_size)
        assert blob_files(root) == [path]
        assert temp_files(root) == []

    def test_reupload_refreshes_mtime_for_garbage_collection(self, store: BlobStore) -> None:
        info = store.put(io.BytesIO(b"old"))
        path = store._path(info.sha256)
        os.utime(path, (1_000_000, 1_000_000))
        assert store.mtime(info.sha256) == 1_000_000
        store.put(io.BytesIO(b"old"))
        assert store.mtime(info.sha256) > time.time() - 60

    def test_concurrent_puts_of_same_content_create_once(self, store: BlobStore, root: Path) -> None:
        data = os.urandom(5 * CHUNK)
        barrier = threading.Barrier(6)
        results: list[BlobInfo] = []

        def upload() -> None:
            barrier.wait()
            results.append(store.put(io.BytesIO(data)))

        threads = [threading.Thread(target=upload) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(r.created for r in results) == [False] * 5 + [True]
        assert len(blob_files(root)) == 1
        assert temp_files(root) == []
        assert read_all(store, sha(data)) == data


class TestUploadLimits:
    def assert_nothing_left(self, root: Path) -> None:
        assert blob_files(root) == []
        assert temp_files(root) == []

    def test_over_max_size(self, store: BlobStore, root: Path) -> None:
        with pytest.raises(UploadTooLarge, match="at most 40 bytes") as info:
            store.put(io.BytesIO(b"x" * 41), max_size=40)
        assert isinstance(info.value, PayloadTooLarge)
        self.assert_nothing_left(root)

    def test_exactly_max_size_is_accepted(self, store: BlobStore) -> None:
        assert store.put(io.BytesIO(b"x" * 40), max_size=40).size == 40

    def test_declared_size_over_limit_is_refused_before_reading(self, store: BlobStore) -> None:
        def never() -> Iterator[bytes]:
            raise AssertionError("the stream must not be read")
            yield b""  # pragma: no cover

        with pytest.raises(UploadTooLarge, match="declares 100 bytes"):
            store.put(never(), max_size=50, expected_size=100)

    def test_truncated_upload(self, store: BlobStore, root: Path) -> None:
        with pytest.raises(TruncatedUpload, match="expected 100 bytes, got 37") as info:
            store.put(io.BytesIO(b"x" * 37), expected_size=100)
        assert isinstance(info.value, InvalidInput)
        self.assert_nothing_left(root)

    def test_longer_than_declared(self, store: BlobStore, root: Path) -> None:
        with pytest.raises(UploadSizeMismatch, match="expected 10 bytes, got more") as info:
            store.put(io.BytesIO(b"x" * 37), expected_size=10)
        assert not isinstance(info.value, TruncatedUpload)
        self.assert_nothing_left(root)

    def test_exact_declared_size(self, store: BlobStore) -> None:
        assert store.put(io.BytesIO(b"x" * 32), expected_size=32).size == 32

    def test_digest_mismatch(self, store: BlobStore, root: Path) -> None:
        with pytest.raises(DigestMismatch, match=f"expected sha256 {sha(b'b')}, got {sha(b'a')}"):
            store.put(io.BytesIO(b"a"), expected_sha256=sha(b"b"))
        self.assert_nothing_left(root)

    def test_digest_mismatch_even_when_claimed_digest_is_stored(self, store: BlobStore) -> None:
        # Knowing a stored digest must not be enough to "upload" it.
        stored = store.put(io.BytesIO(b"secret replica"))
        with pytest.raises(DigestMismatch):
            store.put(io.BytesIO(b"something else"), expected_sha256=stored.sha256)

    def test_expected_digest_is_case_insensitive(self, store: BlobStore) -> None:
        info = store.put(io.BytesIO(b"a"), expected_sha256=sha(b"a").upper())
        assert info.sha256 == sha(b"a")

    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [
            ({"expected_sha256": "abc"}, "expected_sha256: expected 64 hexadecimal"),
            ({"expected_sha256": "g" * 64}, "expected_sha256: expected 64 hexadecimal"),
            ({"max_size": -1}, "max_size"),
            ({"expected_size": -1}, "expected_size"),
        ],
    )
    def test_bad_arguments(self, store: BlobStore, root: Path, kwargs: dict[str, object], match: str) -> None:
        with pytest.raises(InvalidInput, match=match):
            store.put(io.BytesIO(b"a"), **kwargs)  # type: ignore[arg-type]  # mixed value types
        self.assert_nothing_left(root)

    def test_stream_error_leaves_nothing(self, store: BlobStore, root: Path) -> None:
        def failing() -> Iterator[bytes]:
            yield b"x" * 50
            raise ConnectionResetError("client went away")

        with pytest.raises(ConnectionResetError):
            store.put(failing())
        self.assert_nothing_left(root)


class TestTamperDetection:
    DATA = bytes(range(4 * CHUNK + 7))  # four full chunks and a 7-byte final chunk

    @pytest.fixture
    def stored(self, store: BlobStore, root: Path) -> tuple[str, Path]:
        info = store.put(io.BytesIO(self.DATA))
        (path,) = blob_files(root)
        return info.sha256, path

    @staticmethod
    def chunk_span(index: int) -> slice:
        start = HEADER_LENGTH + index * SEALED
        return slice(start, start + SEALED)

    def assert_rejected(self, store: BlobStore, digest: str, match: str | None = None) -> None:
        with pytest.raises(VaultIntegrityError, match=match) as info:
            read_all(store, digest)
        assert isinstance(info.value, IntegrityFailure)
        assert info.value.digest == digest
        assert digest in str(info.value)

    @pytest.mark.parametrize(
        ("offset", "match"),
        [
            (0, "expected magic"),
            (7, "expected format version 1"),
            (8, "expected chunk size"),  # most significant byte: out of range
            (11, "failed authentication"),  # least significant byte: plausible, wrong size
            (12, "failed authentication"),  # nonce prefix
            (20, "master key"),  # key id
            (28, "integrity check"),  # wrapped data key
            (HEADER_LENGTH - 1, "integrity check"),
        ],
    )
    def test_header_byte_flip(self, store: BlobStore, stored: tuple[str, Path], offset: int, match: str) -> None:
        digest, path = stored
        raw = bytearray(path.read_bytes())
        raw[offset] ^= 0x01
        path.write_bytes(raw)
        self.assert_rejected(store, digest, match)

    @pytest.mark.parametrize("index", [0, 2, 4])
    @pytest.mark.parametrize("where", [0, SEALED - 1], ids=["ciphertext", "tag"])
    def test_chunk_byte_flip(self, store: BlobStore, stored: tuple[str, Path], index: int, where: int) -> None:
        digest, path = stored
        raw = bytearray(path.read_bytes())
        position = self.chunk_span(index).start + (where if index < 4 else 0)
        raw[position] ^= 0x80
        path.write_bytes(raw)
        self.assert_rejected(store, digest, f"chunk {index} of 5 failed authentication")

    def test_chunk_flip_is_reported_before_iteration_completes(
        self, store: BlobStore, stored: tuple[str, Path]
    ) -> None:
        digest, path = stored
        raw = bytearray(path.read_bytes())
        raw[self.chunk_span(3).start] ^= 1
        path.write_bytes(raw)
        received: list[bytes] = []
        with pytest.raises(VaultIntegrityError):
            received.extend(store.open(digest))
        assert b"".join(received) == self.DATA[: 3 * CHUNK]  # authentic chunks only

    def test_swapped_chunks(self, store: BlobStore, stored: tuple[str, Path]) -> None:
        digest, path = stored
        raw = bytearray(path.read_bytes())
        first, second = self.chunk_span(1), self.chunk_span(2)
        raw[first], raw[second] = raw[second], raw[first]
        path.write_bytes(raw)
        self.assert_rejected(store, digest, "chunk 1 of 5 failed authentication")

    @pytest.mark.parametrize(
        "cut",
        [1, 7 + TAG_LENGTH, 7 + TAG_LENGTH + 1, 7 + TAG_LENGTH + SEALED, 4 * SEALED + 7 + 16],
        ids=["one-byte", "final-chunk", "final-chunk+1", "two-chunks", "all-chunks"],
    )
    def test_truncation(self, store: BlobStore, stored: tuple[str, Path], cut: int) -> None:
        digest, path = stored
        raw = path.read_bytes()
        path.write_bytes(raw[:-cut])
        self.assert_rejected(store, digest)

    def test_truncated_to_nothing(self, store: BlobStore, stored: tuple[str, Path]) -> None:
        digest, path = stored
        path.write_bytes(b"")
        self.assert_rejected(store, digest, "header: expected 68 bytes, got 0")

    def test_dropping_empty_final_chunk(self, store: BlobStore, root: Path) -> None:
        info = store.put(io.BytesIO(b"q" * (2 * CHUNK)))  # final chunk is a bare tag
        (path,) = blob_files(root)
        path.write_bytes(path.read_bytes()[:-TAG_LENGTH])
        self.assert_rejected(store, info.sha256, "truncated or extended")

    @pytest.mark.parametrize("extra", ["copy-of-chunk", "garbage", "one-byte"])
    def test_extension(self, store: BlobStore, stored: tuple[str, Path], extra: str) -> None:
        digest, path = stored
        raw = path.read_bytes()
        appended = {
            "copy-of-chunk": raw[self.chunk_span(1)],
            "garbage": os.urandom(SEALED),
            "one-byte": b"\x00",
        }[extra]
        path.write_bytes(raw + appended)
        self.assert_rejected(store, digest)

    def test_file_of_another_blob_at_this_address(self, store: BlobStore, stored: tuple[str, Path]) -> None:
        digest, path = stored
        other = store.put(io.BytesIO(bytes(reversed(self.DATA))))
        path.write_bytes(store._path(other.sha256).read_bytes())
        self.assert_rejected(store, digest, "chunk 4 of 5 failed authentication")

    def test_wrong_master_key(self, root: Path, stored: tuple[str, Path]) -> None:
        digest, _ = stored
        other = BlobStore(root, MasterKey.generate(), chunk_size=CHUNK)
        with pytest.raises(VaultIntegrityError, match="wrong master key"):
            other.open(digest)  # refused before any byte is returned

    def test_wrong_master_key_with_forged_key_id(self, root: Path, stored: tuple[str, Path]) -> None:
        digest, path = stored
        intruder = MasterKey.generate()
        raw = bytearray(path.read_bytes())
        raw[20:28] = intruder.key_id
        path.write_bytes(raw)
        with pytest.raises(VaultIntegrityError, match="integrity check"):
            BlobStore(root, intruder, chunk_size=CHUNK).open(digest)


class TestKeySlot:
    """The 48-byte key slot (key id + wrapped key) is outside the chunks' associated data."""

    KEY_SLOT = slice(HEADER_LENGTH - 48, HEADER_LENGTH)

    def test_rewrapping_for_a_new_master_key_keeps_chunks_valid(
        self, store: BlobStore, root: Path, master_key: MasterKey
    ) -> None:
        data = os.urandom(3 * CHUNK + 1)
        info = store.put(io.BytesIO(data))
        (path,) = blob_files(root)
        raw = bytearray(path.read_bytes())
        new_key = MasterKey.generate()
        data_key = master_key.unwrap(bytes(raw[self.KEY_SLOT][8:]))
        raw[self.KEY_SLOT] = new_key.key_id + new_key.wrap(data_key)
        path.write_bytes(raw)
        assert read_all(BlobStore(root, new_key, chunk_size=CHUNK), info.sha256) == data
        with pytest.raises(VaultIntegrityError, match="wrong master key"):
            store.open(info.sha256)

    def test_key_slot_of_another_blob_fails_authentication(self, store: BlobStore, root: Path) -> None:
        first = store.put(io.BytesIO(b"first blob" * 4))
        second = store.put(io.BytesIO(b"second blob" * 4))
        first_path, second_path = store._path(first.sha256), store._path(second.sha256)
        raw = bytearray(first_path.read_bytes())
        raw[self.KEY_SLOT] = second_path.read_bytes()[self.KEY_SLOT]
        first_path.write_bytes(raw)
        with pytest.raises(VaultIntegrityError, match="chunk 0 of 3 failed authentication"):
            read_all(store, first.sha256)


class TestInventory:
    def test_iter_digests_lists_exactly_the_blobs(self, store: BlobStore, root: Path) -> None:
        digests = {store.put(io.BytesIO(bytes([i]) * i)).sha256 for i in range(10)}
        (root / "tmp" / "stray.part").write_bytes(b"in progress")
        (root / "blobs" / "README").write_text("not a blob")
        misplaced = root / "blobs" / "00" / "00"
        misplaced.mkdir(parents=True)
        (misplaced / ("ab" * 32)).write_bytes(b"wrong folder")
        (misplaced / "short").write_bytes(b"not a digest")
        assert list(store.iter_digests()) == sorted(digests)

    def test_iter_digests_empty_store(self, store: BlobStore) -> None:
        assert list(store.iter_digests()) == []

    def test_delete(self, store: BlobStore) -> None:
        info = store.put(io.BytesIO(b"gone soon"))
        assert store.delete(info.sha256) is True
        assert store.delete(info.sha256) is False
        assert not store.exists(info.sha256)
        assert list(store.iter_digests()) == []

    @pytest.mark.parametrize("method", ["open", "size", "mtime"])
    def test_missing_blob(self, store: BlobStore, method: str) -> None:
        digest = sha(b"never stored")
        with pytest.raises(BlobNotFound, match=digest) as info:
            getattr(store, method)(digest)
        assert isinstance(info.value, NotFound)

    @pytest.mark.parametrize("bad", ["", "../../etc/passwd", "ab" * 31, "ab" * 33, "zz" * 32])
    @pytest.mark.parametrize("method", ["open", "exists", "size", "delete", "mtime"])
    def test_malformed_digest(self, store: BlobStore, method: str, bad: str) -> None:
        with pytest.raises(InvalidInput, match="sha256: expected 64 hexadecimal"):
            getattr(store, method)(bad)


class TestStaleTemp:
    def test_removes_only_old_part_files(self, store: BlobStore, root: Path) -> None:
        tmp = root / "tmp"
        old, fresh, other = tmp / "old.part", tmp / "fresh.part", tmp / "notes.txt"
        for path in (old, fresh, other):
            path.write_bytes(b"x")
        an_hour_ago = time.time() - 3600
        os.utime(old, (an_hour_ago, an_hour_ago))
        os.utime(other, (an_hour_ago, an_hour_ago))
        assert store.remove_stale_temp(timedelta(minutes=30)) == 1
        assert sorted(p.name for p in tmp.iterdir()) == ["fresh.part", "notes.txt"]

    def test_accepts_seconds(self, store: BlobStore, root: Path) -> None:
        stale = root / "tmp" / "a.part"
        stale.write_bytes(b"x")
        os.utime(stale, (1_000_000, 1_000_000))
        assert store.remove_stale_temp(60.0) == 1
        assert store.remove_stale_temp(60.0) == 0

    def test_successful_put_leaves_no_temp(self, store: BlobStore, root: Path) -> None:
        store.put(io.BytesIO(os.urandom(3 * CHUNK)))
        assert temp_files(root) == []
