"""Payment arithmetic (RULES.md §1.1, §1.3): Decimal in, Decimal out."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from likeness_ledger.compensation import (
    Rate,
    money,
    real_time_generation_minimum,
    replica_use_payment,
    scale_category,
    scan_only_call_payment,
    total,
)
from likeness_ledger.compensation.calculator import day_rate


def scale(amount: str, category: str = "background") -> Rate:
    return Rate("sag-aftra-tv-theatrical-2023", category, "day", Decimal(amount), date(2024, 7, 1), "test", "case")


class TestDayRate:
    def test_scale_when_no_own_rate(self) -> None:
        assert day_rate(own_daily_rate=None, scale=scale("216.00"), category="background") == (
            Decimal("216.00"),
            "background day scale 216.00",
        )

    def test_higher_own_rate(self) -> None:
        assert day_rate(own_daily_rate=Decimal("300"), scale=scale("216.00"), category="background") == (
            Decimal("300"),
            "own daily rate 300.00",
        )

    def test_scale_when_own_rate_is_lower_or_equal(self) -> None:
        found = day_rate(own_daily_rate=Decimal("216.00"), scale=scale("216.00"), category="background")
        assert found is not None
        assert found[1] == "background day scale 216.00"

    def test_own_rate_without_scale(self) -> None:
        found = day_rate(own_daily_rate=Decimal("99.5"), scale=None, category="background")
        assert found == (Decimal("99.5"), "own daily rate 99.50")

    def test_nothing_known(self) -> None:
        assert day_rate(own_daily_rate=None, scale=None, category="background") is None


@pytest.mark.parametrize(
    ("performer", "role", "expected"),
    [
        ("background", "background", "background"),
        ("background", "principal", "principal"),
        ("principal", "background", "principal"),
        ("principal", "principal", "principal"),
    ],
)
def test_scale_category(performer: str, role: str, expected: str) -> None:
    assert scale_category(performer, role) == expected


class TestReplicaUse:
    def test_days_times_rate(self) -> None:
        payment = replica_use_payment(days=3, own_daily_rate=None, scale=scale("208.00"), category="background")
        assert payment is not None
        assert payment.amount == Decimal("624.00")
        assert payment.basis == "3 days x background day scale 208.00"

    def test_one_day_wording(self) -> None:
        payment = replica_use_payment(
            days=1, own_daily_rate=None, scale=scale("1204.00", "principal"), category="principal"
        )
        assert payment is not None
        assert payment.basis == "1 day x principal day scale 1204.00"

    def test_cents_round_half_up(self) -> None:
        payment = replica_use_payment(days=3, own_daily_rate=Decimal("100.005"), scale=None, category="background")
        assert payment is not None
        assert payment.amount == Decimal("300.02")

    @pytest.mark.parametrize("days", [0, -1])
    def test_no_days_no_payment(self, days: int) -> None:
        assert replica_use_payment(days=days, own_daily_rate=None, scale=scale("1"), category="background") is None

    def test_unknown_rate_no_payment(self) -> None:
        assert replica_use_payment(days=2, own_daily_rate=None, scale=None, category="background") is None


class TestScanOnlyCall:
    def test_one_paid_day(self) -> None:
        payment = scan_only_call_payment(own_daily_rate=None, scale=scale("208.00"), category="background")
        assert payment is not None
        assert payment.amount == Decimal("208.00")
        assert payment.basis == "1 day (scan-only call) x background day scale 208.00"

    def test_unknown_rate(self) -> None:
        assert scan_only_call_payment(own_daily_rate=None, scale=None, category="background") is None


def test_real_time_generation_minimum_is_seven_and_a_half_times_scale() -> None:
    assert real_time_generation_minimum(Decimal("1100.00")) == Decimal("8250.00")


def test_total_and_money() -> None:
    assert total([]) == Decimal("0.00")
    assert str(total([Decimal("208"), Decimal("0.005")])) == "208.01"
    assert str(money(Decimal("1"))) == "1.00"
