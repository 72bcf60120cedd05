"""ORM models of the registry."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from likeness_ledger.db import Base, UUIDPrimaryKey, utcnow


class PerformerCategory(enum.Enum):
    """Background actors and principal performers are paid on different scales."""

    BACKGROUND = "background"
    PRINCIPAL = "principal"


class RepresentativeKind(enum.Enum):
    """Who may act for a performer: an estate after death, an agent, or counsel."""

    ESTATE = "estate"
    AGENT = "agent"
    COUNSEL = "counsel"


class ProductionType(enum.Enum):
    """The kind of production, which decides the agreement that usually applies."""

    THEATRICAL = "theatrical"
    TELEVISION = "television"
    COMMERCIAL = "commercial"
    VIDEO_GAME = "video_game"


class ScanStatus(enum.Enum):
    """Life cycle of a scan session."""

    SCHEDULED = "scheduled"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class ReplicaKind(enum.Enum):
    """Employment-based (made during a job) or independently created replicas."""

    EMPLOYMENT_BASED = "employment_based"
    INDEPENDENTLY_CREATED = "independently_created"


class ReplicaMedia(enum.Enum):
    """What a replica asset captures."""

    FACE = "face"
    BODY = "body"
    VOICE = "voice"


class Performer(UUIDPrimaryKey, Base):
    """A person whose likeness is protected; the dead remain in the registry with a date of death."""

    __tablename__ = "performers"
    __table_args__ = (
        UniqueConstraint("union_member_id"),
        CheckConstraint("died_on IS NULL OR born_on IS NULL OR died_on >= born_on", name="death_after_birth"),
    )

    legal_name: Mapped[str] = mapped_column(String(200))
    professional_name: Mapped[str | None] = mapped_column(String(200))
    category: Mapped[PerformerCategory]
    born_on: Mapped[date | None]
    died_on: Mapped[date | None]
    union_member_id: Mapped[str | None] = mapped_column(String(64))
    domicile: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Representative(UUIDPrimaryKey, Base):
    """A party with authority to act for a performer, with the document that grants it."""

    __tablename__ = "representatives"

    performer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("performers.id"), index=True)
    kind: Mapped[RepresentativeKind]
    name: Mapped[str] = mapped_column(String(200))
    authority_document_sha256: Mapped[str | None] = mapped_column(ForeignKey("vault_blobs.sha256"))
    valid_from: Mapped[date | None]
    valid_until: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Producer(UUIDPrimaryKey, Base):
    """A company that makes productions: studio, game developer, ad agency."""

    __tablename__ = "producers"
    __table_args__ = (UniqueConstraint("name"),)

    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Production(UUIDPrimaryKey, Base):
    """A film, series, commercial or game, with the agreement and jurisdiction it is made under."""

    __tablename__ = "productions"
    __table_args__ = (
        CheckConstraint("end_on IS NULL OR start_on IS NULL OR end_on >= start_on", name="end_after_start"),
    )

    producer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("producers.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    type: Mapped[ProductionType]
    agreement: Mapped[str | None] = mapped_column(String(64))
    jurisdiction: Mapped[str | None] = mapped_column(String(16))
    start_on: Mapped[date | None]
    end_on: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ScanSession(UUIDPrimaryKey, Base):
    """A booked capture of a performer's face, body or voice for a production."""

    __tablename__ = "scan_sessions"

    production_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("productions.id"), index=True)
    performer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("performers.id"), index=True)
    engaged_at: Mapped[datetime | None]
    notice_sent_at: Mapped[datetime | None]
    scheduled_at: Mapped[datetime]
    scan_only_call: Mapped[bool] = mapped_column(default=False)
    operator: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[ScanStatus] = mapped_column(default=ScanStatus.SCHEDULED)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReplicaAsset(UUIDPrimaryKey, Base):
    """One stored file of a digital replica; the bytes live encrypted in the vault."""

    __tablename__ = "replica_assets"

    performer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("performers.id"), index=True)
    kind: Mapped[ReplicaKind]
    media: Mapped[ReplicaMedia]
    scan_session_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("scan_sessions.id"), index=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("vault_blobs.sha256"), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    uploaded_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
