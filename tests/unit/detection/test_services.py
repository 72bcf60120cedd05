from __future__ import annotations

import json
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from sqlalchemy import select, update

from likeness_ledger.accounts.services import Principal, account_by_name, principal_for
from likeness_ledger.detection import notices, provenance, services
from likeness_ledger.detection.face import EMBEDDING_DIM, FUSED_MODEL_NAME
from likeness_ledger.detection.models import Finding, FindingStatus, Modality, Reference, ReferenceSource
from likeness_ledger.errors import Conflict, Forbidden, InvalidInput, NotFound
from likeness_ledger.registry.models import Performer, ReplicaAsset, ReplicaKind, ReplicaMedia
from likeness_ledger.registry.schemas import AssetMeta
from likeness_ledger.runtime import Runtime
from likeness_ledger.transparency.models import LogLeaf
from likeness_ledger.vault import services as vault
from likeness_ledger.vault.models import Release


def who(rt: Runtime, name: str) -> Principal:
    with rt.db.read() as session:
        return principal_for(session, account_by_name(session, name))


def performer_id(rt: Runtime, union_id: str) -> uuid.UUID:
    with rt.db.read() as session:
        pid = session.scalar(select(Performer.id).where(Performer.union_member_id == union_id))
    assert pid is not None
    return pid


def store_face_asset(rt: Runtime, principal: Principal, performer: uuid.UUID, photo: Path) -> Any:
    """Put a face photo in the vault as the performer's independently created replica."""
    meta = AssetMeta(
        performer_id=performer,
        kind=ReplicaKind.INDEPENDENTLY_CREATED,
        media=ReplicaMedia.FACE,
        content_type="image/jpeg",
        filename=photo.name,
    )
    return vault.store_replica(rt.db, rt.store, principal, meta, [photo.read_bytes()], max_size=10**7)


@pytest.fixture
def world(runtime: Runtime, tokens: dict[str, str], media_dir: Path) -> dict[str, uuid.UUID]:
    """Maya enrolled with an Obama photo, Lena with a Biden photo (as the union)."""
    union = who(runtime, "union")
    maya, lena = performer_id(runtime, "SAG-100201"), performer_id(runtime, "SAG-100203")
    services.enrol_upload(runtime.db, union, maya, (media_dir / "obama_ref.jpg").read_bytes(), "obama_ref.jpg")
    services.enrol_upload(runtime.db, union, lena, (media_dir / "biden_ref.jpg").read_bytes(), "biden_ref.jpg")
    return {"maya": maya, "lena": lena}


def scan(rt: Runtime, principal: Principal, *paths: Path) -> list[services.ScanResult]:
    return services.scan_files(rt.db, principal, [(p, p.name) for p in paths], keys_dir=rt.settings.keys_dir)


def test_enrolment_is_per_source_and_needs_a_face(
    runtime: Runtime, world: dict[str, uuid.UUID], media_dir: Path
) -> None:
    maya = who(runtime, "maya")
    ref, created = services.enrol_upload(
        runtime.db, maya, world["maya"], (media_dir / "obama_probe.jpg").read_bytes(), "second.jpg"
    )
    assert created and ref.modality is Modality.FACE and ref.source is ReferenceSource.UPLOAD
    # One row holds both models' embeddings of the face (SFace, then dlib), so withdrawal removes both.
    assert ref.model == FUSED_MODEL_NAME and len(ref.embedding) == 2 * EMBEDDING_DIM * 4
    _, again = services.enrol_upload(
        runtime.db, maya, world["maya"], (media_dir / "obama_probe.jpg").read_bytes(), "second.jpg"
    )
    assert not again
    blank = cv2.imencode(".png", (cv2.imread(str(media_dir / "obama_ref.jpg")) * 0))[1].tobytes()
    with pytest.raises(InvalidInput, match="no face"):
        services.enrol_upload(runtime.db, maya, world["maya"], blank, "blank.png")
    with pytest.raises(NotFound):
        services.enrol_upload(runtime.db, maya, world["lena"], (media_dir / "obama_probe.jpg").read_bytes(), "x.jpg")
    with pytest.raises(Forbidden):
        services.enrol_upload(
            runtime.db, who(runtime, "northlight"), world["maya"], (media_dir / "obama_probe.jpg").read_bytes(), "x.jpg"
        )
    with runtime.db.read() as session:
        rows, total = services.list_references(session, maya, limit=10, offset=0)
        assert total == 2 and {r.performer_id for r in rows} == {world["maya"]}
        _, total_other = services.list_references(session, who(runtime, "northlight"), limit=10, offset=0)
        assert total_other == 0


def test_references_of_an_earlier_model_are_not_used_and_say_so(
    runtime: Runtime, world: dict[str, uuid.UUID], media_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    union = who(runtime, "union")
    with runtime.db.write() as session:
        # Lena's face as an earlier release stored it: SFace alone, under its own model name.
        old = session.scalars(select(Reference).where(Reference.performer_id == world["lena"])).one()
        old.model = "sface-2021dec-int8bq+flip"
        old.embedding = old.embedding[: EMBEDDING_DIM * 4]
    with caplog.at_level("WARNING", logger="likeness_ledger.detection.services"):
        pair = scan(runtime, union, media_dir / "pair.jpg")[0]
    assert [m["performer"]["ref"] for m in pair.to_json()["matches"]] == ["SAG-100201"]
    assert "1 reference(s) were made with an earlier model" in caplog.text
    assert "likeness detection reembed" in caplog.text


def test_enrol_from_vault_asset_is_logged_as_internal_use(
    runtime: Runtime, tokens: dict[str, str], media_dir: Path
) -> None:
    union = who(runtime, "union")
    stored = store_face_asset(runtime, union, performer_id(runtime, "SAG-100204"), media_dir / "obama_probe.jpg")
    ref, created = services.enrol_asset(runtime.db, runtime.store, union, stored.asset.id)
    assert created and ref.source is ReferenceSource.ASSET and ref.asset_id == stored.asset.id
    with runtime.db.read() as session:
        releases = list(session.scalars(select(Release).where(Release.asset_id == stored.asset.id)))
        assert [r.purpose for r in releases] == [services.ENROL_PURPOSE]
        assert session.get(ReplicaAsset, stored.asset.id) is not None
    with pytest.raises(NotFound):
        services.enrol_asset(runtime.db, runtime.store, who(runtime, "maya"), stored.asset.id)


def test_scan_finds_performers_and_records_findings(
    runtime: Runtime, world: dict[str, uuid.UUID], media_dir: Path
) -> None:
    studio = who(runtime, "northlight")
    results = scan(runtime, studio, media_dir / "pair.jpg", media_dir / "nobody.jpg")
    pair, nobody = results
    assert nobody.status == "no_match" and nobody.to_json()["matches"] == []
    assert pair.status == "unauthorized"
    found = {m["performer"]["ref"]: m for m in pair.to_json()["matches"]}
    assert set(found) == {"SAG-100201", "SAG-100203"}
    assert all(len(m["box"]) == 4 and m["modality"] == "face" for m in found.values())
    assert set(pair.to_json()) == {"path", "media", "status", "matches"}
    assert len(pair.findings) == 2
    # Scanning the same bytes again counts a sighting, no new finding.
    again = scan(runtime, studio, media_dir / "pair.jpg")[0]
    assert again.findings == pair.findings
    with runtime.db.read() as session:
        maya_view, total = services.list_findings(session, who(runtime, "maya"), limit=10, offset=0)
        assert total == 1 and maya_view[0].performer_id == world["maya"] and maya_view[0].sightings == 2
        _, union_total = services.list_findings(session, who(runtime, "union"), limit=10, offset=0)
        assert union_total == 2
        _, unrelated = services.list_findings(session, who(runtime, "pixelforge"), limit=10, offset=0)
        assert unrelated == 0
        with pytest.raises(NotFound):
            services.get_finding(session, who(runtime, "pixelforge"), maya_view[0].id)
        with pytest.raises(NotFound):
            services.get_finding(session, who(runtime, "lena"), maya_view[0].id)


def test_a_performer_scans_only_against_their_own_references(
    runtime: Runtime, world: dict[str, uuid.UUID], media_dir: Path
) -> None:
    result = scan(runtime, who(runtime, "lena"), media_dir / "pair.jpg")[0]
    assert [m["performer"]["ref"] for m in result.scan.matches] == ["SAG-100203"]


def test_staydown_matches_a_resized_reencoded_reupload(
    runtime: Runtime, world: dict[str, uuid.UUID], media_dir: Path, tmp_path: Path
) -> None:
    union = who(runtime, "union")
    first = scan(runtime, union, media_dir / "obama_probe.jpg")[0]
    assert first.status == "unauthorized" and first.staydown_of is None
    img = cv2.imread(str(media_dir / "obama_probe.jpg"))
    reupload = tmp_path / "reupload.jpg"
    cv2.imwrite(
        str(reupload), cv2.resize(img, (img.shape[1] * 3 // 4, img.shape[0] * 3 // 4)), [cv2.IMWRITE_JPEG_QUALITY, 50]
    )
    second = scan(runtime, union, reupload)[0]
    assert second.status == "unauthorized"
    assert second.staydown_of == first.findings[0]
    with runtime.db.read() as session:
        row = session.get(Finding, second.findings[0])
        assert row is not None and row.staydown_of == first.findings[0] and row.pdq is not None


def test_staydown_sees_findings_added_after_its_index_was_built(
    runtime: Runtime, world: dict[str, uuid.UUID], media_dir: Path, tmp_path: Path
) -> None:
    union = who(runtime, "union")
    scan(runtime, union, media_dir / "obama_probe.jpg")
    # The index now holds the first finding; the next scan's two findings reach it as an update.
    scan(runtime, union, media_dir / "obama_probe.jpg", media_dir / "pair.jpg")
    pair = scan(runtime, union, media_dir / "pair.jpg")[0]
    img = cv2.imread(str(media_dir / "pair.jpg"))
    reupload = tmp_path / "pair-small.jpg"
    cv2.imwrite(str(reupload), cv2.resize(img, (img.shape[1] * 4 // 5, img.shape[0] * 4 // 5)))
    second = scan(runtime, union, reupload)[0]
    assert second.status == "unauthorized"
    assert second.staydown_of in pair.findings


def _reencoded(src: Path, dst: Path, scale: float = 0.75, quality: int = 50) -> Path:
    img = cv2.imread(str(src))
    small = cv2.resize(img, (round(img.shape[1] * scale), round(img.shape[0] * scale)))
    cv2.imwrite(str(dst), small, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return dst


def test_media_already_found_stays_unauthorized_after_enrolment_is_withdrawn(
    runtime: Runtime, world: dict[str, uuid.UUID], media_dir: Path, tmp_path: Path
) -> None:
    union = who(runtime, "union")
    first = scan(runtime, union, media_dir / "obama_probe.jpg")[0]
    reupload = _reencoded(media_dir / "obama_probe.jpg", tmp_path / "reupload.jpg")
    second = scan(runtime, union, reupload)[0]
    assert second.staydown_of == first.findings[0]
    with runtime.db.write() as session:
        assert services.withdraw(session, union, world["maya"]) == 1
    # No face is looked for any more, but both files are known unauthorized media of Maya's.
    for path, earlier in ((media_dir / "obama_probe.jpg", first), (reupload, second)):
        again = scan(runtime, union, path)[0]
        assert again.status == "unauthorized", path.name
        assert again.findings == earlier.findings
        assert [m["performer"]["ref"] for m in again.to_json()["matches"]] == ["SAG-100201"]
        assert again.to_json()["matches"] == earlier.to_json()["matches"]
    with runtime.db.read() as session:
        assert [session.get(Finding, f).sightings for f in (*first.findings, *second.findings)] == [2, 2]
    assert scan(runtime, union, media_dir / "nobody.jpg")[0].status == "no_match"


def test_a_performers_scan_never_shows_another_performers_finding(
    runtime: Runtime, world: dict[str, uuid.UUID], media_dir: Path, tmp_path: Path
) -> None:
    scan(runtime, who(runtime, "union"), media_dir / "biden_ref.jpg")  # Lena's finding
    reupload = _reencoded(media_dir / "biden_ref.jpg", tmp_path / "biden-again.jpg")
    for path in (media_dir / "biden_ref.jpg", reupload):
        mine = scan(runtime, who(runtime, "maya"), path)[0]
        assert mine.status == "no_match" and mine.findings == [] and mine.staydown_of is None, path.name
    with runtime.db.read() as session:
        _, maya_total = services.list_findings(session, who(runtime, "maya"), limit=10, offset=0)
    assert maya_total == 0


def test_a_scan_lists_only_findings_its_account_may_open(
    runtime: Runtime, world: dict[str, uuid.UUID], media_dir: Path, tmp_path: Path
) -> None:
    first = scan(runtime, who(runtime, "union"), media_dir / "obama_probe.jpg")[0]
    studio = who(runtime, "northlight")
    same = scan(runtime, studio, media_dir / "obama_probe.jpg")[0]
    # The union's finding counts the sighting, but the studio cannot open it, so it gets no id.
    assert same.status == "unauthorized" and same.findings == []
    reupload = scan(runtime, studio, _reencoded(media_dir / "obama_probe.jpg", tmp_path / "r.jpg"))[0]
    assert reupload.status == "unauthorized" and reupload.staydown_of is None and len(reupload.findings) == 1
    with runtime.db.read() as session:
        assert session.get(Finding, first.findings[0]).sightings == 2
        own = services.get_finding(session, studio, reupload.findings[0])
        assert own.staydown_of == first.findings[0]


def test_cleared_by_usage_report_or_registry_signature(
    runtime: Runtime, world: dict[str, uuid.UUID], media_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    union = who(runtime, "union")
    signed = tmp_path / "signed.jpg"
    provenance.sign(runtime.settings.keys_dir, media_dir / "obama_probe.jpg", signed, title="cleared output")
    result = scan(runtime, union, signed)[0]
    assert result.status == "cleared" and result.cleared_by == "c2pa" and result.findings == []
    # A usage report covering Maya clears her face in this exact file; Lena's face stays unauthorized.
    pair_sha = services.media.sha256_file(media_dir / "pair.jpg")
    monkeypatch.setattr(services, "cleared_performers", lambda s, d: {world["maya"]} if d == pair_sha else set())
    pair = scan(runtime, union, media_dir / "pair.jpg")[0]
    assert pair.status == "unauthorized"
    with runtime.db.read() as session:
        assert {session.get(Finding, f).performer_id for f in pair.findings} == {world["lena"]}  # type: ignore[union-attr]
    monkeypatch.setattr(services, "cleared_performers", lambda s, d: set(world.values()))
    assert scan(runtime, union, media_dir / "pair.jpg")[0].status == "cleared"


def test_a_reference_in_another_image_format_is_named_as_such(media_dir: Path) -> None:
    ok, bmp = cv2.imencode(".bmp", cv2.imread(str(media_dir / "obama_ref.jpg")))
    assert ok
    with pytest.raises(InvalidInput) as caught:
        services.embed_reference(bmp.tobytes(), "portrait.bmp")
    message = caught.value.message
    assert message.startswith("portrait.bmp: not a"), message
    assert "JPEG, PNG or WebP image" in message or "not an image" in message, message


def test_bad_files_fail_alone(runtime: Runtime, world: dict[str, uuid.UUID], media_dir: Path, tmp_path: Path) -> None:
    data = (media_dir / "obama_probe.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 3])
    (tmp_path / "text.mp4").write_text("not a video\n")
    (tmp_path / "empty.png").write_bytes(b"")
    results = scan(
        runtime,
        who(runtime, "union"),
        tmp_path / "cut.jpg",
        tmp_path / "text.mp4",
        tmp_path / "empty.png",
        media_dir / "obama_probe.jpg",
    )
    assert [r.status for r in results] == ["error", "error", "error", "unauthorized"]
    assert results[0].to_json()["error"] == "image is truncated or corrupt (JPEG data ends early)"
    assert "it is text" in results[1].to_json()["error"]
    assert results[2].to_json()["error"] == "empty file (0 bytes)"


def test_withdrawal_deletes_embeddings(runtime: Runtime, world: dict[str, uuid.UUID], media_dir: Path) -> None:
    maya = who(runtime, "maya")
    with runtime.db.write() as session, pytest.raises(NotFound):
        services.withdraw(session, maya, world["lena"])
    with runtime.db.write() as session:
        assert services.withdraw(session, maya, world["maya"]) == 1
    with runtime.db.read() as session:
        assert session.scalar(select(Reference.id).where(Reference.performer_id == world["maya"])) is None
    result = scan(runtime, who(runtime, "union"), media_dir / "obama_probe.jpg")[0]
    assert result.status == "no_match"


def test_takedown_life_cycle_and_notice(runtime: Runtime, world: dict[str, uuid.UUID], media_dir: Path) -> None:
    finding_id = scan(runtime, who(runtime, "union"), media_dir / "obama_probe.jpg")[0].findings[0]
    maya = who(runtime, "maya")
    with runtime.db.write() as session:
        notice = notices.build_notice(
            session,
            maya,
            finding_id,
            signer_name="Maya Ortiz",
            capacity=notices.Capacity.RIGHT_HOLDER,
            address="1 Main St, Los Angeles, CA",
            phone="+1 555 0100",
            email="maya@example.org",
            material_url="https://video.example/watch?v=1",
        )
        doc = notice.document
    for key in ("A_signature", "B_individual", "C_material", "D_contact", "E_good_faith", "F_authority", "G_link"):
        assert key in doc
    assert doc["B_individual"]["union_member_id"] == "SAG-100201"
    assert doc["C_material"]["sha256"] and doc["G_link"] == {"url": "https://video.example/watch?v=1"}
    assert doc["F_authority"] is None and "exclusions" in doc["E_good_faith"]
    pdf = notices.render_pdf(doc)
    assert pdf.startswith(b"%PDF")
    with runtime.db.write() as session, pytest.raises(NotFound):
        # The studio did not report this finding (the union did): it does not see it.
        services.set_finding_status(session, who(runtime, "northlight"), finding_id, FindingStatus.NOTICE_SENT)
    steps = [FindingStatus.NOTICE_SENT, FindingStatus.REMOVED, FindingStatus.COUNTER_NOTICED]
    for step in steps:
        with runtime.db.write() as session:
            row = services.set_finding_status(session, maya, finding_id, step)
    assert row.restore_not_before is not None and row.counter_notice_at is not None
    assert row.restore_not_before - row.counter_notice_at == timedelta(days=14)
    with runtime.db.write() as session, pytest.raises(Conflict, match="14-day"):
        services.set_finding_status(session, maya, finding_id, FindingStatus.RESTORED)
    with runtime.db.write() as session:
        row = services.get_finding(session, maya, finding_id)
        row.restore_not_before = row.restore_not_before - timedelta(days=15)  # type: ignore[operator]
    with runtime.db.write() as session:
        assert services.set_finding_status(session, maya, finding_id, FindingStatus.RESTORED).restored_at is not None
    with (
        runtime.db.write() as session,
        pytest.raises(Conflict, match=r"restored to removed \(from restored: notice_sent\)"),
    ):
        services.set_finding_status(session, maya, finding_id, FindingStatus.REMOVED)


def test_transparency_log_records_reference_changes_without_the_vector(
    runtime: Runtime, world: dict[str, uuid.UUID]
) -> None:
    with runtime.db.write() as session:
        services.withdraw(session, who(runtime, "union"), world["lena"])
    with runtime.db.read() as session:
        events = [e for e in session.scalars(select(LogLeaf.event)) if "detection_references" in e]
    assert any("detection_references.created" in e for e in events)
    assert any("detection_references.deleted" in e for e in events)
    assert all('"embedding"' not in e.replace('"redacted":["embedding"]', "") for e in events)


# --- references of an earlier model ------------------------------------------------------------

OLD_MODEL = "sface-2021dec-int8bq+flip"  # what face references were stored under before the cascade


@pytest.fixture
def aged(runtime: Runtime, tokens: dict[str, str], media_dir: Path) -> dict[str, uuid.UUID]:
    """Sam enrolled from a vault asset and Lena from an upload, both as if by the earlier face model."""
    union = who(runtime, "union")
    sam, lena = performer_id(runtime, "SAG-100204"), performer_id(runtime, "SAG-100203")
    stored = store_face_asset(runtime, union, sam, media_dir / "obama_ref.jpg")
    from_asset, _ = services.enrol_asset(runtime.db, runtime.store, union, stored.asset.id)
    uploaded, _ = services.enrol_upload(
        runtime.db, union, lena, (media_dir / "biden_ref.jpg").read_bytes(), "biden_ref.jpg"
    )
    with runtime.db.write() as session:
        # 128 floats under the old name: what an SFace-only reference looked like.
        old = np.zeros(128, dtype="<f4").tobytes()
        session.execute(update(Reference).values(model=OLD_MODEL, embedding=old))
    return {"sam": sam, "lena": lena, "asset_ref": from_asset.id, "upload_ref": uploaded.id}


def test_outdated_references_are_replaced_from_the_vault_or_flagged(
    runtime: Runtime, aged: dict[str, uuid.UUID], media_dir: Path
) -> None:
    union = who(runtime, "union")
    with runtime.db.read() as session:
        assert {r.id for r in services.outdated_references(session, union)} == {aged["asset_ref"], aged["upload_ref"]}
        # Scans leave them out, so neither performer is found before re-embedding.
        assert services.load_gallery(session, union).performers == {}
    seen: list[tuple[int, int]] = []
    made = services.reembed(runtime.db, runtime.store, union, progress=lambda done, total: seen.append((done, total)))
    outcomes = {o.reference_id: o for o in made}
    assert seen == [(1, 2), (2, 2)]
    replaced = outcomes[aged["asset_ref"]]
    assert replaced.status == "reembedded" and replaced.new_reference_id is not None
    assert outcomes[aged["upload_ref"]].status == "needs_upload"
    with runtime.db.read() as session:
        assert session.get(Reference, aged["asset_ref"]) is None
        new = session.get(Reference, replaced.new_reference_id)
        assert new is not None and new.model == FUSED_MODEL_NAME and new.source is ReferenceSource.ASSET
        assert services.outdated_references(session, union) == [session.get(Reference, aged["upload_ref"])]
        assert set(services.load_gallery(session, union).performers) == {aged["sam"]}
        events = [json.loads(e) for e in session.scalars(select(LogLeaf.event))]
    kinds = [(e["type"], e["entity_id"]) for e in events if e["table"] == "detection_references"]
    assert ("detection_references.deleted", str(aged["asset_ref"])) in kinds
    assert ("detection_references.created", str(replaced.new_reference_id)) in kinds
    # The re-embedded performer is found again.
    [result] = services.scan_files(runtime.db, union, [(media_dir / "obama_probe.jpg", "probe.jpg")])
    assert [m["performer"]["id"] for m in result.scan.matches] == [str(aged["sam"])]
    # Nothing left that the vault can redo: a second run only lists the upload again.
    again = services.reembed(runtime.db, runtime.store, union)
    assert [(o.reference_id, o.status) for o in again] == [(aged["upload_ref"], "needs_upload")]


def test_a_performer_only_reembeds_their_own(runtime: Runtime, aged: dict[str, uuid.UUID]) -> None:
    lena = who(runtime, "lena")
    outcomes = services.reembed(runtime.db, runtime.store, lena)
    assert [(o.reference_id, o.status) for o in outcomes] == [(aged["upload_ref"], "needs_upload")]
    with pytest.raises(NotFound):
        services.reembed(runtime.db, runtime.store, lena, performer_id=aged["sam"])
    with runtime.db.read() as session:
        assert session.get(Reference, aged["asset_ref"]) is not None  # untouched
