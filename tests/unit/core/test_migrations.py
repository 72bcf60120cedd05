"""The packaged migrations build the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, inspect

from likeness_ledger import migrate
from likeness_ledger.all_models import Base
from likeness_ledger.config import Settings
from likeness_ledger.schema_state import head_revision


class TestMigrations:
    def test_models_and_migrations_agree(self, settings: Settings) -> None:
        migrate.check(settings.database_url)  # raises SchemaDrift on any difference

    def test_database_is_at_head(self, settings: Settings) -> None:
        assert migrate.current(settings.database_url) == head_revision()

    def test_every_model_table_exists(self, settings: Settings) -> None:
        engine = create_engine(settings.database_url)
        try:
            assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
        finally:
            engine.dispose()

    def test_check_detects_drift(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        url = f"sqlite:///{tmp_path / 'drift.db'}"
        migrate.upgrade(url)
        extra = Table("not_migrated", MetaData(), Column("id", Integer, primary_key=True))
        monkeypatch.setattr(Base.metadata, "tables", {**Base.metadata.tables, "not_migrated": extra})
        with pytest.raises(migrate.SchemaDrift):
            migrate.check(url)
