"""Tests for the vault master key file and RFC 3394 data-key wrapping."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from likeness_ledger.errors import ConfigurationError, IntegrityFailure
from likeness_ledger.vault.errors import KeyFileError, VaultIntegrityError
from likeness_ledger.vault.keys import (
    MASTER_KEY_LENGTH,
    WRAPPED_KEY_LENGTH,
    MasterKey,
    new_data_key,
)

# RFC 3394 section 4.6: wrap 256 bits of key data with a 256-bit KEK.
RFC3394_KEK = bytes(range(32))
RFC3394_KEY_DATA = bytes.fromhex("00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F")
RFC3394_WRAPPED = bytes.fromhex("28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21")


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """Prove the key file mode does not depend on the caller's umask."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def write_key_file(path: Path, content: bytes, mode: int) -> Path:
    path.write_bytes(content)
    path.chmod(mode)
    return path


class TestMasterKey:
    def test_generate_makes_distinct_keys(self) -> None:
        assert MasterKey.generate().key_id != MasterKey.generate().key_id

    @pytest.mark.parametrize("length", [0, 16, 31, 33, 64])
    def test_constructor_refuses_wrong_length(self, length: int) -> None:
        with pytest.raises(KeyFileError, match=f"expected 32 bytes, got {length}"):
            MasterKey(b"\x00" * length)

    def test_repr_shows_key_id_not_secret(self) -> None:
        key = MasterKey(b"\xab" * 32)
        assert repr(key) == f"MasterKey(key_id={key.key_id.hex()})"
        assert "ab" * 8 not in repr(key)

    def test_key_id_is_stable_and_short(self) -> None:
        assert MasterKey(b"\x01" * 32).key_id == MasterKey(b"\x01" * 32).key_id
        assert len(MasterKey(b"\x01" * 32).key_id) == 8


class TestKeyFile:
    @pytest.mark.usefixtures("permissive_umask")
    def test_load_or_create_writes_32_bytes_mode_0600(self, tmp_path: Path) -> None:
        path = tmp_path / "keys" / "master.key"
        key = MasterKey.load_or_create(path)
        st = path.stat()
        assert stat.S_IMODE(st.st_mode) == 0o600
        assert st.st_size == MASTER_KEY_LENGTH
        assert MasterKey.load(path).key_id == key.key_id
        assert sorted(p.name for p in path.parent.iterdir()) == ["master.key"]  # no temp left

    def test_load_or_create_returns_existing_key(self, tmp_path: Path) -> None:
        path = tmp_path / "master.key"
        first = MasterKey.load_or_create(path)
        assert MasterKey.load_or_create(path).key_id == first.key_id

    def test_load_accepts_owner_read_only(self, tmp_path: Path) -> None:
        path = write_key_file(tmp_path / "k", b"\x07" * 32, 0o400)
        assert MasterKey.load(path).key_id == MasterKey(b"\x07" * 32).key_id

    def test_load_follows_symlink_to_private_file(self, tmp_path: Path) -> None:
        target = write_key_file(tmp_path / "real.key", b"\x07" * 32, 0o600)
        link = tmp_path / "link.key"
        link.symlink_to(target)
        assert MasterKey.load(link).key_id == MasterKey(b"\x07" * 32).key_id

    @pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o606, 0o700 | 0o004])
    def test_refuses_group_or_other_access(self, tmp_path: Path, mode: int) -> None:
        path = write_key_file(tmp_path / "master.key", b"\x07" * 32, mode)
        with pytest.raises(KeyFileError, match=f"expected mode 0600.*got {mode:04o}.*chmod 600"):
            MasterKey.load(path)
        with pytest.raises(KeyFileError):
            MasterKey.load_or_create(path)  # never silently replaced or "fixed"
        assert path.read_bytes() == b"\x07" * 32

    @pytest.mark.parametrize(("content", "got"), [(b"", "0"), (b"\x01" * 31, "31"), (b"\x01" * 33, "more")])
    def test_refuses_wrong_length(self, tmp_path: Path, content: bytes, got: str) -> None:
        path = write_key_file(tmp_path / "master.key", content, 0o600)
        with pytest.raises(KeyFileError, match=f"expected 32 bytes, got {got}"):
            MasterKey.load(path)

    def test_load_missing_file_is_a_configuration_error(self, tmp_path: Path) -> None:
        with pytest.raises(KeyFileError, match="does not exist") as info:
            MasterKey.load(tmp_path / "absent.key")
        assert isinstance(info.value, ConfigurationError)

    def test_refuses_fifo_without_blocking(self, tmp_path: Path) -> None:
        fifo = tmp_path / "master.key"
        os.mkfifo(fifo, 0o600)
        with pytest.raises(KeyFileError, match="expected a regular file"):
            MasterKey.load(fifo)

    def test_refuses_directory(self, tmp_path: Path) -> None:
        folder = tmp_path / "master.key"
        folder.mkdir(mode=0o700)
        with pytest.raises(KeyFileError, match=r"cannot open|regular file"):
            MasterKey.load(folder)


class TestWrap:
    def test_rfc3394_vector(self) -> None:
        assert MasterKey(RFC3394_KEK).wrap(RFC3394_KEY_DATA) == RFC3394_WRAPPED
        assert MasterKey(RFC3394_KEK).unwrap(RFC3394_WRAPPED) == RFC3394_KEY_DATA

    def test_round_trip(self) -> None:
        key = MasterKey.generate()
        data_key = new_data_key()
        wrapped = key.wrap(data_key)
        assert len(wrapped) == WRAPPED_KEY_LENGTH
        assert data_key not in wrapped
        assert key.unwrap(wrapped) == data_key

    def test_data_keys_are_random(self) -> None:
        assert len({new_data_key() for _ in range(8)}) == 8

    def test_unwrap_with_other_master_key_fails(self) -> None:
        wrapped = MasterKey.generate().wrap(new_data_key())
        with pytest.raises(VaultIntegrityError, match="integrity check") as info:
            MasterKey.generate().unwrap(wrapped)
        assert isinstance(info.value, IntegrityFailure)

    @pytest.mark.parametrize("position", [0, 7, 8, 39])
    def test_unwrap_detects_tampering(self, position: int) -> None:
        key = MasterKey.generate()
        wrapped = bytearray(key.wrap(new_data_key()))
        wrapped[position] ^= 0x01
        with pytest.raises(VaultIntegrityError):
            key.unwrap(bytes(wrapped))

    def test_unwrap_refuses_wrong_length(self) -> None:
        with pytest.raises(VaultIntegrityError, match="expected 40 bytes, got 32"):
            MasterKey.generate().unwrap(b"\x00" * 32)

    def test_wrap_refuses_wrong_length(self) -> None:
        with pytest.raises(ValueError, match="expected 32 bytes, got 16"):
            MasterKey.generate().wrap(b"\x00" * 16)
