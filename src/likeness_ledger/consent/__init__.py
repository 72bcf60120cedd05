"""Consent: the ``likeness-case/1`` model, the rulebooks and the clearance engine.

Pure domain code: no database, web framework or CLI imports, so a third party can run the engine
on case files alone.
"""

from likeness_ledger.consent.cases import Case, load_case, load_cases, parse_case
from likeness_ledger.consent.clearance import Decision, Obligation, clear
from likeness_ledger.consent.rules.policy import Code, ConsentDenied, Reason

__all__ = [
    "Case",
    "Code",
    "ConsentDenied",
    "Decision",
    "Obligation",
    "Reason",
    "clear",
    "load_case",
    "load_cases",
    "parse_case",
]
