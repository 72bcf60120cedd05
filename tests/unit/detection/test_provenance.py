from __future__ import annotations

from pathlib import Path

from likeness_ledger.detection import provenance


def test_registry_signature_is_recognised_and_others_are_not(tmp_path: Path, media_dir: Path) -> None:
    keys = tmp_path / "keys"
    signed = tmp_path / "signed.jpg"
    provenance.sign(keys, media_dir / "obama_probe.jpg", signed, title="out", assertions={"report": "r1"})
    assert (keys / provenance.CA_KEY).stat().st_mode & 0o077 == 0
    assert provenance.signed_by_registry(keys, signed)
    assert not provenance.signed_by_registry(keys, media_dir / "obama_probe.jpg")
    # Altered pixels break the data hash.
    data = bytearray(signed.read_bytes())
    data[-200] ^= 0xFF
    tampered = tmp_path / "tampered.jpg"
    tampered.write_bytes(bytes(data))
    assert not provenance.signed_by_registry(keys, tampered)
    # Another registry's CA does not vouch for our signature, and no CA means nothing is trusted.
    other = tmp_path / "other-keys"
    provenance.ensure_ca(other)
    assert not provenance.signed_by_registry(other, signed)
    assert not provenance.signed_by_registry(tmp_path / "none", signed)
    # The CA is created once and reused.
    assert provenance.ensure_ca(keys).root_pem == (keys / provenance.CA_CERT).read_bytes()
