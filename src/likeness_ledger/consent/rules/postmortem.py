"""Post-mortem rights in deceased performers' replicas, and who consents after death.

- California AB 1836, Civ. Code §3344.1: effective Jan 1, 2025; a digital replica of a deceased
  personality in an expressive audiovisual work or sound recording needs prior consent; the right
  runs 70 years after death [V] (RULES.md §3.2).
- New York Civil Rights Law §50-f: effective May 29, 2021; 40 years after death, for performers
  domiciled in New York who die on or after that day; successors register before enforcing [V]
  (RULES.md §3.5).
- New York S.8391/A.8882: signed and effective Dec 11, 2025; heirs' or executors' prior written
  consent for commercial use of a deceased person's likeness, digital replicas included [V]
  (RULES.md §3.5).
- Tennessee ELVIS Act: see :mod:`.tennessee_elvis` (RULES.md §3.4).
- SAG-AFTRA 2023 [V] (RULES.md §1.1): consent "from the performer's authorized representative, or
  from SAG-AFTRA if no representative can be identified".

FORMAT.md's ``CONSENT_WRONG_SIGNER``: the performer had died before the consent was signed and it
was signed neither by an authorized representative nor by the union. A case cannot say whether a
representative could be identified, so a union signature is accepted as FORMAT states it. A
consent the performer signed while alive is left standing: whether it survives death is [U] in
RULES.md, and FORMAT.md's code does not reach it. The laws above name the rule in reports; the
AB 1836 exemptions [U] are not encoded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Final

from likeness_ledger.consent.rules import tennessee_elvis
from likeness_ledger.consent.rules.common import DEFAULT, years_after
from likeness_ledger.consent.rules.policy import NOTHING, Allowance, Code, ConsentDenied, Reason

if TYPE_CHECKING:
    from likeness_ledger.consent.rules.context import GrantAsk


@dataclass(frozen=True, slots=True)
class PostmortemRight:
    """A state's post-mortem right in a deceased performer's likeness."""

    id: str
    citation: str
    section: str
    jurisdiction: str
    effective: date
    #: Years the right runs after death; ``None`` when the statute ends it otherwise.
    term_years: int | None
    #: Only deaths on or after this day are covered (NY §50-f).
    deaths_from: date | None = None

    def in_force(self, *, died: date, on: date) -> bool:
        """Whether the right protects a performer who died on ``died``, on the day ``on``."""
        if on < self.effective or (self.deaths_from is not None and died < self.deaths_from):
            return False
        return self.term_years is None or on <= years_after(died, self.term_years)


CALIFORNIA_AB1836: Final = PostmortemRight(
    id="us-ca-ab1836",
    citation="Cal. Civ. Code §3344.1 (AB 1836)",
    section="RULES.md §3.2",
    jurisdiction="US-CA",
    effective=date(2025, 1, 1),
    term_years=70,
)
NEW_YORK_S8391: Final = PostmortemRight(
    id="us-ny-s8391",
    citation="N.Y. S.8391/A.8882",
    section="RULES.md §3.5",
    jurisdiction="US-NY",
    effective=date(2025, 12, 11),
    term_years=None,
)
NEW_YORK_50F: Final = PostmortemRight(
    id="us-ny-crl-50-f",
    citation="N.Y. Civ. Rights Law §50-f",
    section="RULES.md §3.5",
    jurisdiction="US-NY",
    effective=date(2021, 5, 29),
    term_years=40,
    deaths_from=date(2021, 5, 29),
)
TENNESSEE_ELVIS: Final = PostmortemRight(
    id=tennessee_elvis.LAW_ID,
    citation=tennessee_elvis.CITATION,
    section="RULES.md §3.4",
    jurisdiction="US-TN",
    effective=tennessee_elvis.EFFECTIVE,
    # 10 exclusive years, then until 2 years of non-use: no fixed end a case can test.
    term_years=None,
)

#: Most specific first: the first right in force names the rule.
RIGHTS: Final = {
    "US-CA": (CALIFORNIA_AB1836,),
    "US-NY": (NEW_YORK_S8391, NEW_YORK_50F),
    "US-TN": (TENNESSEE_ELVIS,),
}

#: Who may consent after death (FORMAT.md ``CONSENT_WRONG_SIGNER``).
POSTHUMOUS_SIGNERS: Final = frozenset({"authorized_representative", "union"})


def right_for(jurisdiction: str | None, *, died: date, on: date) -> PostmortemRight | None:
    """Return the post-mortem right protecting the performer in ``jurisdiction`` on ``on``."""
    for right in RIGHTS.get(jurisdiction or "", ()):
        if right.in_force(died=died, on=on):
            return right
    return None


class PosthumousSigner:
    """Deny a consent signed after the performer's death by someone who may not sign for them."""

    __slots__ = ()

    def check(self, subject: GrantAsk, /) -> Allowance:
        """Compare the signature date with the date of death, then the signer."""
        ask, grant = subject.ask, subject.grant
        died = ask.died
        if died is None or grant.signed_on <= died:
            return NOTHING
        rulebook = ask.rulebook
        signers = rulebook.posthumous_signers if rulebook is not None else POSTHUMOUS_SIGNERS
        if grant.signed_by in signers:
            return NOTHING
        if rulebook is not None:
            rule = rulebook.rule(
                "after death, consent comes from an authorized representative, or the union if none can be identified"
            )
        else:
            right = right_for(ask.jurisdiction, died=died, on=ask.on)
            rule = (
                f"{right.id}: {right.citation}, prior consent of the rights holder after death"
                if right is not None
                else f"{DEFAULT}: after death, consent comes from an authorized representative"
            )
        raise ConsentDenied(
            Reason(
                Code.CONSENT_WRONG_SIGNER,
                f"{ask.performer_id} died on {died.isoformat()}; consent {grant.id} was signed on "
                f"{grant.signed_on.isoformat()} by the {grant.signed_by.replace('_', ' ')}",
                rule,
            )
        )
