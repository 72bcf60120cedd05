"""Effective-dated rate tables (RULES.md §2)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from importlib import resources

import pytest

from likeness_ledger.compensation.rates import (
    BUILTIN_FILES,
    Rate,
    RateTable,
    parse_amount,
    rates_from_document,
)
from likeness_ledger.errors import InvalidInput

TV23 = "sag-aftra-tv-theatrical-2023"
TV26 = "sag-aftra-tv-theatrical-2026"


def rate(amount: str, effective: date, category: str = "background") -> Rate:
    return Rate(TV23, category, "day", Decimal(amount), effective, "test", "case")


class TestLookup:
    table = RateTable(
        [
            rate("208.00", date(2023, 11, 9)),
            rate("216.00", date(2024, 7, 1)),
            rate("224.00", date(2025, 7, 1)),
        ]
    )

    @pytest.mark.parametrize(
        ("on", "expected"),
        [
            (date(2023, 11, 8), None),
            (date(2023, 11, 9), "208.00"),
            (date(2024, 6, 30), "208.00"),
            (date(2024, 7, 1), "216.00"),
            (date(2025, 6, 30), "216.00"),
            (date(2025, 7, 1), "224.00"),
            (date(2029, 1, 1), "224.00"),
        ],
    )
    def test_latest_row_effective_on_or_before_the_day(self, on: date, expected: str | None) -> None:
        found = self.table.lookup(TV23, "background", on)
        assert (str(found.amount) if found is not None else None) == expected

    def test_unknown_series(self) -> None:
        assert self.table.lookup(TV23, "principal", date(2025, 1, 1)) is None
        assert self.table.lookup(TV26, "background", date(2027, 1, 1)) is None
        assert self.table.lookup(TV23, "background", date(2025, 1, 1), per="week") is None

    def test_rows_need_not_come_sorted(self) -> None:
        table = RateTable([rate("216.00", date(2024, 7, 1)), rate("208.00", date(2023, 11, 9))])
        found = table.lookup(TV23, "background", date(2024, 1, 1))
        assert found is not None
        assert found.amount == Decimal("208.00")

    def test_two_rows_for_one_day_are_refused(self) -> None:
        with pytest.raises(InvalidInput, match="two background day rates"):
            RateTable([rate("1.00", date(2024, 1, 1)), rate("2.00", date(2024, 1, 1))])

    def test_override_replaces_whole_series(self) -> None:
        case = RateTable([rate("300.00", date(2024, 1, 1))])
        merged = self.table.overridden_by(case)
        found = merged.lookup(TV23, "background", date(2025, 8, 1))
        assert found is not None
        assert found.amount == Decimal("300.00")
        assert merged.lookup(TV23, "background", date(2023, 12, 1)) is None
        assert len(merged) == 1
        assert self.table.overridden_by(RateTable([])) is self.table


class TestBuiltin:
    def test_default_uses_only_verified_or_reported_rows(self) -> None:
        table = RateTable.builtin()
        assert {r.confidence for r in table} <= {"V", "R"}
        assert table.lookup(TV23, "background", date(2024, 9, 1)) is None
        stand_in = table.lookup(TV23, "stand_in", date(2024, 9, 1))
        assert stand_in is not None
        assert stand_in.amount == Decimal("253.00")

    def test_unverified_rows_are_opt_in(self) -> None:
        table = RateTable.builtin(include_unverified=True)
        background = table.lookup(TV23, "background", date(2024, 9, 1))
        principal = table.lookup(TV26, "principal", date(2026, 7, 1))
        weekly = table.lookup(TV23, "principal", date(2025, 7, 1), per="week")
        assert background is not None
        assert principal is not None
        assert weekly is not None
        assert (background.amount, principal.amount, weekly.amount) == (
            Decimal("216.00"),
            Decimal("1283.00"),
            Decimal("4326.00"),
        )
        assert background.confidence == "U"

    def test_every_row_has_source_date_and_string_amount(self) -> None:
        package = resources.files("likeness_ledger.compensation") / "data"
        for name in BUILTIN_FILES:
            document = json.loads((package / name).read_text(encoding="utf-8"))
            for row in document["rates"]:
                assert isinstance(row["amount"], str)
                assert row["source"].startswith("RULES.md §2")
                date.fromisoformat(row["effective"])
            assert rates_from_document(document, where=name)

    def test_verified_stand_in_figures_match_rules(self) -> None:
        table = RateTable.builtin()
        assert [str(r.amount) for r in table if r.category == "stand_in" and r.agreement == TV23] == [
            "243.00",
            "253.00",
            "262.00",
        ]


class TestDocuments:
    def test_bad_rows_are_refused(self) -> None:
        good = {
            "category": "background",
            "per": "day",
            "amount": "1.00",
            "effective": "2024-01-01",
            "confidence": "V",
            "source": "x",
        }
        with pytest.raises(InvalidInput, match="expected 'agreement'"):
            rates_from_document({"rates": []}, where="d")
        with pytest.raises(InvalidInput, match=r"rates\[0\]: expected exactly the fields"):
            rates_from_document({"agreement": TV23, "rates": [{**good, "extra": 1}]}, where="d")
        with pytest.raises(InvalidInput, match="confidence"):
            rates_from_document({"agreement": TV23, "rates": [{**good, "confidence": "?"}]}, where="d")
        with pytest.raises(InvalidInput, match="invalid date"):
            rates_from_document({"agreement": TV23, "rates": [{**good, "effective": "soon"}]}, where="d")


@pytest.mark.parametrize("value", [208, "abc", "-1.00", "NaN", None])
def test_parse_amount_refuses_non_money(value: object) -> None:
    with pytest.raises(InvalidInput):
        parse_amount(value, where="amount")


def test_parse_amount() -> None:
    assert parse_amount("208.00", where="amount") == Decimal("208.00")
