"""Usage reports, obligations, payments and statements through the API, on the demo world.

The real consent service clears each report: Maya consented to "stadium-crowd" in Stadium only.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pypdf
import pytest

SHA = "e" * 64


@pytest.fixture
def ids(as_):  # type: ignore[no-untyped-def]
    union = as_("union")
    maya = union.get("/performers", params={"limit": 500}).json()["items"]
    maya_id = next(p["id"] for p in maya if p["legal_name"] == "Maya Okafor")
    film = next(p for p in union.get("/productions").json()["items"] if p["title"] == "Stadium")
    asset = as_("maya").get("/assets").json()["items"][0]
    return {"maya": maya_id, "film": film["id"], "asset": asset["id"]}


def report(ids, **over):  # type: ignore[no-untyped-def]
    body = {
        "production_id": ids["film"],
        "performer_id": ids["maya"],
        "asset_id": ids["asset"],
        "use": "stadium-sequel-tease",
        "role": "background",
        "medium": "streaming",
        "used_from": "2026-11-20",
        "used_until": "2026-11-21",
        "estimated_days": 2,
        "estimated_by": "Dana Kim, line producer",
        "outputs": [SHA],
    }
    body.update(over)
    return body


def money(value: str) -> Decimal:
    return Decimal(value)


class TestUsageApi:
    def test_uncleared_use_is_a_violation_the_performer_and_union_see(self, as_, ids) -> None:
        studio = as_("northlight")
        created = studio.post("/usage-reports", json=report(ids))
        assert created.status_code == 201, created.text
        body = created.json()
        assert body["status"] == "violation" and body["obligation_id"] is None
        assert body["reasons"] and body["reasons"][0]["code"] in {"CONSENT_USE_NOT_DESCRIBED", "NO_CONSENT"}
        for who in ("maya", "union"):
            seen = as_(who).get("/usage-reports", params={"status": "violation"}).json()["items"]
            assert body["id"] in {r["id"] for r in seen}, who
            assert as_(who).get(f"/usage-reports/{body['id']}").status_code == 200
            # The statement tells the performer too.
            statement = as_(who).get(f"/statements/performers/{ids['maya']}", params={"period": "2026-Q4"}).json()
            assert body["id"] in {v["report_id"] for v in statement["violations"]}
        for who in ("jon", "pixelforge"):
            assert body["id"] not in {r["id"] for r in as_(who).get("/usage-reports").json()["items"]}
            assert as_(who).get(f"/usage-reports/{body['id']}").status_code == 404

    def test_cleared_use_owes_and_resubmitting_is_idempotent(self, as_, ids) -> None:
        studio = as_("northlight")
        body = report(ids, use="stadium-crowd", used_from="2026-12-01", used_until="2026-12-01", estimated_days=1)
        first = studio.post("/usage-reports", json=body)
        again = studio.post("/usage-reports", json=body)
        assert (first.status_code, again.status_code) == (201, 200)
        assert first.json()["id"] == again.json()["id"] and first.json()["status"] == "cleared"
        line = studio.get(f"/obligations/{first.json()['obligation_id']}").json()
        assert line["kind"] == "usage" and line["residuals_due"] is True
        assert line["rate_agreement"] == "sag-aftra-tv-theatrical-2026" and line["basis"]
        listed = studio.get("/usage-reports", params={"production_id": ids["film"]}).json()["items"]
        assert [r["id"] for r in listed].count(first.json()["id"]) == 1

    def test_money_rules_by_role(self, as_, ids) -> None:
        owed = as_("union").get("/obligations", params={"performer_id": ids["maya"], "kind": "usage"}).json()["items"]
        root = owed[0]["id"]
        pay = {"obligation_id": root, "amount": "10.00", "paid_on": "2026-11-30"}
        assert as_("maya").post("/payments", json=pay).status_code == 403
        assert as_("pixelforge").post("/payments", json=pay).status_code == 404
        assert as_("northlight").post("/payments", json={**pay, "amount": 10.5}).status_code == 422
        made = as_("northlight").post("/payments", json=pay)
        assert made.status_code == 201, made.text
        assert as_("maya").get("/obligations", params={"performer_id": ids["maya"]}).json()["total"] >= 1
        assert as_("jon").get("/obligations").json()["total"] == 0
        assert as_("pixelforge").get("/payments").json()["total"] == 0
        assert as_("jon").get(f"/statements/performers/{ids['maya']}", params={"period": "2026"}).status_code == 404
        assert (
            as_("pixelforge").get(f"/statements/performers/{ids['maya']}", params={"period": "2026"}).status_code == 404
        )
        mine = as_("maya").get("/balances").json()["items"]
        assert [b["id"] for b in mine] == [ids["maya"]]
        adj = {"obligation_id": root, "amount": "5.00", "reason": "audit"}
        assert as_("northlight").post("/obligations/adjustments", json=adj).status_code == 403
        assert as_("union").post("/obligations/adjustments", json=adj).status_code == 201
        bad = as_("maya").get(f"/statements/performers/{ids['maya']}", params={"period": "2026-Q7"})
        assert bad.status_code == 422 and "period" in bad.text

    def test_statement_pdf_and_csv_agree_with_obligations_and_payments(self, as_, ids) -> None:
        maya = as_("maya")
        params = {"period": "2026"}
        url = f"/statements/performers/{ids['maya']}"
        # What the ledger says, from the list routes.
        lines = maya.get("/obligations", params={"performer_id": ids["maya"], "limit": 500}).json()["items"]
        paid = maya.get("/payments", params={"performer_id": ids["maya"], "limit": 500}).json()["items"]
        owed_2026 = sum((money(o["amount"]) for o in lines if o["incurred_on"].startswith("2026")), Decimal(0))
        paid_2026 = sum((money(p["amount"]) for p in paid if p["paid_on"].startswith("2026")), Decimal(0))
        assert owed_2026 > 0 and paid_2026 > 0  # the demo has both
        balance = next(b for b in maya.get("/balances").json()["items"] if b["id"] == ids["maya"])
        # The CSV: every line, and totals that add up.
        response = maya.get(url, params={**params, "format": "csv"})
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(response.text)))
        totals = {r["description"]: money(r["amount"]) for r in rows if r["section"] == "total"}
        opening = next(money(r["amount"]) for r in rows if r["section"] == "opening")
        items = [r for r in rows if r["section"] == "line"]
        earned = sum((money(r["amount"]) for r in items if r["kind"] != "payment"), Decimal(0))
        paid_out = -sum((money(r["amount"]) for r in items if r["kind"] == "payment"), Decimal(0))
        assert opening == 0
        assert (earned, paid_out) == (totals["earned"], totals["paid"]) == (owed_2026, paid_2026)
        assert totals["closing balance"] == opening + earned - paid_out == money(balance["balance"])
        assert any(r["section"] == "violation" for r in rows)
        # The PDF states the same four totals.
        pdf = maya.get(url, params={**params, "format": "pdf"})
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        text = "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf.content)).pages)
        for label, amount in (
            ("Opening balance", opening),
            ("Earned in period", totals["earned"]),
            ("Paid in period", totals["paid"]),
            ("Closing balance", totals["closing balance"]),
        ):
            assert f"{label}\n{amount:.2f}" in text, label
        assert "Earnings per month" in text
        # And the JSON form matches too.
        as_json = maya.get(url, params=params).json()
        assert (money(as_json["earned"]), money(as_json["paid"]), money(as_json["closing"])) == (
            totals["earned"],
            totals["paid"],
            totals["closing balance"],
        )

    def test_production_statement_and_balances(self, as_, ids) -> None:
        studio = as_("northlight")
        statement = studio.get(f"/statements/productions/{ids['film']}", params={"period": "2026"}).json()
        by_production = {b["id"]: b for b in studio.get("/balances", params={"group": "production"}).json()["items"]}
        row = by_production[ids["film"]]
        assert money(statement["closing"]) == money(row["balance"])
        assert money(statement["earned"]) == money(row["obligations"])
        assert (
            as_("pixelforge").get(f"/statements/productions/{ids['film']}", params={"period": "2026"}).status_code
            == 404
        )
