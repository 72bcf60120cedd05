"""Payment obligations: from cleared usage, from scan-only calls, and union adjustments.

Each obligation carries its basis in words and the rate table entry it used (agreement,
category, effective date, amount, source and confidence), so a performer can check the sum.
Amounts follow RULES.md §1 through :mod:`likeness_ledger.compensation.calculator`:

- cleared usage: the rules engine's payment (estimated days x the higher of the performer's own
  daily rate and day scale; principal scale for a background replica in a principal role), raised
  to the Interactive agreement's real-time generation minimum (7.5 x scale, §1.3 [V]) for a use
  whose medium is ``real_time_generation``;
- a completed scan-only call: one paid day (§1.1 [V]);
- residuals: flagged (``residuals_due``) on usage under the TV/Theatrical agreements, which owe
  them "as if the performer had performed in person" (§1.1 [V]); their amount comes from the
  residual formulas, which RULES.md does not give, so they are not computed here.

When no trusted rate is known (most dollar figures in RULES.md §2 are [U]; they are used only
with the ``rates_include_unverified`` setting) the line is recorded with amount 0.00 and
``pending_rate`` set: the use is on the books and the union sets the amount by adjustment.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Final, Literal

from sqlalchemy import ColumnElement, Select, func, literal_column, select
from sqlalchemy.orm import Session

from likeness_ledger.accounts.models import Role
from likeness_ledger.accounts.services import Principal
from likeness_ledger.compensation.calculator import (
    Payment as Pay,
)
from likeness_ledger.compensation.calculator import (
    real_time_generation_minimum,
    scale_category,
    scan_only_call_payment,
    total,
)
from likeness_ledger.compensation.rates import Rate, RateTable
from likeness_ledger.consent.clearance import Decision
from likeness_ledger.consent.rules import rulebook_in_force
from likeness_ledger.db import set_actor
from likeness_ledger.errors import Conflict, InvalidInput, NotFound
from likeness_ledger.registry import services as registry
from likeness_ledger.registry.models import Performer, Production, ScanSession, ScanStatus
from likeness_ledger.usage import schemas
from likeness_ledger.usage.models import CENT, Obligation, ObligationKind, Payment, PaymentAllocation, UsageReport
from likeness_ledger.usage.payments import ZERO, apply_credit, release_excess, root_applied, root_net
from likeness_ledger.usage.visibility import obligation_filter, payment_filter

INTERACTIVE: Final = "sag-aftra-interactive-2025"
#: The medium a usage report names for replica output generated live (e.g. a replica-voiced chatbot).
REAL_TIME_MEDIUM: Final = "real_time_generation"
OWN_RATE_SOURCE: Final = "performer's own daily rate, as recorded with the consent"

Group = Literal["performer", "production", "producer"]


def rates_table(*, include_unverified: bool) -> RateTable:
    """The built-in scale table; [U] rows only when the named setting asks for them."""
    return RateTable.builtin(include_unverified=include_unverified)


def _rate_fields(rate: Rate | None) -> dict[str, object]:
    if rate is None:
        return {}
    return {
        "rate_agreement": rate.agreement,
        "rate_category": rate.category,
        "rate_per": rate.per,
        "rate_effective": rate.effective,
        "rate_amount": rate.amount.quantize(CENT),
        "rate_source": rate.source,
        "rate_confidence": rate.confidence,
    }


def _new_root(**fields: object) -> Obligation:
    obligation_id = uuid.uuid4()
    return Obligation(id=obligation_id, root_id=obligation_id, **fields)


# --- usage ---------------------------------------------------------------------------------------


def usage_obligation(
    session: Session,
    report: UsageReport,
    decision: Decision,
    *,
    production: Production,
    performer: Performer,
    rates: RateTable,
    actor: str,
    today: date,
) -> Obligation | None:
    """Record what a cleared report owes; ``None`` when nothing is owed under any agreement."""
    on = report.used_from
    book = rulebook_in_force(production.agreement, on)
    if book is None:
        # Judged by the laws alone: RULES.md §3 sets no pay the ledger could compute.
        return None
    category = scale_category(performer.category.value, report.role)
    scale = rates.lookup(book.id, category, on)
    payments = [o for o in decision.obligations if o.type == "payment" and o.amount is not None]
    amount = total(o.amount for o in payments if o.amount is not None) if payments else ZERO
    basis = "; ".join(o.basis for o in payments if o.basis)
    own_rate = "own daily rate" in basis
    fields: dict[str, object] = (
        {"rate_source": OWN_RATE_SOURCE, "rate_category": category} if own_rate else _rate_fields(scale)
    )
    realtime = book.id == INTERACTIVE and report.medium == REAL_TIME_MEDIUM
    if realtime and scale is not None:
        minimum = real_time_generation_minimum(scale.amount)
        if amount < minimum:
            amount = minimum
            basis = (basis + "; " if basis else "") + (
                f"raised to the real-time generation minimum 7.5 x scale {scale.amount:.2f} = {minimum:.2f}"
            )
            fields = _rate_fields(scale)
    pending = False
    if not payments and amount == 0:
        if report.estimated_days == 0 and not realtime:
            return None
        pending = True
        days = report.estimated_days
        basis = (
            f"{days} {'day' if days == 1 else 'days'} at {category.replace('_', '-')} day scale: no verified or "
            f"reported rate under {book.id} on {on.isoformat()}; the union sets the amount by adjustment"
        )
        fields = {"rate_agreement": book.id, "rate_category": category, "rate_per": "day"}
    obligation = _new_root(
        kind=ObligationKind.USAGE,
        performer_id=report.performer_id,
        producer_id=report.producer_id,
        production_id=report.production_id,
        usage_report_id=report.id,
        amount=amount,
        basis=basis,
        incurred_on=report.used_until,
        recorded_on=today,
        pending_rate=pending,
        residuals_due=book.id.startswith("sag-aftra-tv-theatrical"),
        created_by=actor,
        **fields,
    )
    session.add(obligation)
    session.flush()
    apply_credit(session, report.producer_id, report.performer_id)
    return obligation


def reverse_report(session: Session, report: UsageReport, *, new_report_id: uuid.UUID, actor: str, today: date) -> None:
    """Cancel what a superseded report owed, by a reversal line in each of its obligation groups."""
    roots = session.scalars(
        select(Obligation).where(Obligation.usage_report_id == report.id, Obligation.id == Obligation.root_id)
    ).all()
    for root in roots:
        net = root_net(session, root.id)
        if net == 0:
            continue
        session.add(
            Obligation(
                root_id=root.id,
                kind=ObligationKind.REVERSAL,
                performer_id=root.performer_id,
                producer_id=root.producer_id,
                production_id=root.production_id,
                usage_report_id=report.id,
                amount=-net,
                basis=f"reversal of {net:.2f}: report {report.id} superseded by report {new_report_id}",
                reason="report amended by a superseding report",
                incurred_on=root.incurred_on,
                recorded_on=today,
                created_by=actor,
            )
        )
        release_excess(session, root.id)
        apply_credit(session, root.producer_id, root.performer_id)


# --- scan-only calls -----------------------------------------------------------------------------


def scan_payment(
    scan: ScanSession, *, production: Production, performer: Performer, rates: RateTable
) -> tuple[Pay | None, Rate | None, str | None]:
    """What a scan-only call owes: the payment, the scale row used, and the agreement in force."""
    on = scan.scheduled_at.date()
    book = rulebook_in_force(production.agreement, on)
    if book is None:
        return None, None, None
    category = performer.category.value
    scale = rates.lookup(book.id, category, on)
    # The registry keeps no own daily rate for a performer, so day scale is the rate here.
    return scan_only_call_payment(own_daily_rate=None, scale=scale, category=category), scale, book.id


def scan_obligation(
    session: Session, principal: Principal, scan_id: uuid.UUID, *, rates: RateTable, today: date
) -> Obligation:
    """Record the paid day owed for a completed scan-only call (once per scan session)."""
    set_actor(session, principal.name)
    principal.require(Role.PRODUCER, Role.UNION, Role.ADMIN, action="record scan-only obligation")
    scan = registry.get_scan_session(session, principal, scan_id)
    existing = session.scalar(select(Obligation).where(Obligation.scan_session_id == scan.id))
    if existing is not None:
        return existing
    if not scan.scan_only_call:
        raise Conflict(f"scan session {scan.id} was not a scan-only call: its day is paid with the job")
    if scan.status is not ScanStatus.COMPLETED:
        raise Conflict(f"scan session {scan.id} is {scan.status.value}: only a completed scan is owed")
    production = session.get(Production, scan.production_id)
    performer = session.get(Performer, scan.performer_id)
    if production is None or performer is None:
        raise NotFound(f"scan session {scan.id} refers to a missing production or performer")
    payment, scale, agreement = scan_payment(scan, production=production, performer=performer, rates=rates)
    on = scan.scheduled_at.date()
    if agreement is None:
        raise Conflict(f"production {production.id} has no agreement: no scan-only pay the ledger can compute")
    if payment is None:
        amount, pending = ZERO, True
        basis = (
            f"1 day (scan-only call) at {performer.category.value} day scale: no verified or reported rate under "
            f"{agreement} on {on.isoformat()}; the union sets the amount by adjustment"
        )
        fields: dict[str, object] = {
            "rate_agreement": agreement,
            "rate_category": performer.category.value,
            "rate_per": "day",
        }
    else:
        amount, pending, basis, fields = payment.amount, False, payment.basis, _rate_fields(scale)
    obligation = _new_root(
        kind=ObligationKind.SCAN_ONLY_CALL,
        performer_id=scan.performer_id,
        producer_id=production.producer_id,
        production_id=production.id,
        scan_session_id=scan.id,
        amount=amount,
        basis=basis,
        incurred_on=on,
        recorded_on=today,
        pending_rate=pending,
        created_by=principal.name,
        **fields,
    )
    session.add(obligation)
    session.flush()
    apply_credit(session, obligation.producer_id, obligation.performer_id)
    return obligation


def sync_scan_obligations(session: Session, principal: Principal, *, rates: RateTable, today: date) -> list[Obligation]:
    """Record the obligation of every completed scan-only call the principal may see that lacks one."""
    principal.require(Role.PRODUCER, Role.UNION, Role.ADMIN, action="record scan-only obligations")
    owed = select(Obligation.scan_session_id).where(Obligation.scan_session_id.is_not(None))
    stmt = (
        select(ScanSession.id, Production.agreement)
        .join(Production, Production.id == ScanSession.production_id)
        .where(
            registry.scan_session_filter(principal),
            ScanSession.scan_only_call.is_(True),
            ScanSession.status == ScanStatus.COMPLETED,
            ScanSession.id.not_in(owed),
            Production.agreement.is_not(None),
        )
        .order_by(ScanSession.scheduled_at, ScanSession.id)
    )
    return [
        scan_obligation(session, principal, scan_id, rates=rates, today=today)
        for scan_id, _ in session.execute(stmt).all()
    ]


# --- union adjustments ---------------------------------------------------------------------------


def create_adjustment(session: Session, principal: Principal, data: schemas.AdjustmentIn, *, today: date) -> Obligation:
    """A union adjustment, with its reason: to an obligation's group, or a new line of its own."""
    set_actor(session, principal.name)
    principal.require(Role.UNION, Role.ADMIN, action="adjust obligations")
    if data.obligation_id is not None:
        target = session.get(Obligation, data.obligation_id)
        if target is None:
            raise NotFound(f"obligation_id: obligation {data.obligation_id} not found")
        root = session.get(Obligation, target.root_id)
        assert root is not None  # narrowing only: root_id is a foreign key
        if root_net(session, root.id) + data.amount < 0:
            raise InvalidInput(f"amount: would take obligation {root.id} below zero")
        adjustment = Obligation(
            root_id=root.id,
            kind=ObligationKind.ADJUSTMENT,
            performer_id=root.performer_id,
            producer_id=root.producer_id,
            production_id=root.production_id,
            usage_report_id=root.usage_report_id,
            amount=data.amount,
            basis=f"union adjustment of {data.amount:.2f} to obligation {root.id}",
            reason=data.reason,
            incurred_on=data.incurred_on or root.incurred_on,
            recorded_on=today,
            created_by=principal.name,
        )
        session.add(adjustment)
        # The union has now set the amount a line without a trusted rate was waiting for.
        root.pending_rate = False
        session.flush()
        release_excess(session, root.id)
    else:
        if data.amount < 0:
            raise InvalidInput("amount: a new adjustment line must be positive (reduce an obligation by its id)")
        assert data.performer_id is not None  # narrowing only: AdjustmentIn checks both are given
        assert data.production_id is not None
        production = session.get(Production, data.production_id)
        if production is None:
            raise NotFound(f"production_id: production {data.production_id} not found")
        if session.get(Performer, data.performer_id) is None:
            raise NotFound(f"performer_id: performer {data.performer_id} not found")
        adjustment = _new_root(
            kind=ObligationKind.ADJUSTMENT,
            performer_id=data.performer_id,
            producer_id=production.producer_id,
            production_id=production.id,
            amount=data.amount,
            basis=f"union adjustment of {data.amount:.2f}",
            reason=data.reason,
            incurred_on=data.incurred_on or today,
            recorded_on=today,
            created_by=principal.name,
        )
        session.add(adjustment)
        session.flush()
    apply_credit(session, adjustment.producer_id, adjustment.performer_id)
    return adjustment


# --- reads ---------------------------------------------------------------------------------------


def due_on(obligation: Obligation, due_days: int) -> date:
    """The day an obligation falls due: ``due_days`` after it was incurred or recorded, the later."""
    return max(obligation.incurred_on, obligation.recorded_on) + timedelta(days=due_days)


def obligation_out(session: Session, obligation: Obligation, *, due_days: int, as_of: date) -> schemas.ObligationOut:
    """The response shape of one line; a root line also gets paid, outstanding and overdue."""
    out = schemas.ObligationOut.model_validate(obligation)
    if obligation.id == obligation.root_id:
        net = root_net(session, obligation.id)
        paid = root_applied(session, obligation.id)
        due = due_on(obligation, due_days)
        left = net - paid
        out = out.model_copy(
            update={"net": net, "paid": paid, "outstanding": left, "due_on": due, "overdue": left > 0 and as_of > due}
        )
    return out


def get_obligation(session: Session, principal: Principal, obligation_id: uuid.UUID) -> Obligation:
    """One obligation line the principal may see."""
    obligation = session.scalars(
        select(Obligation).where(Obligation.id == obligation_id, obligation_filter(principal))
    ).first()
    if obligation is None:
        raise NotFound(f"obligation {obligation_id} not found")
    return obligation


@dataclass(frozen=True)
class ObligationQuery:
    """Filters of an obligation listing."""

    performer_id: uuid.UUID | None = None
    producer_id: uuid.UUID | None = None
    production_id: uuid.UUID | None = None
    kind: ObligationKind | None = None
    incurred_from: date | None = None
    incurred_until: date | None = None
    residuals_due: bool | None = None
    pending_rate: bool | None = None
    overdue_only: bool = False


def _overdue_roots(as_of: date, due_days: int) -> Select[Any]:
    """Roots past their due day with something outstanding."""
    cutoff = as_of - timedelta(days=due_days)
    nets = select(Obligation.root_id.label("root_id"), func.sum(Obligation.amount).label("net")).group_by(
        Obligation.root_id
    )
    applied = select(
        PaymentAllocation.obligation_id.label("root_id"), func.sum(PaymentAllocation.amount).label("applied")
    ).group_by(PaymentAllocation.obligation_id)
    n, a = nets.subquery(), applied.subquery()
    return (
        select(Obligation.id)
        .join(n, n.c.root_id == Obligation.id)
        .outerjoin(a, a.c.root_id == Obligation.id)
        .where(
            Obligation.id == Obligation.root_id,
            Obligation.incurred_on < cutoff,
            Obligation.recorded_on < cutoff,
            n.c.net > func.coalesce(a.c.applied, literal_column("0")),
        )
    )


def list_obligations(
    session: Session,
    principal: Principal,
    query: ObligationQuery,
    *,
    limit: int,
    offset: int,
    due_days: int,
    as_of: date,
) -> tuple[Sequence[Obligation], int]:
    """Obligation lines the principal may see, oldest first."""
    where: list[ColumnElement[bool]] = [obligation_filter(principal)]
    for column, value in (
        (Obligation.performer_id, query.performer_id),
        (Obligation.producer_id, query.producer_id),
        (Obligation.production_id, query.production_id),
        (Obligation.residuals_due, query.residuals_due),
        (Obligation.pending_rate, query.pending_rate),
    ):
        if value is not None:
            where.append(column == value)
    if query.kind is not None:
        where.append(Obligation.kind == query.kind)
    if query.incurred_from is not None:
        where.append(Obligation.incurred_on >= query.incurred_from)
    if query.incurred_until is not None:
        where.append(Obligation.incurred_on <= query.incurred_until)
    if query.overdue_only:
        where.append(Obligation.id.in_(_overdue_roots(as_of, due_days)))
    total_rows = session.scalar(select(func.count()).select_from(Obligation).where(*where)) or 0
    rows = session.scalars(
        select(Obligation)
        .where(*where)
        .order_by(Obligation.incurred_on, Obligation.created_at, Obligation.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return rows, total_rows


def _key(group: Group) -> tuple[Any, Any]:
    obligation_key = {
        "performer": Obligation.performer_id,
        "production": Obligation.production_id,
        "producer": Obligation.producer_id,
    }[group]
    payment_key = {"performer": Payment.performer_id, "production": None, "producer": Payment.producer_id}[group]
    return obligation_key, payment_key


def balances(
    session: Session,
    principal: Principal,
    group: Group,
    *,
    due_days: int,
    as_of: date,
    only: uuid.UUID | None = None,
) -> list[schemas.BalanceOut]:
    """Owed, paid, balance, outstanding, credit and overdue, per performer, production or producer."""
    okey, pkey = _key(group)
    visible = obligation_filter(principal)
    owed: dict[uuid.UUID, Decimal] = {}
    pending: dict[uuid.UUID, int] = {}
    stmt = select(okey, func.sum(Obligation.amount), func.count().filter(Obligation.pending_rate.is_(True)))
    stmt = stmt.where(visible).group_by(okey)
    if only is not None:
        stmt = stmt.where(okey == only)
    for key, amount, pending_lines in session.execute(stmt):
        owed[key] = amount or ZERO
        pending[key] = pending_lines
    paid: dict[uuid.UUID, Decimal] = {}
    if pkey is not None:
        pstmt = select(pkey, func.sum(Payment.amount)).where(payment_filter(principal)).group_by(pkey)
        if only is not None:
            pstmt = pstmt.where(pkey == only)
        paid = {key: amount or ZERO for key, amount in session.execute(pstmt)}
    # Per root: what it amounts to, what is applied, and whether it is past due.
    nets = (
        select(Obligation.root_id.label("root_id"), func.sum(Obligation.amount).label("net"))
        .where(visible)
        .group_by(Obligation.root_id)
        .subquery()
    )
    applied = (
        select(PaymentAllocation.obligation_id.label("root_id"), func.sum(PaymentAllocation.amount).label("applied"))
        .group_by(PaymentAllocation.obligation_id)
        .subquery()
    )
    rstmt = (
        select(okey, nets.c.net, applied.c.applied, Obligation.incurred_on, Obligation.recorded_on)
        .join(nets, nets.c.root_id == Obligation.id)
        .outerjoin(applied, applied.c.root_id == Obligation.id)
        .where(Obligation.id == Obligation.root_id)
    )
    if only is not None:
        rstmt = rstmt.where(okey == only)
    outstanding: dict[uuid.UUID, Decimal] = {}
    applied_by: dict[uuid.UUID, Decimal] = {}
    overdue: dict[uuid.UUID, Decimal] = {}
    for key, net, done, incurred, recorded in session.execute(rstmt):
        net_amount, done_amount = net or ZERO, done or ZERO
        left = net_amount - done_amount
        applied_by[key] = applied_by.get(key, ZERO) + done_amount
        outstanding[key] = outstanding.get(key, ZERO) + left
        if left > 0 and as_of > max(incurred, recorded) + timedelta(days=due_days):
            overdue[key] = overdue.get(key, ZERO) + left
    rows = []
    for key in sorted(set(owed) | set(paid), key=str):
        owed_amount = owed.get(key, ZERO)
        paid_amount = paid.get(key, ZERO) if pkey is not None else applied_by.get(key, ZERO)
        credit = paid_amount - applied_by.get(key, ZERO) if pkey is not None else ZERO
        rows.append(
            schemas.BalanceOut(
                group=group,
                id=key,
                obligations=owed_amount,
                paid=paid_amount,
                balance=owed_amount - paid_amount,
                outstanding=outstanding.get(key, ZERO),
                credit=credit,
                overdue=overdue.get(key, ZERO),
                pending_rate_lines=pending.get(key, 0),
            )
        )
    return rows
