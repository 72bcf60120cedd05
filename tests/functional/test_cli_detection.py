"""``likeness enroll`` and ``likeness scan`` end to end, as a new user would run them."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
from typer.testing import CliRunner

from likeness_ledger.cli import app
from likeness_ledger.config import Settings

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
FACES = SHARED / "media" / "faces" / "face_recognition"


def _small(name: str, dst: Path, width: int) -> Path:
    img = cv2.imread(str(FACES / name))
    h, w = img.shape[:2]
    dst.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(dst), cv2.resize(img, (width, round(h * width / w)), interpolation=cv2.INTER_AREA))
    return dst


def test_enroll_folder_scan_and_notice(settings: Settings, tmp_path: Path) -> None:
    runner = CliRunner()
    base = ["--data-dir", str(settings.data_dir), "--database-url", settings.database_url]
    assert runner.invoke(app, [*base, "demo", "--json"]).exit_code == 0
    refs = tmp_path / "refs"
    _small("obama.jpg", refs / "NEW-1.jpg", 400)
    _small("biden.jpg", refs / "SAG-100203" / "a.jpg", 400)
    r = runner.invoke(app, [*base, "enroll", "--folder", str(refs), "--json"])
    assert r.exit_code == 1 and "--create" in r.stdout  # NEW-1 is not registered yet
    r = runner.invoke(app, [*base, "enroll", "--folder", str(refs), "--create", "--json"])
    assert r.exit_code == 0, r.output
    assert sorted(o["status"] for o in json.loads(r.stdout)) == ["already enrolled", "enrolled"]

    media = tmp_path / "media"
    _small("obama_and_biden.jpg", media / "pair.jpg", 1000)
    _small("kit_harington__john1.jpeg", media / "other.jpg", 400)
    (media / "broken.mp4").write_text("text, not video")
    (media / "empty.png").write_bytes(b"")
    data = (media / "pair.jpg").read_bytes()
    (media / "cut.jpg").write_bytes(data[: len(data) // 2])
    r = runner.invoke(app, [*base, "scan", str(media), "--json"])
    assert r.exit_code == 1, r.output  # some files were bad; the rest were scanned
    out = {Path(o["path"]).name: o for o in json.loads(r.stdout)}
    assert out["pair.jpg"]["status"] == "unauthorized"
    assert {m["performer"]["ref"] for m in out["pair.jpg"]["matches"]} == {"NEW-1", "SAG-100203"}
    assert set(out["pair.jpg"]["matches"][0]) == {"performer", "modality", "score", "box"}
    assert out["other.jpg"]["status"] == "no_match"
    assert all(out[n]["status"] == "error" and out[n]["error"] for n in ("broken.mp4", "empty.png", "cut.jpg"))

    r = runner.invoke(app, [*base, "scan", str(media / "pair.jpg"), "--engine", "spark"])
    assert r.exit_code == 2 and "--engine" in r.output

    r = runner.invoke(app, [*base, "detection", "findings", "--json"])
    finding = json.loads(r.stdout)[0]["id"]
    pdf = tmp_path / "notice.pdf"
    r = runner.invoke(
        app,
        [
            *base,
            "detection",
            "notice",
            finding,
            "--signer-name",
            "Union counsel",
            "--capacity",
            "authorized_agent",
            "--address",
            "1 Main St",
            "--phone",
            "555 0100",
            "--email",
            "legal@union.example",
            "--pdf",
            str(pdf),
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    assert pdf.read_bytes().startswith(b"%PDF")
    assert "penalty of perjury" in json.loads(r.stdout)["document"]["F_authority"]


def test_reembed_command(settings: Settings, tmp_path: Path) -> None:
    runner = CliRunner()
    base = ["--data-dir", str(settings.data_dir), "--database-url", settings.database_url]
    assert runner.invoke(app, [*base, "demo", "--json"]).exit_code == 0
    r = runner.invoke(app, [*base, "detection", "reembed"])
    assert r.exit_code == 0 and "no references of an earlier model" in r.stdout
    r = runner.invoke(app, [*base, "detection", "reembed", "--performer-id", "nope"])
    assert r.exit_code == 2 and "--performer-id" in r.output
