"""ORM tables of the persistent transparency log: leaves, complete-subtree hashes, checkpoints.

The three tables are append-only. ``log_leaves`` keeps each event's RFC 8785 canonical JSON
exactly as it was hashed, so anyone can recompute the leaf hash; ``log_nodes`` keeps the hash of
every complete subtree above the leaves (level >= 1; level 0 is ``log_leaves.leaf_hash``), so the
root at any past size and any proof cost O(log N) row reads; ``log_checkpoints`` keeps every
signed checkpoint handed out; ``log_leaf_performers`` says which performers each leaf concerns.

None of these tables is itself logged (``__log_skip__``): the log cannot record its own rows.
"""

from __future__ import annotations

import uuid
from datetime import datetime

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


class LogNode(Base):
    """The hash of the complete subtree over leaves ``[index·2^level, (index+1)·2^level)``."""

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


class LogLeafPerformer(Base):
    """Which performers a leaf's event concerns: the index behind per-performer receipt listings.

    The primary key (performer, leaf) is the index a performer's receipts are read through, in
    log order.
    """

    __log_skip__ = True
    __tablename__ = "log_leaf_performers"
    # Clustered on the primary key in SQLite too: one B-tree per row written instead of two.
    __table_args__ = {"sqlite_with_rowid": False}  # noqa: RUF012 - SQLAlchemy reads this class attribute

    performer_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    leaf_index: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("log_leaves.index"), primary_key=True, autoincrement=False
    )
