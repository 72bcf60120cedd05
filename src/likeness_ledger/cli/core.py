"""``likeness init``, ``serve``, ``demo`` and ``db``."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from likeness_ledger import migrate
from likeness_ledger.accounts import services as accounts
from likeness_ledger.cli.common import STATE, console
from likeness_ledger.demo import ensure_admin, seed
from likeness_ledger.runtime import open_runtime
from likeness_ledger.schema_state import head_revision

db_app = typer.Typer(help="Database schema: upgrade, check, current revision.", no_args_is_help=True)


def init(
    as_json: Annotated[bool, typer.Option("--json", metavar="", help="print the admin token as JSON")] = False,
) -> None:
    """Create the data folder, keys (0600) and database, and an admin account; print its token once."""
    settings = STATE.settings
    rt = open_runtime(settings, create_keys=True)
    try:
        migrate.upgrade(settings.database_url)
        with rt.db.write() as session:
            admin = ensure_admin(session)
            _, secret = accounts.issue_token(session, admin, label="init")
    finally:
        rt.close()
    if as_json:
        typer.echo(json.dumps({"data_dir": str(settings.data_dir), "admin_token": secret}))
        return
    console.print(f"data folder: {settings.data_dir}")
    console.print(f"admin token (shown once): [bold]{secret}[/bold]")


def demo(
    as_json: Annotated[bool, typer.Option("--json", metavar="", help="print the tokens as JSON")] = False,
) -> None:
    """Seed a small demo world (union, two producers, five performers) and print a token per account."""
    rt = STATE.runtime()
    tokens = seed(rt)
    if as_json:
        typer.echo(json.dumps([t.__dict__ for t in tokens], indent=2))
        return
    # Plain lines, not a table: a token cut or folded to fit the terminal could not be copied.
    console.print("[bold]Demo accounts[/bold] (tokens are shown once; stored hashed):")
    for t in tokens:
        typer.echo(f"  {t.account:<14} {t.role:<15} {t.token}")
    console.print(f"data folder: {rt.settings.data_dir}")
    console.print("try: curl -H 'Authorization: Bearer <token>' http://127.0.0.1:8000/performers")


def serve(
    host: Annotated[str | None, typer.Option(help="address to bind (default from LIKENESS_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="port (default from LIKENESS_PORT)")] = None,
) -> None:
    """Serve the API (OpenAPI docs at /docs); sign log checkpoints every LIKENESS_CHECKPOINT_INTERVAL seconds."""
    import uvicorn  # noqa: PLC0415 - only this command needs the server

    from likeness_ledger.transparency.signer import CheckpointSigner  # noqa: PLC0415
    from likeness_ledger.web.app import create_app  # noqa: PLC0415

    rt = STATE.runtime()
    app = create_app(rt.settings, runtime=rt)
    interval = rt.settings.checkpoint_interval
    signer = CheckpointSigner(rt.db, rt.settings, interval).start() if interval > 0 else None
    try:
        uvicorn.run(app, host=host or rt.settings.host, port=port or rt.settings.port, log_level="info")
    finally:
        if signer is not None:
            signer.stop()


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the packaged migrations up to the newest."""
    migrate.upgrade(STATE.settings.database_url)
    console.print(f"database at revision {migrate.current(STATE.settings.database_url)}")


@db_app.command("check")
def db_check() -> None:
    """Fail (exit 1) if the ORM models and the migrations disagree."""
    migrate.check(STATE.settings.database_url)
    console.print("models and migrations agree")


@db_app.command("current")
def db_current() -> None:
    """Print the database's revision and the newest packaged one."""
    typer.echo(f"current: {migrate.current(STATE.settings.database_url)}  head: {head_revision()}")


def register(app: typer.Typer) -> None:
    """Add these commands to the root app."""
    app.command()(init)
    app.command()(demo)
    app.command()(serve)
    app.add_typer(db_app, name="db")
