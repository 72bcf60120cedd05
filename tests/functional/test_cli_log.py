"""``likeness log ...`` and the offline ``likeness verify`` through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from likeness_ledger.cli import app
from likeness_ledger.runtime import Runtime
from likeness_ledger.transparency import log
from likeness_ledger.transparency.models import LogLeaf


@pytest.fixture
def logged(runtime: Runtime) -> Runtime:
    with runtime.db.write() as session:
        log.append_many(session, [{"type": "consent.signed", "n": n} for n in range(7)])
    return runtime


def test_key_and_checkpoint(cli, logged: Runtime) -> None:  # type: ignore[no-untyped-def]
    key = cli("log", "key")
    assert key.exit_code == 0, key.output
    vkey = key.stdout.strip()
    assert vkey.startswith(logged.settings.log_origin + "+")
    result = cli("log", "checkpoint")
    assert result.exit_code == 0, result.output
    lines = result.stdout.split("\n")
    assert lines[:2] == [logged.settings.log_origin, "7"]
    assert result.stdout.endswith("\n")


def test_receipt_verifies_offline_and_a_tampered_one_fails(cli, logged: Runtime, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    vkey = cli("log", "key").stdout.strip()
    out = tmp_path / "receipt.json"
    made = cli("log", "receipt", "3", "--out", str(out))
    assert made.exit_code == 0, made.output
    assert json.loads(out.read_text())["leaf_index"] == 3
    # verify needs no data folder: run it without --data-dir.
    ok = CliRunner().invoke(app, ["verify", str(out), "--key", vkey])
    assert ok.exit_code == 0, ok.output
    assert "leaf 3" in ok.stdout
    data = json.loads(out.read_text())
    data["event"]["n"] = 4
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    failed = CliRunner().invoke(app, ["verify", str(bad), "--key", vkey])
    assert failed.exit_code == 1
    assert "error:" in failed.stderr
    printed = cli("log", "receipt", "0")
    assert printed.exit_code == 0 and json.loads(printed.stdout)["leaf_index"] == 0
    missing = cli("log", "receipt", "99")
    assert missing.exit_code == 2


def test_verify_requires_a_key(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["verify", str(tmp_path / "r.json")])
    assert result.exit_code == 2
    assert "--key" in result.stderr


def test_audit_ok_then_names_the_edited_index(cli, logged: Runtime) -> None:  # type: ignore[no-untyped-def]
    ok = cli("log", "audit")
    assert ok.exit_code == 0, ok.output
    assert "7 leaves" in ok.stdout
    with logged.db.write() as session:
        session.execute(update(LogLeaf).where(LogLeaf.index == 5).values(event='{"n":50,"type":"consent.signed"}'))
    bad = cli("log", "audit")
    assert bad.exit_code == 1
    assert "leaf 5" in bad.stderr


def test_consistency_proof_round_trip(cli, logged: Runtime, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    vkey = cli("log", "key").stdout.strip()
    old = tmp_path / "old.note"
    old.write_text(cli("log", "checkpoint").stdout)
    with logged.db.write() as session:
        log.append_many(session, [{"type": "consent.revoked", "n": n} for n in range(4)])
    new = tmp_path / "new.note"
    new.write_text(cli("log", "checkpoint").stdout)
    proof = tmp_path / "proof.json"
    made = cli("log", "consistency", "7", "11", "--out", str(proof))
    assert made.exit_code == 0, made.output
    args = ["verify", "--consistency", str(old), str(new), "--key", vkey, "--proof-file", str(proof)]
    ok = CliRunner().invoke(app, args)
    assert ok.exit_code == 0, ok.output
    assert "size 11 extends size 7" in ok.stdout
    swapped = CliRunner().invoke(
        app, ["verify", "--consistency", str(new), str(old), "--key", vkey, "--proof-file", str(proof)]
    )
    assert swapped.exit_code == 1
