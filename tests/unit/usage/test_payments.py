"""Payments, credit, adjustments, balances and overdue obligations."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from likeness_ledger.errors import Conflict, Forbidden, InvalidInput, NotFound
from likeness_ledger.usage import obligations as obl
from likeness_ledger.usage import payments as pay
from likeness_ledger.usage import services as svc
from likeness_ledger.usage.models import Obligation, ObligationKind
from likeness_ledger.usage.schemas import AdjustmentIn, PaymentIn

from .conftest import RATES, TODAY, FakeConsent, World
from .test_reports import report


def owe(world: World, days: int = 3, use: str = "crowd-scenes") -> Obligation:
    consent = FakeConsent({use})
    with world.rt.db.write() as s:
        rep, _ = svc.submit_report(
            s, world.studio, report(world, estimated_days=days, use=use), rates=RATES, today=TODAY, evaluate=consent
        )
        line = s.scalar(select(Obligation).where(Obligation.usage_report_id == rep.id))
        assert line is not None
        return line


def pay_(world: World, who: str = "studio", **fields: object) -> pay.schemas.PaymentOut:
    with world.rt.db.write() as s:
        payment = pay.record_payment(s, getattr(world, who), PaymentIn.model_validate(fields))
        return pay.payment_out(s, payment)


def balance(world: World, who: str = "union", group: obl.Group = "performer", as_of: date = TODAY):  # type: ignore[no-untyped-def]
    with world.rt.db.read() as s:
        rows = obl.balances(s, getattr(world, who), group, due_days=30, as_of=as_of)
    return {r.id: r for r in rows}


def test_partial_then_overpayment_becomes_credit_and_is_applied_later(world: World) -> None:
    first = owe(world)  # 693.00
    p1 = pay_(world, obligation_id=str(first.id), amount="500.00", paid_on="2026-10-02", reference="T-1")
    assert (p1.applied, p1.credit) == (Decimal("500.00"), Decimal("0.00"))
    p2 = pay_(world, obligation_id=str(first.id), amount="300.00", paid_on="2026-10-03")
    assert (p2.applied, p2.credit) == (Decimal("193.00"), Decimal("107.00"))
    row = balance(world)[world.maya_id]
    assert row.balance == Decimal("-107.00") and row.credit == Decimal("107.00") and row.outstanding == 0
    # A later obligation takes the credit first.
    second = owe(world, days=1, use="crowd-scenes-2")  # 231.00
    with world.rt.db.read() as s:
        out = obl.obligation_out(s, second, due_days=30, as_of=TODAY)
        assert (out.paid, out.outstanding) == (Decimal("107.00"), Decimal("124.00"))
    row = balance(world)[world.maya_id]
    assert (row.obligations, row.paid, row.balance, row.credit) == (
        Decimal("924.00"),
        Decimal("800.00"),
        Decimal("124.00"),
        Decimal("0.00"),
    )


def test_reversal_releases_payment_back_to_credit(world: World) -> None:
    first = owe(world)
    pay_(world, obligation_id=str(first.id), amount="693.00", paid_on="2026-10-02")
    consent = FakeConsent({"crowd-scenes"})
    with world.rt.db.write() as s:
        svc.submit_report(
            s,
            world.studio,
            report(world, estimated_days=2, supersedes=first.usage_report_id),
            rates=RATES,
            today=TODAY,
            evaluate=consent,
        )
    row = balance(world)[world.maya_id]
    # Owed 693 - 693 + 462; paid 693: 231 credit, nothing outstanding.
    assert (row.obligations, row.balance, row.outstanding, row.credit) == (
        Decimal("462.00"),
        Decimal("-231.00"),
        Decimal("0.00"),
        Decimal("231.00"),
    )


def test_union_adjustments_need_a_reason_and_keep_roots_non_negative(world: World) -> None:
    first = owe(world)
    with world.rt.db.write() as s:
        adj = obl.create_adjustment(
            s,
            world.union,
            AdjustmentIn(obligation_id=first.id, amount=Decimal("-93.00"), reason="agreed estimate 2.6 days"),
            today=TODAY,
        )
        assert adj.kind is ObligationKind.ADJUSTMENT and adj.root_id == first.id
        assert obl.obligation_out(s, first, due_days=30, as_of=TODAY).net == Decimal("600.00")
    with pytest.raises(InvalidInput, match="below zero"), world.rt.db.write() as s:
        obl.create_adjustment(
            s, world.union, AdjustmentIn(obligation_id=first.id, amount=Decimal("-600.01"), reason="x"), today=TODAY
        )
    with pytest.raises(Forbidden), world.rt.db.write() as s:
        obl.create_adjustment(
            s, world.studio, AdjustmentIn(obligation_id=first.id, amount=Decimal("1.00"), reason="x"), today=TODAY
        )
    with pytest.raises(ValueError, match="reason"):
        AdjustmentIn.model_validate({"obligation_id": str(first.id), "amount": "1.00", "reason": ""})
    with pytest.raises(ValueError, match="decimal string"):
        AdjustmentIn.model_validate({"obligation_id": str(first.id), "amount": 1.5, "reason": "x"})


def test_overdue_after_the_configured_days(world: World) -> None:
    first = owe(world)  # incurred 2026-09-22, recorded 2026-10-01: due 30 days after the later
    with world.rt.db.read() as s:
        due = obl.obligation_out(s, first, due_days=30, as_of=TODAY).due_on
        assert due == date(2026, 10, 31)
        assert not obl.obligation_out(s, first, due_days=30, as_of=due).overdue
        assert obl.obligation_out(s, first, due_days=30, as_of=due + timedelta(days=1)).overdue
        late = obl.ObligationQuery(overdue_only=True)
        assert obl.list_obligations(s, world.union, late, limit=9, offset=0, due_days=30, as_of=due)[1] == 0
        rows, _ = obl.list_obligations(s, world.union, late, limit=9, offset=0, due_days=5, as_of=due)
        assert [r.id for r in rows] == [first.id]
    assert balance(world, as_of=date(2026, 11, 1))[world.maya_id].overdue == Decimal("693.00")
    pay_(world, obligation_id=str(first.id), amount="693.00", paid_on="2026-11-01")
    assert balance(world, as_of=date(2026, 11, 1))[world.maya_id].overdue == 0


def test_who_may_pay_and_see(world: World) -> None:
    first = owe(world)
    with pytest.raises(Forbidden):
        pay_(world, who="maya", obligation_id=str(first.id), amount="1.00", paid_on="2026-10-02")
    with pytest.raises(NotFound):
        pay_(world, who="games", obligation_id=str(first.id), amount="1.00", paid_on="2026-10-02")
    pay_(world, obligation_id=str(first.id), amount="1.00", paid_on="2026-10-02", reference="R-9")
    with pytest.raises(Conflict, match="reference"):
        pay_(world, obligation_id=str(first.id), amount="1.00", paid_on="2026-10-02", reference="R-9")
    with pytest.raises(InvalidInput, match="producer_id"):
        pay_(world, who="union", performer_id=str(world.maya_id), amount="1.00", paid_on="2026-10-02")
    # The performer sees its own money; the other producer sees none of it.
    assert world.maya_id in balance(world, who="maya")
    assert balance(world, who="games") == {}
    assert balance(world, who="jon") == {}
    assert set(balance(world, who="studio", group="producer")) == {world.studio.producer_id}
    by_production = balance(world, group="production")[world.film_id]
    assert by_production.paid == Decimal("1.00") and by_production.balance == Decimal("692.00")


def test_scan_only_call_owes_one_paid_day(world: World) -> None:
    with world.rt.db.write() as s:
        lines = obl.sync_scan_obligations(s, world.union, rates=RATES, today=TODAY)
        again = obl.sync_scan_obligations(s, world.union, rates=RATES, today=TODAY)
    assert again == []
    scan_lines = [line for line in lines if line.kind is ObligationKind.SCAN_ONLY_CALL]
    assert len(scan_lines) >= 1
    line = scan_lines[0]
    # Maya, background, scanned 2026-09-08 under the 2026 agreement: one day at 231.00 ([U] row).
    assert line.amount == Decimal("231.00")
    assert line.basis == "1 day (scan-only call) x background day scale 231.00"
    assert (line.rate_agreement, line.rate_effective, line.rate_confidence) == (
        "sag-aftra-tv-theatrical-2026",
        date(2026, 7, 1),
        "U",
    )
    with world.rt.db.write() as s:
        trusted = obl.rates_table(include_unverified=False)
        s.delete(s.get(Obligation, line.id))
        s.flush()
        pending = obl.scan_obligation(s, world.studio, line.scan_session_id, rates=trusted, today=TODAY)  # type: ignore[arg-type]
        assert pending.pending_rate and pending.amount == 0
