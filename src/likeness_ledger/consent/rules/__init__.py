"""Rulebooks, one module per agreement or law, and the policies they assemble into.

| module | rests on |
| --- | --- |
| ``sag_aftra_tv_theatrical_2023`` | RULES.md §1.1 (consent, notice, alterations, deceased) |
| ``sag_aftra_tv_theatrical_2026`` | RULES.md §1.2 (successor; strikes) |
| ``sag_aftra_interactive_2025`` | RULES.md §1.3 |
| ``sag_aftra_commercials_2025`` | RULES.md §1.4 |
| ``ab2602`` | RULES.md §3.1, §3.3, §3.5 (CA, IL, NY unenforceable replica clauses) |
| ``postmortem`` | RULES.md §3.2, §3.4, §3.5 and §1.1 (deceased performers) |
| ``tennessee_elvis`` | RULES.md §3.4 |
| ``eu_ai_act`` | RULES.md §3.8 (AI disclosure) |
| ``common`` | consent per production and use; default deny |

:func:`policy_for` returns the policy for an agreement, action and alteration. Policies are built
once at import: they hold no per-case state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from likeness_ledger.consent.rules import (
    sag_aftra_commercials_2025,
    sag_aftra_interactive_2025,
    sag_aftra_tv_theatrical_2023,
    sag_aftra_tv_theatrical_2026,
)
from likeness_ledger.consent.rules.ab2602 import ReplicaContractEnforceable
from likeness_ledger.consent.rules.common import (
    AnyCoveringConsent,
    ConsentCovers,
    ConsentDates,
)
from likeness_ledger.consent.rules.context import Ask, Grant, GrantAsk, Rulebook, Strike
from likeness_ledger.consent.rules.policy import (
    AllOf,
    Allowance,
    AnyOf,
    Code,
    ConsentDenied,
    Policy,
    Reason,
)
from likeness_ledger.consent.rules.postmortem import PosthumousSigner
from likeness_ledger.consent.rules.sag_aftra_tv_theatrical_2023 import (
    AlterationExemption,
    ScanNotice,
    SeparateSignature,
    SpecificDescription,
    alteration_exempt,
)
from likeness_ledger.consent.rules.sag_aftra_tv_theatrical_2026 import StrikeSuspension

if TYPE_CHECKING:
    from datetime import date

TV_THEATRICAL_2023: Final = sag_aftra_tv_theatrical_2023.RULEBOOK
TV_THEATRICAL_2026: Final = sag_aftra_tv_theatrical_2026.RULEBOOK

RULEBOOKS: Final[dict[str, Rulebook]] = {
    book.id: book
    for book in (
        TV_THEATRICAL_2023,
        TV_THEATRICAL_2026,
        sag_aftra_interactive_2025.RULEBOOK,
        sag_aftra_commercials_2025.RULEBOOK,
    )
}

ACTIONS: Final = ("create", "use", "alter")


def rulebook_in_force(agreement: str | None, on: date) -> Rulebook | None:
    """Return the agreement in force on ``on`` for a case made under ``agreement``.

    FORMAT.md: "payments follow the agreement in force on request.on". The 2026 TV/Theatrical
    agreement succeeds the 2023 one on Jul 1, 2026 (RULES.md §1.2), so a TV/Theatrical case is
    judged, and paid, under whichever of the two covers the day; before Jul 1, 2026 that is the
    2023 agreement. The other agreements have no successor in RULES.md.
    """
    if agreement is None:
        return None
    book = RULEBOOKS[agreement]
    if book is TV_THEATRICAL_2023 or book is TV_THEATRICAL_2026:
        return TV_THEATRICAL_2026 if on >= TV_THEATRICAL_2026.start else TV_THEATRICAL_2023
    return book


def consent_policy(book: Rulebook | None) -> Policy[GrantAsk]:
    """Everything one covering consent must satisfy under ``book`` (or the laws alone)."""
    rules: list[Policy[GrantAsk]] = [ConsentDates(), PosthumousSigner()]
    if book is not None and book.requires_specific_description:
        rules.append(SpecificDescription(book))
    if book is not None and book.requires_separate_signature:
        rules.append(SeparateSignature(book))
    # State law applies under an agreement too: a union-negotiated consent passes its test anyway.
    rules.append(ReplicaContractEnforceable())
    return AllOf(*rules)


def _request_policy(book: Rulebook | None, action: str) -> Policy[Ask]:
    rules: list[Policy[Ask]] = [AnyCoveringConsent(consent_policy(book), ConsentCovers())]
    if book is not None and action == "create" and book.scan_notice is not None:
        rules.append(ScanNotice(book, book.scan_notice))
    if book is not None and action == "use" and book.strike_suspension is not None:
        rules.append(StrikeSuspension(book))
    # A composition of one is that one policy; skipping the wrapper keeps the hot path short.
    return rules[0] if len(rules) == 1 else AllOf(*rules)


_EXEMPT_ALTERATION: Final[Policy[Ask]] = AlterationExemption()

_POLICIES: Final[dict[tuple[str | None, str], Policy[Ask]]] = {
    (book_id, action): _request_policy(RULEBOOKS[book_id] if book_id else None, action)
    for book_id in (None, *RULEBOOKS)
    for action in ACTIONS
}


def policy_for(book: Rulebook | None, action: str, alteration: str | None) -> Policy[Ask]:
    """Return the policy deciding ``action`` under ``book``.

    A typical post-production alteration is exempt under every agreement and under the laws
    alone: it is not a replica (RULES.md §1.1 [V]; AB 2602's definition needs the "fundamental
    character" of the performance "materially altered", §3.1 [V]).
    """
    if action == "alter" and alteration is not None and alteration_exempt(alteration):
        return _EXEMPT_ALTERATION
    return _POLICIES[(book.id if book is not None else None, action)]


__all__ = [
    "RULEBOOKS",
    "AllOf",
    "Allowance",
    "AnyOf",
    "Ask",
    "Code",
    "ConsentDenied",
    "Grant",
    "GrantAsk",
    "Policy",
    "Reason",
    "Rulebook",
    "Strike",
    "consent_policy",
    "policy_for",
    "rulebook_in_force",
]
