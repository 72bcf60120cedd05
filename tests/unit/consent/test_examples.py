"""Every worked example in shared/cases/examples clears as its author expects."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from likeness_ledger.consent import Case, Decision, load_case

REPO = Path(__file__).resolve().parents[3]
EXAMPLES = REPO.parent / "shared" / "cases" / "examples"

if not EXAMPLES.is_dir():
    pytest.skip(f"no shared examples at {EXAMPLES}", allow_module_level=True)

FILES = sorted(EXAMPLES.glob("*.json"))


def test_examples_present() -> None:
    assert FILES, f"{EXAMPLES} holds no *.json"


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_example(path: Path, check_case: Callable[[Path, Case], Decision]) -> None:
    check_case(path, load_case(path))
