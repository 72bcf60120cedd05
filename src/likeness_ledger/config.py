"""Typed settings, built by a factory and passed explicitly.

Nothing here runs at import time: :func:`load_settings` reads the environment (prefix ``LIKENESS_``)
when the CLI or the app factory asks for it. Secrets are not settings: the master key and the log's
signing key live as 0600 files in the data folder, created by ``likeness init`` (or on first run in
development mode), and are refused when missing outside development.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from likeness_ledger.errors import ConfigurationError

Environment = Literal["development", "production"]

MIB = 1024 * 1024


class Settings(BaseSettings):
    """Every knob the service has; each can come from a ``LIKENESS_*`` environment variable."""

    model_config = SettingsConfigDict(env_prefix="LIKENESS_", extra="ignore", frozen=True)

    environment: Environment = Field(
        default="development",
        description="development creates missing keys on first use; production refuses to start without them",
    )
    data_dir: Path = Field(default=Path("./likeness-data"), description="folder for the SQLite file, keys and vault")
    database_url: str = Field(default="", description="SQLAlchemy URL; empty means a SQLite file in the data folder")
    host: str = Field(default="127.0.0.1", description="address `likeness serve` binds")
    port: int = Field(default=8000, ge=1, le=65535, description="port `likeness serve` binds")
    max_upload_bytes: int = Field(default=8 * 1024 * MIB, gt=0, description="largest replica upload accepted")
    max_json_bytes: int = Field(default=1 * MIB, gt=0, description="largest JSON request body accepted")
    page_size_max: int = Field(default=500, gt=0, description="largest page a list endpoint returns")
    log_origin: str = Field(
        default="likeness-ledger.local/log", description="origin line of the transparency log's checkpoints"
    )
    log_cache_bytes: int = Field(
        default=64 * MIB, ge=0, description="memory per database for the upper Merkle levels proofs share; 0: none"
    )
    checkpoint_interval: float = Field(
        default=0.0,
        ge=0,
        description="seconds between the background checkpoint signer's runs in `likeness serve`; 0 turns it off",
    )
    payment_due_days: int = Field(
        default=30, ge=0, le=3650, description="days after an obligation is incurred or recorded until it is overdue"
    )
    rates_include_unverified: bool = Field(
        default=False,
        description="compute obligations with the [U] (derived) scale figures of RULES.md §2 as well",
    )

    @field_validator("data_dir")
    @classmethod
    def _absolute_data_dir(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @model_validator(mode="after")
    def _default_database(self) -> Settings:
        if not self.database_url:
            # frozen model: write through object.__setattr__ once, during validation only.
            object.__setattr__(self, "database_url", f"sqlite:///{self.data_dir / 'ledger.db'}")
        object.__setattr__(self, "database_url", normalise_database_url(self.database_url))
        return self

    @property
    def keys_dir(self) -> Path:
        """Folder holding the master key and the signing key (0700)."""
        return self.data_dir / "keys"

    @property
    def master_key_path(self) -> Path:
        """File of the vault's 32-byte master key."""
        return self.keys_dir / "master.key"

    @property
    def signing_key_path(self) -> Path:
        """File of the transparency log's Ed25519 private key."""
        return self.keys_dir / "log-signing.key"

    @property
    def vault_dir(self) -> Path:
        """Folder of the encrypted replica blobs."""
        return self.data_dir / "vault"

    @property
    def is_sqlite(self) -> bool:
        """True when the database is a SQLite file."""
        return self.database_url.startswith("sqlite")


def normalise_database_url(url: str) -> str:
    """Map the common PostgreSQL spellings onto the psycopg 3 driver; refuse unknown schemes."""
    if url.startswith(("postgres://", "postgresql://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if url.startswith(("postgresql+psycopg://", "sqlite://", "sqlite+pysqlite://")):
        return url
    scheme = url.split("://", 1)[0] if "://" in url else url
    raise ConfigurationError(
        f"LIKENESS_DATABASE_URL: unsupported scheme {scheme!r}; expected sqlite:/// or postgresql://"
    )


def load_settings(**overrides: Any) -> Settings:
    """Build the settings from the environment, with explicit overrides taking precedence."""
    try:
        return Settings(**overrides)
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        raise ConfigurationError(f"invalid settings: {exc}") from exc
