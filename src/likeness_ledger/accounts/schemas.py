"""Request and response shapes of accounts and tokens."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from likeness_ledger.accounts.models import Role
from likeness_ledger.schemas import Name, Output, StrictInput


class AccountIn(StrictInput):
    """A new account; link it to the record its role acts as."""

    name: Name
    role: Role
    performer_id: uuid.UUID | None = None
    representative_id: uuid.UUID | None = None
    producer_id: uuid.UUID | None = None


class AccountOut(Output):
    """An account (never its tokens' secrets)."""

    id: uuid.UUID
    name: str
    role: Role
    performer_id: uuid.UUID | None
    representative_id: uuid.UUID | None
    producer_id: uuid.UUID | None
    created_at: datetime
    disabled_at: datetime | None


class TokenIn(StrictInput):
    """A label for a new token."""

    label: str = Field(default="", max_length=120)


class TokenOut(Output):
    """A token's public record."""

    id: uuid.UUID
    account_id: uuid.UUID
    prefix: str
    label: str
    created_at: datetime
    revoked_at: datetime | None


class NewToken(TokenOut):
    """A freshly issued token: ``token`` is shown this once only."""

    token: str
