"""Detection over HTTP: enrol by upload, scan an upload, findings by role, notice PDF, background job."""

from __future__ import annotations

import io
import time
from pathlib import Path

import cv2
import pypdf
import pytest

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
FACES = SHARED / "media" / "faces" / "face_recognition"


def _jpeg(name: str, width: int) -> bytes:
    img = cv2.imread(str(FACES / name))
    h, w = img.shape[:2]
    return cv2.imencode(".jpg", cv2.resize(img, (width, round(h * width / w)), interpolation=cv2.INTER_AREA))[
        1
    ].tobytes()


def _enrol_own(maya):  # type: ignore[no-untyped-def]
    """Maya enrols an Obama photo as her own reference: (her performer id, the reference)."""
    me = maya.get("/performers").json()["items"][0]["id"]
    r = maya.post(
        f"/detection/references?performer_id={me}&filename=ref.jpg",
        content=_jpeg("obama.jpg", 400),
        headers={"Content-Type": "application/octet-stream"},
    )
    assert r.status_code == 201, r.text
    return me, r.json()


@pytest.fixture
def enrolled(as_):  # type: ignore[no-untyped-def]
    me, ref = _enrol_own(as_("maya"))
    assert ref["approved_at"] is None  # her own upload: the union approves it for everyone's scans
    approved = as_("union").post(f"/detection/references/{ref['id']}/approve")
    assert approved.status_code == 200 and approved.json()["approved_at"] is not None, approved.text
    return me


def _upload(api, name: str, filename: str = "upload.jpg"):  # type: ignore[no-untyped-def]
    r = api.post(
        f"/detection/scan?filename={filename}",
        content=_jpeg(name, 400),
        headers={"Content-Type": "application/octet-stream"},
    )
    assert r.status_code == 200, r.text
    return r.json()


def test_a_performers_own_reference_counts_for_others_once_the_union_approves_it(as_) -> None:  # type: ignore[no-untyped-def]
    maya = as_("maya")
    me, ref = _enrol_own(maya)
    # Anyone could upload a stranger's face as their own: until the union looks, only Maya's scans use it.
    assert _upload(as_("northlight"), "obama_and_biden.jpg")["status"] == "no_match"
    assert _upload(maya, "obama2.jpg", "mine.jpg")["status"] == "unauthorized"
    pending = as_("union").get("/detection/references?pending=true").json()
    assert [r["id"] for r in pending["items"]] == [ref["id"]]
    for who in ("maya", "northlight"):
        assert as_(who).post(f"/detection/references/{ref['id']}/approve").status_code == 403, who
    assert as_("union").post(f"/detection/references/{ref['id']}/approve").status_code == 200
    assert as_("union").get("/detection/references?pending=true").json()["total"] == 0
    # The same picture as before (no finding was made for it), now matched through the approved reference.
    again = _upload(as_("northlight"), "obama_and_biden.jpg", "again.jpg")
    assert again["status"] == "unauthorized" and again["staydown_of"] is None
    assert [m["performer"]["id"] for m in again["matches"]] == [me]


def test_enrol_scan_findings_notice(as_, enrolled: str) -> None:  # type: ignore[no-untyped-def]
    studio = as_("northlight")
    r = studio.post(
        "/detection/scan?filename=upload.jpg",
        content=_jpeg("obama2.jpg", 400),
        headers={"Content-Type": "application/octet-stream"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "unauthorized" and body["media"] == "image"
    assert body["matches"][0]["performer"]["id"] == enrolled and body["matches"][0]["performer"]["ref"] == "SAG-100201"
    finding = body["findings"][0]
    assert as_("maya").get(f"/detection/findings/{finding}").status_code == 200
    assert as_("union").get("/detection/findings").json()["total"] == 1
    assert as_("lena").get(f"/detection/findings/{finding}").status_code == 404
    assert as_("pixelforge").get(f"/detection/findings/{finding}").status_code == 404
    bad = as_("maya").post(
        f"/detection/findings/{finding}/notices",
        json={"signer_name": "Maya", "address": "x", "phone": "1", "email": "nope"},
    )
    assert bad.status_code == 422
    n = as_("maya").post(
        f"/detection/findings/{finding}/notices",
        json={"signer_name": "Maya Ortiz", "address": "1 Main St", "phone": "+1 555 0100", "email": "maya@example.org"},
    )
    assert n.status_code == 201, n.text
    pdf = as_("maya").get(f"/detection/notices/{n.json()['id']}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert as_("lena").get(f"/detection/notices/{n.json()['id']}").status_code == 404
    s = as_("maya").post(f"/detection/findings/{finding}/status", json={"status": "restored"})
    assert s.status_code == 409


def test_bad_upload_is_a_per_file_error(as_, enrolled: str) -> None:  # type: ignore[no-untyped-def]
    r = as_("union").post(
        "/detection/scan?filename=x.mp4", content=b"not a video", headers={"Content-Type": "application/octet-stream"}
    )
    assert r.status_code == 200
    assert r.json()["status"] == "error" and "not a supported" in r.json()["error"]


def _run_job(api):  # type: ignore[no-untyped-def]
    """Submit a background scan of a photo of the enrolled face and wait until it has finished."""
    job = api.post(
        "/detection/jobs?filename=big.jpg",
        content=_jpeg("obama2.jpg", 300),
        headers={"Content-Type": "application/octet-stream"},
    )
    assert job.status_code == 202, job.text
    for _ in range(200):
        state = api.get(f"/detection/jobs/{job.json()['id']}").json()
        if state["status"] in ("done", "failed"):
            break
        time.sleep(0.05)
    assert state["status"] == "done", state
    return job, state


def test_withdraw_and_background_job(as_, enrolled: str) -> None:  # type: ignore[no-untyped-def]
    maya = as_("maya")
    job, state = _run_job(maya)
    assert state["result"][0]["status"] == "unauthorized"
    assert as_("lena").get(f"/detection/jobs/{job.json()['id']}").status_code == 404
    r = maya.client.delete(f"/detection/performers/{enrolled}/references", headers=maya.headers)
    assert r.status_code == 200 and r.json()["deleted"] == 1
    assert maya.get("/detection/references").json()["total"] == 0


def test_reembed_lists_references_of_an_earlier_model(as_, enrolled: str, runtime) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import update  # noqa: PLC0415 - only this test edits rows directly

    from likeness_ledger.detection.models import Reference  # noqa: PLC0415

    maya = as_("maya")
    assert maya.post("/detection/references/reembed", json={}).json() == []  # all current
    with runtime.db.write() as session:
        session.execute(update(Reference).values(model="sface-2021dec-int8bq+flip"))
    [ref] = maya.get("/detection/references").json()["items"]
    r = maya.post("/detection/references/reembed", json={"performer_id": enrolled})
    assert r.status_code == 200, r.text
    assert r.json() == [
        {
            "reference_id": ref["id"],
            "performer_id": enrolled,
            "status": "needs_upload",
            "new_reference_id": None,
            "detail": "uploaded media is not kept: enrol it again",
        }
    ]
    assert as_("northlight").post("/detection/references/reembed", json={}).status_code == 403
    assert as_("lena").post("/detection/references/reembed", json={"performer_id": enrolled}).status_code == 404
    bad = maya.post("/detection/references/reembed", json={"performer_id": "nope"})
    assert bad.status_code == 422 and "performer_id" in bad.text


def test_form_uploads_are_refused_with_the_error_shape(as_, enrolled: str) -> None:  # type: ignore[no-untyped-def]
    maya = as_("maya")
    photo = {"file": ("photo.jpg", _jpeg("obama2.jpg", 300), "image/jpeg")}
    for url in (
        "/detection/scan?filename=x.jpg",
        f"/detection/references?performer_id={enrolled}&filename=x.jpg",
        "/detection/jobs?filename=x.jpg",
    ):
        r = maya.post(url, files=photo)
        assert r.status_code == 415, (url, r.text)
        body = r.json()
        assert body["ok"] is False and body["status"] == 415
        assert "multipart/form-data" in body["error"] and "request body" in body["error"]
        # curl -d @FILE: a form-encoded body, whose line breaks curl has already stripped.
        r = maya.post(url, content=b"\xff\xd8\xff", headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert r.status_code == 415 and "application/octet-stream" in r.json()["error"], (url, r.text)
    assert maya.get("/detection/references").json()["total"] == 1  # the form upload enrolled nothing


def test_job_result_leads_to_findings_and_a_notice(as_, enrolled: str) -> None:  # type: ignore[no-untyped-def]
    studio = as_("northlight")
    _, state = _run_job(studio)
    [result] = state["result"]
    assert result["status"] == "unauthorized"
    assert result["cleared_by"] is None and result["staydown_of"] is None
    [finding] = result["findings"]
    direct = studio.post(
        "/detection/scan?filename=big.jpg",
        content=_jpeg("obama2.jpg", 300),
        headers={"Content-Type": "application/octet-stream"},
    ).json()
    assert set(result) == set(direct) and direct["findings"] == [finding]
    n = as_("maya").post(
        f"/detection/findings/{finding}/notices",
        json={"signer_name": "Maya Ortiz", "address": "1 Main St", "phone": "+1 555 0100", "email": "maya@example.org"},
    )
    assert n.status_code == 201, n.text


def _notice(as_) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    scan = as_("northlight").post(
        "/detection/scan?filename=upload.jpg",
        content=_jpeg("obama2.jpg", 400),
        headers={"Content-Type": "application/octet-stream"},
    )
    finding = scan.json()["findings"][0]
    n = as_("maya").post(
        f"/detection/findings/{finding}/notices",
        json={"signer_name": "Maya Ortiz", "address": "1 Main St", "phone": "+1 555 0100", "email": "maya@example.org"},
    )
    assert n.status_code == 201, n.text
    return finding, n.json()["id"]


def test_notice_pdf_names_the_registry_id(as_, enrolled: str) -> None:  # type: ignore[no-untyped-def]
    _, notice = _notice(as_)
    assert as_("maya").get(f"/detection/notices/{notice}").json()["document"]["B_individual"]["registry_id"] == enrolled
    pdf = as_("maya").get(f"/detection/notices/{notice}/pdf")
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf.content)).pages)
    assert f"Registry id: {enrolled}" in text


def test_notice_of_a_hidden_finding_is_not_found_by_its_own_id(as_, enrolled: str) -> None:  # type: ignore[no-untyped-def]
    finding, notice = _notice(as_)
    for url in (f"/detection/notices/{notice}", f"/detection/notices/{notice}/pdf"):
        r = as_("lena").get(url)
        assert r.status_code == 404
        assert r.json()["error"] == f"notice {notice} not found"
        assert finding not in r.text


def test_notices_of_a_finding_are_listed_newest_first(as_, enrolled: str, client) -> None:  # type: ignore[no-untyped-def]
    finding, first = _notice(as_)
    maya = as_("maya")
    second = maya.post(
        f"/detection/findings/{finding}/notices",
        json={"signer_name": "Maya Ortiz", "address": "1 Main St", "phone": "+1 555 0100", "email": "m@example.org"},
    ).json()["id"]
    r = maya.get(f"/detection/findings/{finding}/notices")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == 2 and [n["id"] for n in body["items"]] == [second, first]
    assert body["items"][1] == maya.get(f"/detection/notices/{first}").json()  # the stored notice, as drafted
    assert [n["id"] for n in maya.get(f"/detection/findings/{finding}/notices?limit=1&offset=1").json()["items"]] == [
        first
    ]
    assert as_("union").get(f"/detection/findings/{finding}/notices").json()["total"] == 2
    for who in ("lena", "pixelforge"):
        hidden = as_(who).get(f"/detection/findings/{finding}/notices")
        assert hidden.status_code == 404 and hidden.json()["error"] == f"finding {finding} not found"
        assert first not in hidden.text
    bad = maya.get("/detection/findings/nope/notices")
    assert bad.status_code == 422 and "error" in bad.json()
    assert client.get(f"/detection/findings/{finding}/notices").status_code == 401
