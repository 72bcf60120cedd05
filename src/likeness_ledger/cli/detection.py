"""Detection commands: ``enroll``, ``scan`` and the ``detection`` group (references, findings, notices)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import select

from likeness_ledger.cli.common import (
    STATE,
    console,
    emit,
    err_console,
    parse,
    parse_uuid,
    progress_bar,
    read_session,
)
from likeness_ledger.db import set_actor
from likeness_ledger.detection import notices, services
from likeness_ledger.detection import schemas as ds
from likeness_ledger.detection.models import FindingStatus
from likeness_ledger.errors import InvalidInput
from likeness_ledger.registry import schemas as registry_schemas
from likeness_ledger.registry import services as registry
from likeness_ledger.registry.models import Performer, PerformerCategory

detection_app = typer.Typer(help="Detection: enrolled references, findings and takedown notices.", no_args_is_help=True)

REFERENCE_COLS = ("id", "performer_id", "modality", "source", "source_name", "created_at")
FINDING_COLS = ("id", "performer_id", "media", "location", "score", "status", "sightings", "staydown_of")
MEDIA_SUFFIXES = {
    ".jpg",
    ".jpeg",
    ".png",
    ".webp",
    ".mp4",
    ".mov",
    ".mkv",
    ".webm",
    ".avi",
    ".m4v",
    ".wav",
    ".flac",
    ".mp3",
    ".m4a",
    ".ogg",
    ".opus",
    ".aac",
}


def _reference_files(entry: Path) -> list[Path]:
    if entry.is_dir():
        return sorted(p for p in entry.rglob("*") if p.is_file() and not p.name.startswith("."))
    return [entry]


def enroll(
    folder: Annotated[
        Path | None, typer.Option(help="DIR/<ref>/... or DIR/<ref>.<ext>; <ref> = union member id")
    ] = None,
    create: Annotated[bool, typer.Option("--create", help="register performers that do not exist yet")] = False,
    performer_id: Annotated[str | None, typer.Option(help="enrol FILES for this performer")] = None,
    asset_id: Annotated[str | None, typer.Option(help="enrol a replica asset from the vault")] = None,
    files: Annotated[
        list[Path] | None, typer.Argument(help="reference photos or recordings (with --performer-id)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Enrol performers' reference faces (and voices) for detection."""
    chosen = sum(x is not None for x in (folder, performer_id, asset_id))
    if chosen != 1:
        raise InvalidInput("--folder: give exactly one of --folder, --performer-id (with files) or --asset-id")
    rt = STATE.runtime()
    principal = STATE.principal()
    if asset_id is not None:
        asset_ref, _ = services.enrol_asset(rt.db, rt.store, principal, parse_uuid(asset_id, "--asset-id"))
        emit(ds.ReferenceOut.model_validate(asset_ref), as_json=as_json, columns=REFERENCE_COLS)
        return
    jobs: list[tuple[str, Path]] = []
    if performer_id is not None:
        given = parse_uuid(performer_id, "--performer-id")
        if not files:
            raise InvalidInput("FILES: give at least one reference file with --performer-id")
        jobs = [(str(given), f) for f in files]
    else:
        assert folder is not None
        if not folder.is_dir():
            raise InvalidInput(f"--folder: {folder} is not a folder")
        for entry in sorted(folder.iterdir()):
            if entry.name.startswith("."):
                continue
            union_id = entry.name if entry.is_dir() else entry.stem
            jobs.extend([(f"ref:{union_id}", f) for f in _reference_files(entry)])
    performer_of: dict[str, uuid.UUID] = {}
    outcomes: list[dict[str, object]] = []
    with progress_bar() as progress:
        task = progress.add_task("enrolling", total=len(jobs))
        for key, path in jobs:
            progress.update(task, description=f"enrolling {path.name}")
            try:
                pid = performer_of.get(key)
                if pid is None:
                    pid = performer_of[key] = _resolve(key, create=create)
                ref_row, created = services.enrol_upload(rt.db, principal, pid, path.read_bytes(), path.name)
                outcomes.append(
                    {
                        "file": str(path),
                        "performer_id": str(pid),
                        "reference_id": str(ref_row.id),
                        "status": "enrolled" if created else "already enrolled",
                    }
                )
            except InvalidInput as exc:
                outcomes.append({"file": str(path), "status": "error", "error": exc.message})
            except OSError as exc:
                outcomes.append({"file": str(path), "status": "error", "error": str(exc)})
            progress.advance(task)
    if as_json:
        typer.echo(json.dumps(outcomes, indent=2))
    else:
        table = Table(title="enrolment")
        for col in ("file", "performer_id", "status", "error"):
            table.add_column(col)
        for o in outcomes:
            table.add_row(*[str(o.get(c, "")) for c in ("file", "performer_id", "status", "error")])
        console.print(table)
    if any(o["status"] == "error" for o in outcomes):
        raise typer.Exit(1)


def _resolve(key: str, *, create: bool) -> uuid.UUID:
    """Performer id for ``ref:<union id>`` (creating it with --create) or a plain id."""
    if not key.startswith("ref:"):
        return parse_uuid(key, "--performer-id")
    ref = key[4:]
    with read_session() as session:
        found = session.scalar(select(Performer.id).where(Performer.union_member_id == ref))
    if found is not None:
        return uuid.UUID(str(found))
    if not create:
        raise InvalidInput(f"{ref}: no performer with this union member id (use --create to add one)")
    data = parse(
        registry_schemas.PerformerIn, legal_name=ref, category=PerformerCategory.PRINCIPAL.value, union_member_id=ref
    )
    principal = STATE.principal()
    with STATE.runtime().db.write() as session:
        set_actor(session, principal.name)
        return registry.create_performer(session, principal, data).id


def _scan_targets(paths: list[Path]) -> list[tuple[Path, str]]:
    out: list[tuple[Path, str]] = []
    for p in paths:
        if p.is_dir():
            out.extend((f, str(f)) for f in sorted(p.rglob("*")) if f.is_file() and f.suffix.lower() in MEDIA_SUFFIXES)
        else:
            out.append((p, str(p)))
    return out


def scan(
    paths: Annotated[list[Path], typer.Argument(help="images, videos, audio files or folders of them")],
    as_json: Annotated[bool, typer.Option("--json", help="print a JSON list, one object per file")] = False,
    engine: Annotated[
        str, typer.Option(help="local, or ray: files in parallel on a local Ray cluster (needs the ray extra)")
    ] = "local",
    all_frames: Annotated[
        bool, typer.Option("--all-frames", help="analyse every video frame, not scene changes")
    ] = False,
) -> None:
    """Find enrolled performers in media; report cleared, unauthorized or no match per file."""
    if engine not in ("local", "ray"):
        raise InvalidInput(f"--engine: {engine!r} is not an engine (local or ray)")
    targets = _scan_targets(paths)
    if not targets:
        raise InvalidInput("PATHS: no media files found")
    rt = STATE.runtime()
    principal = STATE.principal()
    with progress_bar() as progress:
        task = progress.add_task("scanning", total=len(targets))

        def done(i: int, result: services.ScanResult) -> None:
            progress.update(task, advance=1, description=f"scanned {Path(result.scan.path).name}")

        results = services.scan_files(
            rt.db,
            principal,
            targets,
            all_frames=all_frames,
            keys_dir=rt.settings.keys_dir,
            on_file=done,
            engine=engine,
        )
    if as_json:
        typer.echo(json.dumps([r.to_json() for r in results], indent=2))
    else:
        table = Table(title="scan")
        for col in ("path", "media", "status", "performer", "where", "score", "note"):
            table.add_column(col, overflow="fold")
        for r in results:
            note = r.scan.error or (f"re-upload of finding {r.staydown_of}" if r.staydown_of else "")
            if r.cleared_by:
                note = f"cleared by {r.cleared_by}"
            if not r.scan.matches:
                table.add_row(r.scan.path, r.scan.media.value if r.scan.media else "", r.status, "", "", "", note)
            for m in r.scan.matches:
                where = str(m["box"]) if "box" in m else f"{m['start']}-{m['end']}s"
                who = m["performer"]["ref"] or m["performer"]["id"]
                table.add_row(
                    r.scan.path,
                    r.scan.media.value if r.scan.media else "",
                    r.status,
                    f"{who} ({m['modality']})",
                    where,
                    f"{m['score']:.3f}",
                    note,
                )
        console.print(table)
        notes = {r.scan.voice_note for r in results if r.scan.voice_note}
        for n in notes:
            err_console.print(f"note: {n}; faces only")
    if any(r.status == "error" for r in results):
        raise typer.Exit(1)


@detection_app.command("references")
def references(
    performer_id: Annotated[str | None, typer.Option(help="only this performer")] = None,
    limit: int = 100,
    offset: int = 0,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """List enrolled references."""
    pid = parse_uuid(performer_id, "--performer-id") if performer_id else None
    with read_session() as session:
        rows, _ = services.list_references(session, STATE.principal(), limit=limit, offset=offset, performer_id=pid)
    emit([ds.ReferenceOut.model_validate(r) for r in rows], as_json=as_json, columns=REFERENCE_COLS)


@detection_app.command("reembed")
def reembed(
    performer_id: Annotated[str | None, typer.Option(help="only this performer's references")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Enrol again the references made with an earlier model, which scans leave out.

    Asset-sourced references are re-embedded from the vault and replaced; uploaded ones kept no
    bytes and are listed as needs_upload (enrol those files again). Exit 1 if any failed.
    """
    pid = parse_uuid(performer_id, "--performer-id") if performer_id else None
    rt = STATE.runtime()
    with progress_bar() as progress:
        task = progress.add_task("re-embedding", total=None)

        def step(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        outcomes = services.reembed(rt.db, rt.store, STATE.principal(), performer_id=pid, progress=step)
    rows = [ds.ReembedOutcomeOut.model_validate(o) for o in outcomes]
    if not rows and not as_json:
        typer.echo("no references of an earlier model")
    else:
        emit(rows, as_json=as_json, columns=("reference_id", "performer_id", "status", "new_reference_id", "detail"))
    if any(o.status == "failed" for o in outcomes):
        raise typer.Exit(1)


@detection_app.command("withdraw")
def withdraw(
    performer_id: Annotated[str, typer.Argument(help="performer whose enrolment is withdrawn")],
    reference_id: Annotated[str | None, typer.Option(help="only this reference")] = None,
) -> None:
    """Delete a performer's enrolled embeddings (all, or one reference)."""
    pid = parse_uuid(performer_id, "PERFORMER_ID")
    rid = parse_uuid(reference_id, "--reference-id") if reference_id else None
    with STATE.runtime().db.write() as session:
        deleted = services.withdraw(session, STATE.principal(), pid, reference_id=rid)
    typer.echo(f"deleted {deleted} reference embedding(s)")


@detection_app.command("findings")
def findings(
    performer_id: Annotated[str | None, typer.Option(help="only this performer")] = None,
    status: Annotated[str | None, typer.Option(help="open, notice_sent, removed, counter_noticed, restored")] = None,
    limit: int = 100,
    offset: int = 0,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """List findings (unauthorized uses) the acting account may see."""
    pid = parse_uuid(performer_id, "--performer-id") if performer_id else None
    st = parse(ds.FindingStatusIn, status=status).status if status else None
    with read_session() as session:
        rows, _ = services.list_findings(
            session, STATE.principal(), limit=limit, offset=offset, performer_id=pid, status=st
        )
    emit([ds.FindingOut.model_validate(r) for r in rows], as_json=as_json, columns=FINDING_COLS)


@detection_app.command("finding-status")
def finding_status(
    finding_id: Annotated[str, typer.Argument()],
    status: Annotated[str, typer.Option(help="notice_sent, removed, counter_noticed or restored")],
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Record a takedown step for a finding."""
    fid = parse_uuid(finding_id, "FINDING_ID")
    body = parse(ds.FindingStatusIn, status=status)
    with STATE.runtime().db.write() as session:
        row = services.set_finding_status(session, STATE.principal(), fid, FindingStatus(body.status))
        out = ds.FindingOut.model_validate(row)
    emit(out, as_json=as_json, columns=FINDING_COLS)


@detection_app.command("notice")
def notice(
    finding_id: Annotated[str, typer.Argument()],
    signer_name: Annotated[str, typer.Option(help="who signs (A)")],
    address: Annotated[str, typer.Option(help="postal address (D)")],
    phone: Annotated[str, typer.Option(help="phone (D)")],
    email: Annotated[str, typer.Option(help="email (D)")],
    capacity: Annotated[
        str, typer.Option(help="right_holder, authorized_agent or eligible_plaintiff")
    ] = "right_holder",
    recipient: Annotated[str | None, typer.Option(help="platform or designated agent")] = None,
    material_url: Annotated[str | None, typer.Option(help="URL where the material is (C, G)")] = None,
    pdf: Annotated[Path | None, typer.Option(help="also write the notice as a PDF here")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the notice JSON")] = False,
) -> None:
    """Draft a takedown notice from a finding (NO FAKES draft fields A-G), as JSON and PDF."""
    fid = parse_uuid(finding_id, "FINDING_ID")
    body = parse(
        ds.NoticeIn,
        signer_name=signer_name,
        address=address,
        phone=phone,
        email=email,
        capacity=capacity,
        recipient=recipient,
        material_url=material_url,
    )
    with STATE.runtime().db.write() as session:
        row = notices.build_notice(session, STATE.principal(), fid, **body.model_dump())
        out = ds.NoticeOut.model_validate(row)
    if pdf is not None:
        pdf.write_bytes(notices.render_pdf(out.document))
        err_console.print(f"wrote {pdf}")
    if as_json or pdf is None:
        typer.echo(json.dumps(out.model_dump(mode="json"), indent=2))
    else:
        typer.echo(str(out.id))


@detection_app.command("sign")
def sign(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="a cleared output (JPEG or PNG)")],
    out: Annotated[Path, typer.Option(help="where to write the signed copy")],
) -> None:
    """Sign a cleared output with the registry's C2PA key (created in the keys folder on first use)."""
    rt = STATE.runtime()
    covered = services.sign_cleared_output(rt.db, rt.settings.keys_dir, STATE.principal(), path, out)
    typer.echo(f"signed {out} (cleared for {len(covered)} performer(s))")


def register(app: typer.Typer) -> None:
    """Add ``enroll``, ``scan`` and the ``detection`` group to the root app."""
    app.command("enroll")(enroll)
    app.command("scan")(scan)
    app.add_typer(detection_app, name="detection")
