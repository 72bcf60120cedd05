"""Who may receive a replica's bytes: release policies as small objects that combine and raise.

A policy's ``check`` returns nothing when the release may go ahead and raises
:class:`ReleaseDenied` with the reason otherwise. ``AnyOf`` and ``AllOf`` combine policies; an empty
composition denies, so the default is always deny.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from sqlalchemy.orm import Session

from likeness_ledger.accounts.models import Role
from likeness_ledger.accounts.services import Principal
from likeness_ledger.errors import Forbidden


class ReleaseDenied(Forbidden):
    """The vault refused to hand over a replica's bytes; the message says why."""


@dataclass(frozen=True, slots=True)
class ReleaseRequest:
    """A request for a replica's bytes."""

    principal: Principal
    asset_id: uuid.UUID
    performer_id: uuid.UUID
    purpose: str
    #: The day the bytes would be used from, and the transaction deciding: what consent-based
    #: policies need to ask the clearance engine.
    on: date | None = None
    session: Session | None = None


class ReleasePolicy(Protocol):
    """Anything with ``check(request)`` that raises ReleaseDenied to refuse."""

    def check(self, request: ReleaseRequest) -> None:
        """Return if the release is allowed; raise ReleaseDenied otherwise."""


class PerformerOrRepresentative:
    """The performer the replica depicts, or someone acting for them, may have it."""

    def check(self, request: ReleaseRequest) -> None:
        """Allow the depicted performer and their representatives."""
        p = request.principal
        if not (p.acts_for_performer and p.performer_id == request.performer_id):
            raise ReleaseDenied("release: the caller is not the depicted performer or their representative")


class UnionAccess:
    """The union may retrieve any member's replica (audits, disputes)."""

    def check(self, request: ReleaseRequest) -> None:
        """Allow the union role."""
        if request.principal.role is not Role.UNION:
            raise ReleaseDenied("release: the caller is not the union")


class AnyOf:
    """Allow when at least one child policy allows; deny with every child's reason otherwise."""

    def __init__(self, policies: Sequence[ReleasePolicy]) -> None:
        self._policies = list(policies)

    def check(self, request: ReleaseRequest) -> None:
        """Try each policy in turn."""
        reasons: list[str] = []
        for policy in self._policies:
            try:
                policy.check(request)
            except ReleaseDenied as exc:
                reasons.append(exc.message)
            else:
                return
        if not reasons:
            raise ReleaseDenied("release: no policy configured (default deny)")
        raise ReleaseDenied("release denied: " + "; ".join(reasons), errors=reasons)


class AllOf:
    """Allow only when every child policy allows; an empty list denies."""

    def __init__(self, policies: Sequence[ReleasePolicy]) -> None:
        self._policies = list(policies)

    def check(self, request: ReleaseRequest) -> None:
        """Require every policy."""
        if not self._policies:
            raise ReleaseDenied("release: no policy configured (default deny)")
        for policy in self._policies:
            policy.check(request)


def default_release_policy() -> ReleasePolicy:
    """The owning performer, their representatives, or the union."""
    return AnyOf([PerformerOrRepresentative(), UnionAccess()])


class ProducerConsentedUse:
    """A producer may have a replica only for a use the clearance engine allows on the day.

    The purpose names the use and the production (``USE_KEY@PRODUCTION_ID``); a denial carries
    the engine's reason codes and messages.
    """

    def check(self, request: ReleaseRequest) -> None:
        """Ask the engine; raise its denial."""
        if request.principal.role is not Role.PRODUCER:
            raise ReleaseDenied("release: the caller is not a producer")
        if request.session is None or request.on is None:
            raise ReleaseDenied("release: no clearance context to judge a producer's use (default deny)")
        from likeness_ledger.consent.services import check_release  # noqa: PLC0415 - consent imports the vault

        check_release(request.session, request.principal, request.asset_id, request.purpose, on=request.on)


class ByRole:
    """Apply the policy for the caller's role, or ``otherwise``: a role's own reasons stay its own."""

    def __init__(self, policies: Mapping[Role, ReleasePolicy], otherwise: ReleasePolicy) -> None:
        self._policies = dict(policies)
        self._otherwise = otherwise

    def check(self, request: ReleaseRequest) -> None:
        """Delegate by role."""
        self._policies.get(request.principal.role, self._otherwise).check(request)


def gated_release_policy() -> ReleasePolicy:
    """What :func:`~likeness_ledger.vault.services.release` applies: producers through the engine.

    The depicted performer, their representatives and the union keep their access; a producer
    gets the bytes only for a use the clearance engine allows.
    """
    return ByRole({Role.PRODUCER: ProducerConsentedUse()}, default_release_policy())
