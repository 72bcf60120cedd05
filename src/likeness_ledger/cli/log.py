"""``likeness log ...`` (checkpoint, key, audit, receipt, consistency) and the offline ``likeness verify``.

``verify`` is pure: it reads files and the verifier keys given on the command line and uses only
:mod:`likeness_ledger.transparency.receipts`, so it never opens a data folder or a database.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.progress import TaskID

from likeness_ledger.cli.common import STATE, parse_performer, progress_bar, read_session, write_session
from likeness_ledger.errors import Error, InvalidInput, NotFound
from likeness_ledger.transparency.errors import VerificationError
from likeness_ledger.transparency.receipts import Receipt, verify_consistency_between

log_app = typer.Typer(help="The transparency log: signed checkpoints, receipts, audit.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the ``log`` group and the ``verify`` command to ``app``."""
    app.add_typer(log_app, name="log")
    app.command("verify")(verify_command)


def _fail(error: Error, exit_code: int | None = None) -> NoReturn:
    typer.echo(f"error: {error.diagnostics()}", err=True)
    raise typer.Exit(error.exit_code if exit_code is None else exit_code)


@log_app.command("checkpoint")
def checkpoint_command() -> None:
    """Sign a checkpoint of the whole log, store it and print it (a signed note)."""
    from likeness_ledger.transparency import log  # noqa: PLC0415 - keep `verify` free of the database

    settings = STATE.runtime().settings
    with write_session() as session:
        note = log.sign_checkpoint(session, log.log_signer(settings), settings.log_origin)
    typer.echo(note, nl=False)


@log_app.command("key")
def key_command() -> None:
    """Print the log's verifier key (name+keyid+base64), for checking receipts offline."""
    from likeness_ledger.transparency import log  # noqa: PLC0415

    typer.echo(log.verifier_key(STATE.runtime().settings))


@log_app.command("audit")
def audit_command() -> None:
    """Recompute every leaf, block, node, performer-index entry and checkpoint; exit 1 naming the first bad index."""
    from likeness_ledger.transparency import log  # noqa: PLC0415

    STATE.runtime()
    with read_session() as session, progress_bar() as progress:
        tasks: dict[str, TaskID] = {}

        def step(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(f"checking {stage}", total=total)
            progress.update(tasks[stage], completed=done, total=total)

        try:
            log.audit(session, progress=step)
        except log.LogCorrupted as exc:
            progress.stop()
            _fail(exc, 1)
        leaves = log.size(session)
    typer.echo(f"ok: {leaves} leaves, their subtree hashes and checkpoints all match")


@log_app.command("receipt")
def receipt_command(
    index: Annotated[int, typer.Argument(help="leaf index of the event")],
    out: Annotated[Path | None, typer.Option("--out", help="write the receipt here instead of stdout")] = None,
) -> None:
    """Sign a checkpoint of the current log and print a receipt (JSON) proving leaf INDEX is in it."""
    from likeness_ledger.transparency import log  # noqa: PLC0415

    settings = STATE.runtime().settings
    with write_session() as session:
        made = log.receipt(session, index, signer=log.log_signer(settings), origin=settings.log_origin)
    if out is None:
        typer.echo(made.to_json())
    else:
        out.write_text(made.to_json() + "\n", encoding="utf-8")


@log_app.command("receipts")
def receipts_command(
    performer: Annotated[str, typer.Option("--performer-id", help="performer id or union member id")],
    out: Annotated[Path, typer.Option("--out", help="folder to write receipt-<leaf index>.json files into")],
) -> None:
    """Write a receipt for every logged event concerning a performer, all under one checkpoint."""
    from likeness_ledger.transparency import log  # noqa: PLC0415

    try:
        performer_id = parse_performer(performer, "--performer-id")
    except InvalidInput as exc:
        _fail(exc)
    settings = STATE.runtime().settings
    with read_session() as session:
        indices, _ = log.performer_leaves(session, performer_id, limit=2**62, offset=0)
    if not indices:
        _fail(NotFound(f"--performer-id: no logged events concern performer {performer_id}"))
    with write_session() as session:
        note = log.covering_checkpoint(session, log.log_signer(settings), settings.log_origin, max(indices))
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _fail(InvalidInput(f"--out: cannot create {out}: {exc.strerror}"))
    with read_session() as session:
        # Page through so a performer with many events never holds every proof in memory at once.
        for chunk in range(0, len(indices), 500):
            for made in log.receipts_under(session, indices[chunk : chunk + 500], note):
                (out / f"receipt-{made.leaf_index:012d}.json").write_text(made.to_json() + "\n", encoding="utf-8")
    typer.echo(f"wrote {len(indices)} receipts to {out} (checkpoint size {_size(note)})")


def _size(note: str) -> int:
    from likeness_ledger.transparency.checkpoint import Checkpoint, Note  # noqa: PLC0415

    return Checkpoint.from_text(Note.from_text(note).text).size


@log_app.command("consistency")
def consistency_command(
    old_size: Annotated[int, typer.Argument(help="size of the older checkpoint")],
    new_size: Annotated[int, typer.Argument(help="size of the newer checkpoint")],
    out: Annotated[Path | None, typer.Option("--out", help="write the proof here instead of stdout")] = None,
) -> None:
    """Print the consistency proof (JSON) from OLD_SIZE to NEW_SIZE, for `likeness verify --consistency`."""
    from likeness_ledger.transparency import log  # noqa: PLC0415

    STATE.runtime()
    with read_session() as session:
        proof = log.consistency_proof(session, old_size, new_size)
    payload = json.dumps({"old_size": old_size, "new_size": new_size, "proof": log.hex_proof(proof)})
    if out is None:
        typer.echo(payload)
    else:
        out.write_text(payload + "\n", encoding="utf-8")


def _read_proof(path: Path) -> list[str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"--proof-file: {path}: expected a JSON proof, got {exc}") from exc
    proof = data.get("proof") if isinstance(data, dict) else data
    if not isinstance(proof, list) or not all(isinstance(item, str) for item in proof):
        raise InvalidInput(f"--proof-file: {path}: expected a list of hex hashes, or an object with one as 'proof'")
    return proof


def _read(path: Path, option: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"{option}: cannot read {path}: {exc.strerror}") from exc


def _key_text(value: str) -> str:
    """A ``--key`` value: the verifier key itself, or the path of a file holding it (from `likeness log key`)."""
    path = Path(value)
    try:
        is_file = path.is_file()
    except OSError:  # e.g. a key too long to be a file name
        is_file = False
    return _read(path, "--key").decode("utf-8", errors="replace").strip() if is_file else value


def verify_command(
    receipt: Annotated[Path | None, typer.Argument(help="receipt JSON file", show_default=False)] = None,
    key: Annotated[
        list[str] | None,
        typer.Option("--key", help="trusted verifier key (name+keyid+base64), or a file holding one; repeatable"),
    ] = None,
    origin: Annotated[str | None, typer.Option("--origin", help="require checkpoints of this log origin")] = None,
    consistency: Annotated[
        tuple[Path, Path] | None,
        typer.Option("--consistency", help="OLD NEW signed checkpoint files: check NEW extends OLD"),
    ] = None,
    proof_file: Annotated[
        Path | None, typer.Option("--proof-file", help="consistency proof (from `likeness log consistency`)")
    ] = None,
) -> None:
    """Check a receipt, or two checkpoints' consistency, offline against the log's verifier key."""
    try:
        message = _verify(receipt, key or [], origin, consistency, proof_file)
    except VerificationError as exc:
        _fail(exc, 1)
    except Error as exc:
        _fail(exc)
    typer.echo(message)


def _verify(
    receipt: Path | None,
    keys: list[str],
    origin: str | None,
    consistency: tuple[Path, Path] | None,
    proof_file: Path | None,
) -> str:
    if not keys:
        raise InvalidInput("--key: expected at least one verifier key")
    keys = [_key_text(key) for key in keys]
    if consistency is None:
        if receipt is None:
            raise InvalidInput("RECEIPT: expected a receipt file (or --consistency OLD NEW)")
        parsed = Receipt.from_json(_read(receipt, "RECEIPT"))
        parsed.verify(keys, origin=origin)
        return f"ok: leaf {parsed.leaf_index} is in the log at size {parsed.tree_size}"
    if receipt is not None or proof_file is None:
        raise InvalidInput("--consistency: expected --proof-file and no RECEIPT argument")
    old_path, new_path = consistency
    old, new = verify_consistency_between(
        _read(old_path, "--consistency"), _read(new_path, "--consistency"), _read_proof(proof_file), keys
    )
    if origin is not None and old.origin != origin:
        raise VerificationError(f"checkpoint origin: expected {origin!r}, got {old.origin!r}")
    return f"ok: {old.origin} at size {new.size} extends size {old.size}"
