"""Consent commands: grants, revocations, consent requests, and clearance checks against the registry.

``likeness consent ...`` records, lists, revokes and exports consents; ``likeness consent-request
...`` runs the request workflow; ``likeness clearance check ...`` asks the rules engine one question
about records in the registry and prints the decision report.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from likeness_ledger.cli.common import (
    STATE,
    JsonOpt,
    console,
    emit,
    parse,
    parse_performer,
    parse_uuid,
    read_session,
    write_session,
)
from likeness_ledger.consent import schemas
from likeness_ledger.consent import services as svc
from likeness_ledger.consent.engine import DEFAULT_CASE_ID
from likeness_ledger.errors import InvalidInput
from likeness_ledger.vault import services as vault

LimitOpt = Annotated[int, typer.Option(min=1, max=500, help="items per page")]
OffsetOpt = Annotated[int, typer.Option(min=0, help="items to skip")]
UseOpt = Annotated[
    list[str] | None,
    typer.Option("--use", help="a described use as KEY=DESCRIPTION (repeat for several)"),
]

consent_app = typer.Typer(help="Consents: record, list, revoke, export as ODRL.", no_args_is_help=True)
request_app = typer.Typer(help="Consent requests: ask, approve, refuse, send back.", no_args_is_help=True)
clearance_app = typer.Typer(help="Clearance decisions about records in the registry.", no_args_is_help=True)

GRANT_COLS = (
    "id",
    "performer_id",
    "scope",
    "production_id",
    "replica_asset_id",
    "signed_on",
    "expires_on",
    "revoked_on",
)
REQUEST_COLS = ("id", "performer_id", "production_id", "scope", "status", "uses", "grant_id")


def _uses(values: list[str] | None) -> list[dict[str, str]]:
    uses = []
    for index, value in enumerate(values or []):
        key, sep, description = value.partition("=")
        if not sep or not key.strip() or not description.strip():
            raise InvalidInput(f"--use[{index}]: expected KEY=DESCRIPTION, got {value!r}")
        uses.append({"key": key.strip(), "description": description.strip()})
    return uses


def _grant_row(grant: schemas.GrantOut) -> dict[str, Any]:
    row = grant.model_dump(mode="json")
    row["revoked_on"] = row["revocation"]["effective_on"] if row["revocation"] else None
    return row


def _emit_grants(grants: list[schemas.GrantOut], *, as_json: bool, title: str = "") -> None:
    if as_json:
        typer.echo(json.dumps([g.model_dump(mode="json") for g in grants], indent=2))
        return
    _table([_grant_row(g) for g in grants], GRANT_COLS, title)


def _emit_requests(requests: list[schemas.RequestOut], *, as_json: bool, title: str = "") -> None:
    if as_json:
        typer.echo(json.dumps([r.model_dump(mode="json") for r in requests], indent=2))
        return
    rows = []
    for request in requests:
        row = request.model_dump(mode="json")
        row["uses"] = ", ".join(u["key"] for u in row["uses"])
        rows.append(row)
    _table(rows, REQUEST_COLS, title)


def _table(rows: list[dict[str, Any]], columns: tuple[str, ...], title: str) -> None:
    from rich.table import Table  # noqa: PLC0415 - only tables need it

    table = Table(title=title or None)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*[escape("" if row.get(c) is None else str(row.get(c))) for c in columns])
    console.print(table)


# --- consents --------------------------------------------------------------------------------------


@consent_app.command("add")
def consent_add(
    performer_id: Annotated[str, typer.Option(help="who consents")],
    scope: Annotated[str, typer.Option(help="creation or use")],
    production_id: Annotated[str, typer.Option(help="the one production the consent covers")],
    signed_on: Annotated[str, typer.Option(help="YYYY-MM-DD")],
    use: UseOpt = None,
    replica_asset_id: Annotated[str | None, typer.Option(help="the replica (required for use)")] = None,
    specific: Annotated[
        bool,
        typer.Option(
            "--specific/--not-specific", metavar="", help="finding: the uses are described reasonably specifically"
        ),
    ] = True,
    separately_signed: Annotated[
        bool,
        typer.Option(
            "--separately-signed/--not-separately-signed", metavar="", help="signed apart from standard terms"
        ),
    ] = True,
    signed_by: Annotated[
        str | None, typer.Option(help="performer, authorized_representative or union (union/admin must say)")
    ] = None,
    valid_from: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    expires_on: Annotated[str | None, typer.Option(help="YYYY-MM-DD, the last valid day")] = None,
    representation: Annotated[str, typer.Option(help="union, counsel or none")] = "none",
    document: Annotated[Path | None, typer.Option(help="the signed document, stored in the vault")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Record a signed consent."""
    body = parse(
        schemas.GrantIn,
        performer_id=parse_performer(performer_id, "--performer-id") if performer_id else None,
        scope=scope,
        production_id=production_id,
        signed_on=signed_on,
        uses=_uses(use),
        replica_asset_id=replica_asset_id,
        specific=specific,
        separately_signed=separately_signed,
        signed_by=signed_by,
        valid_from=valid_from,
        expires_on=expires_on,
        representation=representation,
    )
    if document is not None and not document.is_file():
        raise InvalidInput(f"--document: {document} is not a file")
    principal = STATE.principal()
    rt = STATE.runtime()
    with write_session() as session:
        grant_id = svc.create_grant(session, principal, body).id
    if document is not None:
        with document.open("rb") as handle:
            digest = vault.store_blob(
                rt.db, rt.store, handle, max_size=rt.settings.max_upload_bytes, expected_size=document.stat().st_size
            )
        with write_session() as session:
            svc.attach_grant_document(session, principal, grant_id, digest)
    with read_session() as session:
        out = schemas.GrantOut.model_validate(svc.get_grant(session, principal, grant_id))
    if as_json:
        emit(out, as_json=True, columns=())
    else:
        _emit_grants([out], as_json=False)


@consent_app.command("show")
def consent_show(grant_id: Annotated[str, typer.Argument()], as_json: JsonOpt = False) -> None:
    """Show one consent."""
    gid = parse_uuid(grant_id, "ID")
    with read_session() as session:
        out = schemas.GrantOut.model_validate(svc.get_grant(session, STATE.principal(), gid))
    if as_json:
        emit(out, as_json=True, columns=())
    else:
        _emit_grants([out], as_json=False)


@consent_app.command("list")
def consent_list(
    performer_id: Annotated[str | None, typer.Option(help="only this performer's")] = None,
    production_id: Annotated[str | None, typer.Option(help="only this production's")] = None,
    as_json: JsonOpt = False,
    limit: LimitOpt = 50,
    offset: OffsetOpt = 0,
) -> None:
    """List the consents the acting account may see."""
    perf = parse_performer(performer_id, "--performer-id") if performer_id else None
    prod = parse_uuid(production_id, "--production-id") if production_id else None
    principal = STATE.principal()
    with read_session() as session:
        rows, total = svc.list_grants(
            session, principal, limit=limit, offset=offset, performer_id=perf, production_id=prod
        )
        grants = [schemas.GrantOut.model_validate(r) for r in rows]
    _emit_grants(grants, as_json=as_json, title=f"consents ({len(grants)} of {total})")


@consent_app.command("revoke")
def consent_revoke(
    grant_id: Annotated[str, typer.Argument()],
    effective_on: Annotated[str | None, typer.Option(help="YYYY-MM-DD, default today")] = None,
    reason: Annotated[str | None, typer.Option(help="why")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Revoke a consent from a day on (a new record; the consent itself is unchanged)."""
    gid = parse_uuid(grant_id, "ID")
    body = parse(schemas.RevocationIn, effective_on=effective_on, reason=reason)
    principal = STATE.principal()
    with write_session() as session:
        out = schemas.RevocationOut.model_validate(svc.revoke_grant(session, principal, gid, body))
    emit(out, as_json=as_json, columns=("id", "grant_id", "effective_on", "reason"))


@consent_app.command("export-odrl")
def consent_export_odrl(grant_id: Annotated[str, typer.Argument()]) -> None:
    """Print the consent as an ODRL 2.2 Agreement (JSON-LD)."""
    gid = parse_uuid(grant_id, "ID")
    with read_session() as session:
        document = svc.grant_odrl(session, STATE.principal(), gid)
    typer.echo(json.dumps(document, indent=2, ensure_ascii=False))


# --- requests --------------------------------------------------------------------------------------


def _request_out(request_id: Any) -> schemas.RequestOut:
    with read_session() as session:
        return schemas.RequestOut.model_validate(svc.get_request(session, STATE.principal(), request_id))


@request_app.command("add")
def request_add(
    performer_id: Annotated[str, typer.Option(help="whose consent is asked")],
    production_id: Annotated[str, typer.Option(help="one of your productions")],
    scope: Annotated[str, typer.Option(help="creation (a planned scan) or use (of a replica)")],
    use: UseOpt = None,
    replica_asset_id: Annotated[str | None, typer.Option(help="the replica to use (scope use)")] = None,
    valid_from: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    expires_on: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    proposed_daily_pay: Annotated[str | None, typer.Option(help="USD per day, e.g. 250.00")] = None,
    note: Annotated[str | None, typer.Option(help="a note to the performer")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Ask a performer for consent (producers)."""
    body = parse(
        schemas.RequestIn,
        performer_id=parse_performer(performer_id, "--performer-id") if performer_id else None,
        production_id=production_id,
        scope=scope,
        uses=_uses(use),
        replica_asset_id=replica_asset_id,
        valid_from=valid_from,
        expires_on=expires_on,
        proposed_daily_pay=proposed_daily_pay,
        note=note,
    )
    principal = STATE.principal()
    with write_session() as session:
        request_id = svc.create_request(session, principal, body).id
    _emit_requests([_request_out(request_id)], as_json=as_json)


@request_app.command("list")
def request_list(
    status: Annotated[str | None, typer.Option(help="only requests in this status")] = None,
    as_json: JsonOpt = False,
    limit: LimitOpt = 50,
    offset: OffsetOpt = 0,
) -> None:
    """List the consent requests the acting account may see."""
    from likeness_ledger.consent.models import RequestStatus  # noqa: PLC0415

    try:
        wanted = RequestStatus(status) if status else None
    except ValueError:
        raise InvalidInput(f"--status: {status!r} is not one of {[s.value for s in RequestStatus]}") from None
    principal = STATE.principal()
    with read_session() as session:
        rows, total = svc.list_requests(session, principal, limit=limit, offset=offset, status=wanted)
        requests = [schemas.RequestOut.model_validate(r) for r in rows]
    _emit_requests(requests, as_json=as_json, title=f"consent requests ({len(requests)} of {total})")


@request_app.command("show")
def request_show(request_id: Annotated[str, typer.Argument()], as_json: JsonOpt = False) -> None:
    """Show one request with its timestamped steps."""
    out = _request_out(parse_uuid(request_id, "ID"))
    if as_json:
        emit(out, as_json=True, columns=())
    else:
        _emit_requests([out], as_json=False)
        for step in out.events:
            console.print(f"  {step.at.isoformat()}  {step.status.value}  {escape(step.note or '')}")


@request_app.command("approve")
def request_approve(
    request_id: Annotated[str, typer.Argument()],
    use: Annotated[list[str] | None, typer.Option("--use", help="approve only this use key (repeat)")] = None,
    valid_from: Annotated[str | None, typer.Option(help="a later start than asked")] = None,
    expires_on: Annotated[str | None, typer.Option(help="an earlier end than asked")] = None,
    signed_on: Annotated[str | None, typer.Option(help="YYYY-MM-DD, default today")] = None,
    specific: Annotated[
        bool, typer.Option("--specific/--not-specific", metavar="", help="finding: the uses are described specifically")
    ] = True,
    representation: Annotated[str, typer.Option(help="union, counsel or none")] = "none",
    note: Annotated[str | None, typer.Option(help="a note")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Approve a request (in part, with fewer uses or a shorter term); the consent is recorded."""
    rid = parse_uuid(request_id, "ID")
    body = parse(
        schemas.ApproveIn,
        uses=use or None,
        valid_from=valid_from,
        expires_on=expires_on,
        signed_on=signed_on,
        specific=specific,
        representation=representation,
        note=note,
    )
    principal = STATE.principal()
    with write_session() as session:
        svc.approve_request(session, principal, rid, body)
    _emit_requests([_request_out(rid)], as_json=as_json)


def _note_step(step: Any, request_id: str, note: str | None, as_json: bool) -> None:
    rid = parse_uuid(request_id, "ID")
    principal = STATE.principal()
    with write_session() as session:
        step(session, principal, rid, note)
    _emit_requests([_request_out(rid)], as_json=as_json)


@request_app.command("refuse")
def request_refuse(
    request_id: Annotated[str, typer.Argument()],
    note: Annotated[str | None, typer.Option(help="why")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Refuse a pending request."""
    _note_step(svc.refuse_request, request_id, note, as_json)


@request_app.command("send-back")
def request_send_back(
    request_id: Annotated[str, typer.Argument()],
    note: Annotated[str, typer.Option(help="what is not specific enough")],
    as_json: JsonOpt = False,
) -> None:
    """Send a request back: its uses are not described specifically enough."""
    _note_step(svc.send_back_request, request_id, note, as_json)


@request_app.command("resubmit")
def request_resubmit(
    request_id: Annotated[str, typer.Argument()],
    use: UseOpt = None,
    note: Annotated[str | None, typer.Option(help="a note")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Resubmit a sent-back request with more specific descriptions (producers)."""
    rid = parse_uuid(request_id, "ID")
    body = parse(schemas.ResubmitIn, uses=_uses(use), note=note)
    principal = STATE.principal()
    with write_session() as session:
        svc.resubmit_request(session, principal, rid, body)
    _emit_requests([_request_out(rid)], as_json=as_json)


@request_app.command("withdraw")
def request_withdraw(
    request_id: Annotated[str, typer.Argument()],
    note: Annotated[str | None, typer.Option(help="why")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Withdraw a pending or sent-back request (producers)."""
    _note_step(svc.withdraw_request, request_id, note, as_json)


# --- clearance -------------------------------------------------------------------------------------


@clearance_app.command("check")
def clearance_check(
    action: Annotated[str, typer.Option(help="create, use or alter")],
    performer_id: Annotated[str, typer.Option(help="whose likeness")],
    production_id: Annotated[str, typer.Option(help="the production")],
    on: Annotated[str, typer.Option(help="the day of the use, YYYY-MM-DD")],
    role: Annotated[str, typer.Option(help="background or principal: the part the replica plays")],
    replaces_in_person_work: Annotated[
        bool,
        typer.Option(
            "--replaces-in-person-work/--does-not-replace-in-person-work",
            metavar="",
            help="the replica does work the performer would otherwise do in person",
        ),
    ] = True,
    asset_id: Annotated[str | None, typer.Option(help="the replica asset (use, alter)")] = None,
    use: Annotated[str | None, typer.Option(help="the use key asked for")] = None,
    estimated_days: Annotated[int | None, typer.Option(min=0, help="days the performer would have worked")] = None,
    alteration: Annotated[str | None, typer.Option(help="the kind of alteration (alter)")] = None,
    case_id: Annotated[str, typer.Option("--id", help="the report's id")] = DEFAULT_CASE_ID,
    as_json: JsonOpt = False,
) -> None:
    """Ask the rules engine whether an action is cleared, and print the decision report."""
    body = parse(
        schemas.ClearanceIn,
        id=case_id,
        action=action,
        performer_id=parse_performer(performer_id, "--performer-id") if performer_id else None,
        production_id=production_id,
        on=on,
        role=role,
        replaces_in_person_work=replaces_in_person_work,
        asset_id=asset_id,
        use=use,
        estimated_days=estimated_days,
        alteration=alteration,
    )
    query = body.to_query()
    principal = STATE.principal()
    with read_session() as session:
        svc.check_query_visible(session, principal, query)
        decision = svc.evaluate(session, query, case_id=case_id)
    if as_json:
        typer.echo(json.dumps(decision.to_report(), indent=2, ensure_ascii=False))
        return
    style = "green" if decision.allowed else "red"
    console.print(f"[{style}]{decision.decision}[/{style}]  owed: {decision.payment_total} USD")
    for reason in decision.reasons:
        console.print(f"  {reason.code.value}: {escape(reason.message)}  [dim]({escape(reason.rule)})[/dim]")
    for obligation in decision.obligations:
        console.print(f"  owes {escape(json.dumps(obligation.to_report()))}")


def register(app: typer.Typer) -> None:
    """Add the consent, consent-request and clearance command groups to the root app."""
    app.add_typer(consent_app, name="consent")
    app.add_typer(request_app, name="consent-request")
    app.add_typer(clearance_app, name="clearance")
