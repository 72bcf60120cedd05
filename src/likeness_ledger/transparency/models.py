"""ORM tables of the persistent transparency log: leaves, complete-subtree hashes, checkpoints.

The three tables are append-only. ``log_leaves`` keeps each event's RFC 8785 canonical JSON
exactly as it was hashed, so anyone can recompute the leaf hash; ``log_nodes`` keeps the hash of
every complete subtree above the leaves (level >= 1; level 0 is ``log_leaves.leaf_hash``), so the
root at any past size and any proof cost O(log N) row reads; ``log_checkpoints`` keeps every
signed checkpoint handed out.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from likeness_ledger.db import Base, utcnow


class LogLeaf(Base):
    """One appended event: its 0-based index, leaf hash and the canonical JSON that was hashed."""

    __tablename__ = "log_leaves"

    index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    event: Mapped[str] = mapped_column(Text)
    event_type: Mapped[str] = mapped_column(String(64))
    performer_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LogNode(Base):
    """The hash of the complete subtree over leaves ``[index·2^level, (index+1)·2^level)``."""

    __tablename__ = "log_nodes"

    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LogCheckpoint(Base):
    """A signed checkpoint (c2sp.org/tlog-checkpoint) of the log at ``size`` leaves."""

    __tablename__ = "log_checkpoints"

    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
