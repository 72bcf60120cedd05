"""Database engine, typed declarative base and transactional sessions.

SQLite is the embedded default: WAL mode so readers never block the writer, foreign keys on, and
every write transaction opened with ``BEGIN IMMEDIATE`` behind a process-wide lock so there is exactly
one writer and the append-only tables never race. PostgreSQL is reached through psycopg 3 with the
same models and migrations.
"""

from __future__ import annotations

import enum
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    Date,
    DateTime,
    Engine,
    MetaData,
    String,
    Uuid,
    create_engine,
    event,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

# Deterministic constraint names so Alembic migrations are identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python, whatever the database keeps.

    SQLite has no time zones; without this, values written aware would come back naive and compare
    unequal to the ones the service computed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuse naive datetimes and store everything in UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Attach UTC to values SQLite returns naive."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base for every table; enums are stored by value, timestamps as aware UTC."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute by name
        datetime: UTCDateTime(),
        date: Date(),
        str: String(),
        uuid.UUID: Uuid(),
        enum.Enum: SAEnum(enum.Enum, values_callable=lambda e: [m.value for m in e], native_enum=False, length=32),
    }


class UUIDPrimaryKey:
    """Mixin: a random UUID primary key, generated in Python so it is known before the flush."""

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


def _configure_sqlite(engine: Engine, *, background_checkpoints: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy's "begin" event below (pysqlite's implicit BEGIN
        # would otherwise open DEFERRED transactions that can fail to upgrade to a write lock).
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        if background_checkpoints:
            # Checkpoints run on a background thread (WalCheckpointer); a committing connection
            # only checkpoints itself if the WAL outgrows this many pages (32 MiB) regardless.
            cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_BACKSTOP_PAGES}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


WAL_BACKSTOP_PAGES = 8192
_CHECKPOINT_INTERVAL_S = 0.05


class WalCheckpointer:
    """Runs SQLite's WAL checkpoints on a background thread instead of inside committing transactions.

    With SQLite's default, the commit that takes the write-ahead log past 1,000 pages copies
    them into the database file and syncs it before returning, which cost about a third of a
    durable append's commit in the log benchmark. SQLite's WAL documentation suggests this
    instead for write-heavy programs: each commit calls :meth:`poke`, waking a thread that runs a
    ``PASSIVE`` checkpoint on its own connection (at most one per ``interval``), so the copy and
    the sync happen on another core while the writer goes on. Durability is unchanged: with
    ``synchronous=NORMAL`` a commit is in the WAL either way; the checkpoint only moves it into
    the main file. ``WAL_BACKSTOP_PAGES`` keeps the WAL bounded should the thread fall behind.
    """

    def __init__(self, path: str, *, interval: float = _CHECKPOINT_INTERVAL_S) -> None:
        self.path = path
        self.interval = interval
        self.runs = 0  # checkpoints run so far (for tests and diagnostics)
        self._wake = threading.Event()
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def poke(self) -> None:
        """Ask for a checkpoint soon (cheap: sets an event; starts the thread on first use)."""
        if self._thread is None:
            with self._start_lock:
                if self._thread is None and not self._closing.is_set():
                    self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
                    self._thread.start()
        self._wake.set()

    def _run(self) -> None:
        connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            while True:
                self._wake.wait()
                if self._closing.is_set():
                    return
                self._wake.clear()
                try:
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    self.runs += 1
                except sqlite3.Error:
                    pass  # a later poke tries again; WAL_BACKSTOP_PAGES bounds the WAL meanwhile
                if self._closing.wait(self.interval):  # coalesce the commits of the next interval
                    return
        finally:
            connection.close()

    def close(self) -> None:
        """Stop the thread (after the checkpoint it may be running)."""
        self._closing.set()
        self._wake.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout=10)


def _sqlite_file(engine: Engine) -> str | None:
    """The database file of a SQLite engine, or None for an in-memory database."""
    database = engine.url.database
    if not database or database == ":memory:" or engine.url.query.get("mode") == "memory":
        return None
    if database.startswith("file:") or "uri" in engine.url.query:
        return None  # a URI filename: its own options decide; leave checkpoints to SQLite's default
    return database


class Database:
    """Owns the engine and hands out read sessions and write transactions."""

    def __init__(self, url: str, *, echo: bool = False, log_events: bool = True) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {"echo": echo, "future": True}
        if self.is_sqlite:
            kwargs["connect_args"] = {"check_same_thread": False}
        else:
            kwargs["pool_pre_ping"] = True
        self.engine = create_engine(url, **kwargs)
        file = _sqlite_file(self.engine) if self.is_sqlite else None
        self.checkpointer = WalCheckpointer(file) if file is not None else None
        if self.is_sqlite:
            _configure_sqlite(self.engine, background_checkpoints=self.checkpointer is not None)
        self._write_lock = threading.Lock()
        self._reader = sessionmaker(self.engine, expire_on_commit=False)
        writer_engine = self.engine.execution_options(sqlite_begin="IMMEDIATE")
        self._writer = sessionmaker(writer_engine, expire_on_commit=False)
        if log_events:
            # Every ORM change made in a write transaction becomes a transparency-log leaf in it.
            from likeness_ledger.transparency.events import install  # noqa: PLC0415 - models import this module

            install(self._writer)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reads; it is never committed, so nothing it does can persist.

        Closing (rather than rolling back) keeps loaded objects usable after the block: the pool
        still rolls the connection back when it takes it back.
        """
        with self._reader() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One write transaction: committed when the block ends, rolled back on any exception."""
        lock = self._write_lock if self.is_sqlite else _NULL_LOCK
        with lock, self._writer() as session, session.begin():
            yield session
        if self.checkpointer is not None:
            self.checkpointer.poke()

    def dispose(self) -> None:
        """Stop the checkpoint thread and close every pooled connection.

        The database stays usable, as SQLAlchemy's engines do: a later write starts a new thread.
        """
        if self.checkpointer is not None:
            self.checkpointer.close()
            self.checkpointer = WalCheckpointer(self.checkpointer.path)
        self.engine.dispose()


class _NullLock:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


_NULL_LOCK = _NullLock()


def set_actor(session: Session, actor: str) -> None:
    """Name who is making this transaction's changes; the transparency log records it with each event."""
    session.info["actor"] = actor
