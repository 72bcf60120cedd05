"""Accounts, tokens, authentication and the visibility rules every other service applies.

Visibility is enforced here, in the service layer, never in the routers: a caller that may not see a
record gets :class:`~likeness_ledger.errors.NotFound`, exactly as if it did not exist, so ids of other
parties' records leak nothing.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from likeness_ledger.accounts.models import Account, ApiToken, Role
from likeness_ledger.db import set_actor, utcnow
from likeness_ledger.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated

TOKEN_PREFIX = "llt_"  # noqa: S105 - a public marker that makes leaked tokens greppable, not a secret


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller, as the services see it."""

    account_id: uuid.UUID
    name: str
    role: Role
    performer_id: uuid.UUID | None = None
    producer_id: uuid.UUID | None = None

    @property
    def sees_all(self) -> bool:
        """The union and admins read every registry record."""
        return self.role in (Role.UNION, Role.ADMIN)

    @property
    def acts_for_performer(self) -> bool:
        """Performers and their representatives act for exactly one performer."""
        return self.role in (Role.PERFORMER, Role.REPRESENTATIVE)

    def require(self, *roles: Role, action: str) -> None:
        """Raise Forbidden unless the caller has one of ``roles``."""
        if self.role not in roles:
            allowed = ", ".join(r.value for r in roles)
            raise Forbidden(f"{action}: role {self.role.value} may not do this (allowed: {allowed})")


def hash_token(token: str) -> str:
    """SHA-256 of a token; tokens carry 256 bits of entropy, so a slow KDF buys nothing here."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_account(
    session: Session,
    *,
    name: str,
    role: Role,
    performer_id: uuid.UUID | None = None,
    representative_id: uuid.UUID | None = None,
    producer_id: uuid.UUID | None = None,
) -> Account:
    """Create an account, checking that its link matches its role."""
    from likeness_ledger.registry.models import Performer, Producer, Representative  # noqa: PLC0415 - cycle

    name = name.strip()
    if not name or len(name) > 120:
        raise InvalidInput("name: must be 1 to 120 characters")
    if session.scalar(select(Account.id).where(Account.name == name)) is not None:
        raise Conflict(f"name: an account named {name!r} already exists")
    links = {"performer_id": performer_id, "representative_id": representative_id, "producer_id": producer_id}
    needed = {Role.PERFORMER: "performer_id", Role.REPRESENTATIVE: "representative_id", Role.PRODUCER: "producer_id"}
    want = needed.get(role)
    for field, value in links.items():
        if field != want and value is not None:
            raise InvalidInput(f"{field}: not allowed for role {role.value}")
    if want is not None and links[want] is None:
        raise InvalidInput(f"{want}: required for role {role.value}")
    if performer_id is not None and session.get(Performer, performer_id) is None:
        raise NotFound(f"performer_id: no performer {performer_id}")
    if representative_id is not None and session.get(Representative, representative_id) is None:
        raise NotFound(f"representative_id: no representative {representative_id}")
    if producer_id is not None and session.get(Producer, producer_id) is None:
        raise NotFound(f"producer_id: no producer {producer_id}")
    account = Account(name=name, role=role, **links)
    session.add(account)
    session.flush()
    return account


def issue_token(session: Session, account: Account, *, label: str = "") -> tuple[ApiToken, str]:
    """Create a token for ``account``; the plaintext is returned once and never stored."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(account_id=account.id, token_hash=hash_token(secret), prefix=secret[:12], label=label[:120])
    session.add(token)
    session.flush()
    return token, secret


def revoke_token(session: Session, principal: Principal, token_id: uuid.UUID) -> ApiToken:
    """Revoke a token: admins may revoke any, others only their own."""
    set_actor(session, principal.name)
    token = session.get(ApiToken, token_id)
    if token is None or (principal.role is not Role.ADMIN and token.account_id != principal.account_id):
        raise NotFound(f"token {token_id} not found")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    return token


def principal_for(session: Session, account: Account) -> Principal:
    """Build the principal for an account, resolving a representative to the performer it acts for."""
    from likeness_ledger.registry.models import Representative  # noqa: PLC0415 - cycle

    performer_id = account.performer_id
    if account.role is Role.REPRESENTATIVE and account.representative_id is not None:
        rep = session.get(Representative, account.representative_id)
        performer_id = rep.performer_id if rep is not None else None
    return Principal(
        account_id=account.id,
        name=account.name,
        role=account.role,
        performer_id=performer_id,
        producer_id=account.producer_id,
    )


def authenticate(session: Session, token: str | None) -> Principal:
    """Resolve a bearer token to a principal or raise Unauthenticated."""
    if not token:
        raise Unauthenticated("missing bearer token (send 'Authorization: Bearer <token>')")
    row = session.execute(
        select(ApiToken, Account)
        .join(Account, Account.id == ApiToken.account_id)
        .where(ApiToken.token_hash == hash_token(token))
    ).first()
    if row is None:
        raise Unauthenticated("invalid token")
    api_token, account = row[0], row[1]
    if api_token.revoked_at is not None:
        raise Unauthenticated("token has been revoked")
    if account.disabled_at is not None:
        raise Unauthenticated("account is disabled")
    return principal_for(session, account)


def get_account(session: Session, principal: Principal, account_id: uuid.UUID) -> Account:
    """Admins read any account; everyone else only their own."""
    account = session.get(Account, account_id)
    if account is None or (principal.role is not Role.ADMIN and account.id != principal.account_id):
        raise NotFound(f"account {account_id} not found")
    return account


def list_accounts(session: Session, principal: Principal, *, limit: int, offset: int) -> tuple[list[Account], int]:
    """Admins list every account."""
    principal.require(Role.ADMIN, action="list accounts")
    total = session.scalar(select(func.count()).select_from(Account)) or 0
    rows = session.scalars(select(Account).order_by(Account.created_at, Account.id).limit(limit).offset(offset))
    return list(rows), total


def account_by_name(session: Session, name: str) -> Account:
    """Find an account by its unique name (for the CLI's ``--as``)."""
    account = session.scalar(select(Account).where(Account.name == name))
    if account is None:
        raise NotFound(f"--as: no account named {name!r}")
    return account


def disable_account(session: Session, principal: Principal, account_id: uuid.UUID) -> Account:
    """Disable an account: its tokens stop working at once."""
    set_actor(session, principal.name)
    principal.require(Role.ADMIN, action="disable account")
    account = get_account(session, principal, account_id)
    if account.disabled_at is None:
        account.disabled_at = utcnow()
    return account
