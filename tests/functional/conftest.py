"""Fixtures shared by the CLI tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from typer.testing import CliRunner

from likeness_ledger.cli import app
from likeness_ledger.config import Settings

# typer vendors its own click, so the result type is left open.
RunCli = Callable[..., Any]


@pytest.fixture
def cli(settings: Settings) -> RunCli:
    """Run ``likeness`` on the test's data folder and database: ``cli("performer", "list", actor="maya")``."""
    runner = CliRunner()
    base = ["--data-dir", str(settings.data_dir), "--database-url", settings.database_url]

    def run(*args: str, actor: str | None = None) -> Any:
        extra = ["--as", actor] if actor else []
        return runner.invoke(app, [*base, *extra, *args])

    return run


@pytest.fixture
def demo_cli(cli: RunCli) -> RunCli:
    """``cli`` over the seeded demo world."""
    seeded = cli("demo", "--json")
    assert seeded.exit_code == 0, seeded.output
    return cli
