"""The project's own clearance cases (tests/cases) clear as expected and stay in sync."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from likeness_ledger.consent import Case, Code, Decision, load_case

CASES = Path(__file__).resolve().parents[2] / "cases"
FILES = sorted(CASES.glob("*.json"))


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_cases", CASES / "make_cases.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_own_case(path: Path, check_case: Callable[[Path, Case], Decision]) -> None:
    check_case(path, load_case(path))


def test_at_least_forty_cases_each_citing_rules() -> None:
    assert len(FILES) >= 40
    for path in FILES:
        title = json.loads(path.read_text(encoding="utf-8"))["title"]
        assert "[RULES.md" in title or "[FORMAT" in title, path.name


def test_files_match_their_generator() -> None:
    built = _generator().build()
    on_disk = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in FILES}
    assert on_disk == built, "run: python tests/cases/make_cases.py"


def test_every_reason_code_is_exercised() -> None:
    codes = set()
    for path in FILES:
        case = load_case(path)
        assert case.expect is not None
        codes.update(case.expect.reasons)
    assert codes == {code.value for code in Code}
