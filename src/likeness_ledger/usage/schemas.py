"""Request and response shapes of usage reports, obligations, payments and balances.

Money travels as a decimal string with at most two places ("208.00"); a JSON number is refused,
so no binary fraction ever touches an amount.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, PlainSerializer, StringConstraints, model_validator

from likeness_ledger.schemas import Name, Output, StrictInput
from likeness_ledger.usage.models import CENT, ObligationKind, ReportStatus

Sha256Hex = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[0-9a-f]{64}$")]
Key = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Medium = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Role = Literal["background", "principal"]


def parse_money(value: Any) -> Decimal:
    """Accept a decimal string (or a Decimal from Python callers) with at most two places."""
    if isinstance(value, bool) or not isinstance(value, str | Decimal):
        raise ValueError("expected a decimal string like '208.00' (numbers are refused: money is never a float)")  # noqa: TRY004 - pydantic reports only ValueError as a field error
    try:
        amount = Decimal(value.strip()) if isinstance(value, str) else value
    except InvalidOperation:
        raise ValueError(f"invalid amount {value!r}") from None
    if not amount.is_finite():
        raise ValueError(f"invalid amount {value!r}")
    if amount != amount.quantize(CENT):
        raise ValueError(f"amount {value!r} has more than two decimal places")
    if abs(amount) >= Decimal("1e12"):
        raise ValueError(f"amount {value!r} is too large")
    return amount.quantize(CENT)


def money_text(value: Decimal) -> str:
    """Two-place string form of an amount."""
    return f"{value.quantize(CENT):.2f}"


#: An amount in a request: a string, parsed to Decimal, written back as a two-place string.
MoneyIn = Annotated[Decimal, BeforeValidator(parse_money), PlainSerializer(money_text, return_type=str)]
#: An amount in a response.
MoneyOut = Annotated[Decimal, PlainSerializer(money_text, return_type=str)]


class UsageReportIn(StrictInput):
    """One use of a performer's replica, reported by the production's producer."""

    production_id: uuid.UUID
    performer_id: uuid.UUID
    asset_id: uuid.UUID | None = Field(default=None, description="the replica asset used, if it is on file")
    use: Key = Field(description="the use key, as consents describe uses (e.g. 'crowd-scenes')")
    role: Role = Field(description="category of the part the replica plays")
    medium: Medium = Field(description="where the output appears, e.g. 'theatrical', 'streaming'")
    used_from: date
    used_until: date
    estimated_days: Annotated[int, Field(ge=0, le=3650)] = Field(
        description="the producer's good-faith estimate of the days the performer would have worked"
    )
    estimated_by: Name = Field(description="who made the estimate")
    replaces_in_person_work: bool = True
    outputs: Annotated[list[Sha256Hex], Field(max_length=10_000)] = Field(
        default_factory=list, description="SHA-256 of each output file the use produced"
    )
    supersedes: uuid.UUID | None = Field(default=None, description="the earlier report this one amends")

    @model_validator(mode="after")
    def _dates(self) -> UsageReportIn:
        if self.used_until < self.used_from:
            raise ValueError("used_until: must not be before used_from")
        return self


class ReasonOut(Output):
    """One reason the rules engine gave."""

    code: str
    message: str
    rule: str


class UsageReportOut(Output):
    """A stored usage report and the outcome of its clearance."""

    id: uuid.UUID
    production_id: uuid.UUID
    producer_id: uuid.UUID
    performer_id: uuid.UUID
    asset_id: uuid.UUID | None
    use: str
    role: str
    medium: str
    used_from: date
    used_until: date
    estimated_days: int
    estimated_by: str
    replaces_in_person_work: bool
    outputs: list[str]
    supersedes: uuid.UUID | None
    superseded_by: uuid.UUID | None
    status: ReportStatus
    reasons: list[ReasonOut]
    obligation_id: uuid.UUID | None
    reported_by: str
    created_at: datetime


class AdjustmentIn(StrictInput):
    """A union adjustment: to one obligation (``obligation_id``), or a new line for a performer."""

    obligation_id: uuid.UUID | None = None
    performer_id: uuid.UUID | None = None
    production_id: uuid.UUID | None = None
    amount: MoneyIn = Field(description="signed amount, e.g. '150.00' or '-20.00'")
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
    incurred_on: date | None = None

    @model_validator(mode="after")
    def _target(self) -> AdjustmentIn:
        if self.obligation_id is None and (self.performer_id is None or self.production_id is None):
            raise ValueError("obligation_id: required unless performer_id and production_id are given")
        if self.obligation_id is not None and (self.performer_id is not None or self.production_id is not None):
            raise ValueError("obligation_id: give either obligation_id or performer_id and production_id")
        if self.amount == 0:
            raise ValueError("amount: must not be zero")
        return self


class ObligationOut(Output):
    """One obligation line; for a root line, what has been paid and what is outstanding."""

    id: uuid.UUID
    root_id: uuid.UUID
    kind: ObligationKind
    performer_id: uuid.UUID
    producer_id: uuid.UUID
    production_id: uuid.UUID
    usage_report_id: uuid.UUID | None
    scan_session_id: uuid.UUID | None
    amount: MoneyOut
    currency: str
    basis: str
    reason: str | None
    incurred_on: date
    recorded_on: date
    pending_rate: bool
    residuals_due: bool
    rate_agreement: str | None
    rate_category: str | None
    rate_per: str | None
    rate_effective: date | None
    rate_amount: MoneyOut | None
    rate_source: str | None
    rate_confidence: str | None
    created_by: str
    #: Filled for root lines only: the group's total after adjustments, what is paid, what is left.
    net: MoneyOut | None = None
    paid: MoneyOut | None = None
    outstanding: MoneyOut | None = None
    due_on: date | None = None
    overdue: bool = False


class PaymentIn(StrictInput):
    """A payment by a producer: against one obligation, or to a performer on account."""

    obligation_id: uuid.UUID | None = None
    performer_id: uuid.UUID | None = None
    producer_id: uuid.UUID | None = Field(default=None, description="for union/admin entries without obligation_id")
    amount: MoneyIn
    paid_on: date
    reference: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = None

    @model_validator(mode="after")
    def _target(self) -> PaymentIn:
        if self.obligation_id is None and self.performer_id is None:
            raise ValueError("obligation_id: required unless performer_id is given")
        if self.amount <= 0:
            raise ValueError("amount: must be more than zero")
        return self


class PaymentOut(Output):
    """A recorded payment and how much of it is applied to obligations."""

    id: uuid.UUID
    producer_id: uuid.UUID
    performer_id: uuid.UUID
    obligation_id: uuid.UUID | None
    amount: MoneyOut
    currency: str
    paid_on: date
    reference: str | None
    recorded_by: str
    applied: MoneyOut
    credit: MoneyOut
    created_at: datetime


class BalanceOut(Output):
    """Money owed and paid for one performer, production or producer.

    ``balance`` = ``obligations`` - ``paid``; negative means the producer holds credit. For a
    production, ``paid`` counts what was applied to its obligations (credit has no production).
    """

    group: Literal["performer", "production", "producer"]
    id: uuid.UUID
    obligations: MoneyOut
    paid: MoneyOut
    balance: MoneyOut
    outstanding: MoneyOut
    credit: MoneyOut
    overdue: MoneyOut
    pending_rate_lines: int


class StatementLineOut(Output):
    """One statement line; payments are negative."""

    on: date
    kind: str
    reference: str
    production: str
    producer: str
    description: str
    amount: MoneyOut
    residuals_due: bool
    pending_rate: bool


class ViolationOut(Output):
    """An uncleared use reported in the period."""

    on: date
    report_id: uuid.UUID
    production: str
    use: str
    codes: str


class MonthOut(Output):
    """Earnings of one month, for the chart."""

    month: str
    earned: MoneyOut


class StatementOut(Output):
    """A statement: ``closing`` = ``opening`` + ``earned`` - ``paid``, to the cent."""

    subject: Literal["performer", "production"]
    subject_id: uuid.UUID
    subject_name: str
    period: str
    start: date
    end: date
    opening: MoneyOut
    earned: MoneyOut
    paid: MoneyOut
    closing: MoneyOut
    lines: list[StatementLineOut]
    violations: list[ViolationOut]
    monthly: list[MonthOut]
