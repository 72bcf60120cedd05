"""ORM models for vault objects and the record of every release."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from likeness_ledger.db import Base, UUIDPrimaryKey, utcnow


class VaultBlob(Base):
    """A stored ciphertext, named by the SHA-256 of its plaintext.

    A row exists only once the bytes are durably on disk; bytes without a row are garbage that
    ``likeness vault gc`` removes.
    """

    __tablename__ = "vault_blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Release(UUIDPrimaryKey, Base):
    """One decision to hand a replica's bytes to someone, with the purpose they gave."""

    __tablename__ = "releases"

    asset_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("replica_assets.id"), index=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(500))
    released_at: Mapped[datetime] = mapped_column(default=utcnow)
