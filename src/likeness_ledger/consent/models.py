"""ORM models of consents: grants with their described uses, revocations, and consent requests.

A grant is never edited once recorded, except that its signed document may be attached once: a
revocation is a new row in ``grant_revocations``, and a request's life is kept as a list of
timestamped steps in ``consent_request_events`` next to its current status.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from likeness_ledger.db import Base, UUIDPrimaryKey, utcnow

if TYPE_CHECKING:
    from likeness_ledger.consent.odrl import GrantTerms


class ConsentScope(enum.Enum):
    """A consent to the creation of a replica, or to its use in a production."""

    CREATION = "creation"
    USE = "use"


class Signer(enum.Enum):
    """Who signed: the performer, an authorized representative (estate, agent), or the union."""

    PERFORMER = "performer"
    AUTHORIZED_REPRESENTATIVE = "authorized_representative"
    UNION = "union"


class Representation(enum.Enum):
    """Who negotiated the consent for the performer (AB 2602-type laws look at this)."""

    UNION = "union"
    COUNSEL = "counsel"
    NONE = "none"


class RequestStatus(enum.Enum):
    """Where a consent request stands."""

    PENDING = "pending"
    APPROVED = "approved"
    PARTIALLY_APPROVED = "partially_approved"
    REFUSED = "refused"
    SENT_BACK = "sent_back"
    WITHDRAWN = "withdrawn"


class ConsentGrant(UUIDPrimaryKey, Base):
    """A signed consent on file: to create a replica of a performer, or to use one in a production."""

    __tablename__ = "consent_grants"
    __table_args__ = (
        CheckConstraint(
            "expires_on IS NULL OR valid_from IS NULL OR expires_on >= valid_from", name="expiry_after_start"
        ),
        CheckConstraint("scope = 'creation' OR replica_asset_id IS NOT NULL", name="use_names_replica"),
    )

    performer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("performers.id"), index=True)
    scope: Mapped[ConsentScope]
    #: The replica the consent is about; absent for a creation consent given before the scan.
    replica_asset_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("replica_assets.id"), index=True)
    production_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("productions.id"), index=True)
    #: The reviewer's finding that the uses are described reasonably specifically, and who made it when.
    specific: Mapped[bool]
    specific_found_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id"))
    specific_found_at: Mapped[datetime | None]
    separately_signed: Mapped[bool]
    signed_by: Mapped[Signer]
    signed_on: Mapped[date]
    valid_from: Mapped[date | None]
    expires_on: Mapped[date | None]
    representation: Mapped[Representation]
    #: SHA-256 of the signed document, stored encrypted in the vault.
    document_sha256: Mapped[str | None] = mapped_column(ForeignKey("vault_blobs.sha256"))
    request_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("consent_requests.id"), index=True)
    recorded_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    uses: Mapped[list[GrantUse]] = relationship(
        order_by="GrantUse.position", lazy="selectin", cascade="all, delete-orphan"
    )
    revocation: Mapped[GrantRevocation | None] = relationship(lazy="selectin", viewonly=True)

    def to_terms(self, *, producer_id: uuid.UUID, per_day: Decimal | None = None) -> GrantTerms:
        """The grant as the database-free terms the ODRL mapping reads and writes.

        ``producer_id`` is the producer of the grant's production (who may act on it);
        ``per_day`` the pay agreed per day, when the grant states one.
        """
        from likeness_ledger.consent.odrl import Compensation, GrantTerms  # noqa: PLC0415 - keep the ORM light

        return GrantTerms(
            id=str(self.id),
            performer_id=str(self.performer_id),
            producer_id=str(producer_id),
            replica_id=str(self.replica_asset_id) if self.replica_asset_id is not None else None,
            production_id=str(self.production_id),
            scope=self.scope.value,
            uses=tuple((u.key, u.description) for u in self.uses),
            specific=self.specific,
            separately_signed=self.separately_signed,
            signed_by=self.signed_by.value,
            signed_on=self.signed_on,
            representation=self.representation.value,
            reviewer=str(self.specific_found_by) if self.specific_found_by is not None else None,
            reviewed_at=self.specific_found_at,
            valid_from=self.valid_from,
            expires_on=self.expires_on,
            document_sha256=self.document_sha256,
            compensation=Compensation(per_day=per_day) if per_day is not None else None,
        )


class GrantUse(UUIDPrimaryKey, Base):
    """One described use of a grant: the key requests name, and its description."""

    __tablename__ = "consent_grant_uses"
    __table_args__ = (UniqueConstraint("grant_id", "key"),)

    grant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("consent_grants.id"), index=True)
    position: Mapped[int]
    key: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text)


class GrantRevocation(UUIDPrimaryKey, Base):
    """The withdrawal of a grant, effective from a day on; a grant is revoked at most once."""

    __tablename__ = "grant_revocations"
    __table_args__ = (UniqueConstraint("grant_id"),)

    grant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("consent_grants.id"))
    effective_on: Mapped[date]
    reason: Mapped[str | None] = mapped_column(Text)
    revoked_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConsentRequest(UUIDPrimaryKey, Base):
    """A producer's request for consent: to scan a performer, or to use a replica, in a production."""

    __tablename__ = "consent_requests"
    __table_args__ = (
        CheckConstraint(
            "expires_on IS NULL OR valid_from IS NULL OR expires_on >= valid_from", name="expiry_after_start"
        ),
        CheckConstraint("scope = 'creation' OR replica_asset_id IS NOT NULL", name="use_names_replica"),
    )

    producer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("producers.id"), index=True)
    production_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("productions.id"), index=True)
    performer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("performers.id"), index=True)
    scope: Mapped[ConsentScope]
    #: The replica to be used; absent when the request is for a planned scan.
    replica_asset_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("replica_assets.id"))
    valid_from: Mapped[date | None]
    expires_on: Mapped[date | None]
    #: Proposed pay per day worked by the replica, a decimal string in USD (money is never a float).
    proposed_daily_pay: Mapped[str | None] = mapped_column(String(24))
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[RequestStatus] = mapped_column(default=RequestStatus.PENDING)
    requested_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    uses: Mapped[list[RequestUse]] = relationship(
        order_by="RequestUse.position", lazy="selectin", cascade="all, delete-orphan"
    )
    events: Mapped[list[RequestEvent]] = relationship(
        order_by="RequestEvent.at", lazy="selectin", cascade="all, delete-orphan"
    )
    #: The grant an approval created.
    grant: Mapped[ConsentGrant | None] = relationship(
        primaryjoin="ConsentGrant.request_id == ConsentRequest.id", lazy="selectin", viewonly=True
    )

    @property
    def grant_id(self) -> uuid.UUID | None:
        """The id of the grant an approval created, if any."""
        return self.grant.id if self.grant is not None else None


class RequestUse(UUIDPrimaryKey, Base):
    """One use a request asks for."""

    __tablename__ = "consent_request_uses"
    __table_args__ = (UniqueConstraint("request_id", "key"),)

    request_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("consent_requests.id"), index=True)
    position: Mapped[int]
    key: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text)


class RequestEvent(UUIDPrimaryKey, Base):
    """One timestamped step of a request: asked, approved, approved in part, refused, sent back..."""

    __tablename__ = "consent_request_events"

    request_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("consent_requests.id"), index=True)
    status: Mapped[RequestStatus]
    at: Mapped[datetime] = mapped_column(default=utcnow)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"))
    note: Mapped[str | None] = mapped_column(Text)
