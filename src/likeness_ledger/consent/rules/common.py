"""Rules every clearance applies, under an agreement or under the laws alone.

RULES.md §1.1 [V]: consent must describe the intended use, and "use in additional projects
requires new, separate consent for each use"; §1.3 and §1.4 say the same for games and
commercials; §6.1 (derived): "consent is per use, not per person". Without an agreement the
engine still denies by default (STYLE.md habit 4): a replica is created or used only under a
consent on file that covers it.

Coverage is decided in three steps, each narrower than the last, and a request that falls out at
a step is denied with that step's code only (FORMAT.md): no consent for this replica and action
(``NO_CONSENT``), consents only for other productions (``CONSENT_WRONG_PRODUCTION``), consents
for the production that do not describe the use (``CONSENT_USE_NOT_DESCRIBED``). The consents
that cover the request are then checked one by one, and one valid consent is enough.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Final

from likeness_ledger.consent.rules.context import GrantAsk
from likeness_ledger.consent.rules.policy import (
    NOTHING,
    Allowance,
    Code,
    ConsentDenied,
    Policy,
    Reason,
    merge,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from likeness_ledger.consent.rules.context import Ask, Grant, Rulebook

DEFAULT: Final = "default"

#: Which consent scope answers which action (FORMAT.md: a consent is for creation or for use).
SCOPE_FOR_ACTION: Final = {"create": "creation", "use": "use", "alter": "use"}


def years_after(day: date, years: int) -> date:
    """``day`` moved ``years`` years on (Feb 29 becomes Feb 28 in common years)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def rule_name(rulebook: Rulebook | None, text: str) -> str:
    """Name a rule after the agreement in force, or ``default`` under the laws alone."""
    return rulebook.rule(text) if rulebook is not None else f"{DEFAULT}: {text}"


def find_coverage(
    grants: Iterable[Grant],
    *,
    action: str,
    performer_id: str,
    replica_id: str | None,
    production: str,
    use: str | None,
    rulebook: Rulebook | None,
) -> tuple[Reason | None, tuple[Grant, ...]]:
    """Return the consents covering a request, or the reason none does.

    A consent that names no replica covers any replica of the performer: a creation consent given
    before the scan cannot name one (FORMAT.md). A request without a use key (an ``alter``) is
    covered by any consent for the production.
    """
    scope = SCOPE_FOR_ACTION[action]
    for_replica = [
        g for g in grants if g.scope == scope and (g.replica is None or replica_id is None or g.replica == replica_id)
    ]
    if not for_replica:
        subject = f"replica {replica_id}" if replica_id is not None else performer_id
        return Reason(
            Code.NO_CONSENT,
            f"no {scope} consent on file for {subject}",
            rule_name(rulebook, f"separate written consent before {scope}"),
        ), ()
    in_production = [g for g in for_replica if g.production == production]
    if not in_production:
        others = sorted({g.production for g in for_replica})
        return Reason(
            Code.CONSENT_WRONG_PRODUCTION,
            f"{_consents(for_replica)} {', '.join(others)}, not {production}",
            rule_name(rulebook, "separate consent for each production"),
        ), ()
    if use is None:
        return None, tuple(in_production)
    described = tuple(g for g in in_production if use in g.uses)
    if not described:
        keys = sorted(set().union(*(g.uses for g in in_production)))
        return Reason(
            Code.CONSENT_USE_NOT_DESCRIBED,
            f"{_consents(in_production)} {production} for {', '.join(keys) or 'no use'}, not {use}",
            rule_name(rulebook, "new consent for each use not described"),
        ), ()
    return None, described


def _consents(grants: list[Grant]) -> str:
    if len(grants) == 1:
        return f"consent {grants[0].id} covers"
    return f"consents {', '.join(g.id for g in grants)} cover"


class ConsentDates:
    """Deny a consent outside its dates on the day of the request.

    A consent counts from the later of its signature and ``valid_from``, through ``expires_on``
    inclusive; a revocation takes effect on ``revoked_on``.
    """

    __slots__ = ()

    def check(self, subject: GrantAsk, /) -> Allowance:
        """Check the consent's window against ``ask.on``."""
        grant, ask = subject.grant, subject.ask
        on = ask.on
        if (
            on >= grant.starts_on
            and (grant.expires_on is None or on <= grant.expires_on)
            and (grant.revoked_on is None or on < grant.revoked_on)
        ):
            return NOTHING
        rule = rule_name(ask.rulebook, "consent counts only within its dates")
        day = on.isoformat()
        reasons = []
        if on < grant.starts_on:
            reasons.append(
                Reason(
                    Code.CONSENT_NOT_YET_VALID,
                    f"consent {grant.id} counts from {grant.starts_on.isoformat()}, not on {day}",
                    rule,
                )
            )
        if grant.expires_on is not None and on > grant.expires_on:
            reasons.append(
                Reason(
                    Code.CONSENT_EXPIRED,
                    f"consent {grant.id} expired on {grant.expires_on.isoformat()}, before {day}",
                    rule,
                )
            )
        if grant.revoked_on is not None and on >= grant.revoked_on:
            reasons.append(
                Reason(
                    Code.CONSENT_REVOKED,
                    f"consent {grant.id} was revoked on {grant.revoked_on.isoformat()}",
                    rule,
                )
            )
        raise ConsentDenied(*reasons)


class ConsentCovers:
    """Allow on a consent that reached this point: the reason an allowed request names."""

    __slots__ = ()

    def check(self, subject: GrantAsk, /) -> Allowance:
        """Return ``CONSENT_OK`` for the consent."""
        grant, ask = subject.grant, subject.ask
        target = f"creating a replica of {ask.performer_id}" if ask.action == "create" else f"replica {ask.replica_id}"
        what = f" for {ask.use}" if ask.use is not None else ""
        if ask.alteration is not None:
            what += f" ({ask.alteration} alteration)"
        return (
            Reason(
                Code.CONSENT_OK,
                f"consent {grant.id} covers {target} in {grant.production}{what} on {ask.on.isoformat()}",
                rule_name(
                    ask.rulebook,
                    "consent before creation covers this production"
                    if ask.action == "create"
                    else "consent covers this production and use",
                ),
            ),
        )


class AnyCoveringConsent:
    """Allow if any covering consent passes ``policy``; deny with the coverage gap otherwise.

    The consent that passes is named by ``allow`` (``CONSENT_OK``), which runs only then, so a
    denied consent never pays for building an allow message.
    """

    __slots__ = ("_allow", "_policy")

    def __init__(self, policy: Policy[GrantAsk], allow: Policy[GrantAsk]) -> None:
        self._policy = policy
        self._allow = allow

    def check(self, subject: Ask, /) -> Allowance:
        """Try the covering consents in file order."""
        if subject.coverage_gap is not None:
            raise ConsentDenied(subject.coverage_gap)
        denied: list[Reason] = []
        for grant in subject.covering:
            pair = GrantAsk(subject, grant)
            try:
                reasons = self._policy.check(pair)
            except ConsentDenied as denial:
                denied.extend(denial.reasons)
                continue
            return reasons + self._allow.check(pair)
        # No covering consent and no gap cannot be compiled; an empty list still denies.
        raise ConsentDenied(*merge(denied))
