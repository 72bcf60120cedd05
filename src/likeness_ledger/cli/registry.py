"""Registry commands: performers, representatives, producers, productions, scan sessions."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Any

import typer
from pydantic import BaseModel

from likeness_ledger.cli.common import (
    STATE,
    JsonOpt,
    emit,
    parse,
    parse_performer,
    parse_uuid,
    read_session,
    write_session,
)
from likeness_ledger.registry import schemas
from likeness_ledger.registry import services as svc

LimitOpt = Annotated[int, typer.Option(min=1, max=500, help="items per page")]
OffsetOpt = Annotated[int, typer.Option(min=0, help="items to skip")]

performer_app = typer.Typer(help="Performers.", no_args_is_help=True)
representative_app = typer.Typer(help="Representatives: estates, agents, counsel.", no_args_is_help=True)
producer_app = typer.Typer(help="Producer companies.", no_args_is_help=True)
production_app = typer.Typer(help="Productions.", no_args_is_help=True)
scan_app = typer.Typer(help="Scan sessions.", no_args_is_help=True)

PERFORMER_COLS = ("id", "legal_name", "professional_name", "category", "union_member_id", "died_on")
REP_COLS = ("id", "performer_id", "kind", "name", "authority_document_sha256")
PRODUCER_COLS = ("id", "name")
PRODUCTION_COLS = ("id", "title", "type", "agreement", "jurisdiction", "producer_id")
SCAN_COLS = ("id", "production_id", "performer_id", "scheduled_at", "scan_only_call", "status")


def create_and_emit(
    creator: Callable[..., Any], out: type[BaseModel], body: BaseModel, cols: tuple[str, ...], as_json: bool
) -> None:
    """Run a create service as the acting account and print the new record."""
    principal = STATE.principal()
    with write_session() as session:
        record = out.model_validate(creator(session, principal, body))
    emit(record, as_json=as_json, columns=cols)


def show_and_emit(
    getter: Callable[..., Any],
    out: type[BaseModel],
    raw_id: str,
    cols: tuple[str, ...],
    as_json: bool,
    parse_id: Callable[[str, str], uuid.UUID] = parse_uuid,
) -> None:
    """Print one record the acting account may see."""
    record_id = parse_id(raw_id, "ID")
    principal = STATE.principal()
    with read_session() as session:
        record = out.model_validate(getter(session, principal, record_id))
    emit(record, as_json=as_json, columns=cols)


def list_and_emit(
    lister: Callable[..., Any],
    out: type[BaseModel],
    cols: tuple[str, ...],
    as_json: bool,
    limit: int,
    offset: int,
    title: str,
) -> None:
    """Print a page of the records the acting account may see."""
    principal = STATE.principal()
    with read_session() as session:
        rows, total = lister(session, principal, limit=limit, offset=offset)
        records = [out.model_validate(r) for r in rows]
    emit(records, as_json=as_json, columns=cols, title=f"{title} ({len(records)} of {total})")


@performer_app.command("add")
def performer_add(
    legal_name: Annotated[str, typer.Option(help="legal name")],
    category: Annotated[str, typer.Option(help="background or principal")],
    professional_name: Annotated[str | None, typer.Option(help="stage name")] = None,
    born_on: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    died_on: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    union_member_id: Annotated[str | None, typer.Option(help="union membership id")] = None,
    domicile: Annotated[str | None, typer.Option(help="ISO 3166-2, e.g. US-CA")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Register a performer."""
    body = parse(
        schemas.PerformerIn,
        legal_name=legal_name,
        category=category,
        professional_name=professional_name,
        born_on=born_on,
        died_on=died_on,
        union_member_id=union_member_id,
        domicile=domicile,
    )
    create_and_emit(svc.create_performer, schemas.PerformerOut, body, PERFORMER_COLS, as_json)


@performer_app.command("update")
def performer_update(
    performer_id: Annotated[str, typer.Argument(help="performer id or union member id")],
    legal_name: Annotated[str | None, typer.Option(help="legal name, as on official documents")] = None,
    professional_name: Annotated[str | None, typer.Option(help="stage name")] = None,
    died_on: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    domicile: Annotated[str | None, typer.Option(help="ISO 3166-2")] = None,
    category: Annotated[str | None, typer.Option(help="background or principal")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Change a performer's legal or stage name, category, domicile or date of death."""
    body = parse(
        schemas.PerformerUpdate,
        legal_name=legal_name,
        professional_name=professional_name,
        died_on=died_on,
        domicile=domicile,
        category=category,
    )
    pid = parse_performer(performer_id, "PERFORMER_ID")
    principal = STATE.principal()
    with write_session() as session:
        record = schemas.PerformerOut.model_validate(svc.update_performer(session, principal, pid, body))
    emit(record, as_json=as_json, columns=PERFORMER_COLS)


@performer_app.command("show")
def performer_show(
    performer_id: Annotated[str, typer.Argument(help="performer id or union member id")], as_json: JsonOpt = False
) -> None:
    """Show one performer."""
    show_and_emit(svc.get_performer, schemas.PerformerOut, performer_id, PERFORMER_COLS, as_json, parse_performer)


@performer_app.command("list")
def performer_list(as_json: JsonOpt = False, limit: LimitOpt = 50, offset: OffsetOpt = 0) -> None:
    """List performers."""
    list_and_emit(svc.list_performers, schemas.PerformerOut, PERFORMER_COLS, as_json, limit, offset, "performers")


@representative_app.command("add")
def representative_add(
    performer_id: Annotated[str, typer.Option(help="performer represented")],
    kind: Annotated[str, typer.Option(help="estate, agent or counsel")],
    name: Annotated[str, typer.Option(help="name of the representative")],
    valid_from: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    valid_until: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Record a representative (attach the authority document with `likeness representative document`)."""
    body = parse(
        schemas.RepresentativeIn,
        performer_id=performer_id,
        kind=kind,
        name=name,
        valid_from=valid_from,
        valid_until=valid_until,
    )
    create_and_emit(svc.create_representative, schemas.RepresentativeOut, body, REP_COLS, as_json)


@representative_app.command("show")
def representative_show(rep_id: Annotated[str, typer.Argument()], as_json: JsonOpt = False) -> None:
    """Show one representative."""
    show_and_emit(svc.get_representative, schemas.RepresentativeOut, rep_id, REP_COLS, as_json)


@representative_app.command("list")
def representative_list(as_json: JsonOpt = False, limit: LimitOpt = 50, offset: OffsetOpt = 0) -> None:
    """List representatives."""
    list_and_emit(
        svc.list_representatives, schemas.RepresentativeOut, REP_COLS, as_json, limit, offset, "representatives"
    )


@producer_app.command("add")
def producer_add(name: Annotated[str, typer.Option(help="company name")], as_json: JsonOpt = False) -> None:
    """Register a producer company."""
    create_and_emit(
        svc.create_producer, schemas.ProducerOut, parse(schemas.ProducerIn, name=name), PRODUCER_COLS, as_json
    )


@producer_app.command("show")
def producer_show(producer_id: Annotated[str, typer.Argument()], as_json: JsonOpt = False) -> None:
    """Show one producer."""
    show_and_emit(svc.get_producer, schemas.ProducerOut, producer_id, PRODUCER_COLS, as_json)


@producer_app.command("list")
def producer_list(as_json: JsonOpt = False, limit: LimitOpt = 50, offset: OffsetOpt = 0) -> None:
    """List producers."""
    list_and_emit(svc.list_producers, schemas.ProducerOut, PRODUCER_COLS, as_json, limit, offset, "producers")


@production_app.command("add")
def production_add(
    title: Annotated[str, typer.Option(help="title")],
    type_: Annotated[str, typer.Option("--type", help="theatrical, television, commercial or video_game")],
    producer_id: Annotated[str | None, typer.Option(help="producer (a producer account's own by default)")] = None,
    agreement: Annotated[str | None, typer.Option(help="e.g. sag-aftra-tv-theatrical-2026")] = None,
    jurisdiction: Annotated[str | None, typer.Option(help="ISO 3166-2, e.g. US-CA")] = None,
    start_on: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    end_on: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a production."""
    body = parse(
        schemas.ProductionIn,
        title=title,
        type=type_,
        producer_id=producer_id,
        agreement=agreement,
        jurisdiction=jurisdiction,
        start_on=start_on,
        end_on=end_on,
    )
    create_and_emit(svc.create_production, schemas.ProductionOut, body, PRODUCTION_COLS, as_json)


@production_app.command("show")
def production_show(production_id: Annotated[str, typer.Argument()], as_json: JsonOpt = False) -> None:
    """Show one production."""
    show_and_emit(svc.get_production, schemas.ProductionOut, production_id, PRODUCTION_COLS, as_json)


@production_app.command("list")
def production_list(as_json: JsonOpt = False, limit: LimitOpt = 50, offset: OffsetOpt = 0) -> None:
    """List productions."""
    list_and_emit(svc.list_productions, schemas.ProductionOut, PRODUCTION_COLS, as_json, limit, offset, "productions")


@scan_app.command("add")
def scan_add(
    production_id: Annotated[str, typer.Option(help="production")],
    performer_id: Annotated[str, typer.Option(help="performer to scan")],
    scheduled_at: Annotated[str, typer.Option(help="ISO time with offset, e.g. 2026-09-08T09:00:00Z")],
    engaged_at: Annotated[str | None, typer.Option(help="when the performer was engaged")] = None,
    notice_sent_at: Annotated[str | None, typer.Option(help="when notice of the scan was sent")] = None,
    scan_only_call: Annotated[
        bool, typer.Option(metavar="", help="the performer is called in only for the scan")
    ] = False,
    operator: Annotated[str | None, typer.Option(help="who runs the capture")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Schedule a scan session."""
    body = parse(
        schemas.ScanSessionIn,
        production_id=production_id,
        performer_id=performer_id,
        scheduled_at=scheduled_at,
        engaged_at=engaged_at,
        notice_sent_at=notice_sent_at,
        scan_only_call=scan_only_call,
        operator=operator,
    )
    create_and_emit(svc.create_scan_session, schemas.ScanSessionOut, body, SCAN_COLS, as_json)


@scan_app.command("show")
def scan_show(scan_id: Annotated[str, typer.Argument()], as_json: JsonOpt = False) -> None:
    """Show one scan session."""
    show_and_emit(svc.get_scan_session, schemas.ScanSessionOut, scan_id, SCAN_COLS, as_json)


@scan_app.command("list")
def scan_list(as_json: JsonOpt = False, limit: LimitOpt = 50, offset: OffsetOpt = 0) -> None:
    """List scan sessions."""
    list_and_emit(svc.list_scan_sessions, schemas.ScanSessionOut, SCAN_COLS, as_json, limit, offset, "scan sessions")


@scan_app.command("status")
def scan_status(
    scan_id: Annotated[str, typer.Argument()],
    status: Annotated[str, typer.Argument(help="completed or cancelled")],
    as_json: JsonOpt = False,
) -> None:
    """Mark a scan session completed or cancelled."""
    body = parse(schemas.ScanSessionStatusIn, status=status)
    sid = parse_uuid(scan_id, "SCAN_ID")
    principal = STATE.principal()
    with write_session() as session:
        record = schemas.ScanSessionOut.model_validate(svc.set_scan_status(session, principal, sid, body.status))
    emit(record, as_json=as_json, columns=SCAN_COLS)


def register(app: typer.Typer) -> None:
    """Add the registry command groups to the root app."""
    app.add_typer(performer_app, name="performer")
    app.add_typer(representative_app, name="representative")
    app.add_typer(producer_app, name="producer")
    app.add_typer(production_app, name="production")
    app.add_typer(scan_app, name="scan-session")
