"""The ``likeness`` command, assembled from one module per domain.

Only the package's root error is caught: it prints one clear line and exits with the error's code
(2 for bad input). ``-v`` re-raises instead, for a traceback.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from likeness_ledger import __version__
from likeness_ledger.cli import accounts, assets, core, registry
from likeness_ledger.cli.common import STATE
from likeness_ledger.errors import Error


class _Group(TyperGroup):
    """Turns the root error into a message and its exit code, for every command."""

    def invoke(self, ctx: Any) -> Any:  # typer vendors click privately; its Context is not public
        try:
            return super().invoke(ctx)
        except Error as exc:
            if STATE.verbose:
                raise
            exc.log_and_exit()
        finally:
            STATE.close()


app = typer.Typer(
    cls=_Group,
    name="likeness",
    help="Likeness Ledger: consent, encrypted replica vault and clearance for performers' likenesses.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(
    data_dir: Annotated[
        Path | None, typer.Option(envvar="LIKENESS_DATA_DIR", help="data folder (database, keys, vault)")
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(envvar="LIKENESS_DATABASE_URL", help="SQLAlchemy URL; default SQLite in the data folder"),
    ] = None,
    actor: Annotated[str, typer.Option("--as", envvar="LIKENESS_AS", help="account name to act as")] = "admin",
    verbose: Annotated[bool, typer.Option("-v", "--verbose", metavar="", help="show tracebacks")] = False,
) -> None:
    overrides: dict[str, Any] = {}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    if database_url:
        overrides["database_url"] = database_url
    STATE.overrides = overrides
    STATE.actor = actor
    STATE.verbose = verbose
    STATE._settings = None
    STATE._runtime = None


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


core.register(app)
registry.register(app)
assets.register(app)
accounts.register(app)

# Commands owned by other domains register themselves when their module is present.
# One line per domain module, so parallel work adds lines rather than editing one.
_DOMAIN_COMMANDS = (
    "odrl",
    "clear",
    "consent",
    "log",
    "detection",
    "usage",
)
for _name in _DOMAIN_COMMANDS:
    try:
        importlib.import_module(f"likeness_ledger.cli.{_name}").register(app)
    except ModuleNotFoundError as _exc:
        if _exc.name != f"likeness_ledger.cli.{_name}":
            raise


def main() -> None:
    """Entry point of the ``likeness`` script."""
    app()
