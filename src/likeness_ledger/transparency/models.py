"""ORM tables of the persistent transparency log: leaves, complete-subtree hashes, checkpoints.

The tables are append-only. ``log_leaves`` keeps each event's RFC 8785 canonical JSON exactly as
it was hashed, so anyone can recompute the leaf hash; ``log_nodes`` keeps the hash of every
complete subtree of 16 leaves or more (level ``STORED_FROM`` and up) and ``log_blocks`` every
hash below that, one row per complete block of 16 leaves, so the root at any past size and any
proof cost O(log N) row reads;
``log_checkpoints`` keeps every signed checkpoint handed out; ``log_performer_runs`` says which
leaves of one append concern one performer (one row per performer and append, not per leaf).

None of these tables is itself logged (``__log_skip__``): the log cannot record its own rows.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Final

from sqlalchemy import BigInteger, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from likeness_ledger.db import Base, utcnow


class LogLeaf(Base):
    """One appended event: its 0-based index, leaf hash and the canonical JSON that was hashed."""

    __log_skip__ = True
    __tablename__ = "log_leaves"

    # On SQLite the index is the rowid itself (INTEGER PRIMARY KEY): one B-tree per leaf, not two.
    index: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    )
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    event: Mapped[str] = mapped_column(Text)
    event_type: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


STORED_FROM: Final = 4
"""The lowest tree level ``log_nodes`` holds; the levels below live in ``log_blocks``."""
BLOCK_LEAVES: Final = 1 << STORED_FROM


class LogBlock(Base):
    """Every hash inside one complete block of ``BLOCK_LEAVES`` (16) leaves, in one row.

    ``hashes`` is 30 hashes of 32 bytes: the 16 leaf hashes, then the 8 subtrees of 2 leaves,
    the 4 of 4 and the 2 of 8, each level left to right. A proof's lowest four levels all lie
    in one block, so it reads one row for them instead of four, and an append writes one row
    per 16 leaves instead of 14 node rows. The leaves of the last, incomplete block are read
    from ``log_leaves``.
    """

    __log_skip__ = True
    __tablename__ = "log_blocks"

    # On SQLite the block number is the rowid itself (INTEGER PRIMARY KEY): one B-tree.
    index: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    )
    hashes: Mapped[bytes] = mapped_column(LargeBinary)


class LogNode(Base):
    """The hash of the complete subtree over leaves ``[index·2^level, (index+1)·2^level)``, level >= ``STORED_FROM``."""

    __log_skip__ = True
    __tablename__ = "log_nodes"
    # Clustered on (level, index) in SQLite: a proof's lookups read one B-tree, not an index and a table.
    __table_args__ = {"sqlite_with_rowid": False}  # noqa: RUF012 - SQLAlchemy reads this class attribute

    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LogCheckpoint(Base):
    """A signed checkpoint (c2sp.org/tlog-checkpoint) of the log at ``size`` leaves."""

    __log_skip__ = True
    __tablename__ = "log_checkpoints"

    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LogPerformerRun(Base):
    """The leaves of one append whose events concern one performer: the per-performer receipt index.

    ``offsets`` packs each leaf's distance from ``first_leaf`` as a little-endian uint32, in
    log order (``leaf_count`` of them; the last is ``last_leaf - first_leaf``). One row per
    performer and append rather than per leaf: a batch of 1,000 events about 64 performers
    writes 64 rows, each at one place in the B-tree, instead of 1,000 scattered ones. The
    primary key (performer, first leaf) is the index a performer's receipts are read through.
    """

    __log_skip__ = True
    __tablename__ = "log_performer_runs"
    # Clustered on the primary key in SQLite too: one B-tree per row written instead of two.
    __table_args__ = {"sqlite_with_rowid": False}  # noqa: RUF012 - SQLAlchemy reads this class attribute

    performer_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    first_leaf: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("log_leaves.index"), primary_key=True, autoincrement=False
    )
    last_leaf: Mapped[int] = mapped_column(BigInteger)
    leaf_count: Mapped[int] = mapped_column(Integer)
    offsets: Mapped[bytes] = mapped_column(LargeBinary)
