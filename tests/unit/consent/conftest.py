"""Shared checks for the clearance case suites."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from likeness_ledger.consent import Case, Decision, clear

REPORT_KEYS = {"id", "decision", "reasons", "obligations", "payment_total"}


def check_against_expectation(path: Path, case: Case) -> Decision:
    """Clear ``case`` and compare it with its ``expect`` block.

    FORMAT.md gives no order for reason codes, so they are compared as sets; payment_total only
    when the case states one.
    """
    assert case.expect is not None, f"{path.name}: no expect block"
    decision = clear(case)
    report = decision.to_report()
    assert set(report) == REPORT_KEYS
    assert report["id"] == case.id
    assert (report["decision"], sorted(r["code"] for r in report["reasons"])) == (
        case.expect.decision,
        sorted(case.expect.reasons),
    ), f"{path.name}: {report['reasons']}"
    if case.expect.payment_total is not None:
        assert report["payment_total"] == case.expect.payment_total, f"{path.name}: {report}"
    if decision.decision == "deny":
        assert report["payment_total"] == "0.00"
        assert report["obligations"] == []
    return decision


@pytest.fixture
def check_case() -> Callable[[Path, Case], Decision]:
    return check_against_expectation
