"""Per-role visibility: no party reads what it must not; other parties' ids answer 404."""

from __future__ import annotations


def ids(response) -> set[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


def one(api, url: str, key: str, value: str) -> dict:  # type: ignore[no-untyped-def]
    items = [i for i in api.get(url).json()["items"] if i[key] == value]
    assert len(items) == 1, items
    return items[0]


class TestPerformerVisibility:
    def test_performer_sees_only_themself(self, as_) -> None:
        performers = as_("maya").get("/performers").json()["items"]
        assert [p["legal_name"] for p in performers] == ["Maya Okafor"]

    def test_other_performers_id_is_404(self, as_) -> None:
        jon = one(as_("union"), "/performers", "legal_name", "Jonathan Reyes")
        assert as_("maya").get(f"/performers/{jon['id']}").status_code == 404

    def test_performer_sees_own_scan_and_asset_not_others(self, as_) -> None:
        assert len(ids(as_("maya").get("/scan-sessions"))) == 1
        assert len(ids(as_("maya").get("/assets"))) == 1
        assert ids(as_("jon").get("/scan-sessions")) == set()
        assert ids(as_("jon").get("/assets")) == set()
        asset = as_("maya").get("/assets").json()["items"][0]
        assert as_("jon").get(f"/assets/{asset['id']}").status_code == 404

    def test_estate_acts_for_the_deceased_only(self, as_) -> None:
        performers = as_("alder-estate").get("/performers").json()["items"]
        assert [p["legal_name"] for p in performers] == ["Ruth Alder"]
        assert performers[0]["died_on"] == "2019-08-14"
        reps = as_("alder-estate").get("/representatives").json()["items"]
        assert [r["name"] for r in reps] == ["Estate of Ruth Alder"]
        assert as_("maya").get("/representatives").json()["items"] == []


class TestProducerVisibility:
    def test_producer_sees_only_its_productions(self, as_) -> None:
        titles = {p["title"] for p in as_("northlight").get("/productions").json()["items"]}
        assert titles == {"Stadium"}
        game = one(as_("union"), "/productions", "title", "Skyline Heist")
        assert as_("northlight").get(f"/productions/{game['id']}").status_code == 404
        assert as_("pixelforge").get(f"/productions/{game['id']}").status_code == 200

    def test_producer_sees_scans_for_its_productions_only(self, as_) -> None:
        assert len(ids(as_("northlight").get("/scan-sessions"))) == 1
        assert ids(as_("pixelforge").get("/scan-sessions")) == set()
        assert len(ids(as_("northlight").get("/assets"))) == 1
        assert ids(as_("pixelforge").get("/assets")) == set()

    def test_producer_sees_only_performers_it_engaged(self, as_) -> None:
        names = {p["legal_name"] for p in as_("northlight").get("/performers").json()["items"]}
        assert names == {"Maya Okafor"}
        assert as_("pixelforge").get("/performers").json()["items"] == []

    def test_producer_cannot_create_production_for_another_producer(self, as_) -> None:
        other = one(as_("union"), "/producers", "name", "Pixelforge Games")
        r = as_("northlight").post(
            "/productions", json={"title": "X", "type": "commercial", "producer_id": other["id"]}
        )
        assert r.status_code == 404
        assert {p["title"] for p in as_("pixelforge").get("/productions").json()["items"]} == {"Skyline Heist"}

    def test_producer_cannot_schedule_scan_on_anothers_production(self, as_) -> None:
        game = one(as_("union"), "/productions", "title", "Skyline Heist")
        maya = one(as_("union"), "/performers", "legal_name", "Maya Okafor")
        r = as_("northlight").post(
            "/scan-sessions",
            json={"production_id": game["id"], "performer_id": maya["id"], "scheduled_at": "2026-12-10T09:00:00Z"},
        )
        assert r.status_code == 404

    def test_producer_sees_no_representatives(self, as_) -> None:
        assert as_("northlight").get("/representatives").json()["items"] == []


class TestUnionAndAdmin:
    def test_union_reads_everything(self, as_) -> None:
        assert as_("union").get("/performers").json()["total"] == 5
        assert as_("union").get("/productions").json()["total"] == 2
        assert as_("union").get("/producers").json()["total"] == 2

    def test_only_admin_manages_accounts(self, as_) -> None:
        assert as_("admin").get("/accounts").json()["total"] >= 9
        assert as_("union").get("/accounts").status_code == 403
        assert as_("maya").post("/accounts", json={"name": "x", "role": "admin"}).status_code == 403

    def test_admin_creates_account_and_token_works_until_revoked(self, as_, client) -> None:
        producer = one(as_("admin"), "/producers", "name", "Pixelforge Games")
        acct = as_("admin").post("/accounts", json={"name": "pf-2", "role": "producer", "producer_id": producer["id"]})
        assert acct.status_code == 201, acct.text
        tok = as_("admin").post(f"/accounts/{acct.json()['id']}/tokens", json={"label": "ci"}).json()
        headers = {"Authorization": f"Bearer {tok['token']}"}
        assert client.get("/productions", headers=headers).json()["total"] == 1
        assert as_("admin").post(f"/tokens/{tok['id']}/revoke").status_code == 200
        assert client.get("/productions", headers=headers).status_code == 401

    def test_account_link_must_match_role(self, as_) -> None:
        r = as_("admin").post("/accounts", json={"name": "p", "role": "producer"})
        assert r.status_code == 422
        assert "producer_id" in r.json()["error"]

    def test_me(self, as_) -> None:
        assert as_("maya").get("/me").json()["role"] == "performer"


class TestPerformerUpdate:
    def test_the_union_sets_a_legal_name_which_cannot_be_removed(self, as_) -> None:
        maya = one(as_("union"), "/performers", "legal_name", "Maya Okafor")
        r = as_("union").patch(f"/performers/{maya['id']}", json={"legal_name": "Maya A. Okafor"})
        assert r.status_code == 200, r.text
        assert r.json()["legal_name"] == "Maya A. Okafor"
        assert r.json()["professional_name"] == maya["professional_name"]  # fields not sent stay
        removed = as_("union").patch(f"/performers/{maya['id']}", json={"legal_name": None})
        assert removed.status_code == 422
        assert "legal_name" in removed.text and "always has a legal name" in removed.text
        assert as_("maya").patch(f"/performers/{maya['id']}", json={"legal_name": "Me"}).status_code == 403
        assert as_("maya").get(f"/performers/{maya['id']}").json()["legal_name"] == "Maya A. Okafor"
