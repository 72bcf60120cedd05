"""Wiring shared by the CLI and the web app: data folder, keys, database, vault."""

from __future__ import annotations

from dataclasses import dataclass

from likeness_ledger.config import Settings
from likeness_ledger.db import Database
from likeness_ledger.errors import ConfigurationError
from likeness_ledger.keyfiles import load_or_create_signing_key
from likeness_ledger.transparency import log
from likeness_ledger.vault.keys import MasterKey
from likeness_ledger.vault.store import BlobStore


@dataclass
class Runtime:
    """Everything a command or a request needs, opened once."""

    settings: Settings
    db: Database
    store: BlobStore

    def close(self) -> None:
        """Release the database's connections."""
        self.db.dispose()


def ensure_keys(settings: Settings, *, create: bool) -> MasterKey:
    """Load the master and signing keys, creating them when ``create`` is set."""
    if not create and not settings.master_key_path.exists():
        raise ConfigurationError(
            f"{settings.master_key_path}: master key missing; run `likeness init` "
            "(keys are created automatically only when LIKENESS_ENVIRONMENT=development)"
        )
    settings.keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    master = MasterKey.load_or_create(settings.master_key_path)
    load_or_create_signing_key(settings.signing_key_path, create=create)
    return master


def open_runtime(settings: Settings, *, create_keys: bool | None = None) -> Runtime:
    """Open the data folder: keys (created on first run in development), database, vault."""
    create = settings.environment == "development" if create_keys is None else create_keys
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    master = ensure_keys(settings, create=create)
    db = Database(settings.database_url)
    log.configure_node_cache(db.engine, settings.log_cache_bytes)
    store = BlobStore(settings.vault_dir, master)
    return Runtime(settings=settings, db=db, store=store)
