"""Shared fixtures: an isolated data folder and database per test, the demo world, API clients.

The database is SQLite by default. Set ``LIKENESS_TEST_DATABASE_URL`` (e.g.
``postgresql://postgres@127.0.0.1:5432/test``) to run the same tests against PostgreSQL; each test
then starts from empty tables.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text

from likeness_ledger import migrate
from likeness_ledger.all_models import Base
from likeness_ledger.config import Settings, load_settings, normalise_database_url
from likeness_ledger.demo import seed
from likeness_ledger.runtime import Runtime, open_runtime
from likeness_ledger.web.app import create_app

PG_URL = os.environ.get("LIKENESS_TEST_DATABASE_URL", "")
REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def pytest_report_header() -> str:
    return f"likeness database: {'PostgreSQL ' + PG_URL if PG_URL else 'SQLite (per-test file)'}"


@pytest.fixture(scope="session")
def _model_cache(tmp_path_factory: pytest.TempPathFactory) -> str:
    # Models exported at first use (the voice network's ONNX graph) go to a folder of this run,
    # not the developer's ~/.cache, so every run exercises the export and leaves nothing behind.
    return str(tmp_path_factory.mktemp("model-cache"))


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, _model_cache: str) -> None:
    # A developer's own LIKENESS_* settings must not leak into the tests.
    for name in list(os.environ):
        if name.startswith("LIKENESS_") and name != "LIKENESS_TEST_DATABASE_URL":
            monkeypatch.delenv(name)
    monkeypatch.setenv("LIKENESS_MODEL_CACHE", _model_cache)


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Migrate once: a SQLite file copied per test, or the PostgreSQL database itself."""
    if PG_URL:
        url = normalise_database_url(PG_URL)
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        migrate.upgrade(url)
        return url
    path = tmp_path_factory.mktemp("template") / "ledger.db"
    migrate.upgrade(f"sqlite:///{path}")
    return str(path)


_PG_ENGINE: dict[str, Engine] = {}


def _empty_all_tables(url: str) -> None:
    # DELETE in reverse dependency order: on a handful of tiny tables it is far quicker than
    # TRUNCATE, which rewrites every table's files.
    engine = _PG_ENGINE.setdefault(url, create_engine(url))
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def settings(tmp_path: Path, template_db: str) -> Settings:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    # A small upload limit keeps the over-limit tests cheap.
    limits = {"environment": "development", "max_upload_bytes": 4 * 1024 * 1024}
    if PG_URL:
        _empty_all_tables(template_db)
        return load_settings(data_dir=data_dir, database_url=template_db, **limits)
    shutil.copy(template_db, data_dir / "ledger.db")
    return load_settings(data_dir=data_dir, **limits)


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    rt = open_runtime(settings)
    yield rt
    rt.close()


@pytest.fixture
def tokens(runtime: Runtime) -> dict[str, str]:
    """The demo world, seeded; a token per demo account name."""
    return {t.account: t.token for t in seed(runtime)}


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    app = create_app(runtime.settings, runtime=runtime)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


class Api:
    """A test client that speaks as one demo account."""

    def __init__(self, client: TestClient, token: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, url: str, **kw: object):  # type: ignore[no-untyped-def]
        return self.client.get(url, headers=self.headers, **kw)  # type: ignore[arg-type]

    def post(self, url: str, **kw: object):  # type: ignore[no-untyped-def]
        return self.client.post(url, headers={**self.headers, **kw.pop("headers", {})}, **kw)  # type: ignore[arg-type,dict-item]

    def patch(self, url: str, **kw: object):  # type: ignore[no-untyped-def]
        return self.client.patch(url, headers=self.headers, **kw)  # type: ignore[arg-type]


@pytest.fixture
def as_(client: TestClient, tokens: dict[str, str]):  # type: ignore[no-untyped-def]
    """``as_("maya").get("/performers")``: call the API as a demo account."""
    return lambda name: Api(client, tokens[name])
