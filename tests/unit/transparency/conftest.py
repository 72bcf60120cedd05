"""Shared fixtures for the transparency tests: where the external test vectors live.

The vectors sit next to the repository, at ``<repo>/../shared/vectors`` (see the README there
for provenance). Tests that need them skip, naming the missing path, when a checkout lacks it.
Vector-driven tests ask for one of the fixtures in ``_CASES`` and get one test per case.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


def _repo_root() -> Path:
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").is_file():
            return parent
    return here.parents[3]  # tests/unit/transparency/conftest.py -> repository root


VECTORS_DIR = _repo_root().parent / "shared" / "vectors"


@functools.cache
def _read(relative: str) -> Any:
    return json.loads((VECTORS_DIR / relative).read_text(encoding="utf-8"))


def _wycheproof(data: Any) -> list[dict[str, Any]]:
    return [
        {**case, "pk": group["publicKey"]["pk"]} for group in data["testGroups"] for case in group["tests"]
    ]


# fixture name -> (vector file, case list from its JSON, test id of one case)
_CASES: dict[str, tuple[str, Callable[[Any], list[Any]], Callable[[Any], str]]] = {
    "inclusion_probe": ("rfc6962.json", lambda d: d["probes"]["inclusion"], lambda c: c["file"]),
    "consistency_probe": ("rfc6962.json", lambda d: d["probes"]["consistency"], lambda c: c["file"]),
    "note_case": ("checkpoints/checkpoints.json", lambda d: d["cases"], lambda c: c["id"]),
    "malformed_note": (
        "checkpoints/checkpoints.json",
        lambda d: d["malformed_notes"]["cases"],
        lambda c: c["id"],
    ),
    "parse_only_case": ("checkpoints/checkpoints.json", lambda d: d["parse_only"], lambda c: c["id"]),
    "rfc8032_case": ("ed25519_rfc8032.json", lambda d: d["vectors"], lambda c: c["name"]),
    "rfc8032_negative": (
        "ed25519_rfc8032.json",
        lambda d: d["negative_derived"]["cases"],
        lambda c: c["desc"],
    ),
    "wycheproof_case": ("wycheproof/ed25519_test.json", _wycheproof, lambda c: f"tcId{c['tcId']}"),
}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise vector-driven tests with one case each, or skip them if vectors are absent."""
    for name, (relative, select, ident) in _CASES.items():
        if name not in metafunc.fixturenames:
            continue
        path = VECTORS_DIR / relative
        if not path.is_file():
            reason = f"vector file {path} not found (vectors live at <repo>/../shared/vectors)"
            metafunc.parametrize(name, [pytest.param(None, marks=pytest.mark.skip(reason=reason))])
            continue
        cases = select(_read(relative))
        metafunc.parametrize(name, cases, ids=[ident(case) for case in cases])


@pytest.fixture(scope="session")
def vectors_dir() -> Path:
    """The shared vectors folder; skips the test if it is absent."""
    if not VECTORS_DIR.is_dir():
        pytest.skip(f"shared test vectors not found at {VECTORS_DIR} (<repo>/../shared/vectors)")
    return VECTORS_DIR


@pytest.fixture(scope="session")
def load_vectors(vectors_dir: Path) -> Callable[[str], Any]:
    """Return a loader for one JSON file of the shared vectors, by path relative to the folder."""

    def load(relative: str) -> Any:
        path = vectors_dir / relative
        if not path.is_file():
            pytest.skip(f"vector file {path} not found")
        return _read(relative)

    return load
