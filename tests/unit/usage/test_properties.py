"""Property tests: for any sequence of reports, adjustments and payments the ledger balances.

Each example runs on a fresh in-memory database holding one producer, one production, one
performer and one replica, with the consent service replaced by :class:`FakeConsent`.
"""

from __future__ import annotations

import tempfile
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from likeness_ledger.accounts.models import Role
from likeness_ledger.accounts.services import Principal
from likeness_ledger.all_models import Base
from likeness_ledger.db import Database
from likeness_ledger.errors import InvalidInput
from likeness_ledger.registry.models import (
    Performer,
    PerformerCategory,
    Producer,
    Production,
    ProductionType,
    ReplicaAsset,
    ReplicaKind,
    ReplicaMedia,
)
from likeness_ledger.usage import obligations as obl
from likeness_ledger.usage import payments as pay
from likeness_ledger.usage import services as svc
from likeness_ledger.usage import statements as st_
from likeness_ledger.usage.models import Obligation, Payment, PaymentAllocation, UsageReport
from likeness_ledger.usage.schemas import AdjustmentIn, PaymentIn, UsageReportIn
from likeness_ledger.vault.models import VaultBlob

from .conftest import RATES, FakeConsent

TODAY = date(2026, 10, 1)
UNION = Principal(uuid.uuid4(), "union", Role.UNION)

report_op = st.tuples(
    st.just("report"),
    st.sampled_from(["crowd", "promo", "denied"]),
    st.integers(0, 4),
    st.booleans(),  # send it twice
    st.integers(-1, 5),  # supersede the n-th earlier report (negative: none)
)
adjust_op = st.tuples(st.just("adjust"), st.integers(-1, 5), st.integers(-30_000, 30_000))
pay_op = st.tuples(st.just("pay"), st.integers(-1, 5), st.integers(1, 120_000), st.booleans())
ops = st.lists(st.one_of(report_op, adjust_op, pay_op), min_size=1, max_size=12)


def fresh_world() -> tuple[Database, Principal, uuid.UUID, uuid.UUID, uuid.UUID]:
    folder = Path(tempfile.mkdtemp(prefix="ledger-prop-"))
    db = Database(f"sqlite:///{folder / 'ledger.db'}")
    Base.metadata.create_all(db.engine)
    with db.write() as s:
        producer = Producer(name="P")
        performer = Performer(legal_name="A", category=PerformerCategory.BACKGROUND)
        s.add_all([producer, performer])
        s.flush()
        production = Production(
            producer_id=producer.id, title="F", type=ProductionType.THEATRICAL, agreement="sag-aftra-tv-theatrical-2026"
        )
        s.add(production)
        s.add(VaultBlob(sha256="0" * 64, size=1))
        s.flush()
        asset = ReplicaAsset(
            performer_id=performer.id,
            kind=ReplicaKind.EMPLOYMENT_BASED,
            media=ReplicaMedia.FACE,
            sha256="0" * 64,
            size=1,
            content_type="x",
        )
        s.add(asset)
        s.flush()
        studio = Principal(uuid.uuid4(), "studio", Role.PRODUCER, producer_id=producer.id)
        return db, studio, performer.id, production.id, asset.id


def check(db: Database, performer_id: uuid.UUID) -> None:
    with db.read() as s:
        owed = s.scalar(select(func.sum(Obligation.amount))) or Decimal(0)
        paid = s.scalar(select(func.sum(Payment.amount))) or Decimal(0)
        rows = obl.balances(s, UNION, "performer", due_days=30, as_of=TODAY)
        row = rows[0] if rows else None
        if row is None:
            assert owed == 0 and paid == 0
            return
        # obligations - payments = balance, and the balance is what is outstanding less credit.
        assert row.obligations - row.paid == row.balance == owed - paid
        assert row.balance == row.outstanding - row.credit
        assert row.outstanding >= 0 and row.credit >= 0
        # No root has more applied than it amounts to, and no payment is applied beyond itself.
        for root in s.scalars(select(Obligation).where(Obligation.id == Obligation.root_id)):
            net, applied = pay.root_net(s, root.id), pay.root_applied(s, root.id)
            assert net >= 0 and 0 <= applied <= net
        for payment in s.scalars(select(Payment)):
            assert 0 <= pay.payment_applied(s, payment.id) <= payment.amount
        assert (s.scalar(select(func.sum(PaymentAllocation.amount))) or 0) == row.paid - row.credit
        # A statement over all time closes on the same balance.
        statement = st_.performer_statement(
            s, UNION, performer_id, st_.Period("all", date(2000, 1, 1), date(2100, 1, 1))
        )
        assert statement.opening == 0 and statement.closing == row.balance


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops)
def test_ledger_always_balances(sequence: list[tuple[object, ...]]) -> None:
    db, studio, performer_id, production_id, asset_id = fresh_world()
    consent = FakeConsent({"crowd", "promo"})
    reports: list[uuid.UUID] = []
    fingerprints: set[str] = set()
    day = date(2026, 9, 1)
    for step, op in enumerate(sequence):
        day += timedelta(days=1)
        if op[0] == "report":
            _, use, days, twice, sup = op
            supersedes = reports[sup] if 0 <= int(sup) < len(reports) else None  # type: ignore[call-overload]
            data = UsageReportIn(
                production_id=production_id,
                performer_id=performer_id,
                asset_id=asset_id,
                use=str(use),
                role="background",
                medium="theatrical",
                used_from=day,
                used_until=day,
                estimated_days=int(days),  # type: ignore[call-overload]
                estimated_by="LP",
                outputs=[f"{step:064x}"],
                supersedes=supersedes,
            )
            for _ in range(2 if twice else 1):
                before = _totals(db)
                try:
                    with db.write() as s:
                        rep, new = svc.submit_report(s, studio, data, rates=RATES, today=TODAY, evaluate=consent)
                except Exception as exc:  # an amendment of an amended report is refused
                    assert "already superseded" in str(exc)
                    break
                if new:
                    reports.append(rep.id)
                    fingerprints.add(rep.fingerprint)
                else:
                    assert _totals(db) == before  # the same report twice is counted once
        elif op[0] == "adjust":
            _, target, cents = op
            with db.read() as s:
                roots = s.scalars(select(Obligation.id).where(Obligation.id == Obligation.root_id)).all()
            amount = Decimal(int(cents)).scaleb(-2)  # type: ignore[call-overload]
            if amount == 0:
                continue
            data_adj = (
                AdjustmentIn(obligation_id=roots[int(target) % len(roots)], amount=amount, reason="review")  # type: ignore[call-overload]
                if roots and int(target) >= 0  # type: ignore[call-overload]
                else AdjustmentIn(
                    performer_id=performer_id, production_id=production_id, amount=abs(amount), reason="bonus"
                )
            )
            try:
                with db.write() as s:
                    obl.create_adjustment(s, UNION, data_adj, today=TODAY)
            except InvalidInput as exc:
                assert "below zero" in str(exc)
        else:
            _, target, cents, on_account = op
            with db.read() as s:
                roots = s.scalars(select(Obligation.id).where(Obligation.id == Obligation.root_id)).all()
            fields: dict[str, object] = {"amount": Decimal(int(cents)).scaleb(-2), "paid_on": day}  # type: ignore[call-overload]
            if roots and not on_account and int(target) >= 0:  # type: ignore[call-overload]
                fields["obligation_id"] = roots[int(target) % len(roots)]  # type: ignore[call-overload]
            else:
                fields["performer_id"] = performer_id
            with db.write() as s:
                pay.record_payment(s, studio, PaymentIn.model_validate(fields))
        check(db, performer_id)
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(UsageReport)) == len(fingerprints) == len(reports)
    db.dispose()


def _totals(db: Database) -> tuple[object, ...]:
    with db.read() as s:
        return (
            s.scalar(select(func.count()).select_from(UsageReport)),
            s.scalar(select(func.count()).select_from(Obligation)),
            s.scalar(select(func.sum(Obligation.amount))),
        )


def test_statement_totals_reconcile_for_a_period(tmp_path: Path) -> None:
    db, studio, performer_id, production_id, asset_id = fresh_world()
    consent = FakeConsent({"crowd"})
    for month, days in ((7, 2), (8, 3), (9, 1)):
        data = UsageReportIn(
            production_id=production_id,
            performer_id=performer_id,
            asset_id=asset_id,
            use="crowd",
            role="background",
            medium="theatrical",
            used_from=date(2026, month, 10),
            used_until=date(2026, month, 10),
            estimated_days=days,
            estimated_by="LP",
        )
        with db.write() as s:
            svc.submit_report(s, studio, data, rates=RATES, today=TODAY, evaluate=consent)
    with db.write() as s:
        pay.record_payment(
            s, studio, PaymentIn(performer_id=performer_id, amount=Decimal("500.00"), paid_on=date(2026, 8, 15))
        )
    with db.read() as s:
        q3 = st_.performer_statement(s, UNION, performer_id, st_.parse_period("2026-Q3"))
        aug = st_.performer_statement(s, UNION, performer_id, st_.parse_period("2026-08"))
    assert (q3.opening, q3.earned, q3.paid, q3.closing) == (0, Decimal("1386.00"), Decimal("500.00"), Decimal("886.00"))
    assert (aug.opening, aug.earned, aug.paid, aug.closing) == (
        Decimal("462.00"),
        Decimal("693.00"),
        Decimal("500.00"),
        Decimal("655.00"),
    )
    assert dict(q3.monthly)["2026-08"] == Decimal("693.00") and len(q3.monthly) == 12
    db.dispose()


def test_period_parsing() -> None:
    assert st_.parse_period("2025-Q3") == st_.Period("2025-Q3", date(2025, 7, 1), date(2025, 9, 30))
    assert st_.parse_period("2024-02").end == date(2024, 2, 29)
    assert st_.parse_period("2025").end == date(2025, 12, 31)
    for bad in ("2025-Q5", "2025-13", "25-01", "2025-1"):
        try:
            st_.parse_period(bad)
        except InvalidInput as exc:
            assert "period" in str(exc)
        else:
            raise AssertionError(bad)
    _ = datetime.now(UTC)
