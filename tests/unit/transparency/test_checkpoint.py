"""Unit tests for signed notes, keys and checkpoints (likeness_ledger.transparency.checkpoint)."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from likeness_ledger.transparency import merkle
from likeness_ledger.transparency.checkpoint import (
    ALG_COSIGNATURE_V1,
    ALG_ED25519,
    MAX_SIGNATURES,
    Checkpoint,
    Cosigner,
    Note,
    NoteSignature,
    Signer,
    Verifier,
    cosignature_message,
    cosignature_timestamp,
    generate_signer,
    key_id,
    sign_note,
    verify_checkpoint,
    verify_note,
)
from likeness_ledger.transparency.errors import (
    FormatError,
    InvalidSignatureError,
    KeyFormatError,
    UnverifiedNoteError,
    VerificationError,
)

# Published golang.org/x/mod/sumdb/note test key (also in the shared vectors).
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_SIG = "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
ROOT = merkle.root([merkle.leaf_hash(b"a"), merkle.leaf_hash(b"b")])


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def seeded(name: str, seed: int = 1) -> Signer:
    return Signer(name, ed25519.Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32))


def non_canonical(encoded: str) -> str:
    """Flip an unused low bit of the last base64 digit: same bytes, different spelling."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    body = encoded.rstrip("=")
    last = alphabet[alphabet.index(body[-1]) ^ 1]
    changed = body[:-1] + last + encoded[len(body) :]
    assert base64.b64decode(changed) == base64.b64decode(encoded)
    return changed


def ecdsa_vkey(name: str, spki: bytes) -> str:
    """A type 0x02 vkey: key ID is SHA-256 of the DER SPKI (transparency-dev/formats)."""
    return f"{name}+{hashlib.sha256(spki).digest()[:4].hex()}+{b64(bytes([2]) + spki)}"


def checkpoint(size: int = 2, origin: str = "example.com/log") -> Checkpoint:
    return Checkpoint(origin=origin, size=size, root_hash=ROOT)


class TestKeys:
    def test_key_id_is_the_spec_formula(self) -> None:
        public = b"\x07" * 32
        expected = hashlib.sha256(b"name\n\x01" + public).digest()[:4]
        assert key_id("name", ALG_ED25519, public) == expected

    def test_published_skey_round_trips(self) -> None:
        signer = Signer.from_skey(PETER_SKEY)
        assert signer.name == "PeterNeumann"
        assert signer.key_id.hex() == "c74f20a3"
        assert signer.skey == PETER_SKEY
        assert signer.vkey == PETER_VKEY
        assert signer.verifier().vkey == PETER_VKEY
        assert "c74f20a3" in repr(signer)
        assert "AYEKFALV" not in repr(signer)

    def test_generate_signer(self) -> None:
        skey, vkey = generate_signer("example.com/log")
        assert skey.startswith("PRIVATE+KEY+example.com/log+")
        signer = Signer.from_skey(skey)
        assert signer.vkey == vkey
        note = sign_note("hello\n", [signer])
        assert verify_note(note, [vkey]).verified_by == (vkey,)
        assert generate_signer("example.com/log") != (skey, vkey)

    def test_vkey_base64_may_contain_plus(self) -> None:
        vkey = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"
        verifier = Verifier.from_vkey(vkey)
        assert verifier.name == "sum.golang.org"
        assert verifier.key_id.hex() == "033de0ae"
        assert verifier.vkey == vkey
        assert "033de0ae" in repr(verifier)

    def test_upper_case_key_id_is_accepted_and_normalised(self) -> None:
        vkey = "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
        assert Verifier.from_vkey(vkey).vkey == PETER_VKEY

    @pytest.mark.parametrize(
        "vkey",
        [
            "PeterNeumann",
            "PeterNeumann+c74f20a3",
            "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "PeterNeumann+c74f20ag+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TX",
            "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",
            "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW==",
            "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10",
            "PeterNeumann+c74f20a3+AQ==",
            "PeterNeumann+c74f20a3+Aw" + "A" * 42,
            "PeterNeumann+c74f20a3+" + b64(b"\x01" + bytes(31)),
            "PeterNeumann+c74f20a3+" + b64(b"\x04" + bytes(33)),
            "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy\u00e90TW",
        ],
    )
    def test_malformed_vkeys_are_rejected(self, vkey: str) -> None:
        with pytest.raises(KeyFormatError, match="expected"):
            Verifier.from_vkey(vkey)

    @pytest.mark.parametrize(
        "skey",
        [
            "PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
            "PRIVATE+KEY+PeterNeumann+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
            "PRIVATE+KEY+PeterNeumann",
            "PRIVATE+KEY+PeterNeumann+xyz+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
            "PRIVATE+KEY+PeterNeumann+c74f20a4+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
            "PRIVATE+KEY+EnochRoot+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
            "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDF!",
            "PRIVATE+KEY+PeterNeumann+c74f20a3+AoEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
            "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKA=",
        ],
    )
    def test_malformed_skeys_are_rejected_without_echoing_the_secret(self, skey: str) -> None:
        with pytest.raises(KeyFormatError, match="expected") as caught:
            Signer.from_skey(skey)
        assert "AYEKFALV" not in str(caught.value)
        assert "KHKDF" not in str(caught.value)

    @pytest.mark.parametrize("name", ["", "a b", "a+b", "tab\there", "nbsp\u00a0", "nl\n"])
    def test_bad_key_names_are_rejected(self, name: str) -> None:
        with pytest.raises(KeyFormatError):
            seeded(name)
        with pytest.raises(FormatError):
            NoteSignature(name=name, key_id=b"\0" * 4, signature=b"s")


class TestNoteParsing:
    def test_text_may_contain_blank_lines_and_the_last_one_separates(self) -> None:
        signer = seeded("a")
        text = "first\n\nsecond\n\n\n"
        note = Note.from_text(sign_note(text, [signer]))
        assert note.text == text
        assert verify_note(note.to_text(), [signer.vkey]).text == text

    def test_bytes_are_decoded_strictly(self) -> None:
        signed = sign_note("caf\u00e9\n", [seeded("a")])
        assert Note.from_text(signed.encode()).text == "caf\u00e9\n"
        with pytest.raises(FormatError, match="UTF-8"):
            Note.from_text(signed.encode().replace(b"\xc3\xa9", b"\xe9"))
        with pytest.raises(FormatError, match="UTF-8"):
            Note.from_text(signed.replace("\u00e9", "\udce9"))

    @pytest.mark.parametrize(
        "note",
        [
            f"text\n\n\u2014 Bad Name {PETER_SIG}\n",
            "text\n\n\u2014 PeterNeumann\n",
            "text\n\n\u2014 PeterNeumann \n",
            f"text\n\n\u2014  {PETER_SIG}\n",
            "text\n\n\u2014 PeterNeumann AAAAAA==\n",
            "text\n\n\u2014 PeterNeumann AAAAAAB=\n",
            "text\n\n- PeterNeumann AAAAAAA=\n",
            "text\n\n\u2014PeterNeumann AAAAAAA=\n",
            "text\n\n\u2014 PeterNeumann AAAAAAA= \n",
            "text\r\n\n\u2014 PeterNeumann AAAAAAA=\n",
            "text\n\n\u2014 PeterNeumann AAAAAAA=\n\n",
            "text\n\n\u2014 PeterNeumann AAAAAAA=\n\u2014 x AAAAAAA=",
            "\n\u2014 PeterNeumann AAAAAAA=\n",
            "",
        ],
    )
    def test_malformed_notes_are_rejected(self, note: str) -> None:
        with pytest.raises(FormatError, match="expected"):
            Note.from_text(note)

    def test_signature_count_limit(self) -> None:
        line = NoteSignature(name="x", key_id=b"\0" * 4, signature=b"s").to_line() + "\n"
        assert len(Note.from_text("t\n\n" + line * MAX_SIGNATURES).signatures) == MAX_SIGNATURES
        with pytest.raises(FormatError, match="at most 100"):
            Note.from_text("t\n\n" + line * (MAX_SIGNATURES + 1))
        with pytest.raises(FormatError, match="at most 100"):
            Note(text="t\n", signatures=(NoteSignature.from_line(line[:-1]),) * 101)

    def test_note_constructor_validates(self) -> None:
        sig = NoteSignature(name="x", key_id=b"\0" * 4, signature=b"s")
        with pytest.raises(FormatError, match="at least one signature"):
            Note(text="t\n", signatures=())
        with pytest.raises(FormatError, match="final newline"):
            Note(text="t", signatures=(sig,))
        with pytest.raises(FormatError, match="control"):
            Note(text="t\x7f\x1b\n", signatures=(sig,))
        with pytest.raises(FormatError, match="4 bytes"):
            NoteSignature(name="x", key_id=b"\0" * 3, signature=b"s")
        with pytest.raises(FormatError, match="at least one byte"):
            NoteSignature(name="x", key_id=b"\0" * 4, signature=b"")

    def test_with_signatures_appends(self) -> None:
        first, second = seeded("a", 1), seeded("b", 2)
        note = Note.from_text(sign_note("t\n", [first]))
        both = note.with_signatures(second.sign("t\n"))
        assert [s.name for s in both.signatures] == ["a", "b"]
        assert both.to_text() == sign_note("t\n", [first, second])


class TestNoteVerification:
    def test_unknown_signatures_are_ignored_even_if_name_or_id_collide(self) -> None:
        log, other = seeded("log", 1), seeded("log", 2)
        same_id = NoteSignature(name="impostor", key_id=log.key_id, signature=b"\0" * 64)
        note = Note.from_text(sign_note("t\n", [log, other])).with_signatures(same_id)
        assert other.key_id != log.key_id
        assert verify_note(note.to_text(), [log.vkey]).verified_by == (log.vkey,)

    def test_a_bad_signature_from_a_known_key_rejects_the_note(self) -> None:
        log, witness = seeded("log", 1), seeded("witness", 2)
        forged = NoteSignature(name="witness", key_id=witness.key_id, signature=b"\1" * 64)
        note = Note.from_text(sign_note("t\n", [log])).with_signatures(forged)
        with pytest.raises(InvalidSignatureError, match=r"witness\+.*expected a valid signature"):
            verify_note(note.to_text(), [log.vkey, witness.vkey])
        assert verify_note(note.to_text(), [log.vkey]).verified_by == (log.vkey,)

    def test_every_signature_by_a_known_key_is_checked(self) -> None:
        log = seeded("log")
        good = log.sign("t\n")
        bad = NoteSignature(name="log", key_id=log.key_id, signature=b"\1" * 64)
        note = Note(text="t\n", signatures=(good, bad))
        with pytest.raises(InvalidSignatureError):
            note.verify([log.vkey])

    def test_no_trusted_signature(self) -> None:
        note = sign_note("t\n", [seeded("log", 1)])
        with pytest.raises(UnverifiedNoteError, match="expected a signature from a trusted key"):
            verify_note(note, [seeded("other", 2).vkey])
        with pytest.raises(UnverifiedNoteError, match=r"\(none\)"):
            verify_note(note, [])

    def test_signature_over_other_text_fails(self) -> None:
        log = seeded("log")
        tampered = sign_note("t\n", [log]).replace("t\n", "u\n", 1)
        with pytest.raises(InvalidSignatureError):
            verify_note(tampered, [log.vkey])

    def test_repeated_signatures_count_once(self) -> None:
        log = seeded("log")
        note = Note(text="t\n", signatures=(log.sign("t\n"), log.sign("t\n")))
        assert note.verify([log.vkey]).verified_by == (log.vkey,)

    def test_keys_may_be_parsed_verifiers_and_duplicates_are_harmless(self) -> None:
        log = seeded("log")
        note = sign_note("t\n", [log])
        assert verify_note(note, [log.verifier(), log.vkey]).verified_by == (log.vkey,)

    def test_two_different_keys_for_one_name_and_id_are_ambiguous(self) -> None:
        log = seeded("log")
        clash = Verifier(
            name="log", key_id=log.key_id, key_type=1, vkey="log+x+y", check=lambda m, s: None
        )
        with pytest.raises(KeyFormatError, match="one key per name and key ID"):
            verify_note(sign_note("t\n", [log]), [log.vkey, clash])

    def test_a_single_string_is_not_a_key_list(self) -> None:
        log = seeded("log")
        with pytest.raises(TypeError):
            verify_note(sign_note("t\n", [log]), log.vkey)

    def test_ed25519_signature_of_wrong_length(self) -> None:
        log = seeded("log")
        with pytest.raises(InvalidSignatureError, match="65 bytes instead of 64"):
            log.verifier().verify(b"t\n", b"\0" * 65)

    def test_signing_validates_text_and_signers(self) -> None:
        with pytest.raises(ValueError, match="at least one signer"):
            sign_note("t\n", [])
        with pytest.raises(FormatError, match="final newline"):
            sign_note("t", [seeded("log")])
        with pytest.raises(FormatError, match="control"):
            seeded("log").sign("t\0\n")

    def test_verification_errors_are_400s(self) -> None:
        for error in (FormatError, KeyFormatError, InvalidSignatureError, UnverifiedNoteError):
            assert issubclass(error, VerificationError)
            assert error.http_status == 400


class TestECDSA:
    @staticmethod
    def vkey(name: str, public: ec.EllipticCurvePublicKey) -> str:
        spki = public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return ecdsa_vkey(name, spki)

    @pytest.mark.parametrize("curve", [ec.SECP256R1(), ec.SECP384R1(), ec.SECP521R1()])
    def test_ecdsa_note_signatures(self, curve: ec.EllipticCurve) -> None:
        private = ec.generate_private_key(curve)
        vkey = self.vkey("ecdsa.example", private.public_key())
        verifier = Verifier.from_vkey(vkey)
        text = "DEFAULT\n10\n" + b64(ROOT) + "\n"
        signature = private.sign(text.encode(), ec.ECDSA(hashes.SHA256()))
        line = NoteSignature(name="ecdsa.example", key_id=verifier.key_id, signature=signature)
        note = Note(text=text, signatures=(line,))
        assert verify_note(note.to_text(), [vkey]).verified_by == (vkey,)
        with pytest.raises(InvalidSignatureError, match="ECDSA"):
            verifier.verify(b"other\n", signature)
        with pytest.raises(InvalidSignatureError, match="ECDSA"):
            verifier.verify(text.encode(), b"\x30\x00")

    def test_unsupported_curves_and_key_kinds(self) -> None:
        k1 = ec.generate_private_key(ec.SECP256K1()).public_key()
        with pytest.raises(KeyFormatError, match="P-256"):
            Verifier.from_vkey(self.vkey("k1", k1))
        ed_spki = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        with pytest.raises(KeyFormatError, match="P-256"):
            Verifier.from_vkey(ecdsa_vkey("ed", ed_spki))
        with pytest.raises(KeyFormatError, match="DER SPKI"):
            Verifier.from_vkey(ecdsa_vkey("junk", b"\x30\x03\x02\x01\x01"))


class TestCosignatures:
    def test_cosign_and_verify(self) -> None:
        log = seeded("example.com/log", 1)
        witness = Cosigner("witness.example/w1", ed25519.Ed25519PrivateKey.from_private_bytes(b"\3" * 32))
        assert witness.vkey.split("+")[1] == witness.key_id.hex()
        assert base64.b64decode(witness.vkey.split("+", 2)[2])[0] == ALG_COSIGNATURE_V1
        text = checkpoint().to_text()
        cosig = witness.sign(text, timestamp=1_700_000_000)
        note = Note.from_text(sign_note(text, [log])).with_signatures(cosig)
        verified = verify_note(note.to_text(), [log.vkey, witness.vkey])
        assert verified.verified_by == (log.vkey, witness.vkey)
        assert cosignature_timestamp(verified.signatures[1]) == 1_700_000_000
        assert "witness.example/w1" in repr(witness)
        # The same key as a plain 0x01 signer has a different key ID: no cross-type confusion.
        assert key_id(witness.name, ALG_ED25519, witness.public_key) != witness.key_id

    def test_cosignature_is_bound_to_its_timestamp(self) -> None:
        witness = Cosigner("w", ed25519.Ed25519PrivateKey.from_private_bytes(b"\3" * 32))
        text = checkpoint().to_text()
        cosig = witness.sign(text, timestamp=5)
        moved = NoteSignature(
            name="w", key_id=cosig.key_id, signature=(6).to_bytes(8, "big") + cosig.signature[8:]
        )
        verifier = Verifier.from_vkey(witness.vkey)
        verifier.verify(text.encode(), cosig.signature)
        with pytest.raises(InvalidSignatureError, match="cosignature/v1"):
            verifier.verify(text.encode(), moved.signature)

    def test_malformed_cosignatures_are_invalid(self) -> None:
        witness = Cosigner("w", ed25519.Ed25519PrivateKey.from_private_bytes(b"\3" * 32))
        verifier = Verifier.from_vkey(witness.vkey)
        text = checkpoint().to_text().encode()
        with pytest.raises(InvalidSignatureError, match="timestamp and an Ed25519"):
            verifier.verify(text, b"\0" * 64)
        with pytest.raises(InvalidSignatureError, match="above 2"):
            verifier.verify(text, b"\xff" * 72)
        with pytest.raises(InvalidSignatureError, match="not a checkpoint"):
            verifier.verify(b"hello\n", b"\0" * 72)

    def test_timestamps_are_range_checked(self) -> None:
        with pytest.raises(FormatError, match="2\\^63"):
            cosignature_message("a\n1\n" + b64(ROOT) + "\n", 2**63)
        with pytest.raises(FormatError, match="2\\^63"):
            cosignature_message("a\n1\n" + b64(ROOT) + "\n", -1)
        too_late = NoteSignature(name="w", key_id=b"\0" * 4, signature=b"\xff" * 72)
        with pytest.raises(FormatError, match="2\\^63"):
            cosignature_timestamp(too_late)

    def test_cosigner_refuses_non_checkpoints(self) -> None:
        witness = Cosigner("w", ed25519.Ed25519PrivateKey.generate())
        with pytest.raises(FormatError):
            witness.sign("hello\n", timestamp=1)


class TestCheckpoint:
    def test_round_trip_with_extensions(self) -> None:
        original = Checkpoint(
            origin="rekor.sigstage.dev - 8050909264565447525",
            size=20852163,
            root_hash=ROOT,
            extensions=("Timestamp: 1689748607742585419",),
        )
        text = original.to_text()
        assert text.splitlines()[1] == "20852163"
        assert Checkpoint.from_text(text) == original

    def test_empty_tree_checkpoint(self) -> None:
        empty = Checkpoint(origin="o", size=0, root_hash=merkle.EMPTY_ROOT)
        assert Checkpoint.from_text(empty.to_text()) == empty

    @pytest.mark.parametrize(
        "text",
        [
            "o\n1\n" + b64(ROOT),
            "o\n1\n",
            "o\n1\n\n",
            "\n1\n" + b64(ROOT) + "\n",
            "o\n01\n" + b64(ROOT) + "\n",
            "o\n+1\n" + b64(ROOT) + "\n",
            "o\n 1\n" + b64(ROOT) + "\n",
            "o\n-1\n" + b64(ROOT) + "\n",
            "o\n\u0661\n" + b64(ROOT) + "\n",
            "o\n1.0\n" + b64(ROOT) + "\n",
            f"o\n{2**64}\n" + b64(ROOT) + "\n",
            "o\n1\n" + b64(ROOT[:31]) + "\n",
            "o\n1\n" + non_canonical(b64(ROOT)) + "\n",
            "o\n1\n" + ROOT.hex() + "\n",
            "o\n1\n" + b64(ROOT) + "\n\n",
            "o\n1\n" + b64(ROOT) + "\next\n\n",
            "o\x01\n1\n" + b64(ROOT) + "\n",
        ],
    )
    def test_malformed_checkpoints_are_rejected(self, text: str) -> None:
        with pytest.raises(FormatError, match="expected"):
            Checkpoint.from_text(text)

    def test_constructor_validates(self) -> None:
        with pytest.raises(FormatError, match="size"):
            Checkpoint(origin="o", size=True, root_hash=ROOT)
        with pytest.raises(FormatError, match="size"):
            Checkpoint(origin="o", size=-1, root_hash=ROOT)
        with pytest.raises(FormatError, match="root hash"):
            Checkpoint(origin="o", size=1, root_hash=ROOT.hex())  # type: ignore[arg-type]  # wrong type on purpose
        with pytest.raises(FormatError, match="origin"):
            Checkpoint(origin="o\np", size=1, root_hash=ROOT)
        with pytest.raises(FormatError, match="extension line 4"):
            Checkpoint(origin="o", size=1, root_hash=ROOT, extensions=("",))
        with pytest.raises(FormatError, match="UTF-8"):
            Checkpoint(origin="\udc80", size=1, root_hash=ROOT)

    def test_sign_and_verify(self) -> None:
        log = seeded("example.com/log")
        signed = checkpoint().sign([log])
        parsed, note = verify_checkpoint(signed, [log.vkey], origin="example.com/log")
        assert parsed == checkpoint()
        assert note.verified_by == (log.vkey,)

    def test_origin_is_checked_but_key_name_may_differ(self) -> None:
        log = seeded("sum.golang.org")
        signed = checkpoint(origin="go.sum database tree").sign([log])
        verify_checkpoint(signed, [log.vkey], origin="go.sum database tree")
        with pytest.raises(VerificationError, match=re.escape("origin: expected 'example.com/log'")):
            verify_checkpoint(signed, [log.vkey], origin="example.com/log")

    def test_a_signed_non_checkpoint_is_rejected(self) -> None:
        log = seeded("log")
        with pytest.raises(FormatError):
            verify_checkpoint(sign_note("just text\n", [log]), [log.vkey])
