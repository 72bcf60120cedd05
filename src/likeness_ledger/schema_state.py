"""Keeps the database schema at the packaged migrations' head."""

from __future__ import annotations

from alembic.script import ScriptDirectory

from likeness_ledger import migrate
from likeness_ledger.config import Settings
from likeness_ledger.errors import ConfigurationError


def head_revision() -> str | None:
    """The newest packaged migration."""
    return ScriptDirectory.from_config(migrate.alembic_config("sqlite://")).get_current_head()


def ensure_schema(settings: Settings) -> None:
    """Upgrade a development database to head; refuse to run a production one that is behind."""
    if migrate.current(settings.database_url) == head_revision():
        return
    if settings.environment != "development":
        raise ConfigurationError("database schema is behind this version; run `likeness db upgrade`")
    migrate.upgrade(settings.database_url)
