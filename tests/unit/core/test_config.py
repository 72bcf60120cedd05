"""Settings, key files and production refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from likeness_ledger.config import load_settings, normalise_database_url
from likeness_ledger.errors import ConfigurationError
from likeness_ledger.runtime import open_runtime


class TestSettings:
    def test_defaults_put_everything_in_the_data_folder(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.chdir(tmp_path)
        settings = load_settings()
        assert settings.data_dir == tmp_path / "likeness-data"
        assert settings.database_url == f"sqlite:///{tmp_path / 'likeness-data' / 'ledger.db'}"

    def test_environment_variables_are_read(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("LIKENESS_DATA_DIR", str(tmp_path / "d"))
        monkeypatch.setenv("LIKENESS_PORT", "9001")
        settings = load_settings()
        assert settings.data_dir == tmp_path / "d"
        assert settings.port == 9001

    @pytest.mark.parametrize(
        ("given", "expected"),
        [
            ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
            ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
            ("sqlite:///x.db", "sqlite:///x.db"),
        ],
    )
    def test_database_urls_are_normalised(self, given: str, expected: str) -> None:
        assert normalise_database_url(given) == expected

    def test_unknown_database_scheme_is_refused(self) -> None:
        with pytest.raises(ConfigurationError, match="LIKENESS_DATABASE_URL"):
            load_settings(database_url="mysql://x")

    def test_bad_port_is_a_configuration_error(self) -> None:
        with pytest.raises(ConfigurationError, match="port"):
            load_settings(port=0)


class TestKeys:
    def test_development_creates_private_keys_on_first_run(self, tmp_path: Path) -> None:
        settings = load_settings(data_dir=tmp_path)
        open_runtime(settings).close()
        assert settings.master_key_path.stat().st_mode & 0o777 == 0o600
        assert settings.signing_key_path.stat().st_mode & 0o777 == 0o600
        first = settings.master_key_path.read_bytes()
        open_runtime(settings).close()
        assert settings.master_key_path.read_bytes() == first  # never regenerated

    def test_production_refuses_to_start_without_keys(self, tmp_path: Path) -> None:
        settings = load_settings(data_dir=tmp_path, environment="production")
        with pytest.raises(ConfigurationError, match="likeness init"):
            open_runtime(settings)
        assert not settings.master_key_path.exists()

    def test_world_readable_key_is_refused(self, tmp_path: Path) -> None:
        settings = load_settings(data_dir=tmp_path)
        open_runtime(settings).close()
        settings.signing_key_path.chmod(0o644)
        with pytest.raises(ConfigurationError, match="too open"):
            open_runtime(settings)
