"""What the rules look at: a case compiled once into plain, slotted, immutable records.

Rules never read the pydantic :class:`~likeness_ledger.consent.cases.Case` directly: the clearance
engine compiles it into an :class:`Ask` (the request and the facts around it) and its
:class:`Grant` records (the consents), resolving dates, defaults and the agreement in force first.
That keeps each rule a few attribute reads, which is what lets ``clear`` run tens of thousands of
times a second.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import date, datetime, timedelta
    from decimal import Decimal

    from likeness_ledger.consent.rules.policy import Reason


@dataclass(frozen=True, slots=True)
class Rulebook:
    """One collective agreement: its term and the switches its rules read.

    Each agreement module defines one, citing the RULES.md section its values rest on.
    """

    id: str
    title: str
    section: str
    start: date
    end: date | None
    #: RULES.md §1.1/§1.3/§1.4: consent needs a reasonably specific description of the use.
    requires_specific_description: bool
    #: RULES.md §1.1/§1.3/§1.4: consent is signed apart from standard terms or the voucher.
    requires_separate_signature: bool
    #: Notice of a scan before it is held (or at engagement, when engaged later than that).
    scan_notice: timedelta | None
    #: The rule suspending replica use while the agreement's performers strike, as reports name
    #: it; ``None`` when the agreement has no such rule.
    strike_suspension: str | None
    #: Who may consent for a performer who died before the consent was signed.
    posthumous_signers: frozenset[str]

    def rule(self, text: str) -> str:
        """Name a rule of this agreement the way decision reports do."""
        return f"{self.id}: {text}"

    def in_force_on(self, day: date) -> bool:
        """Whether ``day`` falls in the agreement's term."""
        return self.start <= day and (self.end is None or day <= self.end)


@dataclass(frozen=True, slots=True)
class Grant:
    """A consent on file, as the rules read it."""

    id: str
    scope: str
    replica: str | None
    production: str
    uses: frozenset[str]
    specific: bool
    separately_signed: bool
    signed_by: str
    signed_on: date
    #: The first day the consent counts: never before it was signed.
    starts_on: date
    expires_on: date | None
    revoked_on: date | None
    representation: str


@dataclass(frozen=True, slots=True)
class Strike:
    """A strike under ``agreement`` from ``start`` to ``end`` inclusive (``None``: ongoing)."""

    agreement: str
    start: date
    end: date | None

    def covers(self, day: date) -> bool:
        """Whether ``day`` falls in the strike."""
        return self.start <= day and (self.end is None or day <= self.end)


@dataclass(frozen=True, slots=True)
class Ask:
    """A request with everything the rules need, resolved once per case."""

    case_id: str
    action: str
    on: date
    performer_id: str
    category: str
    died: date | None
    own_daily_rate: Decimal | None
    jurisdiction: str | None
    #: The agreement in force on ``on`` (RULES.md §1.2: the 2026 agreement succeeds the 2023
    #: one on 2026-07-01), or ``None`` when the case is judged by the laws alone.
    rulebook: Rulebook | None
    role: str
    #: The use key asked for (``None`` for a creation or an alteration that names none).
    use: str | None
    estimated_days: int | None
    replaces_in_person_work: bool
    alteration: str | None
    replica_id: str | None
    #: When the replica was (or, for ``create``, will be) made: the date AB 2602-type laws test.
    replica_created_on: date
    #: Why no consent covers the request at all (no consent, wrong production, use not
    #: described), or ``None`` when ``covering`` holds at least one consent.
    coverage_gap: Reason | None
    covering: tuple[Grant, ...]
    engaged_at: datetime | None
    notice_at: datetime | None
    scan_at: datetime | None
    scan_only_call: bool
    strikes: tuple[Strike, ...]


@dataclass(frozen=True, slots=True)
class GrantAsk:
    """A request paired with one covering consent: what per-consent rules check."""

    ask: Ask
    grant: Grant
