"""The process-wide cache of committed log nodes: proofs stay exact, rolled-back work never leaks in."""

from __future__ import annotations

import random
import subprocess
import sys
import textwrap
import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from likeness_ledger.runtime import Runtime
from likeness_ledger.transparency import log, merkle
from likeness_ledger.transparency.models import STORED_FROM, LogLeaf, LogNode
from likeness_ledger.transparency.receipts import event_leaf_hash

PERFORMER = str(uuid.UUID(int=9))


def event(n: int, tag: str = "a") -> dict[str, object]:
    return {"type": "consent.signed", "n": n, "tag": tag, "performer_id": PERFORMER}


def shared_cache(runtime: Runtime) -> log._SharedNodes:
    return log._SHARED[runtime.db.engine.pool]


def stored(session: Session) -> dict[tuple[int, int], bytes]:
    nodes = {(lv, i): bytes(h) for lv, i, h in session.execute(select(LogNode.level, LogNode.index, LogNode.hash))}
    nodes.update({(0, i): bytes(h) for i, h in session.execute(select(LogLeaf.index, LogLeaf.leaf_hash))})
    return nodes


def assert_cache_matches_database(runtime: Runtime) -> None:
    """Every hash the shared cache holds is the committed one (right-edge folds included)."""
    cache = shared_cache(runtime)
    with runtime.db.read() as session:
        truth = stored(session)
        size = log.size(session)
    tree = merkle.MerkleTree(truth[0, i] for i in range(size))
    assert all(truth[key] == tree.get_node(*key) for key in truth)
    for key, value in cache.nodes.items():
        # Subtrees below STORED_FROM are not stored: the cache holds what was hashed for them.
        assert tree.get_node(*key) == value, key
    for level, buffer in cache.levels.items():
        assert level >= STORED_FROM
        assert len(buffer) % merkle.HASH_SIZE == 0
        held = [buffer[i : i + merkle.HASH_SIZE] for i in range(0, len(buffer), merkle.HASH_SIZE)]
        assert held == [truth[level, i] for i in range(len(held))], level
    for (begin, end), value in cache.ranges.items():
        assert end <= size
        assert merkle.MerkleTree(truth[0, i] for i in range(begin, end)).root() == value, (begin, end)
    assert tree.size == size


def grow(runtime: Runtime, events: list[dict[str, object]], rng: random.Random, upto: int) -> None:
    """Append in uneven committed batches up to ``upto`` events."""
    while len(events) < upto:
        batch = [event(n) for n in range(len(events), min(upto, len(events) + rng.randint(1, 40)))]
        with runtime.db.write() as session:
            log.append_many(session, batch)
        events.extend(batch)


@pytest.mark.parametrize("small_cache", [False, True], ids=["roomy", "evicting"])
def test_cached_proofs_match_the_in_memory_tree_at_many_sizes(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, small_cache: bool
) -> None:
    if small_cache:  # a cache that must evict single nodes and drop whole levels as it goes
        monkeypatch.setattr(log, "_SHARED_NODES_MIN", 40)
        log.configure_node_cache(runtime.db.engine, 4 * merkle.HASH_SIZE)
    rng = random.Random(11)
    events: list[dict[str, object]] = []
    for target in (37, 130, 300):  # the log grows between rounds of proofs, as a live one does
        grow(runtime, events, rng, target)
        tree = merkle.MerkleTree(event_leaf_hash(e) for e in events)
        picked = {target - 1, target, *rng.sample(range(1, target + 1), 10)}
        sizes = sorted({s for s in (1, 2, 3, 64) if s <= target} | picked)
        for _ in range(2):  # the second pass is served from what the first one cached
            for size in sizes:
                with runtime.db.read() as session:  # a fresh session: only the shared cache carries over
                    assert log.root(session, size) == tree.root(size), size
                    for index in {0, size - 1, *rng.sample(range(size), min(size, 6))}:
                        assert log.inclusion_proof(session, index, size) == tree.inclusion_proof(index, size)
                    for old in {1, size, *rng.sample(range(1, size + 1), min(size, 6))}:
                        assert log.consistency_proof(session, old, size) == tree.consistency_proof(old, size)
            with runtime.db.read() as session:
                made = log.receipts_under(session, list(range(0, target, 7)), _note(runtime))
            assert [r.inclusion_proof for r in made] == [
                tuple(h.hex() for h in tree.inclusion_proof(r.leaf_index, r.tree_size)) for r in made
            ]
    cache = shared_cache(runtime)
    assert cache.nodes, "readers publish what they read"
    if small_cache:
        assert len(cache.nodes) <= 40
        assert cache.level_bytes <= 4 * merkle.HASH_SIZE
    else:
        assert cache.levels, "the upper levels are held whole"
    assert_cache_matches_database(runtime)


def _note(runtime: Runtime) -> str:
    with runtime.db.write() as session:
        return log.sign_checkpoint(session, log.log_signer(runtime.settings), runtime.settings.log_origin)


def test_a_rolled_back_append_leaves_no_stale_cached_nodes(runtime: Runtime) -> None:
    with runtime.db.write() as session:
        log.append_many(session, [event(n) for n in range(5)])
    with runtime.db.read() as session:  # the committed tree's nodes and right edges get cached
        log.root(session)
        log.inclusion_proof(session, 4)
    undone = [event(n, "undone") for n in range(5, 16)]
    with pytest.raises(RuntimeError), runtime.db.write() as session:
        log.inclusion_proof(session, 2)  # reads before appending may still be shared: committed
        log.append_many(session, undone)
        # Proofs over the uncommitted nodes, in the writer's own transaction, are right too...
        tree = merkle.MerkleTree(event_leaf_hash(e) for e in [event(n) for n in range(5)] + undone)
        for size in (6, 8, 16):
            assert log.root(session, size) == tree.root(size)
            assert log.inclusion_proof(session, size - 1, size) == tree.inclusion_proof(size - 1, size)
            assert log.consistency_proof(session, 5, size) == tree.consistency_proof(5, size)
        raise RuntimeError("the business change failed")
    # ...but none of them may outlive the rollback: other leaves now take those indices.
    kept = [event(n, "kept") for n in range(5, 16)]
    with runtime.db.write() as session:
        log.append_many(session, kept)
    tree = merkle.MerkleTree(event_leaf_hash(e) for e in [event(n) for n in range(5)] + kept)
    assert_cache_matches_database(runtime)
    for size in range(1, 17):
        with runtime.db.read() as session:
            assert log.root(session, size) == tree.root(size)
            for index in range(size):
                assert log.inclusion_proof(session, index, size) == tree.inclusion_proof(index, size)
            assert log.consistency_proof(session, 5, max(size, 5)) == tree.consistency_proof(5, max(size, 5))
    assert_cache_matches_database(runtime)


def test_a_savepoint_rolled_back_in_a_writer_leaves_no_stale_nodes(runtime: Runtime) -> None:
    with runtime.db.write() as session:
        log.append_many(session, [event(n) for n in range(3)])
        nested = session.begin_nested()
        log.append_many(session, [event(n, "undone") for n in range(3, 8)])
        assert log.root(session, 8) is not None  # cached in this session, over the savepoint's nodes
        nested.rollback()
        log.append_many(session, [event(n, "kept") for n in range(3, 8)])
        kept = [event(n) for n in range(3)] + [event(n, "kept") for n in range(3, 8)]
        tree = merkle.MerkleTree(event_leaf_hash(e) for e in kept)
        assert log.root(session, 8) == tree.root(8)
        assert log.inclusion_proof(session, 6, 8) == tree.inclusion_proof(6, 8)
    with runtime.db.read() as session:
        assert log.root(session, 8) == tree.root(8)
    assert_cache_matches_database(runtime)


def test_only_sessions_on_a_pooled_engine_share_nodes(runtime: Runtime) -> None:
    with runtime.db.write() as session:
        log.append_many(session, [event(n) for n in range(4)])
        assert log._shared_nodes(session) is None  # it appended: its reads may be its own, uncommitted
    with runtime.db.read() as session:
        assert log._shared_nodes(session) is shared_cache(runtime)
    with runtime.db.engine.connect() as connection, Session(bind=connection) as session:
        # Bound to one connection's transaction, whose "commits" an outer rollback can still undo.
        assert log._shared_nodes(session) is None
        assert log.root(session, 4) == merkle.MerkleTree(event_leaf_hash(event(n)) for n in range(4)).root()


def test_forgetting_the_shared_cache_empties_it(runtime: Runtime) -> None:
    with runtime.db.write() as session:
        log.append_many(session, [event(n) for n in range(9)])
    with runtime.db.read() as session:
        log.inclusion_proof(session, 3)
    assert shared_cache(runtime).nodes
    log.forget_shared_nodes()
    cache = shared_cache(runtime)
    assert not cache.nodes
    assert not cache.ranges
    assert not cache.levels
    assert cache.refresh_at == 1


def test_level_buffers_stay_within_the_budget_as_the_log_grows(runtime: Runtime) -> None:
    budget = 24 * merkle.HASH_SIZE
    log.configure_node_cache(runtime.db.engine, budget)
    rng = random.Random(5)
    events: list[dict[str, object]] = []
    floors = []
    for target in (20, 47, 64, 100, 180, 400, 1000):
        grow(runtime, events, rng, target)
        tree = merkle.MerkleTree(event_leaf_hash(e) for e in events)
        with runtime.db.read() as session:
            for index in rng.sample(range(target), 5):
                assert log.inclusion_proof(session, index) == tree.inclusion_proof(index)
            assert log.consistency_proof(session, target // 3) == tree.consistency_proof(target // 3)
        cache = shared_cache(runtime)
        assert 0 < cache.level_bytes <= budget
        levels = sorted(cache.levels)
        assert levels == list(range(levels[0], target.bit_length())), "whole levels, from the top down"
        assert all(len(cache.levels[level]) == (target >> level) * merkle.HASH_SIZE for level in levels)
        floors.append(levels[0])
        assert_cache_matches_database(runtime)
    assert floors == sorted(floors)
    assert floors[0] == STORED_FROM, "levels below STORED_FROM are never held: they are not stored"
    assert floors[-1] > STORED_FROM, "the lowest levels are dropped as the log outgrows the budget"


def test_level_buffers_follow_the_log_as_it_grows(runtime: Runtime) -> None:
    rng = random.Random(8)
    events: list[dict[str, object]] = []
    grow(runtime, events, rng, 256)
    with runtime.db.read() as session:
        log.inclusion_proof(session, 3)
    cache = shared_cache(runtime)
    assert {level: len(buf) for level, buf in cache.levels.items()} == {
        level: (256 >> level) * merkle.HASH_SIZE for level in range(STORED_FROM, 9)
    }
    assert cache.refresh_at == 256 + 16
    # A little growth: new nodes past the buffers' ends are read one by one, the buffers stay.
    grow(runtime, events, rng, 262)
    tree = merkle.MerkleTree(event_leaf_hash(e) for e in events)
    with runtime.db.read() as session:
        for index in range(250, 262):
            assert log.inclusion_proof(session, index) == tree.inclusion_proof(index)
        assert log.consistency_proof(session, 257) == tree.consistency_proof(257)
    assert len(cache.levels[STORED_FROM]) == 16 * merkle.HASH_SIZE
    # Past a sixteenth more, the next reader extends every level with its new tail.
    grow(runtime, events, rng, 300)
    tree = merkle.MerkleTree(event_leaf_hash(e) for e in events)
    with runtime.db.read() as session:
        assert log.inclusion_proof(session, 299) == tree.inclusion_proof(299)
        # A proof at an old size is still served from the longer buffers.
        assert log.inclusion_proof(session, 17, 100) == tree.inclusion_proof(17, 100)
    assert len(cache.levels[STORED_FROM]) == 18 * merkle.HASH_SIZE
    assert cache.refresh_at == 300 + 300 // 16
    assert_cache_matches_database(runtime)


def test_no_budget_means_no_level_buffers(runtime: Runtime) -> None:
    log.configure_node_cache(runtime.db.engine, 0)
    events = [event(n) for n in range(70)]
    with runtime.db.write() as session:
        log.append_many(session, events)
    tree = merkle.MerkleTree(event_leaf_hash(e) for e in events)
    with runtime.db.read() as session:
        for index in range(70):
            assert log.inclusion_proof(session, index) == tree.inclusion_proof(index)
    assert not shared_cache(runtime).levels
    with pytest.raises(ValueError, match="expected >= 0"):
        log.configure_node_cache(runtime.db.engine, -1)


_APPEND_ELSEWHERE = textwrap.dedent(
    """
    import sys
    from likeness_ledger.db import Database
    from likeness_ledger.transparency import log

    db = Database(sys.argv[1])
    begin, end = map(int, sys.argv[2:4])
    with db.write() as session:
        log.append_many(session, [{"type": "consent.signed", "n": n, "tag": "other"} for n in range(begin, end)])
    db.dispose()
    """
)


def test_a_second_process_appending_is_seen_by_the_cache(runtime: Runtime) -> None:
    """Another process (another server, the CLI) grows the log; this process's buffers catch up exactly."""
    events = [event(n) for n in range(100)]
    with runtime.db.write() as session:
        log.append_many(session, events)
    with runtime.db.read() as session:
        log.inclusion_proof(session, 5)  # buffers for 100 leaves
    url = runtime.settings.database_url
    for begin, end in ((100, 103), (103, 400)):  # a little growth, then more than a sixteenth
        subprocess.run([sys.executable, "-c", _APPEND_ELSEWHERE, url, str(begin), str(end)], check=True)
        events += [{"type": "consent.signed", "n": n, "tag": "other"} for n in range(begin, end)]
        tree = merkle.MerkleTree(event_leaf_hash(e) for e in events)
        with runtime.db.read() as session:
            assert log.root(session) == tree.root()
            for index in (0, 99, 100, end - 1, *random.Random(end).sample(range(end), 20)):
                assert log.inclusion_proof(session, index) == tree.inclusion_proof(index)
            for old in (1, 99, 100, 101, end - 1):
                assert log.consistency_proof(session, old) == tree.consistency_proof(old)
    assert len(shared_cache(runtime).levels[STORED_FROM]) == (400 >> STORED_FROM) * merkle.HASH_SIZE
    assert_cache_matches_database(runtime)
