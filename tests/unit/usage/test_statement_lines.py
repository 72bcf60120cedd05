"""Statement lines as the fast path builds them: order, descriptions, cents and the CSV text."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

from likeness_ledger.usage import documents
from likeness_ledger.usage import obligations as obl
from likeness_ledger.usage import payments as pay
from likeness_ledger.usage import services as svc
from likeness_ledger.usage import statements as st_
from likeness_ledger.usage.schemas import AdjustmentIn, PaymentIn, UsageReportIn

from .conftest import RATES, FakeConsent
from .test_properties import TODAY, UNION, fresh_world


def test_lines_descriptions_order_and_csv_agree_to_the_cent() -> None:
    db, studio, performer_id, production_id, asset_id = fresh_world()
    consent = FakeConsent({"crowd", "promo", "poster"})
    for use, on, days in (
        ("crowd", date(2026, 7, 3), 2),
        ("promo", date(2026, 8, 10), 3),
        ("poster", date(2026, 8, 10), 1),
    ):
        data = UsageReportIn(
            production_id=production_id,
            performer_id=performer_id,
            asset_id=asset_id,
            use=use,
            role="background",
            medium="theatrical",
            used_from=on,
            used_until=on,
            estimated_days=days,
            estimated_by="LP",
        )
        with db.write() as s:
            svc.submit_report(s, studio, data, rates=RATES, today=TODAY, evaluate=consent)
    with db.write() as s:
        obl.create_adjustment(
            s,
            UNION,
            AdjustmentIn(
                performer_id=performer_id,
                production_id=production_id,
                amount=Decimal("0.05"),
                reason="audit",
                incurred_on=date(2026, 8, 10),
            ),
            today=TODAY,
        )
        pay.record_payment(
            s, studio, PaymentIn(performer_id=performer_id, amount=Decimal("100.01"), paid_on=date(2026, 8, 10))
        )
    with db.read() as s:
        aug = st_.performer_statement(s, UNION, performer_id, st_.parse_period("2026-08"))
        again = st_.performer_statement(s, UNION, performer_id, st_.parse_period("2026-08"))
    db.dispose()

    assert sorted(line.kind for line in aug.lines) == ["adjustment", "payment", "usage", "usage"]
    # Obligations of a day by id, then that day's payments; the same statement twice is identical.
    owed = [line for line in aug.lines if line.kind != "payment"]
    assert [line.reference for line in owed] == sorted(line.reference for line in owed)
    assert aug.lines[-1].kind == "payment" and aug.lines == again.lines
    adjustment = next(line for line in aug.lines if line.kind == "adjustment")
    assert adjustment.description == "union adjustment of 0.05 (audit)" and adjustment.amount == Decimal("0.05")
    assert all(len(line.reference) == 36 and line.reference.count("-") == 4 for line in aug.lines)
    # Amounts are exact two-place Decimals made from the integer cents.
    for line in aug.lines:
        assert line.amount == Decimal(line.cents) / 100 and line.amount.as_tuple().exponent == -2
    assert (aug.opening, aug.earned, aug.paid, aug.closing) == (
        Decimal("462.00"),
        Decimal("924.05"),
        Decimal("100.01"),
        Decimal("1286.04"),
    )
    monthly = dict(aug.monthly)
    assert (monthly["2026-07"], monthly["2026-08"], monthly["2026-06"]) == (
        Decimal("462.00"),
        Decimal("924.05"),
        Decimal("0.00"),
    )
    rows = list(csv.DictReader(io.StringIO(documents.csv_text(aug))))
    lines = [row for row in rows if row["section"] == "line"]
    assert [Decimal(row["amount"]) for row in lines] == [line.amount for line in aug.lines]
    assert lines[-1]["amount"] == "-100.01" and lines[-1]["flags"] == ""
    totals = {row["description"]: row["amount"] for row in rows if row["section"] == "total"}
    assert totals == {"earned": "924.05", "paid": "100.01", "closing balance": "1286.04"}
    assert st_.statement_out(aug).lines[-1].amount == Decimal("-100.01")


def test_money_text_from_cents() -> None:
    cases = {0: "0.00", 5: "0.05", -5: "-0.05", -100: "-1.00", 123456: "1234.56", -987654321: "-9876543.21"}
    assert {cents: documents.money_text(cents) for cents in cases} == cases
    for cents in cases:
        assert documents.money_text(cents) == f"{st_.dollars(cents):.2f}"
        assert st_.to_cents(st_.dollars(cents)) == cents
