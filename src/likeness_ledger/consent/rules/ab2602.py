"""State laws of the California AB 2602 kind: replica clauses that are unenforceable.

- California AB 2602, Lab. Code §927: effective Jan 1, 2025, for new performances fixed on or
  after that day [V] (RULES.md §3.1).
- New York GOL §5-302 (S.7676-B): effective Jan 1, 2025, the same three-condition rule [V]
  (RULES.md §3.5).
- Illinois HB 4762, Digital Voice and Likeness Protection Act, Public Act 103-0830: Aug 9, 2024,
  the same three-condition rule [V] (RULES.md §3.3).

A replica provision is unenforceable when ALL of: (1) it lets a replica do work the performer
would otherwise have done in person; (2) it lacks a reasonably specific description of the
intended uses; (3) the performer was represented neither by counsel nor by a union whose agreement
addresses replicas. FORMAT.md dates each law by when the replica was created. The laws apply with
or without a collective agreement; under the laws alone they are the only way the contract rules
(specificity, representation) reach a decision.

Not encoded: the statutes' saving for uses consistent with the "fundamental character" of the
recorded performance, and counsel's duty to have the terms stated clearly and initialled - a case
records neither, and FORMAT.md's code names only the three conditions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Final

from likeness_ledger.consent.rules.policy import NOTHING, Allowance, Code, ConsentDenied, Reason

if TYPE_CHECKING:
    from likeness_ledger.consent.rules.context import GrantAsk


@dataclass(frozen=True, slots=True)
class ReplicaContractLaw:
    """One state's AB 2602-type law."""

    id: str
    citation: str
    section: str
    jurisdiction: str
    #: Replicas created on or after this day are covered.
    applies_from: date

    def applies(self, created_on: date) -> bool:
        """Whether a replica created on ``created_on`` falls under the law."""
        return created_on >= self.applies_from


CALIFORNIA: Final = ReplicaContractLaw(
    id="us-ca-ab2602",
    citation="Cal. Lab. Code §927 (AB 2602)",
    section="RULES.md §3.1",
    jurisdiction="US-CA",
    applies_from=date(2025, 1, 1),
)
NEW_YORK: Final = ReplicaContractLaw(
    id="us-ny-gol-5-302",
    citation="N.Y. Gen. Oblig. Law §5-302",
    section="RULES.md §3.5",
    jurisdiction="US-NY",
    applies_from=date(2025, 1, 1),
)
ILLINOIS: Final = ReplicaContractLaw(
    id="us-il-hb4762",
    citation="Illinois Digital Voice and Likeness Protection Act (HB 4762, P.A. 103-0830)",
    section="RULES.md §3.3",
    jurisdiction="US-IL",
    applies_from=date(2024, 8, 9),
)

LAWS: Final = {law.jurisdiction: law for law in (CALIFORNIA, NEW_YORK, ILLINOIS)}

#: Representation that saves a clause: counsel who negotiated it, or a union whose agreement
#: expressly addresses digital replicas.
REPRESENTED: Final = frozenset({"counsel", "union"})


def law_for(jurisdiction: str | None, created_on: date) -> ReplicaContractLaw | None:
    """Return the law that governs a replica made in ``jurisdiction`` on ``created_on``."""
    if jurisdiction is None:
        return None
    law = LAWS.get(jurisdiction)
    return law if law is not None and law.applies(created_on) else None


def unenforceable(*, replaces_in_person_work: bool, specific: bool, representation: str) -> bool:
    """The three-condition test; all three must hold."""
    return replaces_in_person_work and not specific and representation not in REPRESENTED


class ReplicaContractEnforceable:
    """Deny a consent the governing state law makes unenforceable."""

    __slots__ = ()

    def check(self, subject: GrantAsk, /) -> Allowance:
        """Apply the law of the case's jurisdiction, if it covers the replica's creation date."""
        ask, grant = subject.ask, subject.grant
        if not unenforceable(
            replaces_in_person_work=ask.replaces_in_person_work,
            specific=grant.specific,
            representation=grant.representation,
        ):
            return NOTHING
        law = law_for(ask.jurisdiction, ask.replica_created_on)
        if law is None:
            return NOTHING
        raise ConsentDenied(
            Reason(
                Code.UNENFORCEABLE_CONTRACT,
                f"consent {grant.id} lets the replica replace in-person work without a reasonably "
                f"specific description, and {ask.performer_id} had neither counsel nor union",
                f"{law.id}: {law.citation}, replica provision unenforceable",
            )
        )
