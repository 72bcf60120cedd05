"""Statements: what a performer (or a production) earned and was paid in a period.

A statement has an opening balance (everything owed before the period less everything paid
before it), the period's lines (obligations, adjustments, reversals and payments), and a closing
balance; ``closing = opening + earned - paid`` holds to the cent, because every figure is a sum
of the same Decimal lines. Violations reported in the period are listed too, since a performer
should learn of an uncleared use of their replica from their own statement.

The monthly run (:func:`monthly_run`) writes every performer's statement for a month as CSV. It
streams the month's lines from the database ordered by performer, holding one performer's lines
at a time, so its memory does not grow with the size of the ledger.
"""

from __future__ import annotations

import calendar
import gc
import json
import re
import uuid
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import partial
from itertools import compress
from operator import itemgetter
from typing import Any, Literal, NamedTuple

from sqlalchemy import BigInteger, ColumnElement, Select, String, and_, case, cast, func, select, type_coerce
from sqlalchemy.orm import Session, aliased

from likeness_ledger.accounts.models import Role
from likeness_ledger.accounts.services import Principal
from likeness_ledger.db import Database
from likeness_ledger.errors import InvalidInput, NotFound
from likeness_ledger.registry import services as registry
from likeness_ledger.registry.models import Performer, Producer, Production
from likeness_ledger.usage.models import (
    CENT,
    Obligation,
    ObligationKind,
    Payment,
    PaymentAllocation,
    ReportStatus,
    UsageReport,
)
from likeness_ledger.usage.schemas import MonthOut, StatementLineOut, StatementOut, ViolationOut
from likeness_ledger.usage.visibility import obligation_filter, payment_filter, report_filter

ZERO = Decimal("0.00")
LineKind = Literal["usage", "scan_only_call", "adjustment", "reversal", "payment"]
CHART_MONTHS = 12

_PERIOD = re.compile(r"^(?P<y>\d{4})(?:-(?:Q(?P<q>[1-4])|(?P<m>0[1-9]|1[0-2])))?$")


@dataclass(frozen=True, slots=True)
class Period:
    """A calendar year, quarter or month, both ends included."""

    label: str
    start: date
    end: date

    @property
    def months(self) -> list[tuple[int, int]]:
        """The (year, month) pairs the period spans."""
        out = []
        year, month = self.start.year, self.start.month
        while (year, month) <= (self.end.year, self.end.month):
            out.append((year, month))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return out


def parse_period(text: str, *, field_name: str = "period") -> Period:
    """Parse ``2025``, ``2025-Q3`` or ``2025-11``."""
    match = _PERIOD.match(text.strip())
    if match is None:
        raise InvalidInput(f"{field_name}: expected YYYY, YYYY-Qn or YYYY-MM, got {text!r}")
    year = int(match["y"])
    if match["q"]:
        first = (int(match["q"]) - 1) * 3 + 1
        last = first + 2
    elif match["m"]:
        first = last = int(match["m"])
    else:
        first, last = 1, 12
    end = date(year, last, calendar.monthrange(year, last)[1])
    return Period(text.strip(), date(year, first, 1), end)


class StatementLine(NamedTuple):
    """One line: an obligation (positive or negative) or a payment (shown as a negative amount).

    A tuple holding integer cents: a 100,000-line statement is built straight from the database
    rows (one tuple per row, no Python per column) and summed as integers, and ``amount`` makes the Decimal
    only where one is shown.
    """

    on: date
    kind: LineKind
    reference: str
    production: str
    producer: str
    description: str
    cents: int
    residuals_due: bool = False
    pending_rate: bool = False

    @property
    def amount(self) -> Decimal:
        """The amount in dollars, exactly two places."""
        return dollars(self.cents)


#: ``StatementLine._make`` without its Python frame: a row whose columns are the fields in order.
_line_from_row: Callable[[Iterable[Any]], StatementLine] = partial(tuple.__new__, StatementLine)


def dollars(cents: int) -> Decimal:
    """Integer cents as two-place Decimal dollars (an integer's exponent is 0, so this is exact)."""
    return Decimal(cents).scaleb(-2)


def to_cents(amount: Decimal) -> int:
    """Two-place Decimal dollars as integer cents; refuses fractions of a cent."""
    cents = amount.scaleb(2)
    if cents != cents.to_integral_value():
        raise ValueError(f"money must be whole cents, got {amount}")
    return int(cents)


@dataclass(frozen=True, slots=True)
class ViolationLine:
    """A usage report in the period that failed clearance."""

    on: date
    report_id: uuid.UUID
    production: str
    use: str
    codes: str


@dataclass
class Statement:
    """A statement and its totals; every total is a sum of ``lines``."""

    subject: Literal["performer", "production"]
    subject_id: uuid.UUID
    subject_name: str
    period: Period
    opening: Decimal
    lines: list[StatementLine]
    violations: list[ViolationLine] = field(default_factory=list)
    #: (YYYY-MM, earned) for the chart: the months up to the period's last.
    monthly: list[tuple[str, Decimal]] = field(default_factory=list)

    @property
    def earned(self) -> Decimal:
        """Obligations of the period (adjustments and reversals included)."""
        return dollars(_owed_cents(self.lines))

    @property
    def paid(self) -> Decimal:
        """Payments of the period, as a positive amount."""
        return dollars(_owed_cents(self.lines) - sum(map(_CENTS, self.lines)))

    @property
    def closing(self) -> Decimal:
        """Opening balance + earned - paid; negative means the producers hold credit."""
        return (self.opening + self.earned - self.paid).quantize(CENT)

    @property
    def by_production(self) -> list[tuple[str, Decimal, Decimal]]:
        """(production, earned, paid) per production, in the order first seen."""
        rows: dict[str, list[int]] = {}
        for line in self.lines:
            entry = rows.get(line.production)
            if entry is None:
                entry = rows[line.production] = [0, 0]
            if line.kind == "payment":
                entry[1] -= line.cents
            else:
                entry[0] += line.cents
        return [(name, dollars(earned), dollars(paid)) for name, (earned, paid) in rows.items()]


def _title_maps(session: Session) -> tuple[dict[uuid.UUID, str], dict[uuid.UUID, str]]:
    productions: dict[uuid.UUID, str] = dict(session.execute(select(Production.id, Production.title)).all())
    producers: dict[uuid.UUID, str] = dict(session.execute(select(Producer.id, Producer.name)).all())
    return productions, producers


def _describe(kind: str, basis: str, reason: str | None) -> str:
    return f"{basis} ({reason})" if reason and kind in ("adjustment", "reversal") else basis


def _dashed_id(session: Session, column: Any) -> Any:
    """A UUID column as canonical text, made by the database rather than per row in Python.

    SQLite keeps 32 hex digits, so the dashes are put in there with ``substr``; PostgreSQL's
    text form of a uuid is already canonical.
    """
    if session.get_bind().dialect.name != "sqlite":
        return cast(column, String)
    text = type_coerce(column, String)
    parts = [func.substr(text, start, length) for start, length in ((1, 8), (9, 4), (13, 4), (17, 4), (21, 12))]
    dashed_text: ColumnElement[str] = parts[0]
    for part in parts[1:]:
        dashed_text = dashed_text.concat("-").concat(part)
    return dashed_text


def _obligation_lines(session: Session, where: list[ColumnElement[bool]]) -> list[StatementLine]:
    # One Core query whose columns are the line's fields in order, so each row becomes a line
    # with no Python per column: the id is dashed, the description put together and the amount
    # left as integer cents by the database (a 100,000-line statement spent most of its time
    # on per-row Python before).
    description = case(
        (
            and_(
                Obligation.kind.in_([ObligationKind.ADJUSTMENT, ObligationKind.REVERSAL]),
                Obligation.reason.is_not(None),
                Obligation.reason != "",
            ),
            Obligation.basis.concat(" (").concat(Obligation.reason).concat(")"),
        ),
        else_=Obligation.basis,
    )
    stmt = (
        select(
            Obligation.incurred_on,
            type_coerce(Obligation.kind, String),
            _dashed_id(session, Obligation.id),
            Production.title,
            Producer.name,
            description,
            type_coerce(Obligation.amount, BigInteger),
            Obligation.residuals_due,
            Obligation.pending_rate,
        )
        .join(Production, Production.id == Obligation.production_id)
        .join(Producer, Producer.id == Obligation.producer_id)
        .where(*where)
        # By day, then id, as the monthly run orders them: the same statement reads the same
        # every time (PostgreSQL gave a day's lines in any order). On SQLite the (performer,
        # day) index delivers the days in order and only each day's ties are sorted.
        .order_by(Obligation.incurred_on, Obligation.id)
    )
    with _collector_paused():
        # ``all()`` fetches in one DBAPI call; iterating the result would fetch row by row.
        return list(map(_line_from_row, session.connection().execute(stmt).all()))


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Hold the cyclic garbage collector while a statement's rows are read.

    Reading 100,000 rows allocates a few hundred thousand container objects, which sets off
    full collections that walk everything else the process holds: with a few statements alive
    that was a third of the build time. Nothing made here forms a cycle, so nothing is missed;
    the collector runs as usual afterwards. If it was already off, it is left off.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def by_day(owed: list[StatementLine], paid: list[StatementLine]) -> list[StatementLine]:
    """Merge two day-ordered lists; on the same day obligations come before payments.

    The sort is stable and sees two ordered runs, which it merges in one pass in C.
    """
    return sorted(owed + paid, key=_ON)


_ON = itemgetter(0)
_KIND = itemgetter(1)
_CENTS = itemgetter(6)


def _owed_cents(lines: Sequence[StatementLine]) -> int:
    """The cents of the lines that are not payments, summed without a Python step per line."""
    return sum(compress(map(_CENTS, lines), map("payment".__ne__, map(_KIND, lines))))


def _payment_description(reference: str | None, obligation_id: uuid.UUID | None) -> str:
    text = "payment"
    if reference:
        text += f" ref {reference}"
    if obligation_id:
        text += f" against obligation {obligation_id}"
    return text


def _sum(session: Session, stmt: Select[Any]) -> Decimal:
    value = session.scalar(stmt)
    if value is None:
        return ZERO
    if not isinstance(value, Decimal):
        raise TypeError(f"expected a money sum, got {type(value).__name__}")
    return value.quantize(CENT)


def _monthly(
    session: Session, where: list[ColumnElement[bool]], period: Period, lines: list[StatementLine]
) -> list[tuple[str, Decimal]]:
    """Earned per month for the chart: the ``CHART_MONTHS`` months ending with the period.

    The period's own months are summed from its lines (already read, under the same filter);
    only earlier months are asked of the database.
    """
    end_year, end_month = period.end.year, period.end.month
    months: list[tuple[int, int]] = []
    year, month = end_year, end_month
    for _ in range(CHART_MONTHS):
        months.append((year, month))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    months.reverse()
    first = date(months[0][0], months[0][1], 1)
    cents = dict.fromkeys(months, 0)
    if first < period.start:
        rows = session.execute(
            select(Obligation.incurred_on, func.sum(type_coerce(Obligation.amount, BigInteger)))
            .where(*where, Obligation.incurred_on >= first, Obligation.incurred_on < period.start)
            .group_by(Obligation.incurred_on)
        )
        for on, amount in rows:
            cents[on.year, on.month] += int(amount or 0)
    # The lines are in day order: each month of the period is one slice of them.
    for year, month in period.months:
        if (year, month) in cents:
            start = bisect_left(lines, date(year, month, 1), key=_ON)
            end = bisect_right(lines, date(year, month, calendar.monthrange(year, month)[1]), key=_ON)
            cents[year, month] += _owed_cents(lines[start:end])
    return [(f"{y:04d}-{m:02d}", dollars(amount)) for (y, m), amount in cents.items()]


def performer_statement(session: Session, principal: Principal, performer_id: uuid.UUID, period: Period) -> Statement:
    """A performer's statement: all of it for them and the union, a producer's own part for a producer."""
    performer = session.get(Performer, performer_id)
    if performer is None or (principal.acts_for_performer and principal.performer_id != performer_id):
        raise NotFound(f"performer {performer_id} not found")
    if principal.role not in (Role.PERFORMER, Role.REPRESENTATIVE, Role.PRODUCER, Role.UNION, Role.ADMIN):
        raise NotFound(f"performer {performer_id} not found")
    owed: list[ColumnElement[bool]] = [obligation_filter(principal), Obligation.performer_id == performer_id]
    paid: list[ColumnElement[bool]] = [payment_filter(principal), Payment.performer_id == performer_id]
    if principal.role is Role.PRODUCER:
        # A producer sees a performer's statement only as far as it owes that performer anything.
        has_lines = session.scalar(select(Obligation.id).where(*owed).limit(1)) or session.scalar(
            select(Payment.id).where(*paid).limit(1)
        )
        if not has_lines:
            raise NotFound(f"performer {performer_id} not found")
    names = _title_maps(session)
    opening = _sum(session, select(func.sum(Obligation.amount)).where(*owed, Obligation.incurred_on < period.start))
    opening -= _sum(session, select(func.sum(Payment.amount)).where(*paid, Payment.paid_on < period.start))
    lines = _obligation_lines(
        session, [*owed, Obligation.incurred_on >= period.start, Obligation.incurred_on <= period.end]
    )
    productions, producers = names
    payments: list[StatementLine] = []
    paid_against = aliased(Obligation)
    for on, pid, producer_id, obligation_id, reference, amount, production_id in session.execute(
        select(
            Payment.paid_on,
            Payment.id,
            Payment.producer_id,
            Payment.obligation_id,
            Payment.reference,
            Payment.amount,
            paid_against.production_id,
        )
        .outerjoin(paid_against, paid_against.id == Payment.obligation_id)
        .where(*paid, Payment.paid_on >= period.start, Payment.paid_on <= period.end)
        .order_by(Payment.paid_on, Payment.created_at, Payment.id)
    ):
        payments.append(
            StatementLine(
                on=on,
                kind="payment",
                reference=str(pid),
                production=productions.get(production_id, "(on account)") if production_id else "(on account)",
                producer=producers.get(producer_id, str(producer_id)),
                description=_payment_description(reference, obligation_id),
                cents=-to_cents(amount),
            )
        )
    lines = by_day(lines, payments)
    violations = _violations(
        session, [report_filter(principal), UsageReport.performer_id == performer_id], period, productions
    )
    return Statement(
        subject="performer",
        subject_id=performer.id,
        subject_name=performer.professional_name or performer.legal_name,
        period=period,
        opening=opening.quantize(CENT),
        lines=lines,
        violations=violations,
        monthly=_monthly(session, owed, period, lines),
    )


def _violations(
    session: Session, where: list[ColumnElement[bool]], period: Period, productions: dict[uuid.UUID, str]
) -> list[ViolationLine]:
    rows = session.execute(
        select(
            UsageReport.used_from, UsageReport.id, UsageReport.production_id, UsageReport.use_key, UsageReport.reasons
        )
        .where(
            *where,
            UsageReport.status == ReportStatus.VIOLATION,
            UsageReport.used_from <= period.end,
            UsageReport.used_until >= period.start,
        )
        .order_by(UsageReport.used_from, UsageReport.id)
    )
    out = []
    for on, rid, production_id, use, reasons in rows:
        codes = ",".join(sorted({str(reason["code"]) for reason in json.loads(reasons)}))
        out.append(ViolationLine(on, rid, productions.get(production_id, str(production_id)), use, codes))
    return out


def production_statement(session: Session, principal: Principal, production_id: uuid.UUID, period: Period) -> Statement:
    """A production's statement: its obligations and the payments applied to them, by date paid."""
    production = registry.get_production(session, principal, production_id)
    owed: list[ColumnElement[bool]] = [obligation_filter(principal), Obligation.production_id == production_id]
    names = _title_maps(session)
    applied = (
        select(
            Payment.paid_on,
            Payment.id,
            Payment.producer_id,
            Payment.reference,
            func.sum(PaymentAllocation.amount).label("applied"),
        )
        .join(PaymentAllocation, PaymentAllocation.payment_id == Payment.id)
        .join(Obligation, Obligation.id == PaymentAllocation.obligation_id)
        .where(*owed)
        .group_by(Payment.paid_on, Payment.id, Payment.producer_id, Payment.reference)
    )
    before = applied.where(Payment.paid_on < period.start).subquery()
    opening = _sum(session, select(func.sum(Obligation.amount)).where(*owed, Obligation.incurred_on < period.start))
    # The subquery's SUM column is typed as money, so the outer SUM is converted to dollars too.
    opening -= _sum(session, select(func.sum(before.c.applied)))
    lines = _obligation_lines(
        session, [*owed, Obligation.incurred_on >= period.start, Obligation.incurred_on <= period.end]
    )
    _, producers = names
    payments: list[StatementLine] = []
    rows = session.execute(
        applied.where(Payment.paid_on >= period.start, Payment.paid_on <= period.end).order_by(
            Payment.paid_on, Payment.id
        )
    )
    for on, pid, producer_id, reference, amount in rows:
        if amount:
            payments.append(
                StatementLine(
                    on=on,
                    kind="payment",
                    reference=str(pid),
                    production=production.title,
                    producer=producers.get(producer_id, str(producer_id)),
                    description=_payment_description(reference, None) + " (applied to this production)",
                    cents=-to_cents(amount),
                )
            )
    lines = by_day(lines, payments)
    return Statement(
        subject="production",
        subject_id=production.id,
        subject_name=production.title,
        period=period,
        opening=opening.quantize(CENT),
        lines=lines,
        violations=_violations(
            session, [report_filter(principal), UsageReport.production_id == production_id], period, names[0]
        ),
        monthly=_monthly(session, owed, period, lines),
    )


# --- the monthly run ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RunSummary:
    """What a monthly run produced."""

    period: Period
    statements: int
    lines: int
    earned: Decimal
    paid: Decimal


def _opening_balances(session: Session, period: Period) -> Iterator[tuple[uuid.UUID, Decimal]]:
    """(performer, opening balance) for every performer with history before the period, in id order."""
    owed = (
        select(Obligation.performer_id.label("pid"), func.sum(Obligation.amount).label("amount"))
        .where(Obligation.incurred_on < period.start)
        .group_by(Obligation.performer_id)
        .order_by(Obligation.performer_id)
    )
    paid = (
        select(Payment.performer_id.label("pid"), func.sum(Payment.amount).label("amount"))
        .where(Payment.paid_on < period.start)
        .group_by(Payment.performer_id)
        .order_by(Payment.performer_id)
    )
    yield from _merge_sums(
        session.execute(owed.execution_options(yield_per=5000)),
        session.execute(paid.execution_options(yield_per=5000)),
    )


def _merge_sums(
    owed: Iterable[tuple[uuid.UUID, Decimal]], paid: Iterable[tuple[uuid.UUID, Decimal]]
) -> Iterator[tuple[uuid.UUID, Decimal]]:
    """Merge two id-ordered streams of sums into owed - paid per id."""
    a, b = iter(owed), iter(paid)
    x, y = next(a, None), next(b, None)
    while x is not None or y is not None:
        if y is None or (x is not None and str(x[0]) < str(y[0])):
            assert x is not None  # narrowing only
            yield x[0], x[1]
            x = next(a, None)
        elif x is None or str(y[0]) < str(x[0]):
            yield y[0], -y[1]
            y = next(b, None)
        else:
            yield x[0], x[1] - y[1]
            x, y = next(a, None), next(b, None)


def monthly_run(
    db: Database,
    period: Period,
    write: Callable[[Statement], None],
    *,
    progress: Callable[[int], None] | None = None,
) -> RunSummary:
    """Build every performer's statement for ``period`` and hand each to ``write``, streaming.

    A performer gets a statement when they have lines in the period or a balance carried into it.
    The union runs this; it sees everything, so no visibility filter applies.
    """
    with db.read() as session:
        productions, producers = _title_maps(session)
    # Four streams ordered by performer id (as text, which both databases and Python agree on
    # for canonical UUIDs): names, opening balances, the period's obligations, its payments.
    with db.read() as s0, db.read() as s1, db.read() as s2, db.read() as s3:
        names = _NameStream(s0)
        try:
            summary = _run(names, (s1, s2, s3), period, (productions, producers), write, progress=progress)
        finally:
            names.close()
    return summary


def _run(
    names: _NameStream,
    sessions: tuple[Session, Session, Session],
    period: Period,
    titles: tuple[dict[uuid.UUID, str], dict[uuid.UUID, str]],
    write: Callable[[Statement], None],
    *,
    progress: Callable[[int], None] | None,
) -> RunSummary:
    """Merge the streams into statements, one performer at a time."""
    s1, s2, s3 = sessions
    productions, producers = titles
    count = lines_total = 0
    earned = paid = ZERO
    openings = _opening_balances(s1, period)
    in_period = _period_lines(s2, s3, period, productions, producers)
    opening = next(openings, None)
    current = next(in_period, None)
    while opening is not None or current is not None:
        pid = min((x[0] for x in (opening, current) if x is not None), key=str)
        start = ZERO
        if opening is not None and opening[0] == pid:
            start = opening[1]
            opening = next(openings, None)
        lines: list[StatementLine] = []
        if current is not None and current[0] == pid:
            lines = current[1]
            current = next(in_period, None)
        if not lines and start == 0:
            continue
        statement = Statement("performer", pid, names.name(pid), period, start.quantize(CENT), lines)
        write(statement)
        count += 1
        lines_total += len(lines)
        earned += statement.earned
        paid += statement.paid
        if progress is not None:
            progress(count)
    return RunSummary(period, count, lines_total, earned, paid)


class _NameStream:
    """Performers' display names, read in id order alongside the other streams."""

    def __init__(self, session: Session) -> None:
        self._result = session.execute(
            select(Performer.id, func.coalesce(Performer.professional_name, Performer.legal_name))
            .order_by(Performer.id)
            .execution_options(yield_per=5000)
        )
        self._rows: Iterator[tuple[uuid.UUID, str]] = ((pid, name) for pid, name in self._result)
        self._current = next(self._rows, None)

    def close(self) -> None:
        """Release the cursor (a server-side one on PostgreSQL) before it is read to the end."""
        self._result.close()

    def name(self, performer_id: uuid.UUID) -> str:
        """The name of ``performer_id``; ids must be asked for in ascending order."""
        key = str(performer_id)
        while self._current is not None and str(self._current[0]) < key:
            self._current = next(self._rows, None)
        if self._current is not None and self._current[0] == performer_id:
            return self._current[1]
        return key


def _period_lines(
    s_owed: Session,
    s_paid: Session,
    period: Period,
    productions: dict[uuid.UUID, str],
    producers: dict[uuid.UUID, str],
) -> Iterator[tuple[uuid.UUID, list[StatementLine]]]:
    """The period's lines grouped by performer, in performer id order, streamed."""
    owed = s_owed.execute(
        select(
            Obligation.performer_id,
            Obligation.incurred_on,
            Obligation.kind,
            Obligation.id,
            Obligation.production_id,
            Obligation.producer_id,
            Obligation.basis,
            Obligation.reason,
            type_coerce(Obligation.amount, BigInteger),  # integer cents, as the lines hold them
            Obligation.residuals_due,
            Obligation.pending_rate,
        )
        .where(Obligation.incurred_on >= period.start, Obligation.incurred_on <= period.end)
        .order_by(Obligation.performer_id, Obligation.incurred_on, Obligation.id)
        .execution_options(yield_per=5000)
    )
    paid = s_paid.execute(
        select(
            Payment.performer_id,
            Payment.paid_on,
            Payment.id,
            Payment.producer_id,
            Payment.obligation_id,
            Payment.reference,
            type_coerce(Payment.amount, BigInteger),
        )
        .where(Payment.paid_on >= period.start, Payment.paid_on <= period.end)
        .order_by(Payment.performer_id, Payment.paid_on, Payment.id)
        .execution_options(yield_per=5000)
    )

    def owed_lines() -> Iterator[tuple[uuid.UUID, StatementLine]]:
        for pid, on, kind, oid, production_id, producer_id, basis, reason, amount, residuals, pending in owed:
            yield (
                pid,
                StatementLine(
                    on,
                    kind.value,
                    str(oid),
                    productions.get(production_id, str(production_id)),
                    producers.get(producer_id, str(producer_id)),
                    _describe(kind.value, basis, reason),
                    amount,
                    residuals,
                    pending,
                ),
            )

    def paid_lines() -> Iterator[tuple[uuid.UUID, StatementLine]]:
        for pid, on, payment_id, producer_id, obligation_id, reference, amount in paid:
            yield (
                pid,
                StatementLine(
                    on,
                    "payment",
                    str(payment_id),
                    "(on account)" if obligation_id is None else "",
                    producers.get(producer_id, str(producer_id)),
                    _payment_description(reference, obligation_id),
                    -amount,
                ),
            )

    a, b = owed_lines(), paid_lines()
    x, y = next(a, None), next(b, None)
    while x is not None or y is not None:
        pid = min(str(v[0]) for v in (x, y) if v is not None)
        owed_group: list[StatementLine] = []
        paid_group: list[StatementLine] = []
        key: uuid.UUID | None = None
        while x is not None and str(x[0]) == pid:
            key = x[0]
            owed_group.append(x[1])
            x = next(a, None)
        while y is not None and str(y[0]) == pid:
            key = y[0]
            paid_group.append(y[1])
            y = next(b, None)
        assert key is not None  # narrowing only: at least one stream had this id
        yield key, by_day(owed_group, paid_group)


def statement_out(statement: Statement) -> StatementOut:
    """The JSON shape of a statement."""
    return StatementOut(
        subject=statement.subject,
        subject_id=statement.subject_id,
        subject_name=statement.subject_name,
        period=statement.period.label,
        start=statement.period.start,
        end=statement.period.end,
        opening=statement.opening,
        earned=statement.earned,
        paid=statement.paid,
        closing=statement.closing,
        lines=[StatementLineOut.model_validate(line) for line in statement.lines],
        violations=[ViolationOut.model_validate(v) for v in statement.violations],
        monthly=[MonthOut(month=month, earned=amount) for month, amount in statement.monthly],
    )
