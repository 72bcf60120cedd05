"""``clear PATHS... [--json]`` through Typer's test runner, on a throwaway app."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from likeness_ledger.cli.clear import register

REPO = Path(__file__).resolve().parents[2]
OWN_CASES = REPO / "tests" / "cases"
EXAMPLES = REPO.parent / "shared" / "cases" / "examples"


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """A group, so ``clear`` is invoked by name as in the real CLI."""

    register(app)
    return app


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def copy_cases(tmp_path: Path, *names: str) -> Path:
    folder = tmp_path / "cases"
    folder.mkdir()
    for name in names:
        shutil.copy(OWN_CASES / name, folder / name)
    return folder


def test_json_reports_for_a_folder(app: typer.Typer, runner: CliRunner, tmp_path: Path) -> None:
    folder = copy_cases(tmp_path, "own-strike-2026-first-day.json", "own-bg-rate-on-raise-day.json")
    result = runner.invoke(app, ["clear", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    reports = json.loads(result.stdout)
    assert [r["id"] for r in reports] == ["own-bg-rate-on-raise-day", "own-strike-2026-first-day"]
    allowed, denied = reports
    assert set(allowed) == {"id", "decision", "reasons", "obligations", "payment_total"}
    assert (allowed["decision"], allowed["payment_total"]) == ("allow", "432.00")
    assert allowed["obligations"][0]["type"] == "payment"
    assert (denied["decision"], [r["code"] for r in denied["reasons"]]) == (
        "deny",
        ["STRIKE_SUSPENDED"],
    )


def test_every_own_case_evaluates(app: typer.Typer, runner: CliRunner) -> None:
    result = runner.invoke(app, ["clear", str(OWN_CASES), "--json"])
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)) == len(list(OWN_CASES.glob("*.json")))


@pytest.mark.skipif(not EXAMPLES.is_dir(), reason="no shared examples next to the repository")
def test_examples_file_by_file(app: typer.Typer, runner: CliRunner) -> None:
    files = sorted(EXAMPLES.glob("*.json"))
    result = runner.invoke(app, ["clear", *map(str, files), "--json"])
    assert result.exit_code == 0, result.output
    reports = json.loads(result.stdout)
    for path, report in zip(files, reports, strict=True):
        expect = json.loads(path.read_text(encoding="utf-8"))["expect"]
        assert report["decision"] == expect["decision"], path.name


def test_table_output(app: typer.Typer, runner: CliRunner, tmp_path: Path) -> None:
    folder = copy_cases(tmp_path, "own-consent-revoked.json")
    result = runner.invoke(app, ["clear", str(folder)])
    assert result.exit_code == 0, result.output
    assert "own-consent-revoked" in result.stdout
    assert "CONSENT_REVOKED" in result.stdout


def test_invalid_case_exits_2_naming_file_and_field(app: typer.Typer, runner: CliRunner, tmp_path: Path) -> None:
    folder = copy_cases(tmp_path, "own-consent-revoked.json")
    bad = folder / "bad.json"
    data = json.loads((OWN_CASES / "own-consent-revoked.json").read_text(encoding="utf-8"))
    data["request"]["on"] = "tomorrow"
    bad.write_text(json.dumps(data), encoding="utf-8")
    result = runner.invoke(app, ["clear", str(folder), "--json"])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == f"error: {bad}: request.on: invalid date 'tomorrow'"
    assert result.stdout == ""


def test_missing_path_exits_2(app: typer.Typer, runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["clear", str(tmp_path / "nope.json")])
    assert result.exit_code == 2
    assert "no such file or folder" in result.stderr


def test_unverified_rates_option(app: typer.Typer, runner: CliRunner, tmp_path: Path) -> None:
    folder = copy_cases(tmp_path, "own-bg-same-production-paid.json")
    case = folder / "own-bg-same-production-paid.json"
    data = json.loads(case.read_text(encoding="utf-8"))
    data["rates"] = []
    case.write_text(json.dumps(data), encoding="utf-8")
    plain = json.loads(runner.invoke(app, ["clear", str(case), "--json"]).stdout)
    derived = json.loads(runner.invoke(app, ["clear", str(case), "--json", "--unverified-rates"]).stdout)
    # Background scale is [U calc] in RULES.md §2: used only when asked for by name.
    assert plain[0]["payment_total"] == "0.00"
    assert derived[0]["payment_total"] == "648.00"
