"""``likeness consent``, ``likeness consent-request`` and ``likeness clearance check`` from the shell."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _demo(demo_cli):  # type: ignore[no-untyped-def]
    """Every test here starts from the demo world."""


def jrun(cli, *args: str, actor: str | None = None):  # type: ignore[no-untyped-def]
    result = cli(*args, "--json", actor=actor)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def maya_and_stadium(cli) -> tuple[str, str, str]:  # type: ignore[no-untyped-def]
    maya = next(p for p in jrun(cli, "performer", "list") if p["legal_name"] == "Maya Okafor")
    film = next(p for p in jrun(cli, "production", "list") if p["title"] == "Stadium")
    asset = jrun(cli, "asset", "list", actor="northlight")[0]
    return maya["id"], film["id"], asset["id"]


class TestConsentCli:
    def test_clearance_check_allows_and_denies_with_reasons(self, cli) -> None:
        maya, film, asset = maya_and_stadium(cli)
        args = ["clearance", "check", "--action", "use", "--performer-id", maya, "--production-id", film]
        args += ["--on", "2026-10-01", "--role", "background", "--asset-id", asset]
        allowed = jrun(cli, *args, "--use", "stadium-crowd", actor="northlight")
        assert (allowed["decision"], allowed["reasons"][0]["code"]) == ("allow", "CONSENT_OK")
        denied = jrun(cli, *args, "--use", "stadium-trailer", "--id", "trailer", actor="northlight")
        assert (denied["id"], denied["decision"]) == ("trailer", "deny")
        assert denied["reasons"][0]["code"] == "CONSENT_USE_NOT_DESCRIBED"
        hidden = cli(*args, "--use", "stadium-crowd", actor="pixelforge")
        assert hidden.exit_code == 2
        assert "not found" in hidden.stderr
        bad = cli(*args[:-2], "--use", "stadium-crowd", "--on", "someday")
        assert bad.exit_code == 2
        assert "--on" in bad.stderr

    def test_record_list_revoke_and_export(self, cli, tmp_path: Path) -> None:
        maya, film, asset = maya_and_stadium(cli)
        document = tmp_path / "signed.pdf"
        document.write_bytes(b"%PDF-1.4 signed consent")
        grant = jrun(
            cli,
            "consent",
            "add",
            "--performer-id",
            maya,
            "--scope",
            "use",
            "--production-id",
            film,
            "--replica-asset-id",
            asset,
            "--signed-on",
            "2026-09-10",
            "--use",
            "stadium-wide=the wide shot of the stands, scene 40",
            "--representation",
            "union",
            "--document",
            str(document),
            actor="maya",
        )
        assert grant["signed_by"] == "performer"
        assert len(grant["document_sha256"]) == 64
        listed = jrun(cli, "consent", "list", "--performer-id", maya, actor="northlight")
        assert grant["id"] in {g["id"] for g in listed}
        revoked = jrun(cli, "consent", "revoke", grant["id"], "--effective-on", "2099-01-01", actor="maya")
        assert revoked["effective_on"] == "2099-01-01"
        exported = cli("consent", "export-odrl", grant["id"], actor="northlight")
        assert exported.exit_code == 0, exported.output
        assert "odrl" in json.dumps(json.loads(exported.stdout)).lower()
        bad_use = cli("consent", "add", "--performer-id", maya, "--scope", "use", "--production-id", film)
        assert bad_use.exit_code == 2

    def test_request_workflow(self, cli) -> None:
        maya, film, asset = maya_and_stadium(cli)
        [request] = jrun(
            cli,
            "consent-request",
            "add",
            "--performer-id",
            maya,
            "--production-id",
            film,
            "--scope",
            "use",
            "--replica-asset-id",
            asset,
            "--use",
            "stadium-poster=the one-sheet poster, crowd still from scene 42",
            "--use",
            "stadium-teaser=the teaser",
            actor="northlight",
        )
        assert request["status"] == "pending"
        [approved] = jrun(cli, "consent-request", "approve", request["id"], "--use", "stadium-poster", actor="maya")
        assert approved["status"] == "partially_approved"
        again = cli("consent-request", "refuse", request["id"], actor="maya")
        assert again.exit_code == 2
        assert "cannot become refused" in again.stderr
        pending = jrun(cli, "consent-request", "list", "--status", "pending", actor="northlight")
        assert request["id"] not in {r["id"] for r in pending}
