"""ORM models of usage reports, obligations, payments and their allocations.

Money is stored as whole cents in a BIGINT (:class:`Cents`) and read back as a two-place
:class:`~decimal.Decimal`: SQLite has no exact decimal type (its NUMERIC is a binary float), and
integer cents sum exactly on both databases.

Obligations are a ledger: a usage or scan-only obligation is a *root*; union adjustments and
the reversal written when a report is superseded are further rows pointing at the root
(``root_id``). A root's amount owed is the sum of its group. Payments are allocated to roots
(``payment_allocations``); what a payment has not allocated is the producer's credit with that
performer.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Final

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Dialect,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from likeness_ledger.db import Base, UUIDPrimaryKey, utcnow

CENT: Final = Decimal("0.01")
CURRENCY: Final = "USD"


class Cents(TypeDecorator[Decimal]):
    """A money amount kept as integer cents; refuses anything finer than a cent."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        """Decimal dollars to integer cents, exactly."""
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"money must be a Decimal, got {type(value).__name__}")
        if value != value.quantize(CENT):
            raise ValueError(f"money must be whole cents, got {value}")
        return int(value.scaleb(2))

    def process_result_value(self, value: object, dialect: Dialect) -> Decimal | None:
        """Integer cents (or a database's exact sum of them) back to two-place dollars."""
        if value is None:
            return None
        if isinstance(value, int):
            # An integer's exponent is 0, so scaleb(-2) alone gives exactly two places.
            return Decimal(value).scaleb(-2)
        if not isinstance(value, Decimal):
            raise TypeError(f"unexpected money value from the database: {type(value).__name__}")
        return value.scaleb(-2).quantize(CENT)


class ReportStatus(enum.Enum):
    """The outcome of clearing a usage report."""

    CLEARED = "cleared"
    VIOLATION = "violation"


class ObligationKind(enum.Enum):
    """Why an obligation row exists."""

    USAGE = "usage"
    SCAN_ONLY_CALL = "scan_only_call"
    ADJUSTMENT = "adjustment"
    REVERSAL = "reversal"


class UsageReport(UUIDPrimaryKey, Base):
    """One use of a performer's replica, as its producer reported it, and how it cleared."""

    __tablename__ = "usage_reports"
    __table_args__ = (
        UniqueConstraint("fingerprint"),
        UniqueConstraint("supersedes_id"),
        CheckConstraint("used_until >= used_from", name="dates_in_order"),
        CheckConstraint("estimated_days >= 0", name="days_not_negative"),
    )

    production_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("productions.id"), index=True)
    # The producer of the production, kept here so "what a producer may see" is one column test.
    producer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("producers.id"), index=True)
    performer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("performers.id"), index=True)
    asset_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("replica_assets.id"), index=True)
    use_key: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    medium: Mapped[str] = mapped_column(String(64))
    used_from: Mapped[date]
    used_until: Mapped[date]
    estimated_days: Mapped[int]
    estimated_by: Mapped[str] = mapped_column(String(200))
    replaces_in_person_work: Mapped[bool]
    #: SHA-256 of the report's canonical content: the same report sent twice is stored once.
    fingerprint: Mapped[str] = mapped_column(String(64))
    supersedes_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("usage_reports.id"))
    status: Mapped[ReportStatus]
    #: The engine's reasons as JSON: a list of {code, message, rule}.
    reasons: Mapped[str] = mapped_column(Text)
    reported_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class UsageOutput(UUIDPrimaryKey, Base):
    """The SHA-256 of one output file a usage report covers; detection looks media up here."""

    __tablename__ = "usage_outputs"
    __table_args__ = (UniqueConstraint("report_id", "sha256"),)

    report_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("usage_reports.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)


class Obligation(UUIDPrimaryKey, Base):
    """One line of what a producer owes a performer, with its basis and the rate it used."""

    __tablename__ = "obligations"
    __table_args__ = (
        UniqueConstraint("scan_session_id"),
        Index("ix_obligations_performer_incurred", "performer_id", "incurred_on"),
        Index("ix_obligations_incurred_on", "incurred_on"),
    )

    #: The root obligation this row belongs to; a root points at itself.
    root_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("obligations.id"), index=True)
    kind: Mapped[ObligationKind]
    performer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("performers.id"))
    producer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("producers.id"), index=True)
    production_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("productions.id"), index=True)
    usage_report_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("usage_reports.id"), index=True)
    scan_session_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("scan_sessions.id"))
    amount: Mapped[Decimal] = mapped_column(Cents())
    currency: Mapped[str] = mapped_column(String(3), default=CURRENCY)
    #: The arithmetic in words, e.g. "3 days x background day scale 231.00".
    basis: Mapped[str] = mapped_column(Text)
    #: Why a union adjustment or a reversal was made.
    reason: Mapped[str | None] = mapped_column(Text)
    incurred_on: Mapped[date]
    recorded_on: Mapped[date]
    #: No trusted rate was known: the amount waits for the union to set it by adjustment.
    pending_rate: Mapped[bool] = mapped_column(default=False)
    #: Residuals are owed on top, as if the performer had worked in person (RULES.md §1.1 [V]).
    residuals_due: Mapped[bool] = mapped_column(default=False)
    rate_agreement: Mapped[str | None] = mapped_column(String(64))
    rate_category: Mapped[str | None] = mapped_column(String(32))
    rate_per: Mapped[str | None] = mapped_column(String(8))
    rate_effective: Mapped[date | None]
    rate_amount: Mapped[Decimal | None] = mapped_column(Cents())
    rate_source: Mapped[str | None] = mapped_column(Text)
    rate_confidence: Mapped[str | None] = mapped_column(String(8))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Payment(UUIDPrimaryKey, Base):
    """Money a producer paid a performer, optionally against one obligation."""

    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("producer_id", "reference"),
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_payments_performer_paid", "performer_id", "paid_on"),
        Index("ix_payments_paid_on", "paid_on"),
    )

    producer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("producers.id"), index=True)
    performer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("performers.id"))
    obligation_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("obligations.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Cents())
    currency: Mapped[str] = mapped_column(String(3), default=CURRENCY)
    paid_on: Mapped[date]
    #: The producer's own reference (cheque, transfer id); unique per producer, so a retry is caught.
    reference: Mapped[str | None] = mapped_column(String(200))
    recorded_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PaymentAllocation(UUIDPrimaryKey, Base):
    """Part of a payment applied to a root obligation; negative when a reversal frees it again."""

    __tablename__ = "payment_allocations"

    payment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payments.id"), index=True)
    obligation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("obligations.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Cents())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
