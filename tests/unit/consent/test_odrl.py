"""Grants as ODRL 2.2 Agreements: the mapping, the round trip, invalid documents, the CLI."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from likeness_ledger.cli import app as likeness_app
from likeness_ledger.consent.odrl import (
    CREATE_REPLICA,
    LIKENESS_ACTIONS,
    ODRL_CONTEXT,
    Compensation,
    GrantTerms,
    Scope,
    grant_to_odrl,
    odrl_to_grant,
    policy_from_jsonld,
    replica_request,
)
from likeness_ledger.consent.odrl_eval import ODRL, PolicyReport, StateOfTheWorld, evaluate
from likeness_ledger.errors import InvalidInput


def terms(**changes: Any) -> GrantTerms:
    base: dict[str, Any] = {
        "id": "c-1",
        "performer_id": "perf-1",
        "producer_id": "studio-1",
        "replica_id": "rep-1",
        "production_id": "prod-A",
        "scope": "use",
        "uses": (("stadium-crowd", "crowd in the stadium sequence, scenes 40-44"), ("poster", "key art, one pose")),
        "specific": True,
        "reviewer": "acct-7",
        "reviewed_at": datetime(2024, 5, 19, 16, 30, tzinfo=UTC),
        "separately_signed": True,
        "signed_by": "performer",
        "signed_on": date(2024, 5, 20),
        "valid_from": date(2024, 6, 1),
        "expires_on": date(2025, 5, 31),
        "representation": "union",
        "document_sha256": "ab" * 32,
        "compensation": Compensation(Decimal("208.00"), "USD", "sag-aftra-tv-theatrical-2023/background/day"),
        "notify_union": True,
    }
    base.update(changes)
    return GrantTerms(**base)


# --- the mapping -------------------------------------------------------------------------------


class TestExport:
    def test_agreement_shape(self) -> None:
        doc = grant_to_odrl(terms())
        assert doc["@context"][0] == ODRL_CONTEXT
        assert doc["@type"] == "Agreement"
        assert doc["uid"] == "urn:likeness-ledger:grant:c-1"
        assert doc["assigner"] == "urn:likeness-ledger:performer:perf-1"
        assert doc["assignee"] == "urn:likeness-ledger:producer:studio-1"
        assert doc["target"] == "urn:likeness-ledger:asset:rep-1"
        assert [p["action"] for p in doc["permission"]] == ["use", "use"]

    def test_one_permission_per_use_with_its_constraints(self) -> None:
        permission = grant_to_odrl(terms())["permission"][1]
        constraints = {(c["leftOperand"], c["operator"]): c["rightOperand"] for c in permission["constraint"]}
        assert constraints == {
            ("ll:production", "eq"): {"@id": "urn:likeness-ledger:production:prod-A"},
            ("purpose", "eq"): {"@value": "poster"},
            ("dateTime", "gteq"): {"@value": "2024-06-01", "@type": "xsd:date"},
            ("dateTime", "lteq"): {"@value": "2025-05-31", "@type": "xsd:date"},
        }
        assert permission["ll:useDescription"] == "key art, one pose"

    def test_duties_compensate_with_amount_and_inform_union(self) -> None:
        compensate, inform = grant_to_odrl(terms())["permission"][0]["duty"]
        (pay,) = compensate["action"][0]["refinement"]
        assert (pay["leftOperand"], pay["operator"], pay["rightOperand"]["@value"]) == ("payAmount", "eq", "208.00")
        assert pay["unit"] == "urn:likeness-ledger:currency:USD"
        assert compensate["compensatedParty"] == "urn:likeness-ledger:performer:perf-1"
        assert (inform["action"], inform["informedParty"]) == ("inform", "urn:likeness-ledger:union")

    def test_no_union_duty_unless_required_and_no_amount_unless_known(self) -> None:
        (compensate,) = grant_to_odrl(terms(notify_union=False, compensation=None))["permission"][0]["duty"]
        assert compensate["action"] == "compensate"
        assert "refinement" not in json.dumps(compensate)

    def test_first_day_is_never_before_the_signature(self) -> None:
        doc = grant_to_odrl(terms(valid_from=date(2024, 1, 1)))
        start = next(c for c in doc["permission"][0]["constraint"] if c["operator"] == "gteq")
        assert start["rightOperand"]["@value"] == "2024-05-20"

    def test_creation_consent_before_the_scan_targets_the_likeness(self) -> None:
        doc = grant_to_odrl(terms(scope="creation", replica_id=None, uses=(("scan", "full-body scan, day 3"),)))
        assert doc["target"] == "urn:likeness-ledger:likeness:perf-1"
        assert doc["permission"][0]["action"] == "ll:createReplica"

    def test_ids_are_percent_encoded(self) -> None:
        doc = grant_to_odrl(terms(id="grant 1/a:b", uses=(("key with space", "d"),)))
        assert doc["uid"] == "urn:likeness-ledger:grant:grant%201%2Fa%3Ab"
        assert odrl_to_grant(doc).id == "grant 1/a:b"


class TestTerms:
    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"uses": ()}, "uses"),
            ({"uses": (("a", "x"), ("a", "y"))}, r"uses\[1\].key"),
            ({"uses": (("", "x"),)}, r"uses\[0\].key"),
            ({"scope": "use", "replica_id": None}, "replica_id"),
            ({"expires_on": date(2024, 5, 1)}, "expires_on"),
            ({"document_sha256": "XYZ"}, "document_sha256"),
            ({"reviewed_at": datetime(2024, 5, 19, 16, 30)}, "reviewed_at"),
            ({"signed_by": "agent"}, "signed_by"),
            ({"production_id": ""}, "production_id"),
        ],
    )
    def test_invariants_name_the_field(self, change: dict[str, Any], field: str) -> None:
        with pytest.raises(InvalidInput, match=f"^{field}: "):
            terms(**change)

    def test_compensation_invariants(self) -> None:
        with pytest.raises(InvalidInput, match=r"compensation\.per_day"):
            Compensation(Decimal("-1"))
        with pytest.raises(InvalidInput, match=r"compensation\.currency"):
            Compensation(Decimal("1"), "usd")
        with pytest.raises(InvalidInput, match="compensation: give"):
            Compensation(None)

    def test_json_round_trip(self) -> None:
        original = terms()
        assert GrantTerms.from_json(json.loads(json.dumps(original.to_json()))) == original

    @pytest.mark.parametrize(
        ("mutate", "message"),
        [
            (lambda d: d.pop("signed_on"), "^signed_on: required"),
            (lambda d: d.update(uses=[{"key": 3, "description": "x"}]), r"^uses\[0\].key: expected a string"),
            (lambda d: d.update(compensation={"per_day": "abc"}), "^compensation.per_day: 'abc' is not a decimal"),
            (lambda d: d.update(colour="red"), "^colour: unknown field"),
            (lambda d: d.update(scope="forever"), "^scope: 'forever' is not one of"),
        ],
    )
    def test_json_errors_name_the_field(self, mutate: Any, message: str) -> None:
        data = terms().to_json()
        mutate(data)
        with pytest.raises(InvalidInput, match=message):
            GrantTerms.from_json(data)


# --- round trip --------------------------------------------------------------------------------

_ids = st.text(min_size=1, max_size=12)
_days = st.dates(min_value=date(2000, 1, 1), max_value=date(2060, 12, 31))
_zones = st.sampled_from([UTC, timezone(timedelta(hours=-7)), timezone(timedelta(hours=5, minutes=30))])


@st.composite
def grant_terms(draw: st.DrawFn) -> GrantTerms:
    scope: Scope = draw(st.sampled_from(["creation", "use"]))
    replica = draw(_ids) if scope == "use" else draw(st.none() | _ids)
    keys = draw(st.lists(_ids, min_size=1, max_size=4, unique=True))
    signed_on = draw(_days)
    valid_from = draw(st.none() | _days)
    expires_on = draw(st.none() | st.dates(min_value=valid_from or date(2000, 1, 1), max_value=date(2070, 1, 1)))
    compensation = draw(
        st.none()
        | st.builds(
            Compensation,
            per_day=st.decimals(min_value=0, max_value=100000, places=2, allow_nan=False, allow_infinity=False),
            currency=st.sampled_from(["USD", "EUR", "GBP"]),
            scale_reference=st.none() | st.text(min_size=1, max_size=30),
        )
        | st.builds(
            Compensation,
            per_day=st.none(),
            currency=st.sampled_from(["USD", "CAD"]),
            scale_reference=st.text(min_size=1, max_size=30),
        )
    )
    return GrantTerms(
        id=draw(_ids),
        performer_id=draw(_ids),
        producer_id=draw(_ids),
        replica_id=replica,
        production_id=draw(_ids),
        scope=scope,
        uses=tuple((k, draw(st.text(max_size=40))) for k in keys),
        specific=draw(st.booleans()),
        reviewer=draw(st.none() | _ids),
        reviewed_at=draw(st.none() | st.datetimes(timezones=_zones)),
        separately_signed=draw(st.booleans()),
        signed_by=draw(st.sampled_from(["performer", "authorized_representative", "union"])),
        signed_on=signed_on,
        valid_from=valid_from,
        expires_on=expires_on,
        representation=draw(st.sampled_from(["union", "counsel", "none"])),
        document_sha256=draw(st.none() | st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)),
        compensation=compensation,
        notify_union=draw(st.booleans()),
    )


@settings(max_examples=150, deadline=None)
@given(grant_terms())
def test_export_then_import_gives_equal_terms(original: GrantTerms) -> None:
    doc = json.loads(json.dumps(grant_to_odrl(original)))  # through real JSON text
    assert odrl_to_grant(doc) == original
    assert GrantTerms.from_json(json.loads(json.dumps(original.to_json()))) == original


@settings(max_examples=40, deadline=None)
@given(grant_terms())
def test_every_exported_grant_is_a_policy_our_evaluator_reads(original: GrantTerms) -> None:
    policy = policy_from_jsonld(grant_to_odrl(original))
    assert len(policy.rules) == len(original.uses)
    assert policy.type == "Agreement"


# --- invalid ODRL ------------------------------------------------------------------------------


def _day(text: str) -> dict[str, str]:
    return {"@value": text, "@type": "xsd:date"}


def _broken(mutate: Any) -> dict[str, Any]:
    doc = copy.deepcopy(grant_to_odrl(terms()))
    mutate(doc)
    return doc


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda d: d.update({"@context": ["https://example.org/other.jsonld"]}), r"\$\.@context\[0\]"),
        (lambda d: d.update({"@context": {"ll": "urn:x"}}), r"\$\.@context: must include the ODRL context"),
        (lambda d: d.update({"@type": "Offer"}), r"\$\.@type: expected an ODRL Agreement"),
        (lambda d: d.pop("assigner"), r"\$\.assigner: required"),
        (lambda d: d.update(uid="urn:other:1"), r"\$\.uid: expected an IRI starting urn:likeness-ledger:grant:"),
        (lambda d: d.update(target="urn:likeness-ledger:likeness:someone-else"), r"\$\.target: a likeness target"),
        (lambda d: d.update({"ll:scope": "forever"}), r"\$\.ll:scope: 'forever' is not one of"),
        (lambda d: d.update({"ll:signedOn": "2024-05-20"}), r"\$\.ll:signedOn: expected an xsd:date value"),
        (lambda d: d.update(permission=[]), r"\$\.permission: an Agreement for a grant has one permission per use"),
        (
            lambda d: d["permission"][1].update(action="transfer"),
            r"\$\.permission\[1\]\.action: a use grant's permissions have action",
        ),
        (
            lambda d: d["permission"][0]["constraint"][0].update(operator="neq"),
            r"\$\.permission\[0\]\.constraint\[0\]: .*neq has no place in a grant",
        ),
        (
            lambda d: d["permission"][0]["constraint"][1].update(rightOperand={"@id": "urn:x"}),
            r"\$\.permission\[0\]\.constraint\[1\]\.rightOperand: expected the use key as a plain string",
        ),
        (
            lambda d: d["permission"][1]["constraint"].pop(1),
            r"\$\.permission\[1\]\.constraint: missing the purpose eq constraint",
        ),
        (
            lambda d: d["permission"][1]["constraint"][3].update(rightOperand=_day("2030-01-01")),
            r"\$\.permission\[1\]: expires_on differs from permission\[0\]",
        ),
        (
            lambda d: [p["constraint"][2].update(rightOperand=_day("2020-01-01")) for p in d["permission"]],
            r"\$\.permission\[0\]: dateTime gteq 2020-01-01 does not match the grant's first day 2024-06-01",
        ),
        (lambda d: d["permission"][0]["duty"].pop(0), r"\$\.permission\[0\]\.duty: missing the compensate duty"),
        (
            lambda d: d["permission"][0]["duty"][1].update(informedParty="urn:someone"),
            r"\$\.permission\[0\]\.duty\[1\]\.informedParty: expected urn:likeness-ledger:union",
        ),
        (
            lambda d: d["permission"][0]["duty"][0]["action"][0]["refinement"][0].update(
                rightOperand={"@value": "lots", "@type": "xsd:decimal"}
            ),
            r"\$\.permission\[0\]\.duty\[0\]\.action: payAmount is not a decimal amount",
        ),
        (lambda d: d["permission"][0].update(target="urn:x"), r"\$\.permission\[0\]\.target: a grant's parties"),
        (lambda d: d.update({"ll:documentSha256": "nothex"}), r"\$: document_sha256: expected 64 lowercase hex"),
    ],
)
def test_invalid_odrl_names_the_json_path(mutate: Any, path: str) -> None:
    with pytest.raises(InvalidInput, match=f"^{path}"):
        odrl_to_grant(_broken(mutate))


def test_not_an_object_is_refused() -> None:
    with pytest.raises(InvalidInput, match=r"^\$: expected an object, got list"):
        odrl_to_grant([])


# --- the exported grant, evaluated -------------------------------------------------------------


def _decide(grant: GrantTerms, on: str, **request: Any) -> PolicyReport:
    ask: dict[str, Any] = {
        "producer_id": grant.producer_id,
        "replica_id": grant.replica_id,
        "performer_id": grant.performer_id,
        "production_id": grant.production_id,
        "use": grant.uses[0][0],
    }
    ask.update(request)
    return evaluate(
        policy_from_jsonld(grant_to_odrl(grant)),
        replica_request(**ask),
        StateOfTheWorld(current_time=datetime.fromisoformat(on)),
        actions=LIKENESS_ACTIONS,
    )


class TestEvaluatingAGrant:
    """The Agreement means what the grant means, read by our ODRL evaluator."""

    @pytest.mark.parametrize(
        ("on", "decision"),
        [
            ("2024-05-31T23:59:59Z", "deny"),  # before valid_from
            ("2024-06-01T00:00:00Z", "permit"),
            ("2025-05-31T23:59:59Z", "permit"),  # the expiry day is the last valid day, as in the engine
            ("2025-06-01T00:00:00Z", "deny"),
        ],
    )
    def test_dates(self, on: str, decision: str) -> None:
        assert _decide(terms(), on).decision == decision

    @pytest.mark.parametrize(
        ("request_change", "failing"),
        [
            ({"production_id": "prod-B"}, ("ConstraintReport", ":production")),
            ({"use": "trailer"}, ("ConstraintReport", ":purpose")),
            ({"producer_id": "studio-2"}, ("PartyReport", "")),
            ({"replica_id": "rep-2"}, ("TargetReport", "")),
            ({"action": f"{ODRL}transfer"}, ("ActionReport", "")),
        ],
    )
    def test_anything_else_is_denied_and_says_why(
        self, request_change: dict[str, Any], failing: tuple[str, str]
    ) -> None:
        report = _decide(terms(), "2024-09-01T12:00:00Z", **{"use": "poster", **request_change})
        assert report.decision == "deny"
        for rule in report.rules:
            reasons = {
                (p.kind, p.constraint.rsplit(":", 1)[-1] if p.constraint else "")
                for p in rule.premises
                if not p.satisfied
            }
            if rule.rule.endswith(":use:poster") or request_change.get("use"):
                assert reasons == {(failing[0], failing[1].lstrip(":"))}

    def test_a_use_consent_covers_a_narrower_odrl_action(self) -> None:
        assert _decide(terms(), "2024-09-01T12:00:00Z", action=f"{ODRL}display").decision == "permit"

    def test_creation_consent(self) -> None:
        grant = terms(scope="creation", replica_id=None, uses=(("scan", "full-body scan"),), expires_on=None)
        assert _decide(grant, "2030-01-01T00:00:00Z", action=CREATE_REPLICA).decision == "permit"
        # A creation consent is no consent to use the replica it makes.
        assert _decide(grant, "2030-01-01T00:00:00Z", action=f"{ODRL}use").decision == "deny"

    def test_the_duties_are_reported_as_not_yet_fulfilled(self) -> None:
        report = _decide(terms(), "2024-09-01T12:00:00Z")
        conditions = report.rules[0].conditions
        assert [c.rule.rsplit(":", 1)[-1] for c in conditions] == ["compensate", "inform-union"]
        assert {c.deontic_state for c in conditions} == {"NonSet"}


# --- the CLI -----------------------------------------------------------------------------------


class TestCli:
    def test_export_then_import(self, tmp_path: Path) -> None:
        grant_file = tmp_path / "grant.json"
        grant_file.write_text(json.dumps(terms().to_json()))
        exported = CliRunner().invoke(likeness_app, ["odrl", "export", str(grant_file)])
        assert exported.exit_code == 0, exported.output
        assert json.loads(exported.stdout)["@type"] == "Agreement"
        odrl_file = tmp_path / "agreement.jsonld"
        odrl_file.write_text(exported.stdout)
        imported = CliRunner().invoke(likeness_app, ["odrl", "import", str(odrl_file)])
        assert imported.exit_code == 0, imported.output
        assert GrantTerms.from_json(json.loads(imported.stdout)) == terms()

    def test_bad_grant_file_exits_2_naming_file_and_field(self, tmp_path: Path) -> None:
        grant_file = tmp_path / "grant.json"
        data = terms().to_json()
        data["uses"] = []
        grant_file.write_text(json.dumps(data))
        result = CliRunner().invoke(likeness_app, ["odrl", "export", str(grant_file)])
        assert result.exit_code == 2
        assert f"{grant_file}: uses: at least one described use" in result.stderr

    def test_bad_agreement_exits_2_naming_the_path(self, tmp_path: Path) -> None:
        odrl_file = tmp_path / "agreement.jsonld"
        odrl_file.write_text(json.dumps(_broken(lambda d: d.pop("assignee"))))
        result = CliRunner().invoke(likeness_app, ["odrl", "import", str(odrl_file)])
        assert result.exit_code == 2
        assert f"{odrl_file}: $.assignee: required" in result.stderr

    def test_unreadable_file(self, tmp_path: Path) -> None:
        result = CliRunner().invoke(likeness_app, ["odrl", "import", str(tmp_path / "nope.json")])
        assert result.exit_code == 2
        assert "nope.json: cannot read" in result.stderr
