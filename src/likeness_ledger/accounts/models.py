"""ORM models for accounts and their API tokens."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from likeness_ledger.db import Base, UUIDPrimaryKey, utcnow


class Role(enum.Enum):
    """What a party is; visibility rules hang off this."""

    PERFORMER = "performer"
    REPRESENTATIVE = "representative"
    PRODUCER = "producer"
    UNION = "union"
    ADMIN = "admin"


class Account(UUIDPrimaryKey, Base):
    """A party that can authenticate: a performer, an estate or agent, a producer, the union, an admin.

    A performer account is tied to one performer record, a representative account to one
    representative record, a producer account to one producer company.
    """

    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("name"),)

    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role]
    performer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("performers.id"), index=True)
    representative_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("representatives.id"), index=True)
    producer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("producers.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    disabled_at: Mapped[datetime | None]

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="account")


class ApiToken(UUIDPrimaryKey, Base):
    """A bearer token; only its SHA-256 is stored, the secret is shown once at creation."""

    __tablename__ = "api_tokens"
    __log_exclude__ = frozenset({"token_hash"})  # the transparency log must not publish token hashes
    __table_args__ = (UniqueConstraint("token_hash"),)

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    prefix: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]

    account: Mapped[Account] = relationship(back_populates="tokens")
