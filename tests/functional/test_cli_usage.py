"""``likeness usage``, ``obligations``, ``pay``, ``payments``, ``statement`` and ``statement-run``."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _demo(demo_cli):  # type: ignore[no-untyped-def]
    """Every test here starts from the demo world."""


def jrun(cli, *args: str, actor: str | None = None):  # type: ignore[no-untyped-def]
    result = cli(*args, "--json", actor=actor)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_report_from_file_list_pay_and_statement(cli, tmp_path: Path) -> None:
    performers = jrun(cli, "performer", "list", "--limit", "500")
    maya = next(p for p in performers if p["legal_name"] == "Maya Okafor")
    film = next(p for p in jrun(cli, "production", "list") if p["title"] == "Stadium")
    reports = jrun(cli, "usage", "list", actor="union")
    asset_id = next(r["asset_id"] for r in reports if r["asset_id"])
    body = {
        "production_id": film["id"],
        "performer_id": maya["id"],
        "asset_id": asset_id,
        "use": "stadium-crowd",
        "role": "background",
        "medium": "theatrical",
        "used_from": "2026-12-01",
        "used_until": "2026-12-01",
        "estimated_days": 2,
        "estimated_by": "Dana Kim",
        "outputs": ["f" * 64],
    }
    path = tmp_path / "report.json"
    path.write_text(json.dumps(body))
    made = jrun(cli, "usage", "report", "--file", str(path), actor="northlight")
    assert made["status"] == "cleared" and made["obligation_id"]
    again = jrun(cli, "usage", "report", "--file", str(path), actor="northlight")
    assert again["id"] == made["id"]
    # Options build the same kind of report; a bad one names the option.
    bad = cli("usage", "report", "--file", str(path), "--days", "-1", actor="northlight")
    assert bad.exit_code == 2 and "--estimated-days" in bad.output
    violation = jrun(
        cli,
        "usage",
        "report",
        "--production-id",
        film["id"],
        "--performer-id",
        maya["id"],
        "--asset-id",
        asset_id,
        "--use",
        "poster",
        "--role",
        "background",
        "--medium",
        "print",
        "--from",
        "2026-12-02",
        "--days",
        "1",
        "--estimated-by",
        "Dana Kim",
        actor="northlight",
    )
    assert violation["status"] == "violation"
    assert violation["id"] in {r["id"] for r in jrun(cli, "usage", "list", "--status", "violation", actor="maya")}
    assert jrun(cli, "usage", "list", actor="jon") == []
    line = jrun(cli, "obligations", "show", made["obligation_id"], actor="maya")
    assert line["outstanding"] is not None
    paid = jrun(
        cli,
        "pay",
        "--obligation-id",
        made["obligation_id"],
        "--amount",
        "1.00",
        "--on",
        "2026-12-03",
        actor="northlight",
    )
    assert paid["applied"] == "1.00"
    assert (
        cli(
            "pay", "--obligation-id", made["obligation_id"], "--amount", "1.00", "--on", "2026-12-03", actor="maya"
        ).exit_code
        == 2
    )
    assert (
        cli(
            "pay", "--obligation-id", made["obligation_id"], "--amount", "x", "--on", "2026-12-03", actor="northlight"
        ).exit_code
        == 2
    )
    assert jrun(cli, "payments", "list", actor="pixelforge") == []
    balances = jrun(cli, "obligations", "balances", actor="maya")
    assert [b["id"] for b in balances] == [maya["id"]]
    pdf, out_csv = tmp_path / "s.pdf", tmp_path / "s.csv"
    result = cli(
        "statement", "SAG-100201", "--period", "2026-Q4", "--pdf", str(pdf), "--csv", str(out_csv), actor="maya"
    )
    assert result.exit_code == 0, result.output
    assert pdf.read_bytes().startswith(b"%PDF")
    rows = list(csv.DictReader(io.StringIO(out_csv.read_text())))
    closing = next(Decimal(r["amount"]) for r in rows if r["description"] == "closing balance")
    opening = next(Decimal(r["amount"]) for r in rows if r["section"] == "opening")
    assert closing == opening + sum((Decimal(r["amount"]) for r in rows if r["section"] == "line"), Decimal(0))
    assert cli("statement", "SAG-100201", "--period", "2026-Q4", actor="jon").exit_code == 2
    assert cli("statement", "SAG-100201", "--period", "Q4", actor="maya").exit_code == 2


def test_monthly_run_writes_a_statement_per_performer(cli, tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = cli("statement-run", "--period", "2026-10", "--out", str(out), actor="union")
    assert result.exit_code == 0, result.output
    summary = list(csv.DictReader(io.StringIO((out / "summary.csv").read_text())))
    assert summary, result.output
    for row in summary:
        lines = list(csv.DictReader(io.StringIO((out / f"{row['performer_id']}.csv").read_text())))
        closing = next(Decimal(r["amount"]) for r in lines if r["description"] == "closing balance")
        assert (
            closing
            == Decimal(row["closing"])
            == Decimal(row["opening"]) + Decimal(row["earned"]) - Decimal(row["paid"])
        )
    assert cli("statement-run", "--period", "2026-10", "--out", str(out), actor="maya").exit_code == 2
