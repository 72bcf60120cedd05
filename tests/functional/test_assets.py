"""Replica upload into the vault and release out of it, over the API."""

from __future__ import annotations

import hashlib
import os
import uuid

import pytest
from sqlalchemy import func, select

from likeness_ledger.accounts.services import account_by_name, principal_for
from likeness_ledger.registry.models import ReplicaAsset
from likeness_ledger.vault import services as vault
from likeness_ledger.vault.errors import VaultIntegrityError
from likeness_ledger.vault.models import Release, VaultBlob


def maya_scan(as_) -> tuple[dict, dict]:  # type: ignore[no-untyped-def]
    maya = as_("maya").get("/me").json()
    scan = as_("northlight").get("/scan-sessions").json()["items"][0]
    return maya, scan


def counts(runtime) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    with runtime.db.read() as s:
        return (
            s.scalar(select(func.count()).select_from(ReplicaAsset)),
            s.scalar(select(func.count()).select_from(VaultBlob)),
            len(list(runtime.store.iter_digests())),
        )


def upload(api, body: bytes, performer_id: str, **params: object):  # type: ignore[no-untyped-def]
    query = {"performer_id": performer_id, "kind": "employment_based", "media": "face", **params}
    return api.post("/assets", params=query, content=body, headers={"Content-Type": "application/octet-stream"})


class TestUploadAndRelease:
    def test_round_trip_through_the_vault(self, as_, runtime) -> None:
        maya, scan = maya_scan(as_)
        data = os.urandom(300_000)
        r = upload(as_("northlight"), data, maya["performer_id"], scan_session_id=scan["id"], filename="body.ply")
        assert r.status_code == 201, r.text
        asset = r.json()
        assert asset["sha256"] == hashlib.sha256(data).hexdigest()
        assert asset["size"] == len(data)
        # Bytes on disk are ciphertext, not the plaintext.
        blob_path = next(p for p in runtime.settings.vault_dir.rglob(asset["sha256"]))
        assert data[:64] not in blob_path.read_bytes()
        got = as_("maya").get(f"/assets/{asset['id']}/content", params={"purpose": "my own copy"})
        assert got.status_code == 200
        assert got.content == data
        assert got.headers["x-content-sha256"] == asset["sha256"]

    def test_same_bytes_twice_is_idempotent(self, as_, runtime) -> None:
        maya, scan = maya_scan(as_)
        data = b"x" * 5000
        first = upload(as_("northlight"), data, maya["performer_id"], scan_session_id=scan["id"])
        before = counts(runtime)
        second = upload(as_("northlight"), data, maya["performer_id"], scan_session_id=scan["id"])
        assert (first.status_code, second.status_code) == (201, 200)
        assert first.json()["id"] == second.json()["id"]
        assert counts(runtime) == before

    def test_every_release_is_recorded_with_its_purpose(self, as_) -> None:
        asset = as_("maya").get("/assets").json()["items"][0]
        as_("union").get(f"/assets/{asset['id']}/content", params={"purpose": "grievance 2026-114"})
        releases = as_("maya").get(f"/assets/{asset['id']}/releases").json()["items"]
        assert [r["purpose"] for r in releases] == ["grievance 2026-114"]

    def test_producer_may_not_download_and_is_told_why(self, as_, runtime) -> None:
        asset = as_("northlight").get("/assets").json()["items"][0]
        r = as_("northlight").get(f"/assets/{asset['id']}/content", params={"purpose": "sequel"})
        assert r.status_code == 403
        # A producer is judged by the clearance engine, which needs the use and the production.
        assert "USE_KEY@PRODUCTION_ID" in r.json()["error"]
        with runtime.db.read() as s:
            assert s.scalar(select(func.count()).select_from(Release)) == 0

    def test_other_performer_gets_404_not_403(self, as_) -> None:
        asset = as_("maya").get("/assets").json()["items"][0]
        assert as_("jon").get(f"/assets/{asset['id']}/content", params={"purpose": "x"}).status_code == 404

    def test_purpose_is_required(self, as_) -> None:
        asset = as_("maya").get("/assets").json()["items"][0]
        r = as_("maya").get(f"/assets/{asset['id']}/content")
        assert r.status_code == 422
        assert "purpose" in r.json()["error"]


class TestBadUploadsLeaveNothing:
    def test_truncated_upload_is_refused(self, as_, runtime) -> None:
        maya, scan = maya_scan(as_)
        before = counts(runtime)
        r = upload(as_("northlight"), b"a" * 1000, maya["performer_id"], scan_session_id=scan["id"], size=5000)
        assert r.status_code in (400, 422), r.text
        assert "size" in r.json()["error"] or "truncated" in r.json()["error"].lower()
        assert counts(runtime) == before

    def test_digest_mismatch_is_refused(self, as_, runtime) -> None:
        maya, scan = maya_scan(as_)
        before = counts(runtime)
        r = upload(as_("northlight"), b"abc", maya["performer_id"], scan_session_id=scan["id"], sha256="0" * 64)
        assert r.status_code == 422, r.text
        assert counts(runtime) == before

    def test_oversized_upload_is_413(self, as_, runtime) -> None:
        maya, scan = maya_scan(as_)
        before = counts(runtime)
        too_big = b"z" * (runtime.settings.max_upload_bytes + 1)
        r = upload(as_("northlight"), too_big, maya["performer_id"], scan_session_id=scan["id"])
        assert r.status_code == 413
        assert counts(runtime) == before

    def test_unknown_performer_is_404(self, as_, runtime) -> None:
        before = counts(runtime)
        r = upload(as_("union"), b"abc", "00000000-0000-4000-8000-000000000000")
        assert r.status_code == 404
        assert counts(runtime) == before

    def test_bad_query_field_is_422_naming_it(self, as_) -> None:
        maya, _ = maya_scan(as_)
        r = upload(as_("union"), b"abc", maya["performer_id"], media="smell")
        assert r.status_code == 422
        assert r.json()["error"].startswith("media")

    def test_producer_must_upload_from_its_scan_session(self, as_) -> None:
        maya, scan = maya_scan(as_)
        r = upload(as_("northlight"), b"abc", maya["performer_id"])
        assert r.status_code == 422
        assert "scan_session_id" in r.json()["error"]
        r = upload(as_("pixelforge"), b"abc", maya["performer_id"], scan_session_id=scan["id"])
        assert r.status_code == 404


class TestCrashSafety:
    def test_failed_commit_leaves_bytes_only_and_gc_removes_them(self, as_, runtime, monkeypatch) -> None:
        maya, scan = maya_scan(as_)
        before = counts(runtime)

        def boom(*_a: object, **_k: object) -> None:
            raise RuntimeError("crash between writing bytes and committing the record")

        monkeypatch.setattr(vault, "_record_blob", boom)
        r = upload(as_("northlight"), b"orphan-bytes" * 100, maya["performer_id"], scan_session_id=scan["id"])
        assert r.status_code == 500
        assert r.json()["error"] == "internal error"
        assets, blobs, files = counts(runtime)
        assert (assets, blobs) == before[:2]
        assert files == before[2] + 1  # bytes without a record
        assert vault.collect_garbage(runtime.db, runtime.store, grace_seconds=3600) == []  # too young
        removed = vault.collect_garbage(runtime.db, runtime.store, grace_seconds=0)
        assert removed == [hashlib.sha256(b"orphan-bytes" * 100).hexdigest()]
        assert counts(runtime) == before

    def test_tampered_blob_is_not_released(self, as_, runtime) -> None:
        asset = as_("maya").get("/assets").json()["items"][0]
        path = next(p for p in runtime.settings.vault_dir.rglob(asset["sha256"]))
        raw = bytearray(path.read_bytes())
        raw[len(raw) // 2] ^= 0x01
        path.chmod(0o600)
        path.write_bytes(bytes(raw))
        with runtime.db.read() as s:
            maya = principal_for(s, account_by_name(s, "maya"))
        _, chunks = vault.release(runtime.db, runtime.store, maya, uuid.UUID(asset["id"]), "check")
        with pytest.raises(VaultIntegrityError):
            b"".join(chunks)
