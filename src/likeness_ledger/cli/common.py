"""What every CLI command shares: settings, the opened runtime, the acting account, output."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import func, select

from likeness_ledger.accounts.services import Principal, account_by_name, principal_for
from likeness_ledger.config import Settings, load_settings
from likeness_ledger.errors import InvalidInput
from likeness_ledger.runtime import Runtime, open_runtime
from likeness_ledger.schema_state import ensure_schema

# A flag takes no value: the empty metavar keeps typer's help from showing "--json <bool>".
JsonOpt = Annotated[bool, typer.Option("--json", metavar="", help="print JSON")]

console = Console()
err_console = Console(stderr=True)


def progress_bar() -> Progress:
    """A counting progress bar (description, bar, done/total, elapsed) for long CLI work.

    On stderr, so ``--json`` output on stdout stays machine-readable; it disappears when done.
    """
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    )


M = TypeVar("M", bound=BaseModel)

DEFAULT_ACTOR = "admin"


@dataclass
class CliState:
    """Lazily opened state: nothing touches the data folder until a command needs it."""

    overrides: dict[str, Any] = field(default_factory=dict)
    actor: str = DEFAULT_ACTOR
    verbose: bool = False
    _settings: Settings | None = None
    _runtime: Runtime | None = None

    @property
    def settings(self) -> Settings:
        """Settings from the environment plus command-line overrides."""
        if self._settings is None:
            self._settings = load_settings(**self.overrides)
        return self._settings

    def runtime(self) -> Runtime:
        """Open keys, database (migrated to head) and vault once per command."""
        if self._runtime is None:
            self._runtime = open_runtime(self.settings)
            ensure_schema(self.settings)
        return self._runtime

    def principal(self) -> Principal:
        """The account the command acts as (``--as``, default: the admin made by ``likeness init``)."""
        rt = self.runtime()
        with rt.db.read() as session:
            return principal_for(session, account_by_name(session, self.actor))

    def close(self) -> None:
        """Dispose of the runtime if one was opened."""
        if self._runtime is not None:
            self._runtime.close()


STATE = CliState()


def parse(model: type[M], **values: Any) -> M:
    """Validate CLI values with the API's schema; errors name the option at fault."""
    clean = {k: v for k, v in values.items() if v is not None}
    try:
        return model.model_validate(clean)
    except ValidationError as exc:
        errors = [f"--{'.'.join(str(p) for p in e['loc']).replace('_', '-')}: {e['msg']}" for e in exc.errors()]
        raise InvalidInput(errors[0] if len(errors) == 1 else f"{len(errors)} invalid options", errors=errors) from exc


def parse_uuid(value: str, option: str) -> uuid.UUID:
    """A UUID argument, or a clear error naming the option."""
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise InvalidInput(f"{option}: {value!r} is not a valid id") from exc


def parse_performer(value: str, option: str) -> uuid.UUID:
    """A performer given by registry id or by union member id (``SAG-100201``), or a clear error.

    A union member id resolves only to a performer the acting account may see: a performer's own
    account resolves only its own, so it cannot learn another performer's registry id this way.
    """
    try:
        return uuid.UUID(value)
    except ValueError:
        pass
    principal = STATE.principal()
    found = find_performer(value)
    if found is None or (principal.acts_for_performer and found != principal.performer_id):
        raise InvalidInput(f"{option}: {value!r} is neither a performer id nor a known union member id")
    return found


def find_performer(union_member_id: str) -> uuid.UUID | None:
    """The registered performer with this union member id (letter case ignored), or None."""
    from likeness_ledger.registry.models import Performer  # noqa: PLC0415 - the CLI's modules load lazily

    with read_session() as session:
        found = session.scalar(
            select(Performer.id).where(func.lower(Performer.union_member_id) == union_member_id.lower())
        )
    return None if found is None else uuid.UUID(str(found))


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return value


def emit(data: BaseModel | Sequence[BaseModel], *, as_json: bool, columns: Sequence[str], title: str = "") -> None:
    """Print a record or a list, as JSON (``--json``) or as a Rich table."""
    rows = [data] if isinstance(data, BaseModel) else list(data)
    if as_json:
        payload = _plain(data) if isinstance(data, BaseModel) else [_plain(r) for r in rows]
        typer.echo(json.dumps(payload, indent=2))
        return
    table = Table(title=title or None)
    for column in columns:
        table.add_column(column)
    for row in rows:
        dumped = row.model_dump(mode="json")
        table.add_row(*["" if dumped.get(c) is None else str(dumped.get(c)) for c in columns])
    console.print(table)


@contextmanager
def write_session() -> Iterator[Any]:
    """One write transaction on the opened runtime."""
    with STATE.runtime().db.write() as session:
        yield session


@contextmanager
def read_session() -> Iterator[Any]:
    """A read session on the opened runtime."""
    with STATE.runtime().db.read() as session:
        yield session
