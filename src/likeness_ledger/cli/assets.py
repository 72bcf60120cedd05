"""Replica asset commands (upload, download, list) and vault maintenance."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, BinaryIO

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

from likeness_ledger.cli.common import (
    STATE,
    console,
    emit,
    err_console,
    parse,
    parse_performer,
    parse_uuid,
    read_session,
)
from likeness_ledger.errors import InvalidInput
from likeness_ledger.registry import schemas
from likeness_ledger.registry import services as registry
from likeness_ledger.vault import services as vault

asset_app = typer.Typer(help="Replica assets: upload into the vault, download through release.", no_args_is_help=True)
vault_app = typer.Typer(help="Vault maintenance.", no_args_is_help=True)
representative_doc_app = typer.Typer()

ASSET_COLS = ("id", "performer_id", "kind", "media", "size", "sha256", "filename")
RELEASE_COLS = ("released_at", "account_id", "purpose")
CHUNK = 4 * 1024 * 1024


def _progress() -> Progress:
    # On stderr, so `--json` output on stdout stays machine-readable.
    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=err_console,
    )


def _read_chunks(handle: BinaryIO, progress: Progress, task: int) -> Iterator[bytes]:
    while chunk := handle.read(CHUNK):
        progress.advance(task, len(chunk))  # type: ignore[arg-type] # rich's TaskID is an int NewType
        yield chunk


@asset_app.command("upload")
def upload(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="file to store")],
    performer_id: Annotated[str, typer.Option(help="performer the replica depicts")],
    kind: Annotated[str, typer.Option(help="employment_based or independently_created")],
    media: Annotated[str, typer.Option(help="face, body or voice")],
    scan_session_id: Annotated[str | None, typer.Option(help="scan session that produced it")] = None,
    content_type: Annotated[str, typer.Option(help="MIME type")] = "application/octet-stream",
    description: Annotated[str | None, typer.Option(help="what the file is")] = None,
    as_json: Annotated[bool, typer.Option("--json", metavar="", help="print JSON")] = False,
) -> None:
    """Encrypt a replica file into the vault and record it (idempotent for identical bytes)."""
    size = path.stat().st_size
    meta = parse(
        schemas.AssetMeta,
        performer_id=parse_performer(performer_id, "--performer-id") if performer_id else None,
        kind=kind,
        media=media,
        scan_session_id=scan_session_id,
        content_type=content_type,
        description=description,
        filename=path.name,
        size=size,
    )
    rt = STATE.runtime()
    principal = STATE.principal()
    with path.open("rb") as handle, _progress() as progress:
        task = progress.add_task(f"storing {path.name}", total=size)
        stored = vault.store_replica(
            rt.db,
            rt.store,
            principal,
            meta,
            _read_chunks(handle, progress, task),
            max_size=rt.settings.max_upload_bytes,
        )
    if not stored.created and not as_json:
        console.print("identical bytes already stored for this performer; existing record:")
    emit(schemas.AssetOut.model_validate(stored.asset), as_json=as_json, columns=ASSET_COLS)


@asset_app.command("download")
def download(
    asset_id: Annotated[str, typer.Argument(help="asset id")],
    out: Annotated[Path, typer.Option("--out", "-o", help="file to write")],
    purpose: Annotated[str, typer.Option(help="why the bytes are needed (recorded)")],
    force: Annotated[bool, typer.Option(metavar="", help="overwrite an existing file")] = False,
) -> None:
    """Release a replica's bytes to a file; allowed only when the release policy allows."""
    if out.exists() and not force:
        raise InvalidInput(f"--out: {out} exists (use --force to overwrite)")
    rt = STATE.runtime()
    asset, chunks = vault.release(rt.db, rt.store, STATE.principal(), parse_uuid(asset_id, "ASSET_ID"), purpose)
    partial = out.with_name(out.name + ".partial")
    digest = hashlib.sha256()
    try:
        with partial.open("wb") as handle, _progress() as progress:
            task = progress.add_task(f"releasing {asset.filename or asset.id}", total=asset.size)
            for chunk in chunks:
                handle.write(chunk)
                digest.update(chunk)
                progress.advance(task, len(chunk))
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
    console.print(f"wrote {out} ({asset.size} bytes, sha256 {digest.hexdigest()})")


@asset_app.command("show")
def show(
    asset_id: Annotated[str, typer.Argument()], as_json: Annotated[bool, typer.Option("--json", metavar="")] = False
) -> None:
    """Show one replica asset record."""
    aid = parse_uuid(asset_id, "ASSET_ID")
    principal = STATE.principal()
    with read_session() as session:
        record = schemas.AssetOut.model_validate(registry.get_asset(session, principal, aid))
    emit(record, as_json=as_json, columns=ASSET_COLS)


@asset_app.command("list")
def list_(
    performer_id: Annotated[str | None, typer.Option(help="only this performer's")] = None,
    as_json: Annotated[bool, typer.Option("--json", metavar="")] = False,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
    offset: Annotated[int, typer.Option(min=0)] = 0,
) -> None:
    """List replica asset records."""
    pid = parse_performer(performer_id, "--performer-id") if performer_id else None
    principal = STATE.principal()
    with read_session() as session:
        rows, total = registry.list_assets(session, principal, limit=limit, offset=offset, performer_id=pid)
        records = [schemas.AssetOut.model_validate(r) for r in rows]
    emit(records, as_json=as_json, columns=ASSET_COLS, title=f"assets ({len(records)} of {total})")


@asset_app.command("releases")
def releases(
    asset_id: Annotated[str, typer.Argument()], as_json: Annotated[bool, typer.Option("--json", metavar="")] = False
) -> None:
    """Who received an asset's bytes, when and why."""
    aid = parse_uuid(asset_id, "ASSET_ID")
    principal = STATE.principal()
    with read_session() as session:
        rows, total = vault.list_releases(session, principal, aid, limit=500, offset=0)
        records = [schemas.ReleaseOut.model_validate(r) for r in rows]
    emit(records, as_json=as_json, columns=RELEASE_COLS, title=f"releases ({total})")


@representative_doc_app.command("document")
def representative_document(
    rep_id: Annotated[str, typer.Argument(help="representative id")],
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="signed authority document")],
) -> None:
    """Store a representative's authority document in the vault and link it."""
    rid = parse_uuid(rep_id, "REP_ID")
    rt = STATE.runtime()
    principal = STATE.principal()
    with read_session() as session:
        registry.get_representative(session, principal, rid)
    with path.open("rb") as handle:
        digest = vault.store_blob(
            rt.db, rt.store, handle, max_size=rt.settings.max_upload_bytes, expected_size=path.stat().st_size
        )
    with rt.db.write() as session:
        registry.attach_authority_document(session, principal, rid, digest)
    console.print(f"authority document stored: sha256 {digest}")


@vault_app.command("gc")
def gc(
    grace_seconds: Annotated[
        float, typer.Option(min=0, help="keep unrecorded bytes younger than this")
    ] = vault.GC_GRACE_SECONDS,
) -> None:
    """Remove stored bytes that have no record (left by an interrupted upload)."""
    rt = STATE.runtime()
    removed = vault.collect_garbage(rt.db, rt.store, grace_seconds=grace_seconds)
    console.print(f"removed {len(removed)} unreferenced blob(s)")
    for digest in removed:
        console.print(f"  {digest}")


def register(app: typer.Typer) -> None:
    """Add the asset and vault command groups to the root app."""
    app.add_typer(asset_app, name="asset")
    app.add_typer(vault_app, name="vault")
    from likeness_ledger.cli.registry import representative_app  # noqa: PLC0415 - adds to that group

    representative_app.command("document")(representative_document)
