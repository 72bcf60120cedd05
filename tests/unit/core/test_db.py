"""SQLite WAL checkpoints run on a background thread, and data written before one is all there after."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import text

from likeness_ledger import migrate
from likeness_ledger.db import WAL_BACKSTOP_PAGES, Database
from likeness_ledger.transparency import log


def _wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


def test_commits_hand_checkpoints_to_a_background_thread(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    migrate.upgrade(url)
    db = Database(url)
    try:
        assert db.checkpointer is not None
        with db.read() as session:
            # The commit's own connection only checkpoints past the backstop, not SQLite's 1,000 pages.
            assert session.execute(text("PRAGMA wal_autocheckpoint")).scalar() == WAL_BACKSTOP_PAGES
        for batch in range(5):
            with db.write() as session:
                log.append_many(session, [{"type": "t", "n": batch * 500 + n} for n in range(500)])
        assert _wait_for(lambda: db.checkpointer is not None and db.checkpointer.runs > 0)
        thread = db.checkpointer._thread
        assert thread is not None and thread.is_alive()
        db.dispose()
        assert not thread.is_alive(), "dispose stops the thread"
        with db.write() as session:  # and the database is still usable, its checkpoints too
            log.append(session, {"type": "t", "n": 2500})
        assert _wait_for(lambda: db.checkpointer is not None and db.checkpointer.runs > 0)
    finally:
        db.dispose()
    # Everything committed is in the database, read by a plain connection.
    with sqlite3.connect(tmp_path / "ledger.db") as plain:
        assert plain.execute("SELECT count(*) FROM log_leaves").fetchone()[0] == 2501
    reopened = Database(url)
    try:
        with reopened.read() as session:
            log.audit(session)
    finally:
        reopened.dispose()


def test_an_in_memory_database_has_no_checkpointer() -> None:
    db = Database("sqlite://")
    try:
        assert db.checkpointer is None
    finally:
        db.dispose()


def test_a_uri_filename_keeps_sqlites_own_checkpoints(tmp_path: Path) -> None:
    db = Database(f"sqlite:///file:{tmp_path / 'u.db'}?uri=true")
    try:
        assert db.checkpointer is None
        with db.read() as session:
            assert session.execute(text("PRAGMA wal_autocheckpoint")).scalar() == 1000  # SQLite's default
    finally:
        db.dispose()
