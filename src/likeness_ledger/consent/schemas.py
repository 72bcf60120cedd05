"""Request and response bodies of the consent and clearance API."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from likeness_ledger.consent.cases import Action, AlterationKind, Category
from likeness_ledger.consent.models import ConsentScope, Representation, RequestStatus, Signer
from likeness_ledger.consent.query import ClearanceQuery
from likeness_ledger.schemas import Output, StrictInput

#: A use key: lower-case letters, digits, dot, dash and underscore, so it can stand in a release
#: purpose (``key@production``) unambiguously.
UseKey = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z0-9][a-z0-9._-]{0,99}$")]
Description = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
MoneyText = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{1,9}(\.[0-9]{1,2})?$")]
CaseId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{1,100}$")]

MAX_BATCH = 10_000


class UseIn(StrictInput):
    """One described use."""

    key: UseKey
    description: Description


class UseOut(Output):
    """One described use."""

    key: str
    description: str


def _unique_keys(uses: list[UseIn]) -> None:
    seen: set[str] = set()
    for index, use in enumerate(uses):
        if use.key in seen:
            raise ValueError(f"uses[{index}].key: duplicate use key {use.key!r}")
        seen.add(use.key)


def _window(valid_from: date | None, expires_on: date | None) -> None:
    if valid_from is not None and expires_on is not None and expires_on < valid_from:
        raise ValueError("expires_on: must not be before valid_from")


class GrantIn(StrictInput):
    """A signed consent recorded directly (a paper consent, or one signed outside the request flow)."""

    performer_id: uuid.UUID
    scope: ConsentScope
    replica_asset_id: uuid.UUID | None = None
    production_id: uuid.UUID
    uses: Annotated[list[UseIn], Field(max_length=100)] = Field(default_factory=list)
    specific: bool
    separately_signed: bool
    signed_by: Signer | None = None
    signed_on: date
    valid_from: date | None = None
    expires_on: date | None = None
    representation: Representation = Representation.NONE

    @model_validator(mode="after")
    def _consistent(self) -> GrantIn:
        _unique_keys(self.uses)
        _window(self.valid_from, self.expires_on)
        if self.scope is ConsentScope.USE and self.replica_asset_id is None:
            raise ValueError("replica_asset_id: required for a use consent")
        if self.scope is ConsentScope.USE and not self.uses:
            raise ValueError("uses: a use consent describes at least one use")
        return self


class RevocationIn(StrictInput):
    """Withdraw a consent from a day on (default: today)."""

    effective_on: date | None = None
    reason: Note | None = None


class RevocationOut(Output):
    """A recorded revocation."""

    id: uuid.UUID
    grant_id: uuid.UUID
    effective_on: date
    reason: str | None
    revoked_by: uuid.UUID
    created_at: datetime


class GrantOut(Output):
    """A consent on file, with its revocation if any."""

    id: uuid.UUID
    performer_id: uuid.UUID
    scope: ConsentScope
    replica_asset_id: uuid.UUID | None
    production_id: uuid.UUID
    uses: list[UseOut]
    specific: bool
    specific_found_by: uuid.UUID | None
    specific_found_at: datetime | None
    separately_signed: bool
    signed_by: Signer
    signed_on: date
    valid_from: date | None
    expires_on: date | None
    representation: Representation
    document_sha256: str | None
    request_id: uuid.UUID | None
    recorded_by: uuid.UUID
    created_at: datetime
    revocation: RevocationOut | None


class RequestIn(StrictInput):
    """A producer's request for consent: a planned scan (scope creation) or a replica's use."""

    performer_id: uuid.UUID
    production_id: uuid.UUID
    scope: ConsentScope
    replica_asset_id: uuid.UUID | None = None
    uses: Annotated[list[UseIn], Field(min_length=1, max_length=100)]
    valid_from: date | None = None
    expires_on: date | None = None
    proposed_daily_pay: MoneyText | None = None
    note: Note | None = None

    @model_validator(mode="after")
    def _consistent(self) -> RequestIn:
        _unique_keys(self.uses)
        _window(self.valid_from, self.expires_on)
        if self.scope is ConsentScope.USE and self.replica_asset_id is None:
            raise ValueError("replica_asset_id: required when asking to use a replica")
        return self


class ResubmitIn(StrictInput):
    """A sent-back request, resubmitted with more specific descriptions."""

    uses: Annotated[list[UseIn], Field(min_length=1, max_length=100)]
    note: Note | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ResubmitIn:
        _unique_keys(self.uses)
        return self


class ApproveIn(StrictInput):
    """The performer's (or representative's) approval; fewer uses or a shorter term approve in part."""

    uses: list[UseKey] | None = Field(default=None, description="the use keys approved; default all asked for")
    valid_from: date | None = None
    expires_on: date | None = None
    signed_on: date | None = Field(default=None, description="default: today")
    specific: bool = Field(default=True, description="the approver's finding that the uses are described specifically")
    separately_signed: bool = True
    representation: Representation = Representation.NONE
    note: Note | None = None


class NoteIn(StrictInput):
    """A refusal, a sending back or a withdrawal, with a note."""

    note: Note | None = None


class RequestEventOut(Output):
    """One timestamped step of a request."""

    status: RequestStatus
    at: datetime
    account_id: uuid.UUID
    note: str | None


class RequestOut(Output):
    """A consent request with its steps."""

    id: uuid.UUID
    producer_id: uuid.UUID
    production_id: uuid.UUID
    performer_id: uuid.UUID
    scope: ConsentScope
    replica_asset_id: uuid.UUID | None
    uses: list[UseOut]
    valid_from: date | None
    expires_on: date | None
    proposed_daily_pay: str | None
    note: str | None
    status: RequestStatus
    grant_id: uuid.UUID | None = None
    created_at: datetime
    updated_at: datetime
    events: list[RequestEventOut]


# --- clearances ------------------------------------------------------------------------------------


class ClearanceIn(StrictInput):
    """One clearance question about records in the registry."""

    id: CaseId | None = Field(default=None, description="echoed as the report's id; default 'clearance'")
    action: Action
    performer_id: uuid.UUID
    production_id: uuid.UUID
    on: date
    role: Category
    replaces_in_person_work: bool
    asset_id: uuid.UUID | None = None
    use: UseKey | None = None
    estimated_days: Annotated[int, Field(ge=0, le=10_000)] | None = None
    alteration: AlterationKind | None = None

    def to_query(self) -> ClearanceQuery:
        """The engine's query."""
        return ClearanceQuery(
            action=self.action,
            performer_id=self.performer_id,
            production_id=self.production_id,
            on=self.on,
            role=self.role,
            replaces_in_person_work=self.replaces_in_person_work,
            asset_id=self.asset_id,
            use=self.use,
            estimated_days=self.estimated_days,
            alteration=self.alteration,
        )


class ClearanceBatchIn(StrictInput):
    """Many clearance questions at once."""

    queries: Annotated[list[ClearanceIn], Field(min_length=1, max_length=MAX_BATCH)]


class ReasonOut(Output):
    """Why a rule decided."""

    code: str
    message: str
    rule: str


class ObligationOut(Output):
    """Something an allowed request owes."""

    type: Literal["payment", "notify_union", "disclose_ai"]
    payee: str | None = None
    amount: str | None = None
    currency: str | None = None
    basis: str | None = None


class DecisionOut(Output):
    """The FORMAT.md decision report."""

    id: str
    decision: Literal["allow", "deny"]
    reasons: list[ReasonOut]
    obligations: list[ObligationOut]
    payment_total: str


class DecisionBatchOut(Output):
    """One decision report per query, in order."""

    decisions: list[DecisionOut]
