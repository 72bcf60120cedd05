"""How the log is stored: hashes below 16 leaves one row per block, performer links as runs, migration 0007."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from likeness_ledger import migrate
from likeness_ledger.db import Database
from likeness_ledger.errors import InvalidInput
from likeness_ledger.runtime import Runtime
from likeness_ledger.transparency import log, merkle
from likeness_ledger.transparency.models import STORED_FROM, LogBlock, LogLeaf, LogNode, LogPerformerRun
from likeness_ledger.transparency.receipts import event_leaf_hash

ADA, BO, CY = (uuid.UUID(int=n) for n in (101, 102, 103))


def test_performer_pages_and_membership_across_runs(runtime: Runtime) -> None:
    """Pages cut anywhere (inside a run, across runs) list exactly the performer's leaves, in order."""
    rng = random.Random(3)
    truth: dict[uuid.UUID, list[int]] = {ADA: [], BO: [], CY: []}
    appended = 0
    for _ in range(12):
        batch = []
        for _ in range(rng.choice([1, 1, 5, 23])):
            who = rng.sample([ADA, BO, CY], rng.randint(0, 2))
            batch.append({"type": "t", "n": appended, "performer_ids": [str(p) for p in who]})
            for p in who:
                truth[p].append(appended)
            appended += 1
        with runtime.db.write() as session:
            log.append_many(session, batch)
    with runtime.db.read() as session:
        runs = session.scalar(sa.select(sa.func.count()).select_from(LogPerformerRun))
        assert runs is not None and runs < sum(len(v) for v in truth.values()), "one row per performer and append"
        for performer, leaves in truth.items():
            assert log.performer_leaves(session, performer, limit=1000, offset=0) == (leaves, len(leaves))
            for offset in range(len(leaves) + 2):
                for limit in (1, 2, 7):
                    page, total = log.performer_leaves(session, performer, limit=limit, offset=offset)
                    assert (page, total) == (leaves[offset : offset + limit], len(leaves)), (offset, limit)
            for index in range(appended):
                assert log.leaf_concerns(session, index, performer) == (index in leaves), index
        assert log.performer_leaves(session, uuid.UUID(int=999), limit=5, offset=0) == ([], 0)


def test_hashes_below_sixteen_leaves_live_in_one_row_per_block(runtime: Runtime) -> None:
    events = [{"type": "t", "n": n} for n in range(77)]
    with runtime.db.write() as session:
        log.append_many(session, events[:40])
    with runtime.db.write() as session:
        log.append_many(session, events[40:])
    tree = merkle.MerkleTree(event_leaf_hash(e) for e in events)
    with runtime.db.read() as session:
        levels = set(session.scalars(sa.select(LogNode.level)))
        assert levels == set(range(STORED_FROM, 7))
        blocks = dict(session.execute(sa.select(LogBlock.index, LogBlock.hashes)).all())
        assert sorted(blocks) == [0, 1, 2, 3]  # 77 leaves: four complete blocks, the fifth still open
        for block, value in blocks.items():
            first = block * 16
            expected = [tree.get_node(0, first + i) for i in range(16)]
            expected += [tree.get_node(level, (first >> level) + i) for level in (1, 2, 3) for i in range(16 >> level)]
            assert bytes(value) == b"".join(expected)
        for level in range(7):
            count = 77 >> level
            assert log.stored_hashes(session, level, 0, count) == [tree.get_node(level, i) for i in range(count)]
        for size in (1, 2, 3, 15, 16, 17, 31, 33, 64, 77):
            assert log.root(session, size) == tree.root(size)
            for index in {0, size // 2, size - 1}:
                assert log.inclusion_proof(session, index, size) == tree.inclusion_proof(index, size)
            for old in range(1, size):
                assert log.consistency_proof(session, old, size) == tree.consistency_proof(old, size)


def _old_schema_rows(connection: sa.Connection, tree: merkle.MerkleTree, events: list[bytes]) -> None:
    """Fill a database at revision 0006 as the code of that time did: every level stored, one link per leaf."""
    now = datetime(2026, 12, 1, tzinfo=UTC)
    connection.execute(
        sa.text(
            'INSERT INTO log_leaves ("index", leaf_hash, event, event_type, created_at) VALUES (:i, :h, :e, :t, :c)'
        ),
        [{"i": i, "h": tree.get_node(0, i), "e": e.decode(), "t": "t", "c": now} for i, e in enumerate(events)],
    )
    nodes = [
        {"l": level, "i": i, "h": tree.get_node(level, i)}
        for level in range(1, tree.size.bit_length())
        for i in range(tree.size >> level)
    ]
    connection.execute(sa.text('INSERT INTO log_nodes (level, "index", hash) VALUES (:l, :i, :h)'), nodes)
    links = [{"p": ADA.hex, "i": i} for i in range(0, tree.size, 3)]
    connection.execute(sa.text("INSERT INTO log_leaf_performers (performer_id, leaf_index) VALUES (:p, :i)"), links)


def test_migration_0007_keeps_every_proof_and_link_and_goes_back(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    migrate.upgrade(url, "0006")
    # Every third event names Ada, as the old link rows say (the audit holds the two together).
    events = [
        (f'{{"n":{n},"performer_id":"{ADA}","type":"t"}}' if n % 3 == 0 else f'{{"n":{n},"type":"t"}}').encode()
        for n in range(50)
    ]
    tree = merkle.MerkleTree(merkle.leaf_hash(e) for e in events)
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        _old_schema_rows(connection, tree, events)
    migrate.upgrade(url)
    db = Database(url)
    try:
        with db.read() as session:
            log.audit(session)
            assert set(session.scalars(sa.select(LogNode.level))) == {4, 5}
            assert list(session.scalars(sa.select(LogBlock.index).order_by(LogBlock.index))) == [0, 1, 2]
            assert log.performer_leaves(session, ADA, limit=100, offset=0) == (list(range(0, 50, 3)), 17)
            assert log.inclusion_proof(session, 37) == tree.inclusion_proof(37)
            assert log.consistency_proof(session, 13) == tree.consistency_proof(13)
    finally:
        db.dispose()
    command.downgrade(migrate.alembic_config(url), "0006")
    with engine.connect() as connection:
        rows = connection.execute(sa.text('SELECT level, "index", hash FROM log_nodes'))
        stored = {(lv, i): bytes(h) for lv, i, h in rows}
        links = sorted(i for (i,) in connection.execute(sa.text("SELECT leaf_index FROM log_leaf_performers")))
    engine.dispose()
    assert stored == {(lv, i): tree.get_node(lv, i) for lv in range(1, 6) for i in range(50 >> lv)}
    assert links == list(range(0, 50, 3))


@pytest.mark.parametrize("level", [1, 2, 3])
def test_a_missing_leaf_under_a_hashed_subtree_is_reported(runtime: Runtime, level: int) -> None:
    with runtime.db.write() as session:
        log.append_many(session, [{"type": "t", "n": n} for n in range(24)])
    with runtime.db.write() as session:
        session.execute(sa.text("DELETE FROM log_performer_runs"))
        session.execute(sa.text('DELETE FROM log_leaves WHERE "index" = 17'))
    with runtime.db.read() as session, pytest.raises(KeyError, match="missing"):
        log.DbNodeSource(session, 24).get_node(level, 17 >> level)


def test_a_bad_event_late_in_a_large_batch_writes_nothing(runtime: Runtime) -> None:
    """PostgreSQL streams large batches, checking as it goes: a late refusal still leaves no trace."""
    with runtime.db.write() as session:
        log.append_many(session, [{"type": "t", "n": n} for n in range(3)])
    events: list[dict[str, object]] = [{"type": "t", "n": n, "performer_id": str(ADA)} for n in range(3, 903)]
    events[850] = {"type": "t", "n": 2**60}
    with runtime.db.write() as session:
        with pytest.raises(InvalidInput, match="RFC 8785"):
            log.append_many(session, events)
        # The transaction goes on: the next append takes the index the refused batch would have.
        assert log.append(session, {"type": "t", "n": 3}) == 3
    with runtime.db.read() as session:
        assert log.size(session) == 4
        assert log.performer_leaves(session, ADA, limit=10, offset=0) == ([], 0)
        log.audit(session)


def test_audit_and_proofs_catch_a_bad_or_missing_block(runtime: Runtime) -> None:
    with runtime.db.write() as session:
        log.append_many(session, [{"type": "t", "n": n} for n in range(40)])
    with runtime.db.write() as session:
        value = session.scalar(sa.select(LogBlock.hashes).where(LogBlock.index == 1))
        assert value is not None
        forged = bytes(value[:100]) + bytes([value[100] ^ 1]) + bytes(value[101:])  # inside leaf 19's hash
        session.execute(sa.update(LogBlock).where(LogBlock.index == 1).values(hashes=forged))
    with runtime.db.read() as session, pytest.raises(log.LogCorrupted, match=r"block 1 .*does not match") as caught:
        log.audit(session)
    assert caught.value.index == 16
    with runtime.db.write() as session:
        session.execute(sa.delete(LogBlock).where(LogBlock.index == 1))
    with runtime.db.read() as session:
        with pytest.raises(log.LogCorrupted, match=r"block 1 .*missing"):
            log.audit(session)
        with pytest.raises(KeyError, match="missing"):
            log.inclusion_proof(session, 20)
        assert log.inclusion_proof(session, 3) == merkle.MerkleTree(
            event_leaf_hash({"type": "t", "n": n}) for n in range(40)
        ).inclusion_proof(3)


def test_audit_reports_progress_stage_by_stage(runtime: Runtime) -> None:
    with runtime.db.write() as session:
        log.append_many(session, [{"type": "t", "n": n} for n in range(2500)])
    calls: list[tuple[str, int, int]] = []
    with runtime.db.read() as session:
        log.audit(session, progress=lambda stage, done, total: calls.append((stage, done, total)))
    stages = [stage for stage, _, _ in calls]
    assert stages == sorted(stages, key=["leaves", "blocks", "nodes"].index), "one stage after the other"
    last = {stage: (done, total) for stage, done, total in calls}
    nodes = sum(2500 >> level for level in range(STORED_FROM, 12))  # levels 4..11: 156 + 78 + ... + 1
    assert last == {"leaves": (2500, 2500), "blocks": (156, 156), "nodes": (nodes, nodes)}
    assert len([c for c in calls if c[0] == "leaves"]) >= 3, "leaves are reported as they go, not only at the end"


@pytest.mark.parametrize(
    "stored",
    ['{"n": 1, "type": "t"}', '{"type":"t","n":1}', '{"n":1.0,"type":"t"}', '{"n":1,"type":"t"} '],
)
def test_audit_refuses_an_event_that_is_not_canonical(runtime: Runtime, stored: str) -> None:
    """Rehashed to match, so only the canonical-form check can tell: spacing, key order, number form."""
    with runtime.db.write() as session:
        log.append_many(session, [{"type": "t", "n": n} for n in range(3)])
    with runtime.db.write() as session:
        forged = merkle.leaf_hash(stored.encode())
        session.execute(sa.update(LogLeaf).where(LogLeaf.index == 1).values(event=stored, leaf_hash=forged))
    with runtime.db.read() as session, pytest.raises(log.LogCorrupted, match=r"leaf 1: .*not RFC 8785") as caught:
        log.audit(session)
    assert caught.value.index == 1


def _runs_tampered(runtime: Runtime, change: str) -> None:
    with runtime.db.write() as session:
        log.append_many(
            session,
            [{"type": "t", "n": n, "performer_ids": [str(ADA)] if n % 2 else [str(BO)]} for n in range(12)],
        )
    with runtime.db.write() as session:
        run = LogPerformerRun
        bo = session.execute(sa.select(run.first_leaf, run.offsets).where(run.performer_id == BO)).one()
        if change == "extra performer":  # Cy listed on Bo's leaves: Cy would get receipts for them
            session.execute(
                sa.insert(run).values(
                    performer_id=CY, first_leaf=bo.first_leaf, last_leaf=10, leaf_count=6, offsets=bo.offsets
                )
            )
        elif change == "missing leaf":  # Bo's leaf 4 dropped from the list (count kept consistent)
            kept = [0, 2, 6, 8, 10]
            packed = b"".join(step.to_bytes(4, "little") for step in kept)
            session.execute(sa.update(run).where(run.performer_id == BO).values(offsets=packed, leaf_count=len(kept)))
        elif change == "repeated":  # Ada's run listed twice under another start: both copies add up
            session.execute(
                sa.insert(run).values(performer_id=ADA, first_leaf=3, last_leaf=3, leaf_count=1, offsets=bytes(4))
            )
        else:  # a count that disagrees with the offsets
            session.execute(sa.update(run).where(run.performer_id == BO).values(leaf_count=5))


@pytest.mark.parametrize(
    ("change", "first_bad"), [("extra performer", 0), ("missing leaf", 4), ("repeated", 3), ("bad count", 0)]
)
def test_audit_checks_the_performer_index_against_the_events(runtime: Runtime, change: str, first_bad: int) -> None:
    _runs_tampered(runtime, change)
    with runtime.db.read() as session, pytest.raises(log.LogCorrupted, match="performer index") as caught:
        log.audit(session)
    assert caught.value.index == first_bad
