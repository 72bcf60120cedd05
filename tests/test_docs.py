"""Docs are checked by tests: settings, CLI commands and the README's commands cannot drift."""

from __future__ import annotations

from pathlib import Path

from likeness_ledger.cli.reference import render
from likeness_ledger.config import Settings

REPO = Path(__file__).resolve().parents[1]
TEST_COMMAND = "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/pytest"
RUN_COMMAND = (
    "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/likeness demo && .venv/bin/likeness serve"
)


class TestDocs:
    def test_every_setting_is_documented(self) -> None:
        text = (REPO / "docs" / "configuration.md").read_text()
        for name in Settings.model_fields:
            assert f"LIKENESS_{name.upper()}" in text, f"LIKENESS_{name.upper()} missing from docs/configuration.md"

    def test_cli_reference_is_current(self) -> None:
        expected = render() + "\n"
        actual = (REPO / "docs" / "cli.md").read_text()
        assert actual == expected, "docs/cli.md is stale: python -m likeness_ledger.cli.reference > docs/cli.md"

    def test_readme_holds_the_two_commands(self) -> None:
        readme = (REPO / "README.md").read_text()
        assert RUN_COMMAND in readme
        assert TEST_COMMAND in readme

    def test_ci_runs_the_readme_test_command(self) -> None:
        assert TEST_COMMAND in (REPO / ".ci" / "run").read_text()
