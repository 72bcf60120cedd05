"""``likeness enroll`` and ``likeness scan`` end to end, as a new user would run them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pypdf
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


def _blank(dst: Path) -> Path:
    """A picture with no face in it (a grey gradient)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(dst), np.tile(np.linspace(40, 200, 320, dtype=np.uint8), (240, 1)))
    return dst


def _union_ids(demo_cli: Any) -> set[str]:
    r = demo_cli("performer", "list", "--json", "--limit", "500")
    assert r.exit_code == 0, r.output
    payload = json.loads(r.stdout)
    items = payload["items"] if isinstance(payload, dict) else payload
    return {p["union_member_id"] for p in items}


def test_enroll_create_registers_a_performer_only_with_a_reference(demo_cli: Any, tmp_path: Path) -> None:
    refs = tmp_path / "refs3"
    _blank(refs / "SAG-777.jpg")
    (refs / "notes.txt").write_text("who is who\n")
    _blank(refs / "NEW-2" / "blank.jpg")
    _small("obama.jpg", refs / "NEW-2" / "face.jpg", 400)
    r = demo_cli("enroll", "--folder", str(refs), "--create", "--json")
    assert r.exit_code == 1, r.output
    out = {Path(str(o["file"])).name: o for o in json.loads(r.stdout)}
    assert out["SAG-777.jpg"]["status"] == "error" and "no face" in out["SAG-777.jpg"]["error"]
    assert out["notes.txt"]["status"] == "error"
    assert "not a supported image or audio file" in out["notes.txt"]["error"]
    assert out["face.jpg"]["status"] == "enrolled" and out["blank.jpg"]["status"] == "error"
    ids = _union_ids(demo_cli)
    assert "SAG-777" not in ids and "notes" not in ids  # nothing left behind by files that gave no reference
    assert "NEW-2" in ids  # created together with its one good reference
    refs_of_new = demo_cli("detection", "references", "--performer-id", out["face.jpg"]["performer_id"], "--json")
    assert [x["source_name"] for x in json.loads(refs_of_new.stdout)] == ["face.jpg"]


def test_enroll_names_what_is_missing(demo_cli: Any, tmp_path: Path) -> None:
    empty = tmp_path / "EMPTYDIR"
    empty.mkdir()
    r = demo_cli("enroll", "--folder", str(empty))
    assert r.exit_code == 2
    assert f"no image or audio files in {empty}" in r.output
    only_text = tmp_path / "text"
    only_text.mkdir()
    (only_text / "notes.txt").write_text("nothing to enrol")
    r = demo_cli("enroll", "--folder", str(only_text))
    assert r.exit_code == 2 and "no image or audio files in" in r.output
    photo = _small("obama.jpg", tmp_path / "photo.jpg", 200)
    r = demo_cli("enroll", str(photo))
    assert r.exit_code == 2
    assert r.output.startswith("error: FILES:") and "--performer-id" in r.output


def test_scan_folder_takes_every_image_format_the_scanner_reads(demo_cli: Any, tmp_path: Path) -> None:
    folder = tmp_path / "media"
    src = _small("kit_harington__john1.jpeg", folder / "a.jpg", 300)
    img = cv2.imread(str(src))
    cv2.imwrite(str(folder / "b.bmp"), img)
    cv2.imwrite(str(folder / "c.tif"), img)
    (folder / "notes.txt").write_text("not media")
    r = demo_cli("scan", str(folder), "--json")
    assert r.exit_code == 0, r.output
    out = {Path(o["path"]).name: o for o in json.loads(r.stdout)}
    assert set(out) == {"a.jpg", "b.bmp", "c.tif"}
    assert all(o["status"] == "no_match" for o in out.values()), out
    assert "skipped 1 file(s)" in r.stderr and "notes.txt" in r.stderr


def test_notice_warns_about_a_local_location(demo_cli: Any, tmp_path: Path) -> None:
    refs = tmp_path / "refs"
    _small("obama.jpg", refs / "SAG-100201.jpg", 400)
    assert demo_cli("enroll", "--folder", str(refs), "--json").exit_code == 0
    probe = _small("obama2.jpg", tmp_path / "media" / "video.jpg", 400)
    assert demo_cli("scan", str(probe), "--json").exit_code == 0
    finding = json.loads(demo_cli("detection", "findings", "--json").stdout)[0]
    args = ["--signer-name", "Maya", "--address", "1 Main St", "--phone", "555 0100", "--email", "m@example.org"]
    r = demo_cli("detection", "notice", finding["id"], *args, "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["document"]["C_material"]["location"] == str(probe)  # kept as it was
    assert "local path" in r.stderr and "--material-url" in r.stderr
    pdf = tmp_path / "notice.pdf"
    url = "https://videos.example/watch/1"
    r = demo_cli("detection", "notice", finding["id"], *args, "--material-url", url, "--pdf", str(pdf))
    assert r.exit_code == 0, r.output
    assert "--material-url" not in r.stderr
    text = "".join(page.extract_text() for page in pypdf.PdfReader(pdf).pages)
    assert f"Registry id: {finding['performer_id']}" in text


def test_flags_take_no_value_in_help(demo_cli: Any) -> None:
    commands = [
        ["enroll"],
        ["scan"],
        ["detection", "references"],
        ["detection", "reembed"],
        ["detection", "findings"],
        ["detection", "finding-status"],
        ["detection", "notice"],
        ["detection", "notices"],
        ["detection", "notice-show"],
    ]
    for command in commands:
        r = demo_cli(*command, "--help")
        assert r.exit_code == 0, r.output
        lines = [line for line in r.stdout.splitlines() if "--json" in line or "--create" in line]
        assert lines and not any("<bool>" in line for line in lines), (command, lines)


NOTICE_ARGS = ["--signer-name", "Maya", "--address", "1 Main St", "--phone", "555 0100", "--email", "m@example.org"]


def test_plain_scan_and_findings_show_whole_finding_ids(demo_cli: Any, tmp_path: Path) -> None:
    refs = tmp_path / "refs"
    _small("obama.jpg", refs / "SAG-100201.jpg", 400)
    assert demo_cli("enroll", "--folder", str(refs), "--json").exit_code == 0
    probe = _small("obama2.jpg", tmp_path / "media" / "a-rather-long-file-name-for-a-scan.jpg", 400)
    r = demo_cli("scan", str(probe))
    assert r.exit_code == 0, r.output
    [finding] = json.loads(demo_cli("detection", "findings", "--json").stdout)
    assert finding["id"] in r.stdout.splitlines()[-1]  # on a line of its own, whole, at 80 columns
    assert "likeness detection notice FINDING_ID" in r.stdout
    r = demo_cli("detection", "findings")
    assert r.exit_code == 0, r.output
    assert finding["id"] in r.stdout


def _finding(demo_cli: Any, tmp_path: Path, ref: str = "SAG-100201", *, create: bool = False) -> str:
    """Enrol an Obama photo as ``ref``, scan another one, and return the finding's id."""
    refs = tmp_path / "refs"
    _small("obama.jpg", refs / f"{ref}.jpg", 400)
    assert demo_cli("enroll", "--folder", str(refs), *(["--create"] if create else []), "--json").exit_code == 0
    assert demo_cli("scan", str(_small("obama2.jpg", tmp_path / "m" / "v.jpg", 400)), "--json").exit_code == 0
    finding: str = json.loads(demo_cli("detection", "findings", "--json").stdout)[0]["id"]
    return finding


def test_notice_says_what_to_do_next(demo_cli: Any, tmp_path: Path) -> None:
    finding = _finding(demo_cli, tmp_path)
    r = demo_cli("detection", "notice", finding, *NOTICE_ARGS, "--pdf", str(tmp_path / "n.pdf"))
    assert r.exit_code == 0, r.output
    assert f"likeness detection finding-status {finding} --status notice_sent" in r.stderr
    assert "sign" in r.stderr
    assert "--legal-name" not in r.stderr  # Maya's legal name is her own
    bad = demo_cli("detection", "notice", finding, *NOTICE_ARGS, "--pdf", str(tmp_path / "nowhere" / "n.pdf"))
    assert bad.exit_code == 2 and "--pdf: cannot write" in bad.stderr
    listed = json.loads(demo_cli("detection", "notices", finding, "--json").stdout)
    assert len(listed) == 1  # the refused command stored no notice


def test_notice_warns_when_the_legal_name_is_the_union_member_id(demo_cli: Any, tmp_path: Path) -> None:
    finding = _finding(demo_cli, tmp_path, "NEW-9", create=True)
    r = demo_cli("detection", "notice", finding, *NOTICE_ARGS, "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["document"]["B_individual"]["legal_name"] == "NEW-9"
    assert "union member id" in r.stderr
    assert "likeness performer update NEW-9 --legal-name" in r.stderr


def test_notices_of_a_finding_can_be_listed_and_shown_again(demo_cli: Any, tmp_path: Path) -> None:
    finding = _finding(demo_cli, tmp_path)
    r = demo_cli("detection", "notices", finding)
    assert r.exit_code == 0 and "no notices drafted" in r.stdout
    first = json.loads(demo_cli("detection", "notice", finding, *NOTICE_ARGS, "--recipient", "VidHost").stdout)
    second = json.loads(demo_cli("detection", "notice", finding, *NOTICE_ARGS, "--recipient", "ClipBay").stdout)

    r = demo_cli("detection", "notices", finding, "--json")
    assert r.exit_code == 0, r.output
    assert [n["id"] for n in json.loads(r.stdout)] == [second["id"], first["id"]]  # newest first
    r = demo_cli("detection", "notices", finding)
    assert r.exit_code == 0, r.output
    assert second["id"] in r.stdout and first["id"] in r.stdout  # whole ids, at 80 columns
    assert r.stdout.index(second["id"]) < r.stdout.index(first["id"])
    assert "ClipBay" in r.stdout and "Maya" in r.stdout

    r = demo_cli("detection", "notice-show", first["id"], "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout) == first  # the stored notice, not a new draft
    pdf = tmp_path / "again.pdf"
    r = demo_cli("detection", "notice-show", first["id"], "--pdf", str(pdf))
    assert r.exit_code == 0, r.output
    assert "To: VidHost" in r.stdout and first["document"]["B_individual"]["registry_id"] in r.stdout
    text = "".join(page.extract_text() for page in pypdf.PdfReader(pdf).pages)
    assert "To: VidHost" in text
    assert len(json.loads(demo_cli("detection", "notices", finding, "--json").stdout)) == 2  # nothing drafted

    r = demo_cli("detection", "notice-show", "nope")
    assert r.exit_code == 2 and "NOTICE_ID" in r.output
    r = demo_cli("detection", "notices", "nope")
    assert r.exit_code == 2 and "FINDING_ID" in r.output
    r = demo_cli("detection", "notice-show", first["id"], actor="lena")
    assert r.exit_code != 0 and f"notice {first['id']} not found" in r.output and finding not in r.output
    r = demo_cli("detection", "notices", finding, actor="lena")
    assert r.exit_code != 0 and f"finding {finding} not found" in r.output


def test_the_union_approves_what_a_performer_enrolled_herself(demo_cli: Any, tmp_path: Path) -> None:
    photo = _small("obama.jpg", tmp_path / "me.jpg", 400)
    mine = demo_cli("enroll", "--performer-id", "SAG-100201", str(photo), "--json", actor="maya")
    assert mine.exit_code == 0, mine.output
    ref_id = json.loads(mine.stdout)[0]["reference_id"]
    pending = json.loads(demo_cli("detection", "references", "--pending", "--json", actor="union").stdout)
    assert [r["id"] for r in pending] == [ref_id] and pending[0]["approved_at"] is None
    refused = demo_cli("detection", "approve", ref_id, actor="maya")
    assert refused.exit_code != 0 and "approve references" in refused.stderr
    approved = json.loads(demo_cli("detection", "approve", ref_id, "--json", actor="union").stdout)
    assert approved[0]["id"] == ref_id and approved[0]["approved_at"] is not None
    assert json.loads(demo_cli("detection", "references", "--pending", "--json", actor="union").stdout) == []
