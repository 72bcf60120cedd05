"""C2PA provenance: the registry signs cleared outputs, and scans accept what it signed.

The registry keeps its own small certificate authority in the keys folder, created on first use:
a P-256 root and an end-entity signing certificate (digitalSignature, emailProtection, as C2PA
requires). A file counts as cleared by provenance only when its manifest validates *and* chains to
this root (``verify_trust`` with the root as the only trust anchor); a manifest from anyone else, or
one whose data hash no longer matches the bytes, does not.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from likeness_ledger.errors import InvalidInput

CA_CERT = "c2pa-ca.pem"
CA_KEY = "c2pa-ca.key"
SIGNER_CERT = "c2pa-signer.pem"
SIGNER_KEY = "c2pa-signer.key"
_MIME = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG": "image/png"}
_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class RegistryCA:
    """PEM bytes of the registry's root, and the signer's chain and key."""

    root_pem: bytes
    chain_pem: bytes
    key_pem: bytes


def _write_private(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    path.chmod(0o600)


def ensure_ca(keys_dir: Path) -> RegistryCA:
    """Load the registry's C2PA CA and signer, creating both on first use."""
    from cryptography import x509  # noqa: PLC0415
    from cryptography.hazmat.primitives import hashes, serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import ec  # noqa: PLC0415
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID  # noqa: PLC0415

    with _LOCK:
        if all((keys_dir / n).exists() for n in (CA_CERT, SIGNER_CERT, SIGNER_KEY)):
            root = (keys_dir / CA_CERT).read_bytes()
            return RegistryCA(root, (keys_dir / SIGNER_CERT).read_bytes() + root, (keys_dir / SIGNER_KEY).read_bytes())
        keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        now = dt.datetime.now(dt.UTC)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Likeness Ledger registry C2PA root")])
        ca_cert = (
            x509.CertificateBuilder()
            .subject_name(ca_name)
            .issuer_name(ca_name)
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .sign(ca_key, hashes.SHA256())
        )
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(
                x509.Name(
                    [
                        x509.NameAttribute(NameOID.COMMON_NAME, "Likeness Ledger registry signer"),
                        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Likeness Ledger"),
                    ]
                )
            )
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=825))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        pem = serialization.Encoding.PEM
        pkcs8 = serialization.PrivateFormat.PKCS8
        none = serialization.NoEncryption()
        _write_private(keys_dir / CA_KEY, ca_key.private_bytes(pem, pkcs8, none))
        _write_private(keys_dir / SIGNER_KEY, key.private_bytes(pem, pkcs8, none))
        (keys_dir / CA_CERT).write_bytes(ca_cert.public_bytes(pem))
        (keys_dir / SIGNER_CERT).write_bytes(cert.public_bytes(pem))
        root = ca_cert.public_bytes(pem)
        return RegistryCA(root, cert.public_bytes(pem) + root, key.private_bytes(pem, pkcs8, none))


def mime_of(path: Path) -> str:
    """MIME type of a JPEG or PNG (the formats the registry signs)."""
    with path.open("rb") as handle:
        head = handle.read(4)
    for magic, mime in _MIME.items():
        if head.startswith(magic):
            return mime
    raise InvalidInput(f"{path.name}: only JPEG and PNG outputs can be signed")


def sign(keys_dir: Path, src: Path, dst: Path, *, title: str, assertions: dict[str, Any] | None = None) -> None:
    """Write ``dst``: ``src`` with a C2PA manifest signed by the registry."""
    import c2pa  # type: ignore[import-untyped]  # noqa: PLC0415 - native library, loaded on demand

    ca = ensure_ca(keys_dir)
    manifest = {
        "claim_generator_info": [{"name": "likeness-ledger", "version": "0.1"}],
        "title": title,
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {
                    "actions": [
                        {
                            "action": "c2pa.created",
                            "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia",
                        }
                    ]
                },
            },
            {"label": "org.likeness-ledger.clearance", "data": assertions or {}},
        ],
    }
    info = c2pa.C2paSignerInfo(alg=b"es256", sign_cert=ca.chain_pem, private_key=ca.key_pem, ta_url=None)
    signer = c2pa.Signer.from_info(info)
    mime = mime_of(src)
    with c2pa.Builder(json.dumps(manifest)) as builder, src.open("rb") as source, dst.open("w+b") as target:
        builder.sign(signer, mime, source, target)


def signed_by_registry(keys_dir: Path | None, path: Path) -> bool:
    """True when ``path`` carries a valid C2PA manifest chaining to the registry's root."""
    if keys_dir is None or not (keys_dir / CA_CERT).exists():
        return False
    try:
        import c2pa  # noqa: PLC0415
    except ImportError:
        return False
    try:
        mime = mime_of(path)
    except InvalidInput:
        return False
    settings = {
        "verify": {"verify_trust": True},
        "trust": {"trust_anchors": (keys_dir / CA_CERT).read_text()},
    }
    try:
        context = c2pa.Context.from_json(json.dumps(settings))
        with path.open("rb") as stream, c2pa.Reader(mime, stream, context=context) as reader:
            state = reader.get_validation_state() if hasattr(reader, "get_validation_state") else None
            if state is None:
                state = json.loads(reader.json()).get("validation_state")
    except Exception:
        return False
    return str(state).lower().endswith("trusted")
