"""The persistent transparency log on the test database (SQLite, or PostgreSQL when configured)."""

from __future__ import annotations

import hashlib
import json
import random
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select, update

from likeness_ledger.errors import InvalidInput
from likeness_ledger.runtime import Runtime
from likeness_ledger.transparency import log, merkle
from likeness_ledger.transparency.checkpoint import Signer, verify_checkpoint
from likeness_ledger.transparency.errors import ReceiptInvalid, TreeRangeError
from likeness_ledger.transparency.models import LogCheckpoint, LogLeaf, LogNode
from likeness_ledger.transparency.receipts import Receipt, event_leaf_hash, verify_consistency_between

PERFORMER = str(uuid.UUID(int=7))


def event(n: int) -> dict[str, object]:
    return {"type": "consent.signed", "n": n, "performer_id": PERFORMER, "note": f"événement {n}"}


def fill(runtime: Runtime, count: int) -> list[dict[str, object]]:
    events = [event(n) for n in range(count)]
    with runtime.db.write() as session:
        assert log.append_many(session, events) == 0
    return events


@pytest.fixture
def signer(runtime: Runtime) -> Signer:
    return log.log_signer(runtime.settings)


def test_append_returns_dense_indices_and_stores_canonical_json(runtime: Runtime) -> None:
    with runtime.db.write() as session:
        assert log.append(session, {"type": "a", "b": 1, "a": [1, 2]}) == 0
        assert log.append(session, {"type": "b"}) == 1
    with runtime.db.write() as session:
        assert log.append_many(session, [{"type": "c"}, {"type": "d", "performer_id": PERFORMER}]) == 2
        assert log.append_many(session, []) == 4
    with runtime.db.read() as session:
        first = session.get(LogLeaf, 0)
        assert first is not None
        assert first.event == '{"a":[1,2],"b":1,"type":"a"}'
        assert first.leaf_hash == event_leaf_hash({"type": "a", "b": 1, "a": [1, 2]})
        assert log.performer_leaves(session, uuid.UUID(PERFORMER), limit=10, offset=0) == ([3], 1)
        assert not log.leaf_concerns(session, 0, uuid.UUID(PERFORMER))
        assert log.size(session) == 4
        # 4 leaves complete nodes (1,0), (1,1) and (2,0), none of 16 leaves: nothing stored, all hashed when read.
        assert session.scalar(select(func.count()).select_from(LogNode)) == 0
        assert log.root(session) == merkle.root([bytes(h) for h in session.scalars(select(LogLeaf.leaf_hash))])


@pytest.mark.parametrize(
    "bad", [{"n": 1}, {"type": ""}, {"type": "x", "performer_id": "nope"}, {"type": "x", "big": 2**60}]
)
def test_unloggable_events_are_refused_before_writing(runtime: Runtime, bad: dict[str, object]) -> None:
    with pytest.raises(InvalidInput), runtime.db.write() as session:
        log.append_many(session, [{"type": "ok"}, bad])
    with runtime.db.read() as session:
        assert log.size(session) == 0


def test_roots_and_proofs_match_the_in_memory_tree(runtime: Runtime) -> None:
    rng = random.Random(5)
    events = [event(n) for n in range(70)]
    with runtime.db.write() as session:
        done = 0
        while done < len(events):  # uneven batches exercise nodes completed across appends
            step = rng.randint(1, 9)
            log.append_many(session, events[done : done + step])
            done += step
    tree = merkle.MerkleTree(event_leaf_hash(e) for e in events)
    with runtime.db.read() as session:
        assert log.root(session) == tree.root()
        assert log.root(session, 0) == merkle.EMPTY_ROOT
        for size in [1, 2, 3, 64, 65, *rng.sample(range(1, 71), 12)]:
            assert log.root(session, size) == tree.root(size)
            index = rng.randrange(size)
            assert log.inclusion_proof(session, index, size) == tree.inclusion_proof(index, size)
            old = rng.randint(1, size)
            assert log.consistency_proof(session, old, size) == tree.consistency_proof(old, size)
        with pytest.raises(TreeRangeError):
            log.root(session, 71)
        with pytest.raises(TreeRangeError):
            log.inclusion_proof(session, 70)


def test_proofs_verify_against_the_signed_checkpoint(runtime: Runtime, signer: Signer) -> None:
    events = fill(runtime, 13)
    origin = runtime.settings.log_origin
    with runtime.db.write() as session:
        note = log.sign_checkpoint(session, signer, origin)
        assert log.sign_checkpoint(session, signer, origin) == note  # same size: the stored one
    checkpoint, _ = verify_checkpoint(note, [log.verifier_key(runtime.settings)], origin=origin)
    assert checkpoint.size == 13
    with runtime.db.read() as session:
        assert session.get(LogCheckpoint, 13) is not None
        for index, item in enumerate(events):
            proof = log.inclusion_proof(session, index, checkpoint.size)
            merkle.verify_inclusion(event_leaf_hash(item), index, 13, proof, checkpoint.root_hash)


def test_receipts_verify_offline_with_only_the_vkey(runtime: Runtime, signer: Signer) -> None:
    events = fill(runtime, 6)
    vkey = log.verifier_key(runtime.settings)
    with runtime.db.write() as session:
        made = log.receipt(session, 4, signer=signer, origin=runtime.settings.log_origin)
    text = made.to_json()
    parsed = Receipt.from_json(text)
    parsed.verify([vkey], origin=runtime.settings.log_origin)
    assert parsed.event == events[4]
    # Without a signer the latest stored checkpoint is used.
    with runtime.db.read() as session:
        again = log.receipt(session, 2)
    again.verify([vkey])
    assert again.checkpoint == made.checkpoint


def test_a_receipt_with_a_flipped_byte_fails(runtime: Runtime, signer: Signer) -> None:
    fill(runtime, 5)
    vkey = log.verifier_key(runtime.settings)
    with runtime.db.write() as session:
        good = log.receipt(session, 3, signer=signer, origin=runtime.settings.log_origin).to_dict()
    proof = list(good["inclusion_proof"])
    proof[0] = ("1" if proof[0][0] != "1" else "2") + proof[0][1:]
    tampered = [
        {**good, "inclusion_proof": proof},
        {**good, "event": {**good["event"], "n": 99}},
        {**good, "leaf_index": 2},
    ]
    for data in tampered:
        with pytest.raises(ReceiptInvalid):
            Receipt.from_dict(json.loads(json.dumps(data))).verify([vkey])
    with pytest.raises(ReceiptInvalid):
        Receipt.from_dict(good).verify([Signer.generate(runtime.settings.log_origin).vkey])


def test_receipt_needs_a_checkpoint_covering_the_leaf(runtime: Runtime, signer: Signer) -> None:
    fill(runtime, 2)
    with runtime.db.read() as session, pytest.raises(Exception, match="no checkpoint"):
        log.receipt(session, 0)
    with runtime.db.write() as session:
        log.sign_checkpoint(session, signer, runtime.settings.log_origin)
        log.append(session, event(2))
    with runtime.db.read() as session, pytest.raises(TreeRangeError):
        log.receipt(session, 2)


def test_audit_passes_on_an_intact_log(runtime: Runtime, signer: Signer) -> None:
    fill(runtime, 21)
    with runtime.db.write() as session:
        log.sign_checkpoint(session, signer, runtime.settings.log_origin)
    with runtime.db.read() as session:
        log.audit(session)


def test_audit_names_an_event_edited_in_the_database(runtime: Runtime) -> None:
    fill(runtime, 10)
    with runtime.db.write() as session:
        row = session.get(LogLeaf, 6)
        assert row is not None
        session.execute(update(LogLeaf).where(LogLeaf.index == 6).values(event=row.event.replace('"n":6', '"n":60')))
    with runtime.db.read() as session, pytest.raises(log.LogCorrupted, match="leaf 6") as caught:
        log.audit(session)
    assert caught.value.index == 6


def test_audit_names_a_rehashed_leaf_through_its_nodes(runtime: Runtime) -> None:
    fill(runtime, 40)
    with runtime.db.write() as session:
        forged = json.dumps({"forged": True}, separators=(",", ":"))
        session.execute(
            update(LogLeaf)
            .where(LogLeaf.index == 21)
            .values(event=forged, leaf_hash=hashlib.sha256(b"\x00" + forged.encode()).digest())
        )
    with runtime.db.read() as session, pytest.raises(log.LogCorrupted) as caught:
        log.audit(session)
    assert caught.value.index == 16  # the stored node over leaves 16..31 is the first that disagrees


def test_audit_catches_a_missing_node_and_a_bad_checkpoint(runtime: Runtime, signer: Signer) -> None:
    fill(runtime, 40)
    with runtime.db.write() as session:
        log.sign_checkpoint(session, signer, runtime.settings.log_origin)
        session.execute(update(LogCheckpoint).values(root_hash=b"\x00" * 32))
    with runtime.db.read() as session, pytest.raises(log.LogCorrupted, match="checkpoint of size 40"):
        log.audit(session)
    with runtime.db.write() as session:
        session.execute(LogNode.__table__.delete().where(LogNode.level == 4, LogNode.index == 1))
    with runtime.db.read() as session, pytest.raises(log.LogCorrupted, match="missing") as caught:
        log.audit(session)
    assert caught.value.index == 16


def test_a_rolled_back_transaction_leaves_no_leaf(runtime: Runtime) -> None:
    fill(runtime, 31)
    with pytest.raises(RuntimeError), runtime.db.write() as session:
        assert log.append(session, event(31)) == 31  # completes the nodes over 16..31 and 0..31
        raise RuntimeError("the business change failed")
    with runtime.db.read() as session:
        assert log.size(session) == 31
        assert session.scalar(select(func.count()).select_from(LogNode)) == 1
        log.audit(session)
    with runtime.db.write() as session:
        assert log.append(session, event(31)) == 31


def test_consistency_between_signed_checkpoints(runtime: Runtime, signer: Signer) -> None:
    fill(runtime, 5)
    origin = runtime.settings.log_origin
    with runtime.db.write() as session:
        old = log.sign_checkpoint(session, signer, origin)
        log.append_many(session, [event(n) for n in range(5, 12)])
        new = log.sign_checkpoint(session, signer, origin)
    with runtime.db.read() as session:
        proof = log.hex_proof(log.consistency_proof(session, 5, 12))
    a, b = verify_consistency_between(old, new, proof, [log.verifier_key(runtime.settings)])
    assert (a.size, b.size) == (5, 12)


def test_concurrent_appenders_get_dense_indices(runtime: Runtime) -> None:
    def work(worker: int) -> list[int]:
        indices = []
        for n in range(8):
            with runtime.db.write() as session:
                indices.append(log.append(session, {"type": "t", "worker": worker, "n": n}))
        return indices

    with ThreadPoolExecutor(max_workers=4) as pool:
        got = [i for batch in pool.map(work, range(4)) for i in batch]
    assert sorted(got) == list(range(32))
    with runtime.db.read() as session:
        log.audit(session)


def test_appends_in_uneven_batches_store_exactly_the_complete_subtrees(runtime: Runtime) -> None:
    rng = random.Random(11)
    tree = merkle.MerkleTree()
    appended = 0
    while appended < 700:
        batch = [{"type": "t", "n": appended + k} for k in range(rng.choice([1, 2, 3, 7, 64, 129]))]
        with runtime.db.write() as session:
            assert log.append_many(session, batch) == appended
        for item in batch:
            tree.append(event_leaf_hash(item))
        appended += len(batch)
    with runtime.db.read() as session:
        log.audit(session)  # every node present, none extra, each matching the leaves below it
        stored = {
            (level, index): bytes(h)
            for level, index, h in session.execute(select(LogNode.level, LogNode.index, LogNode.hash))
        }
        assert all(stored[key] == tree.get_node(*key) for key in stored)
        assert log.root(session) == tree.root()


def test_inclusion_nodes_are_exactly_what_the_proof_reads() -> None:
    class Recording:
        def __init__(self, tree: merkle.MerkleTree) -> None:
            self.tree, self.read = tree, []

        def get_node(self, level: int, index: int) -> bytes:
            self.read.append((level, index))
            return self.tree.get_node(level, index)

    tree = merkle.MerkleTree([merkle.leaf_hash(bytes([n])) for n in range(70)])
    for size in range(1, 71):
        for index in range(size):
            recording = Recording(tree)
            merkle.tree_inclusion_proof(recording, index, size)
            assert sorted(set(recording.read)) == sorted(set(log.inclusion_nodes(index, size))), (index, size)


def test_every_inclusion_proof_from_the_database_matches_the_in_memory_tree(runtime: Runtime) -> None:
    events = fill(runtime, 70)
    tree = merkle.MerkleTree(event_leaf_hash(e) for e in events)
    with runtime.db.read() as session:
        for size in range(1, 71):
            for index in range(size):
                assert log.inclusion_proof(session, index, size) == tree.inclusion_proof(index, size), (index, size)
        with pytest.raises(TreeRangeError):
            log.inclusion_proof(session, 5, 71)
        with pytest.raises(TreeRangeError):
            log.inclusion_proof(session, 5, 5)


def test_events_with_escapes_and_odd_types_are_stored_exactly(runtime: Runtime) -> None:
    """Backslashes, quotes, control characters and non-ASCII text survive the bulk write (COPY on PostgreSQL)."""
    odd = [
        {"type": "tab\there", "text": 'back\\slash "quoted"\n\ttabbed\r\x01', "performer_ids": [PERFORMER]},
        {"type": "new\nline\\x", "text": "\\N \\. \\\\ é ☃ 𝄞 \u2028", "nested": {"k\\": ["\\t", "\t"]}},
        {"type": "plain", "n": -(2**53) + 1},
    ]
    events = [event(n) for n in range(150)] + odd
    with runtime.db.write() as session:
        log.append_many(session, events)
    with runtime.db.read() as session:
        rows = session.execute(select(LogLeaf.event, LogLeaf.event_type, LogLeaf.leaf_hash).order_by(LogLeaf.index))
        stored = list(rows)
        assert [(json.loads(text), kind) for text, kind, _ in stored] == [(e, e["type"]) for e in events]
        assert [bytes(digest) for _, _, digest in stored] == [event_leaf_hash(e) for e in events]
        assert log.performer_leaves(session, uuid.UUID(PERFORMER), limit=500, offset=0)[0][-1] == 150
        tree = merkle.MerkleTree(event_leaf_hash(e) for e in events)
        assert log.root(session) == tree.root()
        log.audit(session)
