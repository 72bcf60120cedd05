"""ORM models of detection: enrolled references, findings, takedown notices and scan jobs."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from likeness_ledger.db import Base, UUIDPrimaryKey, utcnow


class Modality(enum.Enum):
    """What a reference or a match is of."""

    FACE = "face"
    VOICE = "voice"


class ReferenceSource(enum.Enum):
    """Where a reference embedding came from."""

    ASSET = "asset"  # a replica asset in the vault
    UPLOAD = "upload"  # reference media sent for enrolment (not kept: only its digest and name)


class MediaKind(enum.Enum):
    """The kind of a scanned file."""

    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"


class FindingStatus(enum.Enum):
    """Takedown life cycle of an unauthorized use.

    open -> notice_sent -> removed -> counter_noticed -> restored (or removed again); a counter-notice
    starts a 14-day clock before the platform may restore (RULES.md 3.6).
    """

    OPEN = "open"
    NOTICE_SENT = "notice_sent"
    REMOVED = "removed"
    COUNTER_NOTICED = "counter_noticed"
    RESTORED = "restored"


class JobStatus(enum.Enum):
    """State of a background scan."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Reference(UUIDPrimaryKey, Base):
    """One enrolled embedding of a performer, linked to the media it was computed from."""

    __tablename__ = "detection_references"
    # Embeddings are biometric data: the transparency log records that a reference changed, never the vector.
    __log_exclude__ = frozenset({"embedding"})
    __table_args__ = (UniqueConstraint("performer_id", "modality", "source_sha256", "model"),)

    performer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("performers.id"), index=True)
    modality: Mapped[Modality]
    model: Mapped[str] = mapped_column(String(64))
    embedding: Mapped[bytes] = mapped_column(LargeBinary)
    source: Mapped[ReferenceSource]
    asset_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("replica_assets.id"), index=True)
    source_sha256: Mapped[str] = mapped_column(String(64))
    source_name: Mapped[str | None] = mapped_column(String(300))
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A performer's own upload waits for the union before others' scans use it (anyone could
    # otherwise enrol a stranger's face as their own); None while it waits.
    approved_at: Mapped[datetime | None]
    approved_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id"))


class Finding(UUIDPrimaryKey, Base):
    """An enrolled performer found in media no consent covers: the start of a takedown."""

    __tablename__ = "detection_findings"
    __table_args__ = (UniqueConstraint("performer_id", "media_sha256"),)

    performer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("performers.id"), index=True)
    media_sha256: Mapped[str] = mapped_column(String(64), index=True)
    media: Mapped[MediaKind]
    location: Mapped[str] = mapped_column(Text)
    modality: Mapped[Modality]
    score: Mapped[float] = mapped_column(Float)
    matches: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    pdq: Mapped[str | None] = mapped_column(String(64), index=True)
    staydown_of: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("detection_findings.id"))
    reported_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    status: Mapped[FindingStatus] = mapped_column(default=FindingStatus.OPEN)
    sightings: Mapped[int] = mapped_column(Integer, default=1)
    notice_sent_at: Mapped[datetime | None]
    removed_at: Mapped[datetime | None]
    counter_notice_at: Mapped[datetime | None]
    restore_not_before: Mapped[datetime | None]
    restored_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class Notice(UUIDPrimaryKey, Base):
    """A takedown notice drafted from a finding, kept exactly as issued (JSON)."""

    __tablename__ = "detection_notices"

    finding_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("detection_findings.id"), index=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ScanJob(UUIDPrimaryKey, Base):
    """A scan run in the background (large uploads); the result is the same list the CLI prints."""

    __tablename__ = "detection_jobs"
    # Operational bookkeeping (spool paths, polling state), not a record of rights: kept out of the log.
    __log_skip__ = True

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"), index=True)
    status: Mapped[JobStatus] = mapped_column(default=JobStatus.QUEUED)
    filename: Mapped[str] = mapped_column(String(300))
    spool_path: Mapped[str | None] = mapped_column(Text)
    result: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
