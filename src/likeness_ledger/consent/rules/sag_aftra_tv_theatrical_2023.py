"""SAG-AFTRA 2023 TV/Theatrical Contracts (Codified Basic Agreement + TV Agreement, 2023 MOA).

RULES.md §1.1. Term Nov 9, 2023 - Jun 30, 2026 [V]; ratified Dec 5, 2023 [V]. The consent rules
here were first bargained in this agreement and carry over to the 2026 successor, the 2025
Interactive Media and the 2025 Commercials agreements, which reuse these policies with their own
rulebook:

- consent must be "clear and conspicuous", signed separately from standard terms or the
  background voucher [V], with a "reasonably specific description of the intended use" [V];
- notice of a scan at least 48 hours before it, or at engagement when engaged later [V];
- a deceased performer's consent comes from an authorized representative, or from SAG-AFTRA when
  no representative can be identified [V];
- a digital alteration needs no consent when it is typical post-production (cosmetics, wardrobe,
  noise reduction, timing, continuity, pitch/tone, VFX/filters, standards & practices, ratings,
  dialogue adjustment) [V].

Not encoded: the AI terms' "~90 days after ratification" start [R] (only approximate, and the
format pins the term at Nov 9, 2023); "consent continues after death unless limited" [U]; the
half-day scan session and other-production minimum [U].
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Final

from likeness_ledger.consent.rules.common import rule_name
from likeness_ledger.consent.rules.context import Rulebook
from likeness_ledger.consent.rules.policy import NOTHING, Allowance, Code, ConsentDenied, Reason

if TYPE_CHECKING:
    from likeness_ledger.consent.rules.context import Ask, GrantAsk

AGREEMENT: Final = "sag-aftra-tv-theatrical-2023"
RATIFIED: Final = date(2023, 12, 5)

#: RULES.md §1.1 [V]: "notify at least 48 hours before the services (scan) are required".
SCAN_NOTICE: Final = timedelta(hours=48)

#: RULES.md §1.1 [V]: who consents for a performer who has died.
POSTHUMOUS_SIGNERS: Final = frozenset({"authorized_representative", "union"})

#: RULES.md §1.1 [V] (Backstage): alterations that need no consent. ``substantive`` (changing what
#: was scripted, performed or recorded) is the one kind that does.
EXEMPT_ALTERATIONS: Final = frozenset(
    {
        "cosmetic",
        "wardrobe",
        "noise_reduction",
        "timing",
        "continuity",
        "pitch_tone",
        "vfx_filter",
        "standards_practices",
        "ratings",
        "dialogue_adjustment",
    }
)

RULEBOOK: Final = Rulebook(
    id=AGREEMENT,
    title="SAG-AFTRA 2023 TV/Theatrical Contracts",
    section="RULES.md §1.1",
    start=date(2023, 11, 9),
    end=date(2026, 6, 30),
    requires_specific_description=True,
    requires_separate_signature=True,
    scan_notice=SCAN_NOTICE,
    # The picket-line rule arrived only with the 2026 agreement (RULES.md §1.2).
    strike_suspension=None,
    posthumous_signers=POSTHUMOUS_SIGNERS,
)


def alteration_exempt(kind: str) -> bool:
    """Whether an alteration of recorded material is typical post-production (no consent)."""
    return kind in EXEMPT_ALTERATIONS


def scan_notice_late(
    *,
    scan_at: datetime | None,
    notice_at: datetime | None,
    engaged_at: datetime | None,
    notice: timedelta = SCAN_NOTICE,
) -> bool:
    """Whether a scan's notice came late, per FORMAT.md ``SCAN_NOTICE_LATE``.

    Late means less than ``notice`` before the scan although the performer was engaged earlier
    than that. A performer engaged inside the window is owed notice "at engagement", which FORMAT
    does not treat as late. Nothing is late without a scheduled scan; with an early engagement on
    file, a notice that never came is late; with no engagement on file, the plain 48-hour rule
    applies.
    """
    if scan_at is None:
        return False
    deadline = scan_at - notice
    if engaged_at is not None and engaged_at > deadline:
        return False
    if notice_at is None:
        return engaged_at is not None
    return notice_at > deadline


class SpecificDescription:
    """Deny a consent without a reasonably specific description of the intended use."""

    __slots__ = ("_rule",)

    def __init__(self, rulebook: Rulebook) -> None:
        self._rule = rulebook.rule("reasonably specific description of the intended use")

    def check(self, subject: GrantAsk, /) -> Allowance:
        """Read the reviewer's finding recorded on the consent."""
        if subject.grant.specific:
            return NOTHING
        raise ConsentDenied(
            Reason(
                Code.CONSENT_NOT_SPECIFIC,
                f"consent {subject.grant.id} lacks a reasonably specific description of the use",
                self._rule,
            )
        )


class SeparateSignature:
    """Deny a consent buried in standard terms or a voucher rather than signed separately."""

    __slots__ = ("_rule",)

    def __init__(self, rulebook: Rulebook) -> None:
        self._rule = rulebook.rule("clear and conspicuous consent, signed separately")

    def check(self, subject: GrantAsk, /) -> Allowance:
        """Read how the consent was signed."""
        if subject.grant.separately_signed:
            return NOTHING
        raise ConsentDenied(
            Reason(
                Code.CONSENT_NOT_SEPARATE,
                f"consent {subject.grant.id} was not signed separately from standard terms",
                self._rule,
            )
        )


class ScanNotice:
    """Deny creating a replica when the scan's notice came late."""

    __slots__ = ("_notice", "_rule")

    def __init__(self, rulebook: Rulebook, notice: timedelta) -> None:
        self._notice = notice
        hours = int(notice.total_seconds() // 3600)
        self._rule = rulebook.rule(f"notice at least {hours} hours before a scan, or at engagement")

    def check(self, subject: Ask, /) -> Allowance:
        """Compare the notice, engagement and scan timestamps."""
        if not scan_notice_late(
            scan_at=subject.scan_at,
            notice_at=subject.notice_at,
            engaged_at=subject.engaged_at,
            notice=self._notice,
        ):
            return NOTHING
        assert subject.scan_at is not None  # narrowing: never late without a scan
        scan = subject.scan_at.isoformat(timespec="minutes")
        if subject.notice_at is None:
            given = "no notice was given"
        else:
            ahead = (subject.scan_at - subject.notice_at).total_seconds() / 3600
            given = f"notice came {ahead:g} hours before it"
        raise ConsentDenied(
            Reason(
                Code.SCAN_NOTICE_LATE,
                f"scan at {scan}: {given}, though {subject.performer_id} was engaged earlier",
                self._rule,
            )
        )


class AlterationExemption:
    """Allow a typical post-production alteration without consent."""

    __slots__ = ()

    def check(self, subject: Ask, /) -> Allowance:
        """Allow exempt kinds; a substantive alteration is left to the consent policies."""
        kind = subject.alteration
        if kind is None or not alteration_exempt(kind):
            raise ConsentDenied(
                Reason(
                    Code.NO_CONSENT,
                    f"{kind} alteration changes what was performed and needs consent",
                    rule_name(subject.rulebook, "substantive alterations need consent"),
                )
            )
        return (
            Reason(
                Code.ALTERATION_EXEMPT,
                f"{kind.replace('_', ' ')} alteration is typical post-production: no consent needed",
                rule_name(
                    subject.rulebook,
                    "digital alteration for typical post-production needs no consent",
                ),
            ),
        )
