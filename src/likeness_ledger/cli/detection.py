"""Detection commands: ``enroll``, ``scan`` and the ``detection`` group (references, findings, notices)."""

from __future__ import annotations

import json
import mimetypes
import uuid
from datetime import UTC
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from likeness_ledger.accounts.models import Role
from likeness_ledger.accounts.services import Principal
from likeness_ledger.cli.common import (
    STATE,
    JsonOpt,
    console,
    emit,
    err_console,
    find_performer,
    parse,
    parse_performer,
    parse_uuid,
    progress_bar,
    read_session,
)
from likeness_ledger.db import Database, set_actor
from likeness_ledger.detection import media, notices, services
from likeness_ledger.detection import schemas as ds
from likeness_ledger.detection.models import FindingStatus, MediaKind, ReferenceSource
from likeness_ledger.errors import Error, InvalidInput
from likeness_ledger.registry import schemas as registry_schemas
from likeness_ledger.registry import services as registry
from likeness_ledger.registry.models import PerformerCategory

detection_app = typer.Typer(help="Detection: enrolled references, findings and takedown notices.", no_args_is_help=True)

REFERENCE_COLS = ("id", "performer_id", "modality", "source", "source_name", "created_at", "approved_at")
FINDING_COLS = ("id", "performer_id", "media", "location", "score", "status", "sightings", "staydown_of")
NOT_REFERENCE_MEDIA = "not a supported image or audio file"
# One enrolment row: (the file's place in the order given, what the table and --json show).
Outcome = tuple[int, dict[str, object]]


def _id_table(rows: list[dict[str, str]], columns: tuple[str, ...], *, title: str = "") -> Table:
    """A table whose ``id`` column is never cut: the id is what the next command needs, in full.

    The id keeps its full width on one line; the other columns fold when space is short (80
    columns leave room for one whole id, not for three).
    """
    table = Table(title=title or None)
    for column in columns:
        if column == "id":
            table.add_column(column, no_wrap=True, min_width=36)
        else:
            table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*[row.get(c, "") for c in columns])
    return table


def _media_kind(path: Path) -> MediaKind | None:
    """The kind the scanner would read ``path`` as (it decides from the content), or None."""
    try:
        return media.sniff(path)
    except (media.MediaError, OSError):
        return None


def _looks_like_media(path: Path) -> bool:
    """Whether a folder's file is meant for the scanner: its content reads as media, or its name says so.

    A file named as media that does not read as such is kept, so the scan reports it as broken
    instead of leaving it out without a word.
    """
    guessed, _ = mimetypes.guess_type(path.name)
    if guessed is not None and guessed.split("/", 1)[0] in ("image", "video", "audio"):
        return True
    return _media_kind(path) is not None


def _reference_files(entry: Path) -> list[Path]:
    if entry.is_dir():
        return sorted(p for p in entry.rglob("*") if p.is_file() and not p.name.startswith("."))
    return [entry]


def _reference_problem(path: Path) -> str | None:
    """Why ``path`` cannot be a reference before any model runs (None: try to embed it)."""
    try:
        if path.stat().st_size == 0:
            return None  # embed_reference names it: "empty file (0 bytes)"
    except OSError as exc:
        return f"cannot read the file ({exc.strerror or exc})"
    if _media_kind(path) is None:
        return NOT_REFERENCE_MEDIA
    return None


def _usage_problem(
    folder: Path | None, performer_id: str | None, asset_id: str | None, files: list[Path] | None
) -> str | None:
    given = [
        name
        for name, value in (("--folder", folder), ("--performer-id", performer_id), ("--asset-id", asset_id))
        if value is not None
    ]
    if len(given) > 1:
        return f"{' and '.join(given)}: give only one of them"
    if files and performer_id is None:
        return "FILES: reference files need --performer-id ID (or enrol a folder with --folder DIR, without FILES)"
    if not given:
        return "give --folder DIR, --performer-id ID with FILES, or --asset-id ID"
    return None


def enroll(
    folder: Annotated[
        Path | None, typer.Option(help="DIR/<ref>/... or DIR/<ref>.<ext>; <ref> = union member id")
    ] = None,
    create: Annotated[
        bool, typer.Option("--create", help="register performers that do not exist yet", metavar="")
    ] = False,
    performer_id: Annotated[str | None, typer.Option(help="enrol FILES for this performer")] = None,
    asset_id: Annotated[str | None, typer.Option(help="enrol a replica asset from the vault")] = None,
    files: Annotated[
        list[Path] | None, typer.Argument(help="reference photos or recordings (with --performer-id)")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Enrol performers' reference faces (and voices) for detection.

    With --create, a performer is registered only together with at least one reference from its
    files (one transaction): files without a usable face or voice never leave a performer behind.
    """
    problem = _usage_problem(folder, performer_id, asset_id, files)
    if problem is not None:
        raise InvalidInput(problem)
    if asset_id is not None:
        if files:
            raise InvalidInput("FILES: --asset-id enrols a vault asset; give no files with it")
        rt = STATE.runtime()
        asset_ref, _ = services.enrol_asset(rt.db, rt.store, STATE.principal(), parse_uuid(asset_id, "--asset-id"))
        emit(ds.ReferenceOut.model_validate(asset_ref), as_json=as_json, columns=REFERENCE_COLS)
        return
    groups: dict[str, list[Path]] = {}
    if performer_id is not None:
        given = parse_performer(performer_id, "--performer-id")
        if not files:
            raise InvalidInput("FILES: give at least one reference file with --performer-id")
        groups[str(given)] = list(files)
    else:
        assert folder is not None
        if not folder.is_dir():
            raise InvalidInput(f"--folder: {folder} is not a folder")
        for entry in sorted(folder.iterdir()):
            if entry.name.startswith("."):
                continue
            union_id = entry.name if entry.is_dir() else entry.stem
            groups.setdefault(f"ref:{union_id}", []).extend(_reference_files(entry))
        if not any(_looks_like_media(f) for paths in groups.values() for f in paths):
            raise InvalidInput(f"--folder: no image or audio files in {folder}")
    outcomes = _enrol_groups(groups, create=create)
    rows = [o for _, o in sorted(outcomes, key=lambda numbered: numbered[0])]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
    else:
        table = Table(title="enrolment")
        for col in ("file", "performer_id", "status", "error"):
            table.add_column(col)
        for o in rows:
            table.add_row(*[str(o.get(c, "")) for c in ("file", "performer_id", "status", "error")])
        console.print(table)
    if any(o["status"] == "error" for o in rows):
        raise typer.Exit(1)


def _enrol_groups(groups: dict[str, list[Path]], *, create: bool) -> list[Outcome]:
    """Enrol each group's files for its performer; outcomes numbered in the order files were given."""
    rt = STATE.runtime()
    principal = STATE.principal()
    outcomes: list[Outcome] = []
    numbered: dict[str, list[tuple[int, Path]]] = {}
    count = 0
    for key, paths in groups.items():
        numbered[key] = [(count + i, p) for i, p in enumerate(paths)]
        count += len(paths)

    def fail(n: int, path: Path, message: str) -> None:
        outcomes.append(_failed(n, path, message))

    with progress_bar() as progress:
        task = progress.add_task("enrolling", total=count)
        for key, items in numbered.items():
            try:
                pid = _existing_performer(key)
                if pid is None and create:  # refused before any model runs
                    principal.require(Role.UNION, Role.ADMIN, action="create performer")
            except Error as exc:
                for n, path in items:
                    fail(n, path, exc.message)
                progress.advance(task, len(items))
                continue
            if pid is None and not create:
                ref = key.removeprefix("ref:")
                for n, path in items:
                    fail(n, path, f"{ref}: no performer with this union member id (use --create to add one)")
                progress.advance(task, len(items))
                continue
            embedded: list[tuple[int, Path, services.Embedded]] = []
            for n, path in items:
                progress.update(task, description=f"enrolling {path.name}")
                problem = _reference_problem(path)
                if problem is not None:
                    fail(n, path, f"{path.name}: {problem}")
                elif pid is not None:
                    _enrol_one(rt.db, principal, pid, n, path, outcomes)
                else:
                    try:
                        embedded.append((n, path, services.embed_reference(path.read_bytes(), path.name)))
                    except Error as exc:
                        fail(n, path, exc.message)
                    except OSError as exc:
                        fail(n, path, f"{path.name}: cannot read the file ({exc.strerror or exc})")
                progress.advance(task)
            if embedded:
                _create_with_references(rt.db, principal, key.removeprefix("ref:"), embedded, outcomes)
    return outcomes


def _failed(n: int, path: Path, message: str) -> Outcome:
    return n, {"file": str(path), "status": "error", "error": message}


def _enrolled(n: int, path: Path, pid: uuid.UUID, ref_id: uuid.UUID, created: bool) -> Outcome:
    status = "enrolled" if created else "already enrolled"
    return n, {"file": str(path), "performer_id": str(pid), "reference_id": str(ref_id), "status": status}


def _enrol_one(db: Database, principal: Principal, pid: uuid.UUID, n: int, path: Path, outcomes: list[Outcome]) -> None:
    try:
        ref_row, created = services.enrol_upload(db, principal, pid, path.read_bytes(), path.name)
    except Error as exc:
        outcomes.append(_failed(n, path, exc.message))
    except OSError as exc:
        outcomes.append(_failed(n, path, f"{path.name}: cannot read the file ({exc.strerror or exc})"))
    else:
        outcomes.append(_enrolled(n, path, pid, ref_row.id, created))


def _existing_performer(key: str) -> uuid.UUID | None:
    """Performer id for ``ref:<union id>`` (None: not registered) or a plain id."""
    if not key.startswith("ref:"):
        return parse_performer(key, "--performer-id")
    return find_performer(key[4:])


def _create_with_references(
    db: Database,
    principal: Principal,
    ref: str,
    embedded: list[tuple[int, Path, services.Embedded]],
    outcomes: list[Outcome],
) -> None:
    """Register the performer and store its references in one transaction (all or nothing)."""
    rows: list[Outcome] = []
    try:
        data = parse(
            registry_schemas.PerformerIn,
            legal_name=ref,
            category=PerformerCategory.PRINCIPAL.value,
            union_member_id=ref,
        )
        with db.write() as session:
            set_actor(session, principal.name)
            pid = registry.create_performer(session, principal, data).id
            for n, path, e in embedded:
                row, created = services.add_reference(
                    session, principal, pid, e, source=ReferenceSource.UPLOAD, source_name=path.name
                )
                rows.append(_enrolled(n, path, pid, row.id, created))
    except Error as exc:
        outcomes.extend(_failed(n, path, exc.message) for n, path, _ in embedded)
        return
    outcomes.extend(rows)


def _scan_targets(paths: list[Path]) -> tuple[list[tuple[Path, str]], list[Path]]:
    """Files to scan (folders expanded to the files the scanner reads) and the folder files left out."""
    out: list[tuple[Path, str]] = []
    skipped: list[Path] = []
    for p in paths:
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if not f.is_file() or f.name.startswith("."):
                    continue
                if _looks_like_media(f):
                    out.append((f, str(f)))
                else:
                    skipped.append(f)
        else:
            out.append((p, str(p)))
    return out, skipped


def scan(
    paths: Annotated[list[Path], typer.Argument(help="images, videos, audio files or folders of them")],
    as_json: Annotated[bool, typer.Option("--json", help="print a JSON list, one object per file", metavar="")] = False,
    engine: Annotated[
        str, typer.Option(help="local, or ray: files in parallel on a local Ray cluster (needs the ray extra)")
    ] = "local",
    all_frames: Annotated[
        bool, typer.Option("--all-frames", help="analyse every video frame, not scene changes", metavar="")
    ] = False,
) -> None:
    """Find enrolled performers in media; report cleared, unauthorized or no match per file."""
    if engine not in ("local", "ray"):
        raise InvalidInput(f"--engine: {engine!r} is not an engine (local or ray)")
    targets, skipped = _scan_targets(paths)
    if not targets:
        raise InvalidInput("PATHS: no image, video or audio files found")
    if skipped:
        names = ", ".join(str(f) for f in skipped[:5]) + (f" and {len(skipped) - 5} more" if len(skipped) > 5 else "")
        err_console.print(f"note: skipped {len(skipped)} file(s) that are not image, video or audio: {names}")
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
        _print_finding_ids(results)
        notes = {r.scan.voice_note for r in results if r.scan.voice_note}
        for n in notes:
            err_console.print(f"note: {n}; faces only")
    if any(r.status == "error" for r in results):
        raise typer.Exit(1)


def _print_finding_ids(results: list[services.ScanResult]) -> None:
    """Each file's finding ids, whole and on their own lines, for ``likeness detection notice``."""
    raised = [r for r in results if r.findings or r.staydown_of]
    if not raised:
        return
    typer.echo("findings (draft a takedown notice with: likeness detection notice FINDING_ID ...):")
    for r in raised:
        typer.echo(f"{r.scan.path}")
        for fid in r.findings:
            typer.echo(f"  {fid}")
        if r.staydown_of:
            typer.echo(f"  re-upload of finding {r.staydown_of}")


@detection_app.command("references")
def references(
    performer_id: Annotated[str | None, typer.Option(help="only this performer")] = None,
    pending: Annotated[
        bool, typer.Option("--pending", metavar="", help="only those waiting for the union's approval")
    ] = False,
    limit: int = 100,
    offset: int = 0,
    as_json: JsonOpt = False,
) -> None:
    """List enrolled references (approved_at empty: waiting for the union's approval)."""
    pid = parse_performer(performer_id, "--performer-id") if performer_id else None
    with read_session() as session:
        rows, _ = services.list_references(
            session, STATE.principal(), limit=limit, offset=offset, performer_id=pid, pending=True if pending else None
        )
    emit([ds.ReferenceOut.model_validate(r) for r in rows], as_json=as_json, columns=REFERENCE_COLS)


@detection_app.command("approve")
def approve(
    reference_ids: Annotated[list[str], typer.Argument(help="references to approve (see references --pending)")],
    as_json: JsonOpt = False,
) -> None:
    """Approve references performers uploaded, so the union's and producers' scans use them (union, admin)."""
    ids = [parse_uuid(r, "REFERENCE_IDS") for r in reference_ids]
    with STATE.runtime().db.write() as session:  # all or none
        rows = [ds.ReferenceOut.model_validate(services.approve_reference(session, STATE.principal(), i)) for i in ids]
    emit(rows, as_json=as_json, columns=REFERENCE_COLS)


@detection_app.command("reembed")
def reembed(
    performer_id: Annotated[str | None, typer.Option(help="only this performer's references")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Enrol again the references made with an earlier model, which scans leave out.

    Asset-sourced references are re-embedded from the vault and replaced; uploaded ones kept no
    bytes and are listed as needs_upload (enrol those files again). Exit 1 if any failed.
    """
    pid = parse_performer(performer_id, "--performer-id") if performer_id else None
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
    pid = parse_performer(performer_id, "PERFORMER_ID")
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
    as_json: JsonOpt = False,
) -> None:
    """List findings (unauthorized uses) the acting account may see."""
    pid = parse_performer(performer_id, "--performer-id") if performer_id else None
    st = parse(ds.FindingStatusIn, status=status).status if status else None
    with read_session() as session:
        rows, _ = services.list_findings(
            session, STATE.principal(), limit=limit, offset=offset, performer_id=pid, status=st
        )
    out = [ds.FindingOut.model_validate(r) for r in rows]
    if as_json:
        emit(out, as_json=True, columns=FINDING_COLS)
        return
    plain = [{c: "" if v is None else str(v) for c, v in o.model_dump(mode="json").items()} for o in out]
    console.print(_id_table(plain, FINDING_COLS))


@detection_app.command("finding-status")
def finding_status(
    finding_id: Annotated[str, typer.Argument()],
    status: Annotated[str, typer.Option(help="notice_sent, removed, counter_noticed or restored")],
    as_json: JsonOpt = False,
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
    as_json: Annotated[bool, typer.Option("--json", help="print the notice JSON", metavar="")] = False,
) -> None:
    """Draft a takedown notice from a finding (NO FAKES draft fields A-G), as JSON and PDF."""
    fid = parse_uuid(finding_id, "FINDING_ID")
    if pdf is not None:
        _check_writable(pdf)  # before the notice is stored, so a bad --pdf leaves nothing behind
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
    location = out.document["C_material"]["location"]
    if not notices.is_link(location):
        err_console.print(
            f"warning: (C) gives the material's location as {location!r}, a local path the recipient cannot "
            "open; give the public URL with --material-url"
        )
    if pdf is not None:
        _write_pdf(pdf, out.document)
    if as_json or pdf is None:
        typer.echo(json.dumps(out.model_dump(mode="json"), indent=2))
    else:
        typer.echo(str(out.id))
    _warn_member_id_as_legal_name(out.document)
    # Plain echo, not Rich: the commands in these lines must not be wrapped mid-way.
    typer.echo(
        f"next: sign the notice (the PDF has a signature line, or sign electronically as /s/ {body.signer_name}), "
        f"send it to the platform, then record that with:\n"
        f"  likeness detection finding-status {fid} --status notice_sent\n"
        f"(show it again with: likeness detection notice-show {out.id} --pdf PATH)",
        err=True,
    )


def _check_writable(pdf: Path) -> None:
    folder = pdf.parent.resolve()
    if not folder.is_dir() or pdf.is_dir():
        raise InvalidInput(f"--pdf: cannot write {pdf} (no such folder, or it is a folder)")


def _write_pdf(pdf: Path, document: dict[str, Any]) -> None:
    try:
        pdf.write_bytes(notices.render_pdf(document))
    except OSError as exc:
        raise InvalidInput(f"--pdf: cannot write {pdf} ({exc.strerror or exc})") from exc
    err_console.print(f"wrote {pdf}", markup=False)


def _warn_member_id_as_legal_name(document: dict[str, Any]) -> None:
    """Warn on stderr when field (B) names the performer only by union member id."""
    if not notices.legal_name_is_member_id(document):
        return
    member = document["B_individual"]["union_member_id"]
    typer.echo(
        f"warning: (B) gives the legal name as {member!r}, the performer's union member id ("
        "`enroll --create` registers a performer under it); set the real legal name with\n"
        f'  likeness performer update {member} --legal-name "FULL LEGAL NAME"\n'
        "and draft the notice again",
        err=True,
    )


NOTICE_COLS = ("id", "created_at", "recipient", "signer")


@detection_app.command("notices")
def notices_of_finding(
    finding_id: Annotated[str, typer.Argument(help="finding whose notices to list")],
    as_json: JsonOpt = False,
) -> None:
    """List the takedown notices drafted for a finding, newest first."""
    fid = parse_uuid(finding_id, "FINDING_ID")
    with read_session() as session:
        rows, _ = notices.list_notices(session, STATE.principal(), fid)
        out = [ds.NoticeOut.model_validate(r) for r in rows]
    if as_json:
        emit(out, as_json=True, columns=NOTICE_COLS)
        return
    if not out:
        typer.echo(f"no notices drafted for finding {fid} (draft one with: likeness detection notice {fid} ...)")
        return
    plain = [
        {
            "id": str(o.id),
            "created_at": o.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
            "recipient": o.document.get("recipient") or "",
            "signer": o.document["A_signature"]["name"],
        }
        for o in out
    ]
    console.print(_id_table(plain, NOTICE_COLS, title=f"notices of finding {fid}"))


@detection_app.command("notice-show")
def notice_show(
    notice_id: Annotated[str, typer.Argument(help="a notice id (see likeness detection notices FINDING_ID)")],
    pdf: Annotated[Path | None, typer.Option(help="write the notice as a PDF here again")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the notice JSON", metavar="")] = False,
) -> None:
    """Show a drafted takedown notice again, and write its PDF from the stored document."""
    nid = parse_uuid(notice_id, "NOTICE_ID")
    with read_session() as session:
        out = ds.NoticeOut.model_validate(notices.get_notice(session, STATE.principal(), nid))
    if pdf is not None:
        _write_pdf(pdf, out.document)
    if as_json:
        typer.echo(json.dumps(out.model_dump(mode="json"), indent=2))
    else:
        typer.echo(notices.render_text(out.id, out.document))
    _warn_member_id_as_legal_name(out.document)


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
