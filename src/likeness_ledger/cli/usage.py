"""Usage, obligation, payment and statement commands.

``likeness usage report|list|show``, ``likeness obligations list|show|adjust|scan|balances``,
``likeness pay``, ``likeness payments list|show``, ``likeness statement PERFORMER --period P
[--pdf F] [--csv F]`` and ``likeness statement-run --period P --out DIR`` (the union's monthly run).
Each acts as the ``--as`` account, with the same role rules as the API.
"""

from __future__ import annotations

import json
import uuid
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from likeness_ledger.accounts.models import Role
from likeness_ledger.cli.common import (
    STATE,
    JsonOpt,
    emit,
    err_console,
    parse,
    parse_performer,
    parse_uuid,
    read_session,
    write_session,
)
from likeness_ledger.compensation.rates import RateTable
from likeness_ledger.errors import InvalidInput
from likeness_ledger.usage import documents, schemas, services, statements
from likeness_ledger.usage import obligations as obl
from likeness_ledger.usage import payments as pay
from likeness_ledger.usage.models import ObligationKind, ReportStatus

LimitOpt = Annotated[int, typer.Option(min=1, max=500, help="items per page")]
OffsetOpt = Annotated[int, typer.Option(min=0, help="items to skip")]

usage_app = typer.Typer(
    help="Usage reports: every use of a replica, cleared or kept as a violation.", no_args_is_help=True
)
obligations_app = typer.Typer(help="Payment obligations, union adjustments and balances.", no_args_is_help=True)
payments_app = typer.Typer(help="Recorded payments.", no_args_is_help=True)

REPORT_COLS = ("id", "status", "production_id", "performer_id", "use", "used_from", "used_until", "estimated_days")
OBLIGATION_COLS = ("id", "kind", "incurred_on", "amount", "outstanding", "overdue", "pending_rate")
PAYMENT_COLS = ("id", "paid_on", "amount", "applied", "credit", "reference")
GROUPS: dict[str, obl.Group] = {"performer": "performer", "production": "production", "producer": "producer"}
BALANCE_COLS = ("group", "id", "obligations", "paid", "balance", "outstanding", "credit", "overdue")


def register(app: typer.Typer) -> None:
    """Add the usage, obligations and payments groups and the pay and statement commands."""
    app.add_typer(usage_app, name="usage")
    app.add_typer(obligations_app, name="obligations")
    app.add_typer(payments_app, name="payments")
    app.command("pay")(pay_command)
    app.command("statement")(statement_command)
    app.command("statement-run")(statement_run_command)


def _rates() -> RateTable:
    return obl.rates_table(include_unverified=STATE.settings.rates_include_unverified)


def _uuid(value: str | None, option: str) -> uuid.UUID | None:
    return None if value is None else parse_uuid(value, option)


# --- usage reports -------------------------------------------------------------------------------


@usage_app.command("report")
def usage_report(
    production: Annotated[str | None, typer.Option("--production-id", help="production id")] = None,
    performer: Annotated[str | None, typer.Option("--performer-id", help="performer id or union member id")] = None,
    asset: Annotated[
        str | None, typer.Option("--asset-id", help="replica asset id (omit only if the replica is not on file)")
    ] = None,
    use: Annotated[str | None, typer.Option(help="use key, as the consent describes it")] = None,
    role: Annotated[str | None, typer.Option(help="background or principal: the part the replica plays")] = None,
    medium: Annotated[str | None, typer.Option(help="e.g. theatrical, streaming, real_time_generation")] = None,
    used_from: Annotated[str | None, typer.Option("--from", help="first day of use, YYYY-MM-DD")] = None,
    used_until: Annotated[str | None, typer.Option("--until", help="last day of use (default: --from)")] = None,
    days: Annotated[
        int | None, typer.Option(help="good-faith estimate of the days the performer would have worked")
    ] = None,
    estimated_by: Annotated[str | None, typer.Option(help="who made the estimate")] = None,
    output: Annotated[list[str] | None, typer.Option(help="SHA-256 of an output file (repeatable)")] = None,
    supersedes: Annotated[str | None, typer.Option(help="id of the report this one amends")] = None,
    not_replacing: Annotated[
        bool, typer.Option("--not-replacing", metavar="", help="the replica does not replace in-person work")
    ] = False,
    file: Annotated[
        Path | None, typer.Option("--file", help="read the report from a JSON file (options override)")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Report a use of a replica; it is cleared at once and kept even when it fails."""
    values: dict[str, Any] = {}
    if file is not None:
        try:
            loaded = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InvalidInput(f"--file: cannot read {file}: {exc}") from exc
        if not isinstance(loaded, dict):
            raise InvalidInput("--file: expected a JSON object")
        values.update(loaded)
    options = {
        "production_id": production,
        "performer_id": performer,
        "asset_id": asset,
        "use": use,
        "role": role,
        "medium": medium,
        "used_from": used_from,
        "used_until": used_until or (used_from if "used_until" not in values else None),
        "estimated_days": days,
        "estimated_by": estimated_by,
        "outputs": output or None,
        "supersedes": supersedes,
        "replaces_in_person_work": False if not_replacing else None,
    }
    values.update({k: v for k, v in options.items() if v is not None})
    body = parse(schemas.UsageReportIn, **values)
    principal = STATE.principal()
    rates = _rates()
    with write_session() as session:
        report, new = services.submit_report(session, principal, body, rates=rates, today=services.today_utc())
        out = services.report_out(session, report)
    if not new and not as_json:
        err_console.print("this report was already on file; nothing new was stored")
    emit(out, as_json=as_json, columns=REPORT_COLS)


@usage_app.command("list")
def usage_list(
    status: Annotated[str | None, typer.Option(help="cleared or violation")] = None,
    performer: Annotated[str | None, typer.Option("--performer-id", help="performer id or union member id")] = None,
    production: Annotated[str | None, typer.Option("--production-id", help="production id")] = None,
    current: Annotated[bool, typer.Option("--current", metavar="", help="leave out superseded reports")] = False,
    as_json: JsonOpt = False,
    limit: LimitOpt = 50,
    offset: OffsetOpt = 0,
) -> None:
    """List the usage reports the acting account may see (violations included)."""
    try:
        wanted = ReportStatus(status) if status else None
    except ValueError as exc:
        raise InvalidInput(f"--status: expected cleared or violation, got {status!r}") from exc
    principal = STATE.principal()
    with read_session() as session:
        rows, total = services.list_reports(
            session,
            principal,
            limit=limit,
            offset=offset,
            status=wanted,
            performer_id=(parse_performer(performer, "--performer-id") if performer else None),
            production_id=_uuid(production, "--production-id"),
            current_only=current,
        )
        items = [services.report_out(session, r) for r in rows]
    emit(items, as_json=as_json, columns=REPORT_COLS, title=f"usage reports ({len(items)} of {total})")


@usage_app.command("show")
def usage_show(report_id: Annotated[str, typer.Argument(help="report id")], as_json: JsonOpt = False) -> None:
    """Show one usage report with its clearance reasons."""
    rid = parse_uuid(report_id, "REPORT_ID")
    principal = STATE.principal()
    with read_session() as session:
        out = services.report_out(session, services.get_report(session, principal, rid))
    emit(out, as_json=as_json, columns=(*REPORT_COLS, "supersedes", "superseded_by", "obligation_id"))
    if not as_json:
        for reason in out.reasons:
            typer.echo(f"{reason.code}: {reason.message} ({reason.rule})")


# --- obligations ---------------------------------------------------------------------------------


def _as_of(value: str | None) -> date:
    if value is None:
        return services.today_utc()
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput(f"--as-of: {value!r} is not a date (YYYY-MM-DD)") from exc


@obligations_app.command("list")
def obligations_list(
    performer: Annotated[str | None, typer.Option("--performer-id", help="performer id or union member id")] = None,
    producer: Annotated[str | None, typer.Option("--producer-id", help="producer id")] = None,
    production: Annotated[str | None, typer.Option("--production-id", help="production id")] = None,
    kind: Annotated[str | None, typer.Option(help="usage, scan_only_call, adjustment or reversal")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", metavar="", help="only overdue obligations")] = False,
    residuals: Annotated[
        bool, typer.Option("--residuals", metavar="", help="only lines that also owe residuals")
    ] = False,
    pending: Annotated[bool, typer.Option("--pending-rate", metavar="", help="only lines waiting for a rate")] = False,
    as_of: Annotated[str | None, typer.Option(help="judge overdue on this day (YYYY-MM-DD)")] = None,
    as_json: JsonOpt = False,
    limit: LimitOpt = 50,
    offset: OffsetOpt = 0,
) -> None:
    """List obligation lines the acting account may see."""
    try:
        wanted = ObligationKind(kind) if kind else None
    except ValueError as exc:
        raise InvalidInput(f"--kind: unknown kind {kind!r}") from exc
    query = obl.ObligationQuery(
        performer_id=(parse_performer(performer, "--performer-id") if performer else None),
        producer_id=_uuid(producer, "--producer-id"),
        production_id=_uuid(production, "--production-id"),
        kind=wanted,
        residuals_due=True if residuals else None,
        pending_rate=True if pending else None,
        overdue_only=overdue,
    )
    day, due_days = _as_of(as_of), STATE.settings.payment_due_days
    principal = STATE.principal()
    with read_session() as session:
        rows, total = obl.list_obligations(
            session, principal, query, limit=limit, offset=offset, due_days=due_days, as_of=day
        )
        items = [obl.obligation_out(session, r, due_days=due_days, as_of=day) for r in rows]
    emit(items, as_json=as_json, columns=OBLIGATION_COLS, title=f"obligations ({len(items)} of {total})")


@obligations_app.command("show")
def obligations_show(
    obligation_id: Annotated[str, typer.Argument(help="obligation id")], as_json: JsonOpt = False
) -> None:
    """Show one obligation line with its rate table entry."""
    oid = parse_uuid(obligation_id, "OBLIGATION_ID")
    principal = STATE.principal()
    with read_session() as session:
        line = obl.get_obligation(session, principal, oid)
        out = obl.obligation_out(session, line, due_days=STATE.settings.payment_due_days, as_of=services.today_utc())
    emit(out, as_json=as_json, columns=(*OBLIGATION_COLS, "rate_agreement", "rate_effective", "rate_source"))
    if not as_json:
        typer.echo(f"basis: {out.basis}")


@obligations_app.command("adjust")
def obligations_adjust(
    amount: Annotated[str, typer.Option(help="signed amount, e.g. 150.00 or -20.00")],
    reason: Annotated[str, typer.Option(help="why the union adjusts")],
    obligation: Annotated[str | None, typer.Option("--obligation-id", help="obligation id to adjust")] = None,
    performer: Annotated[str | None, typer.Option("--performer-id", help="performer id (new line)")] = None,
    production: Annotated[str | None, typer.Option("--production-id", help="production id (new line)")] = None,
    on: Annotated[str | None, typer.Option(help="day the adjustment counts on (YYYY-MM-DD)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Adjust an obligation, or add a line, with a reason (union, admin)."""
    body = parse(
        schemas.AdjustmentIn,
        obligation_id=obligation,
        performer_id=parse_performer(performer, "--performer-id") if performer else None,
        production_id=production,
        amount=amount,
        reason=reason,
        incurred_on=on,
    )
    principal = STATE.principal()
    today = services.today_utc()
    with write_session() as session:
        line = obl.create_adjustment(session, principal, body, today=today)
        out = obl.obligation_out(session, line, due_days=STATE.settings.payment_due_days, as_of=today)
    emit(out, as_json=as_json, columns=OBLIGATION_COLS)


@obligations_app.command("scan")
def obligations_scan(
    scan_id: Annotated[str | None, typer.Argument(help="scan session id (omit with --all)")] = None,
    all_: Annotated[
        bool, typer.Option("--all", metavar="", help="every completed scan-only call still without one")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Record the paid day owed for completed scan-only calls."""
    if (scan_id is None) == (not all_):
        raise InvalidInput("SCAN_ID: give a scan session id or --all")
    principal = STATE.principal()
    today, rates = services.today_utc(), _rates()
    with write_session() as session:
        if all_:
            lines = obl.sync_scan_obligations(session, principal, rates=rates, today=today)
        else:
            lines = [
                obl.scan_obligation(session, principal, parse_uuid(str(scan_id), "SCAN_ID"), rates=rates, today=today)
            ]
        items = [obl.obligation_out(session, x, due_days=STATE.settings.payment_due_days, as_of=today) for x in lines]
    emit(items, as_json=as_json, columns=OBLIGATION_COLS, title=f"scan-only obligations ({len(items)})")


@obligations_app.command("balances")
def obligations_balances(
    group: Annotated[str, typer.Option(help="performer, production or producer")] = "performer",
    as_of: Annotated[str | None, typer.Option(help="judge overdue on this day (YYYY-MM-DD)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Owed, paid, balance, credit and overdue per performer, production or producer."""
    if group not in GROUPS:
        raise InvalidInput(f"--group: expected performer, production or producer, got {group!r}")
    chosen = GROUPS[group]
    principal = STATE.principal()
    with read_session() as session:
        rows = obl.balances(
            session,
            principal,
            chosen,
            due_days=STATE.settings.payment_due_days,
            as_of=_as_of(as_of),
        )
    emit(rows, as_json=as_json, columns=BALANCE_COLS, title=f"balances by {group}")


# --- payments ------------------------------------------------------------------------------------


def pay_command(
    amount: Annotated[str, typer.Option(help="amount paid, e.g. 693.00")],
    on: Annotated[str, typer.Option(help="day paid (YYYY-MM-DD)")],
    obligation: Annotated[str | None, typer.Option("--obligation-id", help="obligation paid against")] = None,
    performer: Annotated[str | None, typer.Option("--performer-id", help="performer paid on account")] = None,
    producer: Annotated[
        str | None, typer.Option("--producer-id", help="paying producer (union/admin entries on account)")
    ] = None,
    reference: Annotated[str | None, typer.Option(help="your reference (unique per producer)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Record a payment; an overpayment is kept as credit and applied to the next obligation."""
    body = parse(
        schemas.PaymentIn,
        obligation_id=obligation,
        performer_id=parse_performer(performer, "--performer-id") if performer else None,
        producer_id=producer,
        amount=amount,
        paid_on=on,
        reference=reference,
    )
    principal = STATE.principal()
    with write_session() as session:
        out = pay.payment_out(session, pay.record_payment(session, principal, body))
    emit(out, as_json=as_json, columns=PAYMENT_COLS)


@payments_app.command("list")
def payments_list(
    performer: Annotated[str | None, typer.Option("--performer-id", help="performer id or union member id")] = None,
    producer: Annotated[str | None, typer.Option("--producer-id", help="producer id")] = None,
    as_json: JsonOpt = False,
    limit: LimitOpt = 50,
    offset: OffsetOpt = 0,
) -> None:
    """List the payments the acting account may see."""
    principal = STATE.principal()
    with read_session() as session:
        rows, total = pay.list_payments(
            session,
            principal,
            limit=limit,
            offset=offset,
            performer_id=(parse_performer(performer, "--performer-id") if performer else None),
            producer_id=_uuid(producer, "--producer-id"),
        )
        items = [pay.payment_out(session, p) for p in rows]
    emit(items, as_json=as_json, columns=PAYMENT_COLS, title=f"payments ({len(items)} of {total})")


@payments_app.command("show")
def payments_show(payment_id: Annotated[str, typer.Argument(help="payment id")], as_json: JsonOpt = False) -> None:
    """Show one payment and how much of it is applied."""
    pid = parse_uuid(payment_id, "PAYMENT_ID")
    principal = STATE.principal()
    with read_session() as session:
        out = pay.payment_out(session, pay.get_payment(session, principal, pid))
    emit(out, as_json=as_json, columns=PAYMENT_COLS)


# --- statements ----------------------------------------------------------------------------------


def statement_command(
    subject: Annotated[str, typer.Argument(help="performer id or union member id (a production id with --production)")],
    period: Annotated[str, typer.Option(help="YYYY, YYYY-Qn or YYYY-MM")],
    production: Annotated[bool, typer.Option("--production", metavar="", help="SUBJECT is a production")] = False,
    pdf: Annotated[Path | None, typer.Option(help="write the PDF statement here")] = None,
    csv: Annotated[Path | None, typer.Option(help="write the CSV statement here")] = None,
    as_json: JsonOpt = False,
) -> None:
    """A performer's (or a production's) statement for a period, as PDF and/or CSV."""
    when = statements.parse_period(period)
    principal = STATE.principal()
    with read_session() as session:
        if production:
            statement = statements.production_statement(session, principal, parse_uuid(subject, "SUBJECT"), when)
        else:
            statement = statements.performer_statement(session, principal, parse_performer(subject, "SUBJECT"), when)
    if pdf is not None:
        pdf.write_bytes(documents.pdf_bytes(statement))
    if csv is not None:
        with csv.open("w", encoding="utf-8", newline="") as handle:
            documents.write_csv(statement, handle)
    if as_json:
        typer.echo(statements.statement_out(statement).model_dump_json(indent=2))
        return
    typer.echo(f"{statement.subject_name}, {when.label} ({when.start} to {when.end})")
    for label, value in (
        ("opening balance", statement.opening),
        ("earned", statement.earned),
        ("paid", statement.paid),
        ("closing balance", statement.closing),
    ):
        typer.echo(f"  {label:<16} {value:>14.2f} USD")
    typer.echo(f"  {len(statement.lines)} lines, {len(statement.violations)} violations")
    for written in (pdf, csv):
        if written is not None:
            typer.echo(f"wrote {written}")


def statement_run_command(
    period: Annotated[str, typer.Option(help="YYYY-MM (or any period)")],
    out: Annotated[Path, typer.Option(help="folder for one CSV per performer and summary.csv")],
) -> None:
    """The union's run: every performer's statement for a period, as CSV files (union, admin)."""
    when = statements.parse_period(period)
    principal = STATE.principal()
    principal.require(Role.UNION, Role.ADMIN, action="statement run")
    out.mkdir(parents=True, exist_ok=True)
    summary_path = out / "summary.csv"
    runtime = STATE.runtime()
    with (
        summary_path.open("w", encoding="utf-8", newline="") as summary,
        Progress(
            TextColumn("statements"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err_console
        ) as progress,
    ):
        task = progress.add_task("run", total=None)
        summary.write("performer_id,name,opening,earned,paid,closing,lines\n")

        def write(statement: statements.Statement) -> None:
            with (out / f"{statement.subject_id}.csv").open("w", encoding="utf-8", newline="") as handle:
                documents.write_csv(statement, handle)
            name = statement.subject_name.replace('"', "'")
            summary.write(
                f'{statement.subject_id},"{name}",{statement.opening:.2f},{statement.earned:.2f},'
                f"{statement.paid:.2f},{statement.closing:.2f},{len(statement.lines)}\n"
            )

        result = statements.monthly_run(runtime.db, when, write, progress=lambda n: progress.update(task, completed=n))
    typer.echo(
        f"{result.statements} statements, {result.lines} lines, earned {result.earned:.2f}, "
        f"paid {result.paid:.2f} USD; summary in {summary_path}"
    )
