"""Loading and validating likeness-case/1 files: errors name the file and the field."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from likeness_ledger.consent import Case, clear, load_case, load_cases, parse_case
from likeness_ledger.consent.cases import ScanNoticeFact, case_files
from likeness_ledger.errors import Error, InvalidInput

VALID: dict[str, Any] = {
    "format": "likeness-case/1",
    "id": "valid-case",
    "title": "a valid case",
    "as_of": "2024-09-01",
    "jurisdiction": "US-CA",
    "agreement": "sag-aftra-tv-theatrical-2023",
    "performer": {"id": "perf-1", "category": "principal", "died": None, "daily_rate": "1500.00"},
    "replica": {
        "id": "rep-1",
        "kind": "employment_based",
        "media": ["face"],
        "created_for": "prod-A",
        "created_on": "2024-06-01",
    },
    "productions": {"prod-A": {"title": "Stadium", "producer": "studio-1", "type": "theatrical"}},
    "consents": [
        {
            "id": "c-1",
            "scope": "use",
            "replica": "rep-1",
            "production": "prod-A",
            "uses": [{"key": "crowd", "description": "crowd, scenes 40-44"}],
            "specific": True,
            "separately_signed": True,
            "signed_by": "performer",
            "signed_on": "2024-05-20",
            "valid_from": None,
            "expires_on": None,
            "revoked_on": None,
            "representation": "union",
        }
    ],
    "facts": [
        {"type": "engaged", "at": "2024-05-01T09:00:00Z"},
        {"type": "scan_notice", "at": "2024-05-29T09:00:00"},
    ],
    "request": {
        "action": "use",
        "replica": "rep-1",
        "production": "prod-A",
        "use": "crowd",
        "on": "2024-09-01",
        "role": "principal",
        "estimated_days": 2,
        "replaces_in_person_work": True,
        "alteration": None,
    },
    "rates": [],
    "expect": {"decision": "allow", "reasons": ["CONSENT_OK"], "note": "authors may add notes"},
}


def variant(**changes: Any) -> dict[str, Any]:
    """VALID with paths like ``request__on`` or ``consents__0__id`` set; ``...`` deletes."""
    data = copy.deepcopy(VALID)
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        target: Any = data
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        key: Any = int(last) if last.isdigit() else last
        if value is ...:
            del target[key]
        else:
            target[key] = value
    return data


def write(tmp_path: Path, data: object, name: str = "x.json") -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


class TestValidCase:
    def test_loads_and_parses_types(self, tmp_path: Path) -> None:
        case = load_case(write(tmp_path, VALID))
        assert case.performer.daily_rate == Decimal("1500.00")
        assert case.request.on.isoformat() == "2024-09-01"
        assert case.expect is not None
        assert case.expect.decision == "allow"

    def test_timestamp_without_offset_is_utc(self) -> None:
        case = parse_case(VALID)
        notice = case.facts[1]
        assert isinstance(notice, ScanNoticeFact)
        assert notice.at == datetime(2024, 5, 29, 9, tzinfo=UTC)

    def test_optional_blocks_may_be_absent(self) -> None:
        case = parse_case(variant(facts=..., rates=..., expect=..., jurisdiction=..., agreement=...))
        assert case.facts == []
        assert case.agreement is None

    def test_case_is_frozen(self) -> None:
        case = parse_case(VALID)
        with pytest.raises(ValidationError):
            case.id = "other"  # type: ignore[misc]

    def test_model_copy_is_cleared_afresh(self) -> None:
        case = parse_case(VALID)
        assert clear(case).decision == "allow"
        changed = case.model_copy(update={"consents": []})
        assert clear(changed).decision == "deny"
        assert clear(case).decision == "allow"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"request__on": "tomorrow"}, "request.on: invalid date 'tomorrow'"),
        ({"as_of": "2024-13-01"}, "as_of: invalid date '2024-13-01'"),
        ({"consents__0__signed_on": "20 May"}, "consents[0].signed_on: invalid date '20 May'"),
        ({"facts__0__at": "noon"}, "facts[0].at: invalid timestamp 'noon'"),
        ({"rule_ref": "RULES.md §1"}, "rule_ref: unknown field (the format is closed)"),
        ({"request__why": "x"}, "request.why: unknown field (the format is closed)"),
        ({"request": ...}, "request: required field is missing"),
        ({"format": "likeness-case/2"}, "format: 'likeness-case/2' is not one of"),
        ({"id": "Has Caps"}, "id: 'Has Caps' does not match"),
        ({"consents__0__signed_by": "agent"}, "consents[0].signed_by: 'agent' is not one of"),
        ({"performer__daily_rate": 1500.5}, "performer.daily_rate: expected a decimal string"),
        ({"performer__daily_rate": "15,00"}, "performer.daily_rate: invalid amount '15,00'"),
        ({"consents__0__specific": "yes"}, "consents[0].specific: Input should be a valid bool"),
        ({"request__estimated_days": -1}, "request.estimated_days: Input should be greater"),
        ({"facts__0__type": "rumour"}, "facts[0]: unknown fact type 'rumour'"),
        ({"request__alteration": "cosmetic"}, "request.alteration: must be null for action 'use'"),
        ({"request__action": "alter"}, "request.alteration: required for action 'alter'"),
        ({"request__use": None}, "request.use: required for action 'use'"),
        ({"request__production": "prod-Z"}, "request.production: 'prod-Z' is not in productions"),
        ({"request__replica": "rep-9"}, "request.replica: 'rep-9' is not the case's replica 'rep-1'"),
        ({"replica": None}, "replica: required for action 'use'"),
        (
            {"consents__0__expires_on": "2024-01-01", "consents__0__valid_from": "2024-02-01"},
            "consents[0].expires_on: 2024-01-01 is before valid_from",
        ),
        (
            {"performer__born": "2000-01-01", "performer__died": "1999-01-01"},
            "performer.died: 1999-01-01 is before born",
        ),
    ],
)
def test_invalid_case_names_file_and_field(tmp_path: Path, changes: dict[str, Any], expected: str) -> None:
    path = write(tmp_path, variant(**changes))
    with pytest.raises(InvalidInput) as raised:
        load_case(path)
    assert raised.value.message.startswith(f"{path}: {expected}"), raised.value.message


def test_duplicate_consent_ids_are_invalid() -> None:
    data = variant()
    data["consents"].append(copy.deepcopy(data["consents"][0]))
    with pytest.raises(InvalidInput, match=r"consents\[1\]\.id: duplicate consent id 'c-1'"):
        parse_case(data, source="mem")


def test_strike_period_in_order() -> None:
    data = variant(
        facts=[
            {"type": "strike", "agreement": "sag-aftra-tv-theatrical-2026", "from": "2027-03-01", "to": "2027-02-01"}
        ]
    )
    with pytest.raises(InvalidInput, match=r"facts\[0\]\.to: 2027-02-01 is before from"):
        parse_case(data, source="mem")


def test_every_problem_is_listed(tmp_path: Path) -> None:
    path = write(tmp_path, variant(**{"request__on": "soon", "as_of": "later"}))
    with pytest.raises(InvalidInput) as raised:
        load_case(path)
    assert len(raised.value.errors) == 2
    assert all(line.startswith(f"{path}: ") for line in raised.value.errors)


def test_invalid_json_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"broken\.json: invalid JSON"):
        load_case(path)


def test_not_an_object(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"x\.json: \(case\): expected a JSON object"):
        load_case(write(tmp_path, [1, 2]))


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="no such file or folder"):
        load_cases([tmp_path / "nope"])


def test_invalid_input_is_the_project_error_root() -> None:
    assert issubclass(InvalidInput, Error)


class TestLoadCases:
    def test_folder_is_searched_recursively_and_sorted(self, tmp_path: Path) -> None:
        write(tmp_path, variant(id="b"), "b.json")
        write(tmp_path, variant(id="a"), "sub/a.json")
        write(tmp_path, variant(id="c"), "a.json")
        (tmp_path / "notes.txt").write_text("not a case", encoding="utf-8")
        loaded = load_cases([tmp_path])
        assert [p.relative_to(tmp_path).as_posix() for p, _ in loaded] == [
            "a.json",
            "b.json",
            "sub/a.json",
        ]
        assert all(isinstance(case, Case) for _, case in loaded)

    def test_a_single_path_is_accepted(self, tmp_path: Path) -> None:
        path = write(tmp_path, variant(id="solo"), "solo.json")
        assert [case.id for _, case in load_cases(path)] == ["solo"]
        assert [case.id for _, case in load_cases(str(tmp_path))] == ["solo"]

    def test_files_and_folders_keep_argument_order(self, tmp_path: Path) -> None:
        single = write(tmp_path, variant(id="z"), "z.json")
        write(tmp_path, variant(id="a"), "dir/a.json")
        assert case_files([single, tmp_path / "dir"]) == [single, tmp_path / "dir" / "a.json"]

    def test_errors_from_several_files_are_collected(self, tmp_path: Path) -> None:
        write(tmp_path, variant(**{"request__on": "x"}), "one.json")
        write(tmp_path, variant(), "two.json")
        write(tmp_path, variant(as_of="y"), "three.json")
        with pytest.raises(InvalidInput) as raised:
            load_cases([tmp_path])
        assert raised.value.message.startswith(f"{tmp_path / 'one.json'}: request.on")
        assert len(raised.value.errors) == 2
