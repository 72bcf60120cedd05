"""Usage routes: usage reports, obligations, adjustments, payments, balances and statements.

A performer sees only their own money, a producer only what it owes; the union and admins see
everything. The rules live in the services (:mod:`likeness_ledger.usage`); these routes only
translate HTTP.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response

from likeness_ledger.compensation.rates import RateTable
from likeness_ledger.schemas import Output, Page
from likeness_ledger.usage import documents, schemas, services, statements
from likeness_ledger.usage import obligations as obl
from likeness_ledger.usage import payments as pay
from likeness_ledger.usage.models import ObligationKind, ReportStatus
from likeness_ledger.web.api import ERROR_RESPONSES
from likeness_ledger.web.deps import AppState, CurrentPrincipal, Paging, ReadSession, State

router = APIRouter(responses=ERROR_RESPONSES)

Id = Annotated[uuid.UUID, Path(description="record id")]
PeriodQuery = Annotated[str, Query(description="YYYY, YYYY-Qn or YYYY-MM", examples=["2025-Q3"])]
Format = Annotated[Literal["json", "csv", "pdf"], Query(description="json, csv or pdf")]
AsOf = Annotated[date | None, Query(description="day to judge overdue on (default: today, UTC)")]


def _rates(state: AppState) -> RateTable:
    return obl.rates_table(include_unverified=state.settings.rates_include_unverified)


@router.post("/usage-reports", status_code=201, tags=["usage"])
def submit_report(
    state: State, principal: CurrentPrincipal, body: schemas.UsageReportIn, *, response: Response
) -> schemas.UsageReportOut:
    """Report a use of a replica (producer, union, admin); it is cleared and stored, even when it fails.

    201 for a new report; 200 with the stored report when the same report was already sent.
    """
    with state.db.write() as session:
        report, new = services.submit_report(session, principal, body, rates=_rates(state), today=services.today_utc())
        if not new:
            response.status_code = 200
        return services.report_out(session, report)


@router.get("/usage-reports", tags=["usage"])
def list_reports(
    session: ReadSession,
    principal: CurrentPrincipal,
    page: Paging,
    *,
    status: ReportStatus | None = None,
    performer_id: uuid.UUID | None = None,
    production_id: uuid.UUID | None = None,
    current_only: bool = False,
) -> Page[schemas.UsageReportOut]:
    """Usage reports the caller may see, violations included, newest first."""
    rows, total = services.list_reports(
        session,
        principal,
        limit=page.limit,
        offset=page.offset,
        status=status,
        performer_id=performer_id,
        production_id=production_id,
        current_only=current_only,
    )
    items = [services.report_out(session, r) for r in rows]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.get("/usage-reports/{report_id}", tags=["usage"])
def get_report(session: ReadSession, principal: CurrentPrincipal, report_id: Id) -> schemas.UsageReportOut:
    """One usage report."""
    return services.report_out(session, services.get_report(session, principal, report_id))


@router.get("/obligations", tags=["obligations"])
def list_obligations(
    state: State,
    session: ReadSession,
    principal: CurrentPrincipal,
    page: Paging,
    *,
    performer_id: uuid.UUID | None = None,
    producer_id: uuid.UUID | None = None,
    production_id: uuid.UUID | None = None,
    kind: ObligationKind | None = None,
    incurred_from: date | None = None,
    incurred_until: date | None = None,
    residuals_due: bool | None = None,
    pending_rate: bool | None = None,
    overdue: bool = False,
    as_of: AsOf = None,
) -> Page[schemas.ObligationOut]:
    """Obligation lines the caller may see; root lines carry paid, outstanding and overdue."""
    day = as_of or services.today_utc()
    due_days = state.settings.payment_due_days
    query = obl.ObligationQuery(
        performer_id=performer_id,
        producer_id=producer_id,
        production_id=production_id,
        kind=kind,
        incurred_from=incurred_from,
        incurred_until=incurred_until,
        residuals_due=residuals_due,
        pending_rate=pending_rate,
        overdue_only=overdue,
    )
    rows, total = obl.list_obligations(
        session, principal, query, limit=page.limit, offset=page.offset, due_days=due_days, as_of=day
    )
    items = [obl.obligation_out(session, r, due_days=due_days, as_of=day) for r in rows]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.get("/obligations/{obligation_id}", tags=["obligations"])
def get_obligation(
    state: State, session: ReadSession, principal: CurrentPrincipal, obligation_id: Id, as_of: AsOf = None
) -> schemas.ObligationOut:
    """One obligation line."""
    line = obl.get_obligation(session, principal, obligation_id)
    return obl.obligation_out(
        session, line, due_days=state.settings.payment_due_days, as_of=as_of or services.today_utc()
    )


@router.post("/obligations/adjustments", status_code=201, tags=["obligations"])
def adjust(state: State, principal: CurrentPrincipal, body: schemas.AdjustmentIn) -> schemas.ObligationOut:
    """A union adjustment with its reason (union, admin)."""
    today = services.today_utc()
    with state.db.write() as session:
        line = obl.create_adjustment(session, principal, body, today=today)
        return obl.obligation_out(session, line, due_days=state.settings.payment_due_days, as_of=today)


@router.post("/obligations/scan-sessions/{scan_id}", status_code=201, tags=["obligations"])
def scan_obligation(state: State, principal: CurrentPrincipal, scan_id: Id) -> schemas.ObligationOut:
    """Record the paid day a completed scan-only call owes (once; again returns the same line)."""
    today = services.today_utc()
    with state.db.write() as session:
        line = obl.scan_obligation(session, principal, scan_id, rates=_rates(state), today=today)
        return obl.obligation_out(session, line, due_days=state.settings.payment_due_days, as_of=today)


class BalancesOut(Output):
    """Balances of one kind of group."""

    group: Literal["performer", "production", "producer"]
    as_of: date
    items: list[schemas.BalanceOut]


@router.get("/balances", tags=["payments"])
def balances(
    state: State,
    session: ReadSession,
    principal: CurrentPrincipal,
    group: Literal["performer", "production", "producer"] = "performer",
    as_of: AsOf = None,
) -> BalancesOut:
    """Owed, paid, balance, credit and overdue per performer, production or producer."""
    day = as_of or services.today_utc()
    rows = obl.balances(session, principal, group, due_days=state.settings.payment_due_days, as_of=day)
    return BalancesOut(group=group, as_of=day, items=rows)


@router.post("/payments", status_code=201, tags=["payments"])
def record_payment(state: State, principal: CurrentPrincipal, body: schemas.PaymentIn) -> schemas.PaymentOut:
    """Record a payment against an obligation or on account (producer; union and admin for one)."""
    with state.db.write() as session:
        return pay.payment_out(session, pay.record_payment(session, principal, body))


@router.get("/payments", tags=["payments"])
def list_payments(
    session: ReadSession,
    principal: CurrentPrincipal,
    page: Paging,
    *,
    performer_id: uuid.UUID | None = None,
    producer_id: uuid.UUID | None = None,
    paid_from: date | None = None,
    paid_until: date | None = None,
) -> Page[schemas.PaymentOut]:
    """Payments the caller may see, newest first."""
    rows, total = pay.list_payments(
        session,
        principal,
        limit=page.limit,
        offset=page.offset,
        performer_id=performer_id,
        producer_id=producer_id,
        paid_from=paid_from,
        paid_until=paid_until,
    )
    return Page(items=[pay.payment_out(session, p) for p in rows], total=total, limit=page.limit, offset=page.offset)


@router.get("/payments/{payment_id}", tags=["payments"])
def get_payment(session: ReadSession, principal: CurrentPrincipal, payment_id: Id) -> schemas.PaymentOut:
    """One payment."""
    return pay.payment_out(session, pay.get_payment(session, principal, payment_id))


_STATEMENT_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/pdf": {"schema": {"type": "string", "format": "binary"}},
        },
        "description": "the statement as JSON, CSV or PDF (``format``)",
    }
}


def _render(statement: statements.Statement, fmt: str) -> Response | schemas.StatementOut:
    name = f"statement-{statement.subject_id}-{statement.period.label}"
    if fmt == "csv":
        return Response(
            documents.csv_text(statement),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    if fmt == "pdf":
        return Response(
            documents.pdf_bytes(statement),
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{name}.pdf"'},
        )
    return statements.statement_out(statement)


@router.get(
    "/statements/performers/{performer_id}",
    tags=["statements"],
    responses=_STATEMENT_RESPONSES,
    response_model=schemas.StatementOut,
)
def performer_statement(
    session: ReadSession, principal: CurrentPrincipal, performer_id: Id, period: PeriodQuery, format: Format = "json"
) -> Response | schemas.StatementOut:
    """A performer's statement for a period: the performer's own, or a producer's part of it."""
    statement = statements.performer_statement(session, principal, performer_id, statements.parse_period(period))
    return _render(statement, format)


@router.get(
    "/statements/productions/{production_id}",
    tags=["statements"],
    responses=_STATEMENT_RESPONSES,
    response_model=schemas.StatementOut,
)
def production_statement(
    session: ReadSession, principal: CurrentPrincipal, production_id: Id, period: PeriodQuery, format: Format = "json"
) -> Response | schemas.StatementOut:
    """A production's statement for a period, as far as the caller may see its lines."""
    statement = statements.production_statement(session, principal, production_id, statements.parse_period(period))
    return _render(statement, format)
