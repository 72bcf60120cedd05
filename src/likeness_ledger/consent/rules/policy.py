"""Consent policies: small objects that allow by returning and deny by raising.

Shaped after sigstore's ``VerificationPolicy`` (STYLE.md habit 4). A policy's ``check(subject)``
either returns the reasons it allows on (often none: a strike rule that finds no strike decides
nothing) or raises :class:`ConsentDenied` carrying every reason it denies on. :class:`AllOf`
runs all its policies and denies with the union of their reasons, so a denial lists each rule that
holds (FORMAT.md: "a deny lists each that holds"); :class:`AnyOf` allows on the first policy that
allows. An empty composition denies, and nothing allows unless a policy says so: the default is
deny.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, ClassVar, Generic, Protocol, TypeVar

from likeness_ledger.errors import Error

if TYPE_CHECKING:
    from collections.abc import Iterable


class Code(StrEnum):
    """Reason codes of ``shared/cases/FORMAT.md``."""

    CONSENT_OK = "CONSENT_OK"
    NO_CONSENT = "NO_CONSENT"
    CONSENT_WRONG_PRODUCTION = "CONSENT_WRONG_PRODUCTION"
    CONSENT_USE_NOT_DESCRIBED = "CONSENT_USE_NOT_DESCRIBED"
    CONSENT_NOT_SPECIFIC = "CONSENT_NOT_SPECIFIC"
    CONSENT_NOT_SEPARATE = "CONSENT_NOT_SEPARATE"
    CONSENT_NOT_YET_VALID = "CONSENT_NOT_YET_VALID"
    CONSENT_EXPIRED = "CONSENT_EXPIRED"
    CONSENT_REVOKED = "CONSENT_REVOKED"
    CONSENT_WRONG_SIGNER = "CONSENT_WRONG_SIGNER"
    SCAN_NOTICE_LATE = "SCAN_NOTICE_LATE"
    STRIKE_SUSPENDED = "STRIKE_SUSPENDED"
    ALTERATION_EXEMPT = "ALTERATION_EXEMPT"
    UNENFORCEABLE_CONTRACT = "UNENFORCEABLE_CONTRACT"


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a rule decided: the FORMAT code, a message about this case, and the rule's name."""

    code: Code
    message: str
    rule: str

    def to_report(self) -> dict[str, str]:
        """Return the ``reasons[]`` entry of a decision report."""
        return {"code": self.code.value, "message": self.message, "rule": self.rule}


#: The reasons a policy allows on; empty when the policy only guards.
Allowance = tuple[Reason, ...]

NOTHING: Allowance = ()

#: Why an empty composition denies.
EMPTY_POLICY = Reason(Code.NO_CONSENT, "no rule allows this request", "default: deny unless a rule allows")


class ConsentDenied(Error):
    """A policy refused the request; ``reasons`` holds every rule that denied."""

    http_status: ClassVar[int] = 403
    exit_code: ClassVar[int] = 1

    def __init__(self, *reasons: Reason) -> None:
        # Denials are the engine's common path, so the text is built only when someone reads it.
        Exception.__init__(self)
        self.reasons: tuple[Reason, ...] = reasons or (EMPTY_POLICY,)
        self._errors: list[str] | None = None

    @property
    def errors(self) -> list[str]:
        """One line per reason: ``CODE: message``."""
        if self._errors is None:
            self._errors = [f"{r.code}: {r.message}" for r in self.reasons]
        return self._errors

    @errors.setter
    def errors(self, value: list[str]) -> None:
        self._errors = value

    @property
    def message(self) -> str:
        """The first reason, as the summary line."""
        return self.errors[0]

    @message.setter
    def message(self, value: str) -> None:
        self._errors = [value, *self.errors[1:]]

    def __str__(self) -> str:
        return self.message


S_contra = TypeVar("S_contra", contravariant=True)
S = TypeVar("S")


class Policy(Protocol[S_contra]):
    """A rule that allows (returning its reasons) or denies (raising :class:`ConsentDenied`)."""

    def check(self, subject: S_contra, /) -> Allowance:
        """Return the reasons this policy allows ``subject`` on, or raise ConsentDenied."""
        ...


def merge(reasons: Iterable[Reason]) -> tuple[Reason, ...]:
    """Drop repeated codes, keeping the first message for each, in first-seen order."""
    seen: dict[Code, Reason] = {}
    for reason in reasons:
        seen.setdefault(reason.code, reason)
    return tuple(seen.values())


class AllOf(Generic[S]):
    """Allow only if every policy allows; deny with the reasons of every policy that denies."""

    __slots__ = ("_policies",)

    def __init__(self, *policies: Policy[S]) -> None:
        self._policies = policies

    def check(self, subject: S, /) -> Allowance:
        """Run every policy (not just up to the first denial) and combine the outcome."""
        if not self._policies:
            raise ConsentDenied(EMPTY_POLICY)
        # Tuples and a None sentinel rather than lists: most checks allow with no reasons, and
        # this loop runs for every rule of every decision.
        allowed: Allowance = NOTHING
        denied: tuple[Reason, ...] | None = None
        for policy in self._policies:
            try:
                reasons = policy.check(subject)
            except ConsentDenied as denial:
                denied = denial.reasons if denied is None else denied + denial.reasons
                continue
            if reasons:
                allowed += reasons
        if denied is not None:
            raise ConsentDenied(*(merge(denied) if len(denied) > 1 else denied))
        return allowed


class AnyOf(Generic[S]):
    """Allow on the first policy that allows; deny with every reason if none does."""

    __slots__ = ("_policies",)

    def __init__(self, *policies: Policy[S]) -> None:
        self._policies = policies

    def check(self, subject: S, /) -> Allowance:
        """Try each policy in order."""
        denied: list[Reason] = []
        for policy in self._policies:
            try:
                return policy.check(subject)
            except ConsentDenied as denial:
                denied.extend(denial.reasons)
        raise ConsentDenied(*merge(denied)) if denied else ConsentDenied(EMPTY_POLICY)
