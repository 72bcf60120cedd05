"""The ``likeness`` command: every entity from the shell, JSON reads, exit 2 on bad input."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from likeness_ledger.config import Settings


@pytest.fixture
def world(cli):  # type: ignore[no-untyped-def]
    result = cli("demo", "--json")
    assert result.exit_code == 0, result.output
    return {t["account"]: t["token"] for t in json.loads(result.stdout)}


def jrun(cli, *args: str, actor: str | None = None):  # type: ignore[no-untyped-def]
    result = cli(*args, "--json", actor=actor)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


class TestCli:
    def test_init_creates_private_keys_and_admin_token(self, cli, settings: Settings) -> None:
        result = cli("init", "--json")
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["admin_token"].startswith("llt_")
        for key in (settings.master_key_path, settings.signing_key_path):
            assert key.stat().st_mode & 0o777 == 0o600

    def test_demo_prints_a_token_per_account(self, world) -> None:
        assert {"admin", "union", "northlight", "pixelforge", "maya", "alder-estate"} <= set(world)

    def test_add_show_list_performer(self, cli, world) -> None:
        added = jrun(
            cli, "performer", "add", "--legal-name", "Ana Lima", "--category", "principal", "--born-on", "1999-02-03"
        )
        shown = jrun(cli, "performer", "show", added["id"])
        assert shown["legal_name"] == "Ana Lima"
        listed = jrun(cli, "performer", "list", "--limit", "500")
        assert added["id"] in {p["id"] for p in listed}

    def test_bad_date_exits_2_naming_the_option(self, cli, world) -> None:
        before = jrun(cli, "performer", "list")
        result = cli("performer", "add", "--legal-name", "X", "--category", "principal", "--born-on", "someday")
        assert result.exit_code == 2
        assert "--born-on" in result.stderr
        assert jrun(cli, "performer", "list") == before

    def test_bad_enum_exits_2(self, cli, world) -> None:
        result = cli("production", "add", "--title", "T", "--type", "opera")
        assert result.exit_code == 2
        assert "--type" in result.stderr

    def test_unknown_id_exits_2_with_message(self, cli, world) -> None:
        result = cli("performer", "show", "00000000-0000-4000-8000-000000000000")
        assert result.exit_code == 2
        assert "not found" in result.stderr
        result = cli("performer", "show", "nope")
        assert result.exit_code == 2
        assert "'nope' is neither a performer id nor a known union member id" in result.stderr

    def test_a_performer_can_be_named_by_union_member_id(self, cli, world) -> None:
        maya = jrun(cli, "performer", "list", actor="maya")[0]
        assert maya["union_member_id"] == "SAG-100201"
        assert jrun(cli, "performer", "show", "sag-100201")["id"] == maya["id"]
        assets = jrun(cli, "asset", "list", "--performer-id", "SAG-100201", actor="maya")
        assert assets and {a["performer_id"] for a in assets} == {maya["id"]}
        renamed = jrun(cli, "performer", "update", "SAG-100201", "--legal-name", "Maya A. Okafor", actor="union")
        assert renamed["id"] == maya["id"] and renamed["legal_name"] == "Maya A. Okafor"
        # Another performer's union member id does not resolve for Maya: no registry id leaks out.
        other = cli("consent", "list", "--performer-id", "SAG-100203", actor="maya")
        assert other.exit_code == 2
        assert "'SAG-100203' is neither a performer id nor a known union member id" in other.stderr

    def test_acting_as_a_performer_limits_what_is_listed(self, cli, world) -> None:
        names = [p["legal_name"] for p in jrun(cli, "performer", "list", actor="maya")]
        assert names == ["Maya Okafor"]

    def test_producer_schedules_scan_and_uploads_then_performer_downloads(self, cli, world, tmp_path: Path) -> None:
        production = jrun(cli, "production", "list", actor="northlight")[0]
        lena = next(p for p in jrun(cli, "performer", "list") if p["legal_name"] == "Lena Park")
        scan = jrun(
            cli,
            "scan-session",
            "add",
            "--production-id",
            production["id"],
            "--performer-id",
            lena["id"],
            "--scheduled-at",
            "2026-12-20T09:00:00Z",
            "--notice-sent-at",
            "2026-12-15T09:00:00Z",
            actor="northlight",
        )
        src = tmp_path / "lena-voice.wav"
        src.write_bytes(os.urandom(100_000))
        asset = jrun(
            cli,
            "asset",
            "upload",
            str(src),
            "--performer-id",
            lena["id"],
            "--kind",
            "employment_based",
            "--media",
            "voice",
            "--scan-session-id",
            scan["id"],
            actor="northlight",
        )
        assert asset["sha256"] == hashlib.sha256(src.read_bytes()).hexdigest()
        denied = cli(
            "asset", "download", asset["id"], "--out", str(tmp_path / "x"), "--purpose", "reuse", actor="northlight"
        )
        assert denied.exit_code == 2
        assert "release" in denied.stderr
        assert not (tmp_path / "x").exists()
        out = tmp_path / "copy.wav"
        # Lena has no account in the demo; the union retrieves it for her.
        ok = cli("asset", "download", asset["id"], "--out", str(out), "--purpose", "member request", actor="union")
        assert ok.exit_code == 0, ok.output
        assert out.read_bytes() == src.read_bytes()
        releases = jrun(cli, "asset", "releases", asset["id"])
        assert [r["purpose"] for r in releases] == ["member request"]

    def test_account_and_token_commands(self, cli, world) -> None:
        producer = jrun(cli, "producer", "add", "--name", "Brightside Ads")
        account = jrun(
            cli, "account", "add", "--name", "brightside", "--role", "producer", "--producer-id", producer["id"]
        )
        assert account["role"] == "producer"
        token = cli("token", "create", "brightside")
        assert token.exit_code == 0
        assert token.stdout.strip().startswith("llt_")

    def test_vault_gc_runs(self, cli, world) -> None:
        result = cli("vault", "gc")
        assert result.exit_code == 0
        assert "removed 0" in result.stdout

    def test_db_check_reports_agreement(self, cli) -> None:
        result = cli("db", "check")
        assert result.exit_code == 0, result.output
        assert "agree" in result.stdout
