"""Request and response bodies of the detection API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, StringConstraints

from likeness_ledger.detection.models import FindingStatus, MediaKind, Modality, ReferenceSource
from likeness_ledger.detection.notices import Capacity
from likeness_ledger.schemas import Name, Output, StrictInput

if TYPE_CHECKING:
    from likeness_ledger.detection.services import ScanResult

Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class ReferenceOut(Output):
    """An enrolled reference (the embedding itself is never returned)."""

    id: uuid.UUID
    performer_id: uuid.UUID
    modality: Modality
    model: str
    source: ReferenceSource
    asset_id: uuid.UUID | None
    source_sha256: str
    source_name: str | None
    created_at: datetime
    approved_at: datetime | None = Field(
        description="when the union approved it; until then only the performer's own scans use it"
    )
    approved_by: uuid.UUID | None


class EnrolAssetIn(StrictInput):
    """Enrol a replica asset already in the vault."""

    asset_id: uuid.UUID


class ReembedIn(StrictInput):
    """Which outdated references to enrol again: one performer's, or all the caller may see."""

    performer_id: uuid.UUID | None = None


class ReembedOutcomeOut(Output):
    """One outdated reference: re-embedded from its vault asset, waiting for a new upload, or failed."""

    reference_id: uuid.UUID
    performer_id: uuid.UUID
    status: Literal["reembedded", "needs_upload", "failed"]
    new_reference_id: uuid.UUID | None
    detail: str | None


class WithdrawOut(Output):
    """How many embeddings a withdrawal deleted."""

    performer_id: uuid.UUID
    deleted: int


class Match(Output):
    """One face or voice match: box for images, start/end (seconds) for video and audio."""

    performer: dict[str, Any]
    modality: Modality
    score: float
    box: list[int] | None = None
    start: float | None = None
    end: float | None = None


class ScanOut(Output):
    """One scanned file: the CLI's JSON shape, plus the findings it raised."""

    path: str
    media: MediaKind | None
    status: str = Field(description="cleared | unauthorized | no_match | error")
    matches: list[dict[str, Any]]
    error: str | None = None
    cleared_by: str | None = Field(default=None, description="usage_report or c2pa when cleared")
    findings: list[uuid.UUID] = Field(default_factory=list)
    staydown_of: uuid.UUID | None = Field(default=None, description="earlier finding this re-upload matches (PDQ)")

    @classmethod
    def of(cls, result: ScanResult) -> ScanOut:
        """The report of one scanned file, as a direct scan and a background job both give it."""
        return cls(
            **result.to_json(),
            cleared_by=result.cleared_by,
            findings=result.findings,
            staydown_of=result.staydown_of,
        )


class ScanAssetIn(StrictInput):
    """Scan a stored replica asset."""

    asset_id: uuid.UUID
    all_frames: bool = False


class FindingOut(Output):
    """An unauthorized use of an enrolled performer's likeness."""

    id: uuid.UUID
    performer_id: uuid.UUID
    media_sha256: str
    media: MediaKind
    location: str
    modality: Modality
    score: float
    matches: list[dict[str, Any]]
    pdq: str | None
    staydown_of: uuid.UUID | None
    status: FindingStatus
    sightings: int
    notice_sent_at: datetime | None
    removed_at: datetime | None
    counter_notice_at: datetime | None
    restore_not_before: datetime | None
    restored_at: datetime | None
    created_at: datetime
    last_seen_at: datetime


class FindingStatusIn(StrictInput):
    """Move a finding along: notice_sent, removed, counter_noticed, restored."""

    status: FindingStatus


class NoticeIn(StrictInput):
    """Who sends the takedown notice and how to reach them (fields A, D; C/G may name a URL)."""

    signer_name: Name
    capacity: Capacity = Capacity.RIGHT_HOLDER
    address: Line
    phone: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=40)]
    email: Annotated[
        str, StringConstraints(strip_whitespace=True, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)
    ]
    recipient: Line | None = None
    material_url: Line | None = None


class NoticeOut(Output):
    """A stored takedown notice."""

    id: uuid.UUID
    finding_id: uuid.UUID
    document: dict[str, Any]
    created_at: datetime


class JobOut(Output):
    """A background scan."""

    id: uuid.UUID
    status: str
    filename: str
    result: list[ScanOut] | None = Field(description="when done: one report per file, as POST /detection/scan gives")
    error: str | None
    created_at: datetime
    finished_at: datetime | None
