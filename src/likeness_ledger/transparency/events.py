"""Every committed state change becomes a transparency-log event, in the same transaction.

:func:`install` hooks a session factory's ``after_flush`` event. After each flush, while the
session still knows which rows the flush inserted, updated and deleted (and after primary keys
and Python-side defaults have been assigned), every such ORM row is turned into one canonical
event and appended with :func:`~likeness_ledger.transparency.log.append_many` over the same
connection. The leaf therefore commits or rolls back with the change itself: no change without
its leaf, no leaf without its change. Services need no logging code; they only name the actor
with :func:`likeness_ledger.db.set_actor`.

An event is one JSON object (stored as RFC 8785 canonical JSON)::

    {"v": 1, "type": "performers.created", "table": "performers", "entity_id": "<pk>",
     "time": "<RFC 3339 UTC>", "actor": "<account name or 'system'>",
     "performer_ids": ["<uuid>", ...], "data": {<column>: <JSON value>, ...},
     "changed": [<column>, ...]}            # updates only

Models steer it with class attributes:

* ``__log_skip__ = True``: never log this table (the log's own tables).
* ``__log_exclude__ = frozenset({"column", ...})``: leave secret columns out of ``data`` (token
  hashes, wrapped keys); the event says which were left out under ``"redacted"``.
* ``log_performer_ids(self, session) -> Iterable[uuid.UUID]``: name the performers a row
  concerns when it has no ``performer_id`` column (by default: the ``performer_id`` column, or
  the row's own id for the ``performers`` table).

Bulk ``UPDATE``/``DELETE`` statements run through ``session.execute`` bypass the unit of work and
so are not seen here; services change rows through the ORM.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import math
import uuid
from collections.abc import Callable, Iterable
from typing import Any, Final

from sqlalchemy import event, inspect
from sqlalchemy.orm import InstanceState, Mapper, Session, UOWTransaction, sessionmaker
from sqlalchemy.orm.exc import UnmappedColumnError

from likeness_ledger.db import utcnow

__all__ = ["EVENT_VERSION", "events_for_flush", "install", "json_safe", "suspended"]

EVENT_VERSION: Final = 1
_MAX_SAFE_INT: Final = 2**53 - 1
_SELF_PERFORMER_TABLES: Final = frozenset({"performers"})
_SUSPEND_KEY: Final = "likeness.log_events_suspended"
_APPENDING_KEY: Final = "likeness.log_appending"


def json_safe(value: Any) -> Any:  # noqa: PLR0911 - one return per kind of value
    """Convert a column value to JSON that RFC 8785 can canonicalise without loss.

    UUIDs, decimals (money) and big integers become strings (RFC 8785 numbers are IEEE doubles),
    dates and times ISO 8601 text, enums their value, bytes lower-case hex.
    """
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value if -_MAX_SAFE_INT <= value <= _MAX_SAFE_INT else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, enum.Enum):
        return json_safe(value.value)
    if isinstance(value, uuid.UUID | decimal.Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [json_safe(item) for item in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    return str(value)


def _table_name(mapper: Mapper[Any]) -> str:
    return str(mapper.persist_selectable.description)


def _column_values(state: InstanceState[Any], mapper: Mapper[Any], deleted: bool) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for prop in mapper.column_attrs:
        key = prop.key
        if key in state.dict:
            values[key] = state.dict[key]
        elif not deleted:
            # Expired or server-generated: load it (autoflush is off while a flush runs).
            values[key] = getattr(state.obj(), key)
    return values


def _changed_columns(state: InstanceState[Any], mapper: Mapper[Any]) -> list[str]:
    return [prop.key for prop in mapper.column_attrs if state.attrs[prop.key].history.has_changes()]


def _entity_id(mapper: Mapper[Any], values: dict[str, Any]) -> str:
    keys = [mapper.get_property_by_column(column).key for column in mapper.primary_key]
    return "/".join(str(json_safe(values.get(key))) for key in keys)


def _performers(
    session: Session, obj: object, mapper: Mapper[Any], state: InstanceState[Any], values: dict[str, Any]
) -> list[str]:
    found: list[Any] = []
    hook: Callable[[Session], Iterable[uuid.UUID]] | None = getattr(obj, "log_performer_ids", None)
    if callable(hook):
        found.extend(hook(session))
    elif _table_name(mapper) in _SELF_PERFORMER_TABLES:
        found.append(values.get("id"))
    elif "performer_id" in values:
        found.append(values["performer_id"])
        if "performer_id" in state.attrs:
            # A row moved from one performer to another concerns both.
            found.extend(state.attrs["performer_id"].history.deleted or ())
    else:
        found.extend(_parent_performers(session, mapper, values))
    return sorted({str(item) for item in found if item is not None})


def _parent_performers(session: Session, mapper: Mapper[Any], values: dict[str, Any]) -> list[Any]:
    """Performers reached through one foreign key: a grant's use names its grant's performer.

    Rows with no ``performer_id`` of their own (a release, a grant's use, a payment allocation)
    still concern the performer of the row they hang off; follow each foreign key one step to a
    parent that has a ``performer_id`` (or is a performer).
    """
    found: list[Any] = []
    for column in mapper.local_table.columns:
        if not column.foreign_keys:
            continue
        try:
            value = values.get(mapper.get_property_by_column(column).key)
        except UnmappedColumnError:
            continue
        if value is None:
            continue
        for key in column.foreign_keys:
            target = key.column.table
            if getattr(target, "name", None) in _SELF_PERFORMER_TABLES:
                found.append(value)
                continue
            parent = _mapper_for(mapper, target)
            if parent is None or "performer_id" not in parent.columns:
                continue
            if list(parent.primary_key) != [key.column]:
                continue  # only a plain reference to the parent's single-column key can be followed
            row = session.get(parent.class_, value)  # the identity map first; a SELECT otherwise
            if row is not None:
                found.append(getattr(row, "performer_id", None))
    return found


_MAPPERS: dict[Any, Mapper[Any] | None] = {}


def _mapper_for(mapper: Mapper[Any], table: Any) -> Mapper[Any] | None:
    if table not in _MAPPERS:
        _MAPPERS[table] = next((m for m in mapper.registry.mappers if m.local_table is table), None)
    return _MAPPERS[table]


def _event(
    session: Session, obj: object, action: str, *, actor: str, now: str, deleted: bool = False
) -> dict[str, Any] | None:
    mapper: Mapper[Any] = inspect(obj).mapper
    cls = mapper.class_
    if getattr(cls, "__log_skip__", False):
        return None
    state: InstanceState[Any] = inspect(obj)
    changed: list[str] = []
    if action == "updated":
        changed = _changed_columns(state, mapper)
        if not changed:
            return None  # dirty only through a relationship, or set to the same value
    values = _column_values(state, mapper, deleted)
    excluded: frozenset[str] = frozenset(getattr(cls, "__log_exclude__", frozenset()))
    table = _table_name(mapper)
    data = {
        mapper.get_property(key).columns[0].name: json_safe(value)
        for key, value in values.items()
        if key not in excluded
    }
    result: dict[str, Any] = {
        "v": EVENT_VERSION,
        "type": f"{table}.{action}",
        "table": table,
        "entity_id": _entity_id(mapper, values),
        "time": now,
        "actor": actor,
        "performer_ids": _performers(session, obj, mapper, state, values),
        "data": data,
    }
    if changed:
        result["changed"] = sorted(mapper.get_property(key).columns[0].name for key in changed)
    redacted = sorted(key for key in excluded if key in values)
    if redacted:
        result["redacted"] = redacted
    return result


def events_for_flush(session: Session) -> list[dict[str, Any]]:
    """The events describing what the flush in progress changed (call from ``after_flush``).

    Inserts come first in the order they were added, then updates, then deletes, each group in a
    stable order, so the same changes always make the same sequence of leaves.
    """
    actor = str(session.info.get("actor") or "system")
    now = utcnow().isoformat()
    made: list[dict[str, Any] | None] = []
    new = sorted(session.new, key=lambda obj: inspect(obj).insert_order or 0)
    made.extend(_event(session, obj, "created", actor=actor, now=now) for obj in new)
    dirty = sorted(session.dirty, key=_stable_key)
    made.extend(_event(session, obj, "updated", actor=actor, now=now) for obj in dirty)
    gone = sorted(session.deleted, key=_stable_key)
    made.extend(_event(session, obj, "deleted", actor=actor, now=now, deleted=True) for obj in gone)
    return [item for item in made if item is not None]


def _stable_key(obj: object) -> tuple[str, str]:
    state: InstanceState[Any] = inspect(obj)
    identity = state.identity or ()
    return _table_name(state.mapper), "/".join(str(part) for part in identity)


def _after_flush(session: Session, _context: UOWTransaction) -> None:
    if session.info.get(_SUSPEND_KEY) or session.info.get(_APPENDING_KEY):
        return
    events = events_for_flush(session)
    if not events:
        return
    from likeness_ledger.transparency import log  # noqa: PLC0415 - log imports config, which must not import us

    session.info[_APPENDING_KEY] = True
    try:
        log.append_many(session, events)
    finally:
        session.info.pop(_APPENDING_KEY, None)


def _after_rollback(session: Session, _previous: object) -> None:
    from likeness_ledger.transparency import log  # noqa: PLC0415

    log.forget_cached_nodes(session)  # a savepoint rolled back may have held nodes now undone


def install(target: sessionmaker[Session] | Session | type[Session]) -> None:
    """Log every ORM change made through ``target``'s sessions (idempotent)."""
    if not event.contains(target, "after_flush", _after_flush):
        event.listen(target, "after_flush", _after_flush)
    if not event.contains(target, "after_soft_rollback", _after_rollback):
        event.listen(target, "after_soft_rollback", _after_rollback)


class suspended:  # noqa: N801 - used like a function: ``with suspended(session): ...``
    """Turn event logging off for one session for the duration of a ``with`` block (tests, repairs)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def __enter__(self) -> Session:
        self.session.info[_SUSPEND_KEY] = True
        return self.session

    def __exit__(self, *exc: object) -> None:
        self.session.info.pop(_SUSPEND_KEY, None)
