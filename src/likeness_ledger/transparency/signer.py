"""The background checkpoint signer `likeness serve` runs every ``LIKENESS_CHECKPOINT_INTERVAL`` seconds.

Witnesses and monitors poll ``/log/checkpoint``; a log that signs only on demand would show them a
stale tree. The signer wakes at the interval and, only if the log has grown since the latest
stored checkpoint, signs and stores a new one, so an idle log does not pile up identical
signatures.
"""

from __future__ import annotations

import logging
import threading

from likeness_ledger.config import Settings
from likeness_ledger.db import Database
from likeness_ledger.errors import Error
from likeness_ledger.transparency import log
from likeness_ledger.transparency.checkpoint import Checkpoint, Note

__all__ = ["CheckpointSigner", "sign_if_grown"]

_LOG = logging.getLogger(__name__)


def sign_if_grown(db: Database, settings: Settings) -> str | None:
    """Sign a checkpoint if the log has leaves no stored checkpoint covers; return the new note or None."""
    with db.write() as session:
        latest = log.latest_checkpoint(session)
        signed = 0 if latest is None else Checkpoint.from_text(Note.from_text(latest).text).size
        if log.size(session) <= signed:
            return None
        return log.sign_checkpoint(session, log.log_signer(settings), settings.log_origin)


class CheckpointSigner:
    """A daemon thread calling :func:`sign_if_grown` every ``interval`` seconds until :meth:`stop`."""

    def __init__(self, db: Database, settings: Settings, interval: float) -> None:
        if interval <= 0:
            raise ValueError("interval: expected seconds > 0")
        self.db = db
        self.settings = settings
        self.interval = interval
        self.signed = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="checkpoint-signer", daemon=True)

    def start(self) -> CheckpointSigner:
        """Start the thread; return self."""
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the thread to finish and wait for it (at most ``timeout`` seconds)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                if sign_if_grown(self.db, self.settings) is not None:
                    self.signed += 1
            except Error as exc:  # a bad tick must not kill the signer; the next one retries
                _LOG.error("checkpoint signer: %s", exc.diagnostics())
            except Exception:
                _LOG.exception("checkpoint signer: unexpected failure")
