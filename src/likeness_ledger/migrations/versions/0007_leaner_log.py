"""leaner transparency log: hashes below 16 leaves as one row per block; performer links as runs

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 01:30:00
"""

import hashlib
import struct
from collections.abc import Iterator, Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The value of ``models.STORED_FROM`` this revision was written for (frozen here on purpose: a
# migration describes the schema of its own time, not whatever the code says later).
_STORED_FROM = 4
_BLOCK = 1 << _STORED_FROM
_BATCH = 10_000  # leaves read at a time: a whole number of blocks
_LEAF_INDEX = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

_meta = sa.MetaData()
_links = sa.Table(
    "log_leaf_performers",
    _meta,
    sa.Column("performer_id", sa.Uuid(), nullable=False),
    sa.Column("leaf_index", sa.BigInteger(), nullable=False),
)
_runs = sa.Table(
    "log_performer_runs",
    _meta,
    sa.Column("performer_id", sa.Uuid(), nullable=False),
    sa.Column("first_leaf", sa.BigInteger(), nullable=False),
    sa.Column("last_leaf", sa.BigInteger(), nullable=False),
    sa.Column("leaf_count", sa.Integer(), nullable=False),
    sa.Column("offsets", sa.LargeBinary(), nullable=False),
)
_leaves = sa.Table("log_leaves", _meta, sa.Column("index", sa.BigInteger()), sa.Column("leaf_hash", sa.LargeBinary()))
_blocks = sa.Table("log_blocks", _meta, sa.Column("index", sa.BigInteger()), sa.Column("hashes", sa.LargeBinary()))
_nodes = sa.Table(
    "log_nodes",
    _meta,
    sa.Column("level", sa.Integer()),
    sa.Column("index", sa.BigInteger()),
    sa.Column("hash", sa.LargeBinary()),
)


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _leaf_hashes(bind: sa.Connection) -> Iterator[tuple[int, list[bytes]]]:
    """The stored leaf hashes in index order, ``_BATCH`` at a time, each with its first index."""
    start = 0
    while True:
        rows = bind.execute(
            sa.select(_leaves.c.leaf_hash)
            .where(_leaves.c.index >= start, _leaves.c.index < start + _BATCH)
            .order_by(_leaves.c.index)
        ).all()
        if rows:
            yield start, [bytes(row[0]) for row in rows]
        if len(rows) < _BATCH:
            return
        start += _BATCH


def _create_links() -> None:
    op.create_table(
        "log_leaf_performers",
        sa.Column("performer_id", sa.Uuid(), nullable=False),
        sa.Column("leaf_index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.ForeignKeyConstraint(
            ["leaf_index"], ["log_leaves.index"], name=op.f("fk_log_leaf_performers_leaf_index_log_leaves")
        ),
        sa.PrimaryKeyConstraint("performer_id", "leaf_index", name=op.f("pk_log_leaf_performers")),
        sqlite_with_rowid=False,
    )


def upgrade() -> None:
    op.create_table(
        "log_performer_runs",
        sa.Column("performer_id", sa.Uuid(), nullable=False),
        sa.Column("first_leaf", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("last_leaf", sa.BigInteger(), nullable=False),
        sa.Column("leaf_count", sa.Integer(), nullable=False),
        sa.Column("offsets", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["first_leaf"], ["log_leaves.index"], name=op.f("fk_log_performer_runs_first_leaf_log_leaves")
        ),
        sa.PrimaryKeyConstraint("performer_id", "first_leaf", name=op.f("pk_log_performer_runs")),
        sqlite_with_rowid=False,
    )
    # Each existing link becomes a run of one leaf (offset 0): correct, if not as compact as
    # the runs appends write from now on.
    op.execute(
        _runs.insert().from_select(
            ["performer_id", "first_leaf", "last_leaf", "leaf_count", "offsets"],
            sa.select(
                _links.c.performer_id,
                _links.c.leaf_index,
                _links.c.leaf_index,
                sa.literal(1, sa.Integer()),
                sa.literal(bytes(4), sa.LargeBinary()),
            ),
        )
    )
    op.drop_table("log_leaf_performers")
    # Subtrees of 2, 4 and 8 leaves move into one row per complete block of 16 leaves, with the
    # block's leaf hashes: 16 + 8 + 4 + 2 hashes, level by level.
    op.create_table(
        "log_blocks",
        sa.Column("index", _LEAF_INDEX, autoincrement=False, nullable=False),
        sa.Column("hashes", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("index", name=op.f("pk_log_blocks")),
    )
    bind = op.get_bind()
    for start, hashes in _leaf_hashes(bind):
        made = []
        for first in range(0, len(hashes) - _BLOCK + 1, _BLOCK):
            level = hashes[first : first + _BLOCK]
            out = list(level)
            for _ in range(1, _STORED_FROM):
                level = [_node(level[i], level[i + 1]) for i in range(0, len(level), 2)]
                out += level
            made.append({"index": (start + first) // _BLOCK, "hashes": b"".join(out)})
        if made:
            bind.execute(_blocks.insert(), made)
    op.execute(_nodes.delete().where(_nodes.c.level < _STORED_FROM))


def downgrade() -> None:
    bind = op.get_bind()
    _create_links()
    for performer, first, offsets in bind.execute(sa.select(_runs.c.performer_id, _runs.c.first_leaf, _runs.c.offsets)):
        steps = struct.unpack(f"<{len(offsets) // 4}I", offsets)
        bind.execute(_links.insert(), [{"performer_id": performer, "leaf_index": first + step} for step in steps])
    op.drop_table("log_performer_runs")
    op.drop_table("log_blocks")
    # Store the subtrees of 2, 4 and 8 leaves as nodes again.
    for start, hashes in _leaf_hashes(bind):
        level_hashes = hashes
        made: list[dict[str, object]] = []
        for level in range(1, _STORED_FROM):
            level_hashes = [_node(level_hashes[i], level_hashes[i + 1]) for i in range(0, len(level_hashes) - 1, 2)]
            base = start >> level
            made += [{"level": level, "index": base + i, "hash": h} for i, h in enumerate(level_hashes)]
        if made:
            bind.execute(_nodes.insert(), made)
