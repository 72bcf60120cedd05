"""Usage reports: clearing, violations, idempotency, amendments and output lookups."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from likeness_ledger.compensation.rates import Rate, RateTable
from likeness_ledger.errors import Conflict, Forbidden, InvalidInput, NotFound
from likeness_ledger.usage import obligations as obl
from likeness_ledger.usage import services as svc
from likeness_ledger.usage.models import Obligation, ObligationKind, ReportStatus, UsageReport
from likeness_ledger.usage.schemas import UsageReportIn

from .conftest import RATES, TODAY, FakeConsent, World

SHA_A = "a" * 64
SHA_B = "b" * 64


def report(world: World, **over: object) -> UsageReportIn:
    data: dict[str, object] = {
        "production_id": world.film_id,
        "performer_id": world.maya_id,
        "asset_id": world.maya_asset,
        "use": "crowd-scenes",
        "role": "background",
        "medium": "theatrical",
        "used_from": date(2026, 9, 20),
        "used_until": date(2026, 9, 22),
        "estimated_days": 3,
        "estimated_by": "Line producer D. Kim",
        "outputs": [SHA_A, SHA_B],
    }
    data.update(over)
    return UsageReportIn.model_validate(data)


def submit(world: World, data: UsageReportIn, consent: FakeConsent, who: str = "studio") -> tuple[UsageReport, bool]:
    with world.rt.db.write() as s:
        return svc.submit_report(s, getattr(world, who), data, rates=RATES, today=TODAY, evaluate=consent)


def test_cleared_report_becomes_an_obligation_with_basis_and_rate(world: World) -> None:
    consent = FakeConsent({"crowd-scenes"})
    rep, new = submit(world, report(world), consent)
    assert new and rep.status is ReportStatus.CLEARED
    # Cleared on the first and the last day of use.
    assert [q.on for q in consent.calls] == [date(2026, 9, 20), date(2026, 9, 22)]
    with world.rt.db.read() as s:
        line = s.scalar(select(Obligation).where(Obligation.usage_report_id == rep.id))
        assert line is not None
        assert line.amount == Decimal("693.00")
        assert line.basis == "3 days x background day scale 231.00"
        assert (line.rate_agreement, line.rate_category, line.rate_effective) == (
            "sag-aftra-tv-theatrical-2026",
            "background",
            date(2026, 7, 1),
        )
        assert line.rate_amount == Decimal("231.00") and line.rate_confidence == "U"
        assert line.residuals_due  # TV/Theatrical: residuals as if worked in person
        out = svc.report_out(s, rep)
        assert out.outputs == [SHA_A, SHA_B] and out.obligation_id == line.id


def test_uncleared_report_is_kept_as_violation_and_owes_nothing(world: World) -> None:
    rep, _ = submit(world, report(world, use="sequel-promo"), FakeConsent())
    assert rep.status is ReportStatus.VIOLATION
    with world.rt.db.read() as s:
        out = svc.report_out(s, rep)
        assert [r.code for r in out.reasons] == ["NO_CONSENT"]
        assert out.obligation_id is None
        # The performer and the union see it; the other producer does not.
        for who in (world.maya, world.union, world.studio):
            rows, total = svc.list_reports(s, who, limit=10, offset=0, status=ReportStatus.VIOLATION)
            assert [r.id for r in rows] == [rep.id] and total == 1
        assert svc.list_reports(s, world.jon, limit=10, offset=0)[1] == 0
        with pytest.raises(NotFound):
            svc.get_report(s, world.games, rep.id)


def test_same_report_twice_is_stored_once(world: World) -> None:
    consent = FakeConsent({"crowd-scenes"})
    first, new1 = submit(world, report(world), consent)
    # Outputs count as a set: order and repeats do not make a new report.
    second, new2 = submit(world, report(world, outputs=[SHA_B, SHA_A, SHA_A]), consent)
    assert new1 and not new2 and first.id == second.id
    with world.rt.db.read() as s:
        assert s.scalar(select(func.count()).select_from(UsageReport)) == 1
        assert s.scalar(select(func.sum(Obligation.amount))) == Decimal("693.00")


def test_amendment_supersedes_and_reverses(world: World) -> None:
    consent = FakeConsent({"crowd-scenes"})
    old, _ = submit(world, report(world), consent)
    new, _ = submit(world, report(world, estimated_days=5, supersedes=old.id), consent)
    with world.rt.db.read() as s:
        assert svc.report_out(s, old).superseded_by == new.id
        kinds = {o.kind: o.amount for o in s.scalars(select(Obligation))}
        assert kinds[ObligationKind.REVERSAL] == Decimal("-693.00")
        assert s.scalar(select(func.sum(Obligation.amount))) == Decimal("1155.00")
        current, _ = svc.list_reports(s, world.union, limit=10, offset=0, current_only=True)
        assert [r.id for r in current] == [new.id]
    with pytest.raises(Conflict, match="already superseded"):
        submit(world, report(world, estimated_days=4, supersedes=old.id), consent)
    with pytest.raises(InvalidInput, match="supersedes"):
        submit(world, report(world, production_id=world.game_id, supersedes=new.id), consent, who="union")


def test_replica_not_on_file_is_a_violation(world: World) -> None:
    consent = FakeConsent({"crowd-scenes"})
    rep, _ = submit(world, report(world, asset_id=None), consent)
    assert rep.status is ReportStatus.VIOLATION and consent.calls == []
    with world.rt.db.read() as s:
        assert [r.code for r in svc.report_out(s, rep).reasons] == ["NO_CONSENT"]


def test_roles_and_ownership(world: World) -> None:
    consent = FakeConsent({"crowd-scenes"})
    with pytest.raises(Forbidden):
        submit(world, report(world), consent, who="maya")
    with pytest.raises(NotFound):  # another producer's production
        submit(world, report(world), consent, who="games")
    submit(world, report(world), consent, who="union")


def test_outputs_by_sha256_returns_the_current_cleared_report(world: World) -> None:
    consent = FakeConsent({"crowd-scenes"})
    bad, _ = submit(world, report(world, use="sequel-promo", outputs=["c" * 64]), consent)
    old, _ = submit(world, report(world), consent)
    new, _ = submit(world, report(world, supersedes=old.id, outputs=[SHA_A]), consent)
    with world.rt.db.read() as s:
        found = svc.outputs_by_sha256(s, [SHA_A.upper(), SHA_B, "c" * 64, "d" * 64])
        assert {k: [r.id for r in v] for k, v in found.items()} == {SHA_A: [new.id]}
        everything = svc.reports_by_sha256(s, [SHA_B, "c" * 64])
        assert [r.id for r in everything[SHA_B]] == [old.id]
        assert [r.id for r in everything["c" * 64]] == [bad.id]


def test_pending_rate_when_no_trusted_rate(world: World) -> None:
    # Without [U] rows there is no background day scale: the engine owes nothing it can compute.
    trusted = obl.rates_table(include_unverified=False)
    consent = FakeConsent({"crowd-scenes"})
    consent.day_rate = Decimal(0)

    def no_payment(s, q, *, rates=None):  # type: ignore[no-untyped-def]
        d = consent(s, q, rates=rates)
        return d.__class__(d.case_id, d.decision, d.reasons, (), "0.00")

    with world.rt.db.write() as s:
        rep, _ = svc.submit_report(s, world.studio, report(world), rates=trusted, today=TODAY, evaluate=no_payment)
    with world.rt.db.read() as s:
        line = s.scalar(select(Obligation).where(Obligation.usage_report_id == rep.id))
        assert line is not None and line.pending_rate and line.amount == Decimal("0.00")
        assert "the union sets the amount" in line.basis


def test_real_time_generation_minimum(world: World) -> None:
    scale = Rate("sag-aftra-interactive-2025", "principal", "day", Decimal("1000.00"), date(2025, 7, 9), "test", "V")
    rates = RateTable([*RATES, scale])
    consent = FakeConsent({"chatbot"}, day_rate=Decimal("1000.00"))
    data = report(
        world,
        production_id=world.game_id,
        use="chatbot",
        role="principal",
        medium="real_time_generation",
        estimated_days=2,
    )
    with world.rt.db.write() as s:
        rep, _ = svc.submit_report(s, world.games, data, rates=rates, today=TODAY, evaluate=consent)
        line = s.scalar(select(Obligation).where(Obligation.usage_report_id == rep.id))
        assert line is not None and line.amount == Decimal("7500.00")
        assert "real-time generation minimum 7.5 x scale 1000.00" in line.basis
        assert not line.residuals_due
