"""Request and response shapes of the registry."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import Field, StringConstraints, field_validator, model_validator

from likeness_ledger.registry.models import (
    PerformerCategory,
    ProductionType,
    ReplicaKind,
    ReplicaMedia,
    RepresentativeKind,
    ScanStatus,
)
from likeness_ledger.schemas import Name, Output, ShortCode, StrictInput

Jurisdiction = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")]


class PerformerIn(StrictInput):
    """A new performer."""

    legal_name: Name
    professional_name: Name | None = None
    category: PerformerCategory
    born_on: date | None = None
    died_on: date | None = None
    union_member_id: ShortCode | None = None
    domicile: Jurisdiction | None = None

    @model_validator(mode="after")
    def _dates(self) -> PerformerIn:
        if self.born_on and self.died_on and self.died_on < self.born_on:
            raise ValueError("died_on: must not be before born_on")
        return self


class PerformerUpdate(StrictInput):
    """Fields of a performer that may change after registration (a death, a new stage name, a legal name).

    A performer registered by ``likeness enroll --create`` carries its union member id as legal name
    until the real one is set here.
    """

    legal_name: Name | None = None
    professional_name: Name | None = None
    died_on: date | None = None
    domicile: Jurisdiction | None = None
    category: PerformerCategory | None = None

    @field_validator("legal_name")
    @classmethod
    def _kept(cls, value: str | None) -> str:
        # Runs only for a value that was sent: a legal name can be changed, never removed.
        if value is None:
            raise ValueError("a performer always has a legal name; send the new one")
        return value


class PerformerOut(Output):
    """A performer as returned to callers who may see them."""

    id: uuid.UUID
    legal_name: str
    professional_name: str | None
    category: PerformerCategory
    born_on: date | None
    died_on: date | None
    union_member_id: str | None
    domicile: str | None
    created_at: datetime


class RepresentativeIn(StrictInput):
    """A new representative; the authority document is uploaded separately."""

    performer_id: uuid.UUID
    kind: RepresentativeKind
    name: Name
    valid_from: date | None = None
    valid_until: date | None = None

    @model_validator(mode="after")
    def _dates(self) -> RepresentativeIn:
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise ValueError("valid_until: must not be before valid_from")
        return self


class RepresentativeOut(Output):
    """A representative and the digest of its authority document, if one is on file."""

    id: uuid.UUID
    performer_id: uuid.UUID
    kind: RepresentativeKind
    name: str
    authority_document_sha256: str | None
    valid_from: date | None
    valid_until: date | None
    created_at: datetime


class ProducerIn(StrictInput):
    """A new producer company."""

    name: Name


class ProducerOut(Output):
    """A producer company."""

    id: uuid.UUID
    name: str
    created_at: datetime


class ProductionIn(StrictInput):
    """A new production; producers may omit ``producer_id`` (their own is used)."""

    producer_id: uuid.UUID | None = None
    title: Name
    type: ProductionType
    agreement: ShortCode | None = None
    jurisdiction: Jurisdiction | None = None
    start_on: date | None = None
    end_on: date | None = None

    @model_validator(mode="after")
    def _dates(self) -> ProductionIn:
        if self.start_on and self.end_on and self.end_on < self.start_on:
            raise ValueError("end_on: must not be before start_on")
        return self


class ProductionOut(Output):
    """A production."""

    id: uuid.UUID
    producer_id: uuid.UUID
    title: str
    type: ProductionType
    agreement: str | None
    jurisdiction: str | None
    start_on: date | None
    end_on: date | None
    created_at: datetime


class ScanSessionIn(StrictInput):
    """A scan to be scheduled for a performer on a production."""

    production_id: uuid.UUID
    performer_id: uuid.UUID
    engaged_at: datetime | None = None
    notice_sent_at: datetime | None = None
    scheduled_at: datetime
    scan_only_call: bool = False
    operator: Name | None = None

    @model_validator(mode="after")
    def _aware(self) -> ScanSessionIn:
        for field in ("engaged_at", "notice_sent_at", "scheduled_at"):
            value = getattr(self, field)
            if value is not None and value.tzinfo is None:
                raise ValueError(f"{field}: must include a time zone offset, e.g. 2025-06-01T09:00:00Z")
        return self


class ScanSessionStatusIn(StrictInput):
    """A change of a scan session's status."""

    status: ScanStatus


class ScanSessionOut(Output):
    """A scan session."""

    id: uuid.UUID
    production_id: uuid.UUID
    performer_id: uuid.UUID
    engaged_at: datetime | None
    notice_sent_at: datetime | None
    scheduled_at: datetime
    scan_only_call: bool
    operator: str | None
    status: ScanStatus
    created_at: datetime


class AssetMeta(StrictInput):
    """What describes an uploaded replica file (sent as query parameters next to the raw body)."""

    performer_id: uuid.UUID
    kind: ReplicaKind
    media: ReplicaMedia
    scan_session_id: uuid.UUID | None = None
    filename: Annotated[str, StringConstraints(max_length=300)] | None = None
    description: Annotated[str, StringConstraints(max_length=2000)] | None = None
    content_type: Annotated[str, StringConstraints(min_length=1, max_length=200)] = "application/octet-stream"
    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")] | None = None
    size: Annotated[int, Field(ge=0)] | None = None


class AssetOut(Output):
    """A replica asset's record (never its bytes)."""

    id: uuid.UUID
    performer_id: uuid.UUID
    kind: ReplicaKind
    media: ReplicaMedia
    scan_session_id: uuid.UUID | None
    sha256: str
    size: int
    content_type: str
    filename: str | None
    description: str | None
    created_at: datetime


class ReleaseOut(Output):
    """One recorded release of a replica's bytes."""

    id: uuid.UUID
    asset_id: uuid.UUID
    account_id: uuid.UUID
    purpose: str
    released_at: datetime
