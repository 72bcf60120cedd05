"""Consents, requests, clearances and the gates they put on the vault and on scans, over the API.

The demo world: Maya (background) was scanned for Northlight's Stadium after consenting to the
scan, and consented to one use of the scan, ``stadium-crowd``, in Stadium until 2027-03-31.
"""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import func, select

from likeness_ledger.accounts.services import account_by_name, principal_for
from likeness_ledger.compensation.rates import RateTable
from likeness_ledger.consent import schemas
from likeness_ledger.consent import services as consent
from likeness_ledger.consent.models import ConsentGrant
from likeness_ledger.consent.odrl import odrl_to_grant
from likeness_ledger.consent.services import ConsentReleaseDenied
from likeness_ledger.registry import schemas as registry_schemas
from likeness_ledger.registry import services as registry
from likeness_ledger.registry.models import Production, ReplicaAsset, ScanSession
from likeness_ledger.runtime import Runtime
from likeness_ledger.vault import services as vault
from likeness_ledger.vault.models import Release


def principal(runtime: Runtime, name: str):  # type: ignore[no-untyped-def]
    with runtime.db.read() as session:
        return principal_for(session, account_by_name(session, name))


def demo_ids(runtime: Runtime) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    """Maya's performer id, the Stadium production id, and her face scan's asset id."""
    with runtime.db.read() as session:
        asset = session.scalars(select(ReplicaAsset)).one()
        film = session.scalar(select(Production.id).where(Production.title == "Stadium"))
        assert film is not None
        return asset.performer_id, film, asset.id


def release_count(runtime: Runtime) -> int:
    with runtime.db.read() as session:
        return session.scalar(select(func.count()).select_from(Release)) or 0


def take(runtime: Runtime, who: str, asset_id: uuid.UUID, purpose: str, on: date) -> bytes:
    _, chunks = vault.release(runtime.db, runtime.store, principal(runtime, who), asset_id, purpose, on=on)
    return b"".join(chunks)


class TestVaultGate:
    def test_producer_gets_the_replica_for_a_consented_use(self, runtime: Runtime, tokens) -> None:
        _, film, asset = demo_ids(runtime)
        assert take(runtime, "northlight", asset, f"stadium-crowd@{film} plates for scene 41", date(2026, 10, 1))
        assert release_count(runtime) == 1

    def test_a_use_not_described_is_refused_with_the_engines_reason(self, runtime: Runtime, tokens) -> None:
        _, film, asset = demo_ids(runtime)
        with pytest.raises(ConsentReleaseDenied) as info:
            take(runtime, "northlight", asset, f"stadium-trailer@{film}", date(2026, 10, 1))
        assert [r.code.value for r in info.value.reasons] == ["CONSENT_USE_NOT_DESCRIBED"]
        assert info.value.http_status == 403
        assert info.value.errors[0].startswith("CONSENT_USE_NOT_DESCRIBED: consent ")
        assert release_count(runtime) == 0

    def test_another_production_of_the_same_producer_is_refused(self, runtime: Runtime, tokens) -> None:
        _, _, asset = demo_ids(runtime)
        studio = principal(runtime, "northlight")
        with runtime.db.write() as session:
            sequel = registry.create_production(
                session,
                studio,
                registry_schemas.ProductionIn(
                    title="Stadium 2", type="theatrical", agreement="sag-aftra-tv-theatrical-2026"
                ),
            ).id
        with pytest.raises(ConsentReleaseDenied) as info:
            take(runtime, "northlight", asset, f"stadium-crowd@{sequel}", date(2026, 10, 1))
        assert [r.code.value for r in info.value.reasons] == ["CONSENT_WRONG_PRODUCTION"]

    def test_expired_consent_stops_releases_from_the_next_day(self, runtime: Runtime, tokens) -> None:
        _, film, asset = demo_ids(runtime)
        assert take(runtime, "northlight", asset, f"stadium-crowd@{film}", date(2027, 3, 31))
        with pytest.raises(ConsentReleaseDenied) as info:
            take(runtime, "northlight", asset, f"stadium-crowd@{film}", date(2027, 4, 1))
        assert [r.code.value for r in info.value.reasons] == ["CONSENT_EXPIRED"]
        assert release_count(runtime) == 1

    def test_revoked_consent_stops_releases_from_its_effective_day(self, runtime: Runtime, tokens) -> None:
        performer, film, asset = demo_ids(runtime)
        maya = principal(runtime, "maya")
        with runtime.db.read() as session:
            grants, _ = consent.list_grants(session, maya, limit=10, offset=0, performer_id=performer)
        use_grant = next(g for g in grants if g.scope.value == "use")
        with runtime.db.write() as session:
            consent.revoke_grant(
                session,
                maya,
                use_grant.id,
                schemas.RevocationIn(effective_on=date(2026, 12, 20), reason="changed my mind"),
                today=date(2026, 12, 1),
            )
        assert take(runtime, "northlight", asset, f"stadium-crowd@{film}", date(2026, 12, 19))
        for day in (date(2026, 12, 20), date(2027, 1, 15)):
            with pytest.raises(ConsentReleaseDenied) as info:
                take(runtime, "northlight", asset, f"stadium-crowd@{film}", day)
            assert [r.code.value for r in info.value.reasons] == ["CONSENT_REVOKED"]
        assert release_count(runtime) == 1
        # The performer and the union keep their access.
        assert take(runtime, "maya", asset, "my own copy", date(2027, 1, 15))
        assert take(runtime, "union", asset, "audit", date(2027, 1, 15))

    def test_revocation_is_a_new_record_and_happens_once(self, as_, runtime: Runtime) -> None:
        performer, _, _ = demo_ids(runtime)
        grant = next(g for g in as_("maya").get("/consents").json()["items"] if g["scope"] == "use")
        far = "2099-01-01"
        r = as_("maya").post(f"/consents/{grant['id']}/revocations", json={"effective_on": far})
        assert r.status_code == 201, r.text
        again = as_("maya").post(f"/consents/{grant['id']}/revocations", json={"effective_on": far})
        assert again.status_code == 409
        shown = as_("maya").get(f"/consents/{grant['id']}").json()
        assert shown["revocation"]["effective_on"] == far
        assert shown["signed_on"] == grant["signed_on"]
        # A revocation cannot reach into the past.
        creation = next(g for g in as_("maya").get("/consents").json()["items"] if g["scope"] == "creation")
        past = as_("maya").post(f"/consents/{creation['id']}/revocations", json={"effective_on": "2020-01-01"})
        assert past.status_code == 422
        assert past.json()["error"].startswith("effective_on:")
        # A producer may not revoke; another performer does not even see the consent.
        assert as_("northlight").post(f"/consents/{grant['id']}/revocations", json={}).status_code == 403
        assert as_("jon").post(f"/consents/{grant['id']}/revocations", json={}).status_code == 404
        assert performer

    def test_producer_download_over_http_says_why(self, as_, runtime: Runtime) -> None:
        _, film, asset = demo_ids(runtime)
        r = as_("northlight").get(f"/assets/{asset}/content", params={"purpose": f"stadium-trailer@{film}"})
        assert r.status_code == 403
        body = r.json()
        assert "CONSENT_USE_NOT_DESCRIBED" in body["error"]
        assert body["errors"][0].startswith("CONSENT_USE_NOT_DESCRIBED: consent ")
        # A consent without an expiry, for a wide shot: cleared whatever today is.
        performer, _, _ = demo_ids(runtime)
        recorded = as_("maya").post(
            "/consents",
            json={
                "performer_id": str(performer),
                "scope": "use",
                "replica_asset_id": str(asset),
                "production_id": str(film),
                "uses": [{"key": "stadium-wide", "description": "the wide shot of the stands, scene 40"}],
                "specific": True,
                "separately_signed": True,
                "signed_on": "2026-09-08",
                "representation": "union",
            },
        )
        assert recorded.status_code == 201, recorded.text
        ok = as_("northlight").get(f"/assets/{asset}/content", params={"purpose": f"stadium-wide@{film}"})
        assert ok.status_code == 200, ok.text


class TestRequests:
    def ask(self, as_, runtime: Runtime):  # type: ignore[no-untyped-def]
        performer, film, asset = demo_ids(runtime)
        r = as_("northlight").post(
            "/consent-requests",
            json={
                "performer_id": str(performer),
                "production_id": str(film),
                "scope": "use",
                "replica_asset_id": str(asset),
                "uses": [
                    {"key": "stadium-poster", "description": "the poster"},
                    {"key": "stadium-teaser", "description": "the teaser"},
                ],
                "valid_from": "2027-01-01",
                "expires_on": "2027-12-31",
                "proposed_daily_pay": "300",
            },
        )
        assert r.status_code == 201, r.text
        return r.json()

    def test_send_back_resubmit_and_approve_in_part(self, as_, runtime: Runtime) -> None:
        request = self.ask(as_, runtime)
        rid = request["id"]
        assert request["status"] == "pending"
        assert request["proposed_daily_pay"] == "300.00"
        assert [e["status"] for e in request["events"]] == ["pending"]
        assert as_("northlight").post(f"/consent-requests/{rid}/approve", json={}).status_code == 403
        back = as_("maya").post(f"/consent-requests/{rid}/send-back", json={"note": "which poster? which scenes?"})
        assert back.json()["status"] == "sent_back"
        assert as_("maya").post(f"/consent-requests/{rid}/approve", json={}).status_code == 409
        again = as_("northlight").post(
            f"/consent-requests/{rid}/resubmit",
            json={
                "uses": [
                    {"key": "stadium-poster", "description": "the one-sheet poster, crowd still from scene 42"},
                    {"key": "stadium-teaser", "description": "the 30-second teaser, scenes 40-41"},
                ]
            },
        )
        assert again.json()["status"] == "pending", again.text
        approved = as_("maya").post(
            f"/consent-requests/{rid}/approve",
            json={"uses": ["stadium-poster"], "expires_on": "2027-06-30", "representation": "union"},
        )
        assert approved.status_code == 200, approved.text
        body = approved.json()
        assert body["status"] == "partially_approved"
        assert [e["status"] for e in body["events"]] == ["pending", "sent_back", "pending", "partially_approved"]
        grant = as_("maya").get(f"/consents/{body['grant_id']}").json()
        assert [u["key"] for u in grant["uses"]] == ["stadium-poster"]
        assert grant["uses"][0]["description"].startswith("the one-sheet poster")
        assert (grant["valid_from"], grant["expires_on"]) == ("2027-01-01", "2027-06-30")
        assert grant["signed_by"] == "performer"
        assert grant["request_id"] == rid
        for step in ("approve", "refuse", "send-back"):
            assert as_("maya").post(f"/consent-requests/{rid}/{step}", json={"note": "x"}).status_code == 409
        assert as_("northlight").post(f"/consent-requests/{rid}/withdraw", json={}).status_code == 409

    def test_approving_more_than_asked_is_refused(self, as_, runtime: Runtime) -> None:
        rid = self.ask(as_, runtime)["id"]
        r = as_("maya").post(f"/consent-requests/{rid}/approve", json={"uses": ["stadium-sequel"]})
        assert r.status_code == 422
        assert r.json()["error"].startswith("uses[0]:")
        r = as_("maya").post(f"/consent-requests/{rid}/approve", json={"expires_on": "2028-01-01"})
        assert r.status_code == 422
        assert r.json()["error"].startswith("expires_on:")
        full = as_("maya").post(f"/consent-requests/{rid}/approve", json={}).json()
        assert full["status"] == "approved"

    def test_refusal_and_visibility(self, as_, runtime: Runtime) -> None:
        rid = self.ask(as_, runtime)["id"]
        assert as_("pixelforge").get(f"/consent-requests/{rid}").status_code == 404
        assert as_("jon").get(f"/consent-requests/{rid}").status_code == 404
        assert as_("union").get(f"/consent-requests/{rid}").status_code == 200
        refused = as_("maya").post(f"/consent-requests/{rid}/refuse", json={"note": "no"})
        assert refused.json()["status"] == "refused"
        assert refused.json()["grant_id"] is None
        assert as_("pixelforge").get("/consents").json()["items"] == []
        assert as_("northlight").get("/consents").json()["total"] == 2

    def test_producer_cannot_ask_about_anothers_production(self, as_, runtime: Runtime) -> None:
        performer, _, _ = demo_ids(runtime)
        game = next(p for p in as_("union").get("/productions").json()["items"] if p["title"] == "Skyline Heist")
        r = as_("northlight").post(
            "/consent-requests",
            json={
                "performer_id": str(performer),
                "production_id": game["id"],
                "scope": "creation",
                "uses": [{"key": "npc", "description": "a crowd NPC in level 3"}],
            },
        )
        assert r.status_code == 404


def query(performer, production, **extra):  # type: ignore[no-untyped-def]
    return {
        "action": "use",
        "performer_id": str(performer),
        "production_id": str(production),
        "on": "2026-10-01",
        "role": "background",
        "replaces_in_person_work": True,
        **extra,
    }


class TestClearances:
    def test_one_and_batch_agree(self, as_, runtime: Runtime) -> None:
        performer, film, asset = demo_ids(runtime)
        queries = [
            query(performer, film, asset_id=str(asset), use="stadium-crowd", estimated_days=2, id="crowd"),
            query(performer, film, asset_id=str(asset), use="stadium-trailer", id="trailer"),
            query(performer, film, asset_id=str(asset), use="stadium-crowd", on="2027-04-01", id="late"),
            {**query(performer, film), "action": "create", "on": "2026-09-08", "id": "scan"},
        ]
        single = [as_("northlight").post("/clearances", json=q) for q in queries]
        assert [r.status_code for r in single] == [200] * 4, single[0].text
        reports = [r.json() for r in single]
        assert [(r["id"], r["decision"], [x["code"] for x in r["reasons"]]) for r in reports] == [
            ("crowd", "allow", ["CONSENT_OK"]),
            ("trailer", "deny", ["CONSENT_USE_NOT_DESCRIBED"]),
            ("late", "deny", ["CONSENT_EXPIRED"]),
            ("scan", "allow", ["CONSENT_OK"]),
        ]
        batch = as_("northlight").post("/clearances/batch", json={"queries": queries})
        assert batch.status_code == 200, batch.text
        assert batch.json()["decisions"] == reports

    def test_batch_sees_a_revocation_at_once(self, as_, runtime: Runtime) -> None:
        performer, film, asset = demo_ids(runtime)
        q = query(performer, film, asset_id=str(asset), use="stadium-crowd", on="2099-06-01", id="far")
        before = as_("union").post("/clearances/batch", json={"queries": [q]}).json()["decisions"][0]
        assert [r["code"] for r in before["reasons"]] == ["CONSENT_EXPIRED"]
        grant = next(g for g in as_("maya").get("/consents").json()["items"] if g["scope"] == "use")
        as_("maya").post(f"/consents/{grant['id']}/revocations", json={"effective_on": "2099-01-01"})
        after = as_("union").post("/clearances/batch", json={"queries": [q]}).json()["decisions"][0]
        assert sorted(r["code"] for r in after["reasons"]) == ["CONSENT_EXPIRED", "CONSENT_REVOKED"]

    def test_only_parties_may_ask(self, as_, runtime: Runtime) -> None:
        performer, film, asset = demo_ids(runtime)
        q = query(performer, film, asset_id=str(asset), use="stadium-crowd")
        assert as_("pixelforge").post("/clearances", json=q).status_code == 404
        assert as_("jon").post("/clearances", json=q).status_code == 404
        assert as_("maya").post("/clearances", json=q).status_code == 200
        r = as_("pixelforge").post("/clearances/batch", json={"queries": [q]})
        assert r.status_code == 404
        assert r.json()["error"].startswith("queries[0].production_id:")

    def test_invalid_queries_name_the_field(self, as_, runtime: Runtime) -> None:
        performer, film, asset = demo_ids(runtime)
        r = as_("union").post("/clearances", json=query(performer, film, asset_id=str(asset)))
        assert r.status_code == 422
        assert r.json()["error"].startswith("use:")
        bad = query(performer, film, asset_id=str(uuid.uuid4()), use="x")
        r = as_("union").post(
            "/clearances/batch", json={"queries": [query(performer, film, asset_id=str(asset), use="x"), bad]}
        )
        assert r.status_code == 404
        assert r.json()["error"].startswith("queries[1].asset_id:")


class TestScans:
    def scan(self, as_, performer: str, film: str, **times: str):  # type: ignore[no-untyped-def]
        return as_("northlight").post(
            "/scan-sessions", json={"production_id": film, "performer_id": performer, **times}
        )

    def test_late_notice_cannot_be_scheduled(self, as_, runtime: Runtime) -> None:
        _, film, _ = demo_ids(runtime)
        jon = next(p for p in as_("union").get("/performers").json()["items"] if p["legal_name"] == "Jonathan Reyes")
        r = self.scan(
            as_,
            jon["id"],
            str(film),
            engaged_at="2026-12-01T09:00:00Z",
            notice_sent_at="2026-12-09T09:00:00Z",
            scheduled_at="2026-12-10T09:00:00Z",
        )
        assert r.status_code == 409
        assert "SCAN_NOTICE_LATE" in r.json()["error"]
        assert r.json()["errors"][0].startswith("SCAN_NOTICE_LATE: scan at 2026-12-10T09:00")
        with runtime.db.read() as session:
            assert session.scalar(select(func.count()).select_from(ScanSession)) == 1

    def test_scan_starts_only_with_a_creation_consent(self, as_, runtime: Runtime) -> None:
        _, film, _ = demo_ids(runtime)
        jon = next(p for p in as_("union").get("/performers").json()["items"] if p["legal_name"] == "Jonathan Reyes")
        scan = self.scan(
            as_, jon["id"], str(film), notice_sent_at="2026-12-05T09:00:00Z", scheduled_at="2026-12-10T09:00:00Z"
        )
        assert scan.status_code == 201, scan.text
        done = as_("northlight").post(f"/scan-sessions/{scan.json()['id']}/status", json={"status": "completed"})
        assert done.status_code == 409
        assert "NO_CONSENT" in done.json()["error"]
        granted = as_("jon").post(
            "/consents",
            json={
                "performer_id": jon["id"],
                "scope": "creation",
                "production_id": str(film),
                "uses": [{"key": "stadium-lead", "description": "full-body capture for the lead's stunt double"}],
                "specific": True,
                "separately_signed": True,
                "signed_on": "2026-12-04",
                "representation": "counsel",
            },
        )
        assert granted.status_code == 201, granted.text
        done = as_("northlight").post(f"/scan-sessions/{scan.json()['id']}/status", json={"status": "completed"})
        assert done.status_code == 200, done.text

    def test_scan_only_call_owes_one_day(self, runtime: Runtime, tokens) -> None:
        union = principal(runtime, "union")
        performer, _, _ = demo_ids(runtime)
        with runtime.db.write() as session:
            old = registry.create_production(
                session,
                union,
                registry_schemas.ProductionIn(
                    producer_id=session.scalar(select(Production.producer_id).where(Production.title == "Stadium")),
                    title="Arena",
                    type="theatrical",
                    agreement="sag-aftra-tv-theatrical-2023",
                    jurisdiction="US-CA",
                ),
            )
            consent.create_grant(
                session,
                union,
                schemas.GrantIn(
                    performer_id=performer,
                    scope="creation",
                    production_id=old.id,
                    uses=[schemas.UseIn(key="arena-crowd", description="crowd in the arena, scenes 3-5")],
                    specific=True,
                    separately_signed=True,
                    signed_by="performer",
                    signed_on=date(2025, 5, 20),
                    representation="union",
                ),
            )
            scan = registry.create_scan_session(
                session,
                union,
                registry_schemas.ScanSessionIn(
                    production_id=old.id,
                    performer_id=performer,
                    notice_sent_at="2025-05-28T09:00:00Z",
                    scheduled_at="2025-06-01T09:00:00Z",
                    scan_only_call=True,
                ),
            )
            owed = consent.scan_obligations(session, scan, rates=RateTable.builtin(include_unverified=True))
            not_scan_only = consent.scan_obligations(session, scan, rates=None)
        payments = [o for o in owed if o.type == "payment"]
        assert len(payments) == 1
        assert payments[0].payee == str(performer)
        assert payments[0].amount is not None and payments[0].amount > 0
        assert "1 day" in (payments[0].basis or "") or "scan" in (payments[0].basis or "")
        # With only verified rates there is no number to pay: nothing is invented.
        assert [o for o in not_scan_only if o.type == "payment"] == []


class TestOdrl:
    def test_export_round_trips_to_the_grant_terms(self, as_, runtime: Runtime) -> None:
        grant = next(g for g in as_("northlight").get("/consents").json()["items"] if g["scope"] == "use")
        r = as_("northlight").get(f"/consents/{grant['id']}/odrl")
        assert r.status_code == 200, r.text
        terms = odrl_to_grant(r.json())
        assert terms.id == grant["id"]
        assert [k for k, _ in terms.uses] == ["stadium-crowd"]
        assert terms.expires_on == date(2027, 3, 31)
        assert terms.document_sha256 == grant["document_sha256"]
        with runtime.db.read() as session:
            row = session.get(ConsentGrant, uuid.UUID(grant["id"]))
            producer = session.scalar(select(Production.producer_id).where(Production.id == row.production_id))
            assert terms == row.to_terms(producer_id=producer)
        assert as_("pixelforge").get(f"/consents/{grant['id']}/odrl").status_code == 404
