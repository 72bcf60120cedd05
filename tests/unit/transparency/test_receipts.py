"""Unit and property tests for consent receipts (likeness_ledger.transparency.receipts)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric import ed25519
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from likeness_ledger.transparency import merkle
from likeness_ledger.transparency.checkpoint import Checkpoint, Signer
from likeness_ledger.transparency.errors import ReceiptInvalid, VerificationError
from likeness_ledger.transparency.receipts import (
    Receipt,
    event_leaf_hash,
    verify_consistency_between,
)

ORIGIN = "ledger.example/consent-log"
LOG = Signer(ORIGIN, ed25519.Ed25519PrivateKey.from_private_bytes(b"\x11" * 32))
OTHER = Signer(ORIGIN, ed25519.Ed25519PrivateKey.from_private_bytes(b"\x22" * 32))


def event(n: int) -> dict[str, Any]:
    return {
        "type": "consent.granted",
        "performer": f"performer-{n}",
        "scope": ["voice", "face"],
        "seq": n,
        "note": "caf\u00e9 \u2014 ok",
    }


@dataclass
class Log:
    """A tiny in-memory consent log: events, their tree, and signed checkpoints."""

    events: list[dict[str, Any]]
    tree: merkle.MerkleTree

    @classmethod
    def of(cls, events: list[dict[str, Any]]) -> Log:
        return cls(events, merkle.MerkleTree(event_leaf_hash(e) for e in events))

    def checkpoint(self, size: int | None = None, signer: Signer = LOG) -> str:
        size = self.tree.size if size is None else size
        return Checkpoint(origin=ORIGIN, size=size, root_hash=self.tree.root(size)).sign([signer])

    def receipt(self, index: int, size: int | None = None) -> Receipt:
        size = self.tree.size if size is None else size
        return Receipt(
            event=self.events[index],
            leaf_index=index,
            tree_size=size,
            inclusion_proof=tuple(p.hex() for p in self.tree.inclusion_proof(index, size)),
            checkpoint=self.checkpoint(size),
        )


@pytest.fixture(scope="module")
def log() -> Log:
    return Log.of([event(n) for n in range(11)])


class TestEventLeafHash:
    def test_is_the_leaf_hash_of_canonical_json(self) -> None:
        data = {"b": 1, "a": [True, None, "x"]}
        assert event_leaf_hash(data) == merkle.leaf_hash(b'{"a":[true,null,"x"],"b":1}')
        assert event_leaf_hash(data) == event_leaf_hash({"a": [True, None, "x"], "b": 1})

    @pytest.mark.parametrize("bad", [{"n": 2**53}, {1: "x"}, {"s": {1, 2}}, {"f": float("nan")}])
    def test_non_canonicalisable_events_are_rejected(self, bad: dict[Any, Any]) -> None:
        with pytest.raises(ReceiptInvalid, match="RFC 8785"):
            event_leaf_hash(bad)


class TestReceipt:
    def test_round_trip_and_verify(self, log: Log) -> None:
        for index in range(log.tree.size):
            receipt = log.receipt(index)
            text = receipt.to_json()
            assert text.encode() == rfc8785.dumps(json.loads(text))  # canonical on the wire
            again = Receipt.from_json(text)
            assert again == receipt
            assert Receipt.from_json(text.encode()) == receipt
            assert Receipt.from_dict(receipt.to_dict()) == receipt
            again.verify([LOG.vkey], origin=ORIGIN)

    def test_pretty_printed_json_is_accepted(self, log: Log) -> None:
        receipt = log.receipt(3)
        Receipt.from_json(json.dumps(receipt.to_dict(), indent=2)).verify([LOG.vkey])

    def test_receipt_for_an_older_checkpoint_still_verifies(self, log: Log) -> None:
        log.receipt(2, size=5).verify([LOG.vkey])

    def test_changed_event_fails(self, log: Log) -> None:
        data = log.receipt(4).to_dict()
        data["event"] = {**data["event"], "scope": ["voice"]}
        with pytest.raises(ReceiptInvalid, match="inclusion proof does not lead to the root"):
            Receipt.from_dict(data).verify([LOG.vkey])

    def test_moved_event_fails(self, log: Log) -> None:
        data = log.receipt(4).to_dict()
        data["leaf_index"] = 5
        with pytest.raises(ReceiptInvalid, match="does not verify"):
            Receipt.from_dict(data).verify([LOG.vkey])

    def test_untrusted_or_wrong_log_fails(self, log: Log) -> None:
        receipt = log.receipt(1)
        with pytest.raises(ReceiptInvalid, match="trusted key"):
            receipt.verify([OTHER.vkey])
        with pytest.raises(ReceiptInvalid, match="origin"):
            receipt.verify([LOG.vkey], origin="someone.else/log")
        with pytest.raises(TypeError):
            receipt.verify(LOG.vkey)

    def test_checkpoint_signed_by_another_key_with_the_same_name_fails(self, log: Log) -> None:
        data = log.receipt(1).to_dict()
        data["checkpoint"] = log.checkpoint(signer=OTHER)
        with pytest.raises(ReceiptInvalid, match="trusted key"):
            Receipt.from_dict(data).verify([LOG.vkey])

    def test_verify_does_not_trust_how_the_object_was_built(self, log: Log) -> None:
        receipt = log.receipt(1)
        object.__setattr__(receipt, "tree_size", 5)  # bypasses the constructor's check
        with pytest.raises(ReceiptInvalid, match="tree size: expected the checkpoint's 11"):
            receipt.verify([LOG.vkey])

    def test_event_mutated_after_build_is_caught(self, log: Log) -> None:
        receipt = log.receipt(1)
        receipt.event["seq"] = 2**60  # dicts stay mutable inside a frozen dataclass
        with pytest.raises(ReceiptInvalid, match="RFC 8785"):
            receipt.verify([LOG.vkey])
        receipt.event["seq"] = 2
        assert log.events[1]["seq"] == 1  # the receipt holds its own copy
        with pytest.raises(ReceiptInvalid, match="does not lead to the root"):
            receipt.verify([LOG.vkey])

    def test_malformed_event_is_reported_with_other_problems(self, log: Log) -> None:
        data = log.receipt(1).to_dict()
        data.update(event={"n": 2**60}, leaf_index=-1, inclusion_proof=["XY"])
        with pytest.raises(ReceiptInvalid, match="receipt is malformed") as caught:
            Receipt.from_dict(data)
        assert len(caught.value.errors) == 3
        assert "RFC 8785" in caught.value.diagnostics()
        assert caught.value.diagnostics().count("\n  - ") == 3

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            (lambda d: d.update(event=[1]), "event: expected a JSON object"),
            (lambda d: d.update(leaf_index=True), "leaf_index: expected an integer"),
            (lambda d: d.update(leaf_index=1.0), "leaf_index: expected an integer"),
            (lambda d: d.update(leaf_index=-1), "leaf_index: expected an integer >= 0"),
            (lambda d: d.update(leaf_index=11), "leaf_index: expected < tree_size 11"),
            (lambda d: d.update(tree_size=0), "tree_size: expected an integer > 0"),
            (lambda d: d.update(tree_size="11"), "tree_size: expected an integer > 0"),
            (lambda d: d.update(tree_size=12), "tree_size: expected the checkpoint's 11"),
            (lambda d: d.update(inclusion_proof="ab"), "inclusion_proof: expected a list"),
            (lambda d: d.update(inclusion_proof=["AB" * 32]), "lower-case hex"),
            (lambda d: d.update(inclusion_proof=["ab" * 31]), "lower-case hex"),
            (lambda d: d.update(inclusion_proof=[7]), "lower-case hex"),
            (lambda d: d.update(inclusion_proof=["ab" * 32] * 65), "at most 64 hashes"),
            (lambda d: d.update(checkpoint=7), "checkpoint: expected a signed note"),
            (lambda d: d.update(checkpoint="not a note"), "checkpoint: note: expected"),
            (lambda d: d.pop("event"), "missing: event"),
            (lambda d: d.update(extra=1), "unknown: extra"),
        ],
    )
    def test_invalid_fields_are_rejected_on_build(
        self, log: Log, change: Any, message: str
    ) -> None:
        data = log.receipt(1).to_dict()
        change(data)
        with pytest.raises(ReceiptInvalid, match=message):
            Receipt.from_dict(data)

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("[]", "expected a JSON object"),
            ("{", "expected valid JSON"),
            ('{"a": NaN}', "finite numbers"),
            (b"\xff{}", "UTF-8"),
        ],
    )
    def test_invalid_json_is_rejected(self, text: str | bytes, message: str) -> None:
        with pytest.raises(ReceiptInvalid, match=message):
            Receipt.from_json(text)

    def test_duplicate_keys_are_rejected(self, log: Log) -> None:
        text = log.receipt(1).to_json()
        with pytest.raises(ReceiptInvalid, match="unique keys"):
            Receipt.from_json(text[:-1] + ',"tree_size":11}')

    def test_receipt_invalid_is_a_verification_error(self) -> None:
        assert issubclass(ReceiptInvalid, VerificationError)
        assert ReceiptInvalid.http_status == 400

    def test_every_single_bit_flip_of_a_receipt_fails(self) -> None:
        small = Log.of([{"n": 1}, {"n": 2, "who": "\u00e9"}, {"n": 3}])
        data = small.receipt(1).to_json().encode()
        for position in range(len(data)):
            for bit in range(8):
                tampered = bytearray(data)
                tampered[position] ^= 1 << bit
                with pytest.raises(ReceiptInvalid):
                    Receipt.from_json(bytes(tampered)).verify([LOG.vkey])


# JSON values for events. Two exclusions, both about equivalent spellings rather than tampering:
# floats (RFC 8785 prints 1e+21 whose '+' may flip to '0' for the same number) and control
# characters (escaped as \u001f, and JSON reads \u001F as the same character).
json_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x2FFF))
json_scalars = st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | json_text
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(json_text, inner, max_size=3),
    max_leaves=6,
)
events = st.dictionaries(json_text, json_values, min_size=1, max_size=4)


class TestReceiptProperties:
    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        contents=st.lists(events, min_size=1, max_size=12),
        data=st.data(),
    )
    def test_any_flipped_byte_fails_verification(
        self, contents: list[dict[str, Any]], data: st.DataObject
    ) -> None:
        log = Log.of(contents)
        index = data.draw(st.integers(min_value=0, max_value=len(contents) - 1))
        receipt = log.receipt(index)
        raw = receipt.to_json().encode()
        Receipt.from_json(raw).verify([LOG.vkey])
        position = data.draw(st.integers(min_value=0, max_value=len(raw) - 1))
        mask = data.draw(st.integers(min_value=1, max_value=255))
        tampered = bytearray(raw)
        tampered[position] ^= mask
        with pytest.raises(ReceiptInvalid):
            Receipt.from_json(bytes(tampered)).verify([LOG.vkey])


class TestConsistencyBetweenCheckpoints:
    def test_growing_log_is_consistent(self, log: Log) -> None:
        for size1 in range(1, log.tree.size + 1):
            proof = [p.hex() for p in log.tree.consistency_proof(size1)]
            old, new = verify_consistency_between(
                log.checkpoint(size1), log.checkpoint(), proof, [LOG.vkey]
            )
            assert (old.size, new.size) == (size1, log.tree.size)

    def test_raw_hashes_are_accepted(self, log: Log) -> None:
        proof = log.tree.consistency_proof(4)
        verify_consistency_between(log.checkpoint(4), log.checkpoint(), proof, [LOG.vkey])

    def test_forked_log_is_caught(self, log: Log) -> None:
        fork = Log.of([*log.events[:5], event(99), *log.events[6:]])
        proof = [p.hex() for p in log.tree.consistency_proof(4)]
        with pytest.raises(VerificationError, match="second root"):
            verify_consistency_between(log.checkpoint(4), fork.checkpoint(), proof, [LOG.vkey])

    def test_bad_inputs(self, log: Log) -> None:
        proof = [p.hex() for p in log.tree.consistency_proof(4)]
        with pytest.raises(VerificationError, match="lower-case hex"):
            verify_consistency_between(
                log.checkpoint(4), log.checkpoint(), [p.upper() for p in proof], [LOG.vkey]
            )
        with pytest.raises(VerificationError, match="trusted key"):
            verify_consistency_between(log.checkpoint(4), log.checkpoint(), proof, [OTHER.vkey])
        with pytest.raises(VerificationError, match="size2 >= size1"):
            verify_consistency_between(log.checkpoint(), log.checkpoint(4), proof, [LOG.vkey])
        with pytest.raises(VerificationError, match="size1 > 0"):
            verify_consistency_between(log.checkpoint(0), log.checkpoint(), [], [LOG.vkey])
        elsewhere = Checkpoint(origin="other/log", size=11, root_hash=log.tree.root()).sign([LOG])
        with pytest.raises(VerificationError, match="origin"):
            verify_consistency_between(log.checkpoint(4), elsewhere, proof, [LOG.vkey])
