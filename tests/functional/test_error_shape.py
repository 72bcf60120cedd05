"""The one JSON error envelope, pinned: every failure a client can cause has the same shape."""

from __future__ import annotations

import uuid

import pytest

ENVELOPE_KEYS = {"ok", "error", "errors", "status"}


def assert_envelope(response, status: int) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == ENVELOPE_KEYS
    assert body["ok"] is False
    assert body["status"] == status
    assert isinstance(body["error"], str) and body["error"]
    assert body["errors"] and all(isinstance(e, str) for e in body["errors"])
    return body


class TestErrorShape:
    def test_missing_token_is_401(self, client, tokens) -> None:
        body = assert_envelope(client.get("/performers"), 401)
        assert "bearer token" in body["error"]

    def test_bad_token_is_401(self, client, tokens) -> None:
        r = client.get("/performers", headers={"Authorization": "Bearer llt_nope"})
        assert_envelope(r, 401)

    def test_unknown_id_is_404(self, as_) -> None:
        body = assert_envelope(as_("union").get(f"/performers/{uuid.uuid4()}"), 404)
        assert "not found" in body["error"]

    def test_malformed_id_is_422_naming_the_parameter(self, as_) -> None:
        body = assert_envelope(as_("union").get("/performers/not-a-uuid"), 422)
        assert body["error"].startswith("performer_id:")

    def test_malformed_json_is_422(self, as_) -> None:
        r = as_("union").post("/performers", content=b'{"legal_name": ', headers={"Content-Type": "application/json"})
        body = assert_envelope(r, 422)
        assert "malformed JSON" in body["error"]

    @pytest.mark.parametrize(
        ("payload", "field"),
        [
            ({"legal_name": "A", "category": "extra"}, "category"),
            ({"legal_name": "", "category": "principal"}, "legal_name"),
            ({"legal_name": "A", "category": "principal", "born_on": "yesterday"}, "born_on"),
            ({"legal_name": "A", "category": "principal", "shoe_size": 9}, "shoe_size"),
            ({"legal_name": 5, "category": "principal"}, "legal_name"),
            ({"legal_name": "A", "category": "principal", "born_on": "2000-01-01", "died_on": "1999-01-01"}, "died_on"),
        ],
    )
    def test_invalid_field_is_422_naming_it(self, as_, payload, field) -> None:
        body = assert_envelope(as_("union").post("/performers", json=payload), 422)
        assert any(field in e for e in body["errors"]), body

    def test_oversized_json_is_413(self, as_, runtime) -> None:
        big = {"legal_name": "A" * (runtime.settings.max_json_bytes + 10), "category": "principal"}
        assert_envelope(as_("union").post("/performers", json=big), 413)

    def test_unknown_route_is_404_envelope(self, as_) -> None:
        assert_envelope(as_("union").get("/no-such-thing"), 404)

    def test_wrong_method_is_405_envelope(self, as_) -> None:
        assert_envelope(as_("union").patch("/producers"), 405)

    def test_role_not_allowed_is_403(self, as_) -> None:
        body = assert_envelope(as_("maya").post("/producers", json={"name": "Mine"}), 403)
        assert "performer" in body["error"]

    def test_duplicate_is_409(self, as_) -> None:
        assert_envelope(as_("union").post("/producers", json={"name": "Northlight Pictures"}), 409)

    def test_health_needs_no_token(self, client) -> None:
        assert client.get("/health").json()["ok"] is True
