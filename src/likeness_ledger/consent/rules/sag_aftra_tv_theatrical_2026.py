"""SAG-AFTRA 2026 TV/Theatrical Agreement, successor to the 2023 contracts.

RULES.md §1.2. Ratified Jun 4, 2026; term Jul 1, 2026 - Jun 30, 2030; minimums +3% a year
compounded [V]. The 2023 consent rules carry over (see ``sag_aftra_tv_theatrical_2023``). New and
encoded here: "digital replicas may not cross a picket line (consent suspended during strikes)"
[V].

Also new but not expressible in a ``likeness-case/1`` case, so not encoded: the "significant
additional value" test and notice for synthetic performers, the "articulable business reason" to
scan, protections for minors, security requirements and notice of licensing data for AI training
[V]. The §39 details (dubbing from Jul 1, 2027, transferee approval in 21 days, ...) are [U].
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Final

from likeness_ledger.consent.rules.context import Rulebook
from likeness_ledger.consent.rules.policy import NOTHING, Allowance, Code, ConsentDenied, Reason
from likeness_ledger.consent.rules.sag_aftra_tv_theatrical_2023 import (
    POSTHUMOUS_SIGNERS,
    SCAN_NOTICE,
)

if TYPE_CHECKING:
    from likeness_ledger.consent.rules.context import Ask

AGREEMENT: Final = "sag-aftra-tv-theatrical-2026"
RATIFIED: Final = date(2026, 6, 4)

RULEBOOK: Final = Rulebook(
    id=AGREEMENT,
    title="SAG-AFTRA 2026 TV/Theatrical Agreement",
    section="RULES.md §1.2",
    start=date(2026, 7, 1),
    end=date(2030, 6, 30),
    requires_specific_description=True,
    requires_separate_signature=True,
    scan_notice=SCAN_NOTICE,
    strike_suspension="digital replicas may not cross a picket line",
    posthumous_signers=POSTHUMOUS_SIGNERS,
)


class StrikeSuspension:
    """Deny replica use on a day the agreement's performers are on strike."""

    __slots__ = ("_agreement", "_rule")

    def __init__(self, rulebook: Rulebook) -> None:
        if rulebook.strike_suspension is None:
            raise ValueError(f"{rulebook.id} does not suspend replica use during strikes")
        self._agreement = rulebook.id
        self._rule = rulebook.rule(rulebook.strike_suspension)

    def check(self, subject: Ask, /) -> Allowance:
        """Look for a strike under this agreement that covers the day of the use."""
        for strike in subject.strikes:
            if strike.agreement == self._agreement and strike.covers(subject.on):
                until = f" to {strike.end.isoformat()}" if strike.end is not None else ""
                raise ConsentDenied(
                    Reason(
                        Code.STRIKE_SUSPENDED,
                        f"{subject.on.isoformat()} falls in the strike under {strike.agreement} "
                        f"from {strike.start.isoformat()}{until}",
                        self._rule,
                    )
                )
        return NOTHING
