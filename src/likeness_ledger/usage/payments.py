"""Payments by producers, and the ledger arithmetic that applies them to obligations.

A payment made against an obligation is applied to it first, up to what is outstanding. Whatever
a producer has paid a performer and not yet applied is credit: it is applied, oldest payment
first, to that performer's oldest open obligations with the same producer, whenever one exists
(now, or when a later obligation is recorded). When an obligation shrinks below what was already
applied to it (a reversal, a negative adjustment), the excess is released back to credit by a
negative allocation, so allocations are only ever appended.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from likeness_ledger.accounts.models import Role
from likeness_ledger.accounts.services import Principal
from likeness_ledger.db import set_actor
from likeness_ledger.errors import Conflict, InvalidInput, NotFound
from likeness_ledger.registry.models import Performer, Producer
from likeness_ledger.usage import schemas
from likeness_ledger.usage.models import CENT, Obligation, Payment, PaymentAllocation
from likeness_ledger.usage.visibility import obligation_filter, payment_filter

ZERO = Decimal("0.00")


def _sum(value: Decimal | None) -> Decimal:
    return (value if value is not None else ZERO).quantize(CENT)


# --- ledger arithmetic --------------------------------------------------------------------------


def root_net(session: Session, root_id: uuid.UUID) -> Decimal:
    """What a root obligation amounts to after its adjustments and reversals."""
    return _sum(session.scalar(select(func.sum(Obligation.amount)).where(Obligation.root_id == root_id)))


def root_applied(session: Session, root_id: uuid.UUID) -> Decimal:
    """How much of all payments is applied to a root obligation."""
    return _sum(
        session.scalar(select(func.sum(PaymentAllocation.amount)).where(PaymentAllocation.obligation_id == root_id))
    )


def payment_applied(session: Session, payment_id: uuid.UUID) -> Decimal:
    """How much of one payment is applied to obligations (the rest is credit)."""
    return _sum(
        session.scalar(select(func.sum(PaymentAllocation.amount)).where(PaymentAllocation.payment_id == payment_id))
    )


def open_roots(session: Session, producer_id: uuid.UUID, performer_id: uuid.UUID) -> list[tuple[uuid.UUID, Decimal]]:
    """Roots between a producer and a performer with something outstanding, oldest first."""
    pair = (Obligation.producer_id == producer_id, Obligation.performer_id == performer_id)
    nets = (
        select(Obligation.root_id.label("root_id"), func.sum(Obligation.amount).label("net"))
        .where(*pair)
        .group_by(Obligation.root_id)
        .subquery()
    )
    applied = (
        select(PaymentAllocation.obligation_id.label("root_id"), func.sum(PaymentAllocation.amount).label("applied"))
        .join(Obligation, Obligation.id == PaymentAllocation.obligation_id)
        .where(*pair)
        .group_by(PaymentAllocation.obligation_id)
        .subquery()
    )
    rows = session.execute(
        select(Obligation.id, nets.c.net, applied.c.applied)
        .join(nets, nets.c.root_id == Obligation.id)
        .outerjoin(applied, applied.c.root_id == Obligation.id)
        .where(Obligation.id == Obligation.root_id)
        .order_by(Obligation.incurred_on, Obligation.created_at, Obligation.id)
    )
    result = []
    for root_id, net, done in rows:
        left = _sum(net) - _sum(done)
        if left > 0:
            result.append((root_id, left))
    return result


def unapplied_payments(
    session: Session, producer_id: uuid.UUID, performer_id: uuid.UUID
) -> list[tuple[uuid.UUID, Decimal]]:
    """Payments from a producer to a performer with some amount not yet applied, oldest first."""
    applied = (
        select(PaymentAllocation.payment_id.label("payment_id"), func.sum(PaymentAllocation.amount).label("applied"))
        .group_by(PaymentAllocation.payment_id)
        .subquery()
    )
    rows = session.execute(
        select(Payment.id, Payment.amount, applied.c.applied)
        .outerjoin(applied, applied.c.payment_id == Payment.id)
        .where(Payment.producer_id == producer_id, Payment.performer_id == performer_id)
        .order_by(Payment.paid_on, Payment.created_at, Payment.id)
    )
    result = []
    for payment_id, amount, done in rows:
        left = amount - _sum(done)
        if left > 0:
            result.append((payment_id, left))
    return result


def apply_credit(session: Session, producer_id: uuid.UUID, performer_id: uuid.UUID) -> None:
    """Apply unapplied payments to open obligations of the same pair, oldest to oldest."""
    session.flush()
    credits = unapplied_payments(session, producer_id, performer_id)
    if not credits:
        return
    roots = open_roots(session, producer_id, performer_id)
    c = r = 0
    while c < len(credits) and r < len(roots):
        payment_id, credit = credits[c]
        root_id, owed = roots[r]
        step = min(credit, owed)
        session.add(PaymentAllocation(payment_id=payment_id, obligation_id=root_id, amount=step))
        credits[c] = (payment_id, credit - step)
        roots[r] = (root_id, owed - step)
        if credits[c][1] == 0:
            c += 1
        if roots[r][1] == 0:
            r += 1
    session.flush()


def release_excess(session: Session, root_id: uuid.UUID) -> None:
    """After a root shrank, move what is applied beyond its new total back to credit."""
    session.flush()
    excess = root_applied(session, root_id) - max(root_net(session, root_id), ZERO)
    if excess <= 0:
        return
    # Undo the latest payments' allocations first, so the oldest payments stay applied.
    per_payment = session.execute(
        select(PaymentAllocation.payment_id, func.sum(PaymentAllocation.amount), func.max(PaymentAllocation.created_at))
        .where(PaymentAllocation.obligation_id == root_id)
        .group_by(PaymentAllocation.payment_id)
        .order_by(func.max(PaymentAllocation.created_at).desc(), PaymentAllocation.payment_id.desc())
    ).all()
    for payment_id, applied, _ in per_payment:
        if excess <= 0:
            break
        step = min(_sum(applied), excess)
        if step > 0:
            session.add(PaymentAllocation(payment_id=payment_id, obligation_id=root_id, amount=-step))
            excess -= step
    session.flush()


# --- payments ------------------------------------------------------------------------------------


def record_payment(session: Session, principal: Principal, data: schemas.PaymentIn) -> Payment:
    """Record a payment by a producer (or by the union/admin on its behalf) and apply it."""
    set_actor(session, principal.name)
    principal.require(Role.PRODUCER, Role.UNION, Role.ADMIN, action="record payment")
    root, producer_id, performer_id = _payee(session, principal, data)
    if data.reference is not None and session.scalar(
        select(Payment.id).where(Payment.producer_id == producer_id, Payment.reference == data.reference)
    ):
        raise Conflict(f"reference: a payment with reference {data.reference!r} is already recorded")
    payment = Payment(
        producer_id=producer_id,
        performer_id=performer_id,
        obligation_id=data.obligation_id,
        amount=data.amount,
        paid_on=data.paid_on,
        reference=data.reference,
        recorded_by=principal.name,
    )
    session.add(payment)
    session.flush()
    if root is not None:
        owed = root_net(session, root.id) - root_applied(session, root.id)
        step = min(owed, data.amount)
        if step > 0:
            session.add(PaymentAllocation(payment_id=payment.id, obligation_id=root.id, amount=step))
    apply_credit(session, producer_id, performer_id)
    return payment


def _payee(
    session: Session, principal: Principal, data: schemas.PaymentIn
) -> tuple[Obligation | None, uuid.UUID, uuid.UUID]:
    """The root obligation paid against (if any), the paying producer and the performer paid."""
    root: Obligation | None = None
    if data.obligation_id is not None:
        obligation = session.scalars(
            select(Obligation).where(Obligation.id == data.obligation_id, obligation_filter(principal))
        ).first()
        if obligation is None:
            raise NotFound(f"obligation_id: obligation {data.obligation_id} not found")
        if data.performer_id is not None and data.performer_id != obligation.performer_id:
            raise InvalidInput("performer_id: does not match the obligation's performer")
        if data.producer_id is not None and data.producer_id != obligation.producer_id:
            raise InvalidInput("producer_id: does not match the obligation's producer")
        root = session.get(Obligation, obligation.root_id)
        producer_id, performer_id = obligation.producer_id, obligation.performer_id
    else:
        assert data.performer_id is not None  # narrowing only: PaymentIn requires one of the two
        performer_id = data.performer_id
        if principal.role is Role.PRODUCER:
            assert principal.producer_id is not None  # narrowing only: a producer account has one
            if data.producer_id is not None and data.producer_id != principal.producer_id:
                raise NotFound(f"producer_id: producer {data.producer_id} not found")
            producer_id = principal.producer_id
        elif data.producer_id is None:
            raise InvalidInput("producer_id: required when the union or an admin records a payment on account")
        else:
            producer_id = data.producer_id
        if session.get(Producer, producer_id) is None:
            raise NotFound(f"producer_id: producer {producer_id} not found")
        if session.get(Performer, performer_id) is None:
            raise NotFound(f"performer_id: performer {performer_id} not found")
    return root, producer_id, performer_id


def payment_out(session: Session, payment: Payment) -> schemas.PaymentOut:
    """The response shape of a payment, with how much of it is applied."""
    applied = payment_applied(session, payment.id)
    return schemas.PaymentOut(
        id=payment.id,
        producer_id=payment.producer_id,
        performer_id=payment.performer_id,
        obligation_id=payment.obligation_id,
        amount=payment.amount,
        currency=payment.currency,
        paid_on=payment.paid_on,
        reference=payment.reference,
        recorded_by=payment.recorded_by,
        applied=applied,
        credit=payment.amount - applied,
        created_at=payment.created_at,
    )


def get_payment(session: Session, principal: Principal, payment_id: uuid.UUID) -> Payment:
    """One payment the principal may see."""
    payment = session.scalars(select(Payment).where(Payment.id == payment_id, payment_filter(principal))).first()
    if payment is None:
        raise NotFound(f"payment {payment_id} not found")
    return payment


def list_payments(
    session: Session,
    principal: Principal,
    *,
    limit: int,
    offset: int,
    performer_id: uuid.UUID | None = None,
    producer_id: uuid.UUID | None = None,
    paid_from: date | None = None,
    paid_until: date | None = None,
) -> tuple[Sequence[Payment], int]:
    """Payments the principal may see, newest first, optionally filtered."""
    where = [payment_filter(principal)]
    if performer_id is not None:
        where.append(Payment.performer_id == performer_id)
    if producer_id is not None:
        where.append(Payment.producer_id == producer_id)
    if paid_from is not None:
        where.append(Payment.paid_on >= paid_from)
    if paid_until is not None:
        where.append(Payment.paid_on <= paid_until)
    total = session.scalar(select(func.count()).select_from(Payment).where(*where)) or 0
    rows = session.scalars(
        select(Payment).where(*where).order_by(Payment.paid_on.desc(), Payment.id).limit(limit).offset(offset)
    ).all()
    return rows, total
