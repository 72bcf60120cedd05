"""The clearance engine: decisions, reports and obligations."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest

from likeness_ledger.compensation.rates import RateTable
from likeness_ledger.consent import Decision, Obligation, clear, parse_case
from likeness_ledger.consent.rules.policy import Code

CASE: dict[str, Any] = {
    "format": "likeness-case/1",
    "id": "engine-case",
    "title": "engine test case",
    "as_of": "2024-09-01",
    "jurisdiction": "US-CA",
    "agreement": "sag-aftra-tv-theatrical-2023",
    "performer": {"id": "perf-1", "category": "background", "died": None},
    "replica": {
        "id": "rep-1",
        "kind": "employment_based",
        "media": ["face", "body"],
        "created_for": "prod-A",
        "created_on": "2024-06-01",
    },
    "productions": {
        "prod-A": {"title": "Stadium", "producer": "studio-1", "type": "theatrical"},
        "prod-B": {"title": "Stadium II", "producer": "studio-1", "type": "theatrical"},
    },
    "consents": [
        {
            "id": "c-1",
            "scope": "use",
            "replica": "rep-1",
            "production": "prod-A",
            "uses": [{"key": "crowd", "description": "crowd, scenes 40-44"}],
            "specific": True,
            "separately_signed": True,
            "signed_by": "performer",
            "signed_on": "2024-05-20",
            "representation": "union",
        }
    ],
    "request": {
        "action": "use",
        "replica": "rep-1",
        "production": "prod-A",
        "use": "crowd",
        "on": "2024-09-01",
        "role": "background",
        "estimated_days": 3,
        "replaces_in_person_work": True,
    },
    "rates": [
        {
            "agreement": "sag-aftra-tv-theatrical-2023",
            "category": "background",
            "per": "day",
            "amount": "208.00",
            "effective": "2023-11-09",
        },
    ],
}


def decide(table: RateTable | None = None, **changes: Any) -> Decision:
    """Clear CASE with ``changes`` (``request__on``-style paths) against built-in ``table``."""
    data = copy.deepcopy(CASE)
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        target: Any = data
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[last] = value
    return clear(parse_case(data), rates=table)


class TestReport:
    def test_allow_report_is_exactly_the_format(self) -> None:
        assert decide().to_report() == {
            "id": "engine-case",
            "decision": "allow",
            "reasons": [
                {
                    "code": "CONSENT_OK",
                    "message": "consent c-1 covers replica rep-1 in prod-A for crowd on 2024-09-01",
                    "rule": "sag-aftra-tv-theatrical-2023: consent covers this production and use",
                }
            ],
            "obligations": [
                {
                    "type": "payment",
                    "payee": "perf-1",
                    "amount": "624.00",
                    "currency": "USD",
                    "basis": "3 days x background day scale 208.00",
                }
            ],
            "payment_total": "624.00",
        }

    def test_deny_report_names_rule_and_owes_nothing(self) -> None:
        report = decide(request__production="prod-B").to_report()
        assert report == {
            "id": "engine-case",
            "decision": "deny",
            "reasons": [
                {
                    "code": "CONSENT_WRONG_PRODUCTION",
                    "message": "consent c-1 covers prod-A, not prod-B",
                    "rule": "sag-aftra-tv-theatrical-2023: separate consent for each production",
                }
            ],
            "obligations": [],
            "payment_total": "0.00",
        }

    def test_laws_alone_name_the_default_rule(self) -> None:
        decision = decide(agreement=None, consents=[])
        assert decision.codes == ("NO_CONSENT",)
        assert decision.reasons[0].rule.startswith("default: ")

    def test_ab2602_names_the_statute(self) -> None:
        decision = decide(
            agreement=None,
            replica__created_on="2025-02-01",
            consents__0__specific=False,
            consents__0__representation="none",
        )
        assert decision.codes == ("UNENFORCEABLE_CONTRACT",)
        assert decision.reasons[0].rule.startswith("us-ca-ab2602: Cal. Lab. Code §927")

    def test_deceased_under_laws_alone_names_ab1836(self) -> None:
        decision = decide(
            agreement=None,
            performer__died="2025-01-01",
            consents__0__signed_on="2025-02-01",
            request__on="2025-03-01",
        )
        assert decision.codes == ("CONSENT_WRONG_SIGNER",)
        assert decision.reasons[0].rule.startswith("us-ca-ab1836")


class TestPayments:
    def test_own_rate_wins_over_scale(self) -> None:
        decision = decide(performer__daily_rate="250.00")
        assert decision.payment_total == "750.00"
        assert decision.obligations[0].basis == "3 days x own daily rate 250.00"

    def test_no_days_no_payment(self) -> None:
        decision = decide(request__estimated_days=0)
        assert (decision.decision, decision.obligations, decision.payment_total) == (
            "allow",
            (),
            "0.00",
        )

    def test_laws_alone_owe_no_computed_payment(self) -> None:
        assert decide(agreement=None).payment_total == "0.00"

    def test_case_rates_override_builtin_series_by_series(self) -> None:
        # The case's background series has only 208.00, so the built-in 216.00 (from
        # 2024-07-01, opt-in) is not mixed in; principal has no case series and uses built-in.
        unverified = RateTable.builtin(include_unverified=True)
        assert decide(unverified).payment_total == "624.00"
        principal = decide(unverified, request__role="principal")
        assert principal.payment_total == "3612.00"
        assert principal.obligations[0].basis == "3 days x principal day scale 1204.00"

    def test_verified_builtin_has_no_principal_scale(self) -> None:
        # RULES.md §2 marks every principal figure [U]: by default nothing is computed.
        assert decide(request__role="principal").payment_total == "0.00"

    def test_without_case_rates_unverified_table_gives_derived_scale(self) -> None:
        decision = decide(RateTable.builtin(include_unverified=True), rates=[])
        assert decision.payment_total == "648.00"

    def test_amount_is_decimal(self) -> None:
        amount = decide().obligations[0].amount
        assert isinstance(amount, Decimal)


class TestObligations:
    def test_disclose_ai_in_the_eu_from_article_50(self) -> None:
        decision = decide(jurisdiction="FR", request__on="2026-08-02", agreement="sag-aftra-tv-theatrical-2026")
        assert decision.decision == "allow"
        assert Obligation("disclose_ai") in decision.obligations
        assert {"type": "disclose_ai"} in decision.to_report()["obligations"]

    def test_no_disclosure_before_article_50_applies(self) -> None:
        decision = decide(jurisdiction="FR", request__on="2026-08-01")
        assert all(o.type != "disclose_ai" for o in decision.obligations)

    def test_denied_request_owes_no_disclosure(self) -> None:
        decision = decide(jurisdiction="FR", request__on="2026-09-01", consents=[])
        assert decision.obligations == ()


@pytest.mark.parametrize("code", list(Code))
def test_codes_are_strings_in_reports(code: Code) -> None:
    assert isinstance(code.value, str)
    assert code.value == code.name
