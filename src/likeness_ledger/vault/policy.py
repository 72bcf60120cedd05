"""Who may receive a replica's bytes: release policies as small objects that combine and raise.

A policy's ``check`` returns nothing when the release may go ahead and raises
:class:`ReleaseDenied` with the reason otherwise. ``AnyOf`` and ``AllOf`` combine policies; an empty
composition denies, so the default is always deny.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

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
