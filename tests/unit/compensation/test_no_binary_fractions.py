"""Compensation code never uses binary floating point: money is Decimal end to end."""

from __future__ import annotations

import io
import tokenize
from pathlib import Path

import likeness_ledger.compensation

PACKAGE = Path(likeness_ledger.compensation.__file__).parent
FORBIDDEN = "fl" + "oat"  # spelled apart so this file does not trip scans of its own


def test_no_float_in_compensation_sources() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*")):
        if path.suffix not in {".py", ".json"}:
            continue
        text = path.read_text(encoding="utf-8")
        if FORBIDDEN in text.lower():
            offenders.append(str(path.relative_to(PACKAGE)))
    assert offenders == []


def test_no_float_tokens_or_float_literals() -> None:
    for path in sorted(PACKAGE.rglob("*.py")):
        tokens = tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline)
        for token in tokens:
            assert not (token.type == tokenize.NAME and token.string == FORBIDDEN), path
            if token.type == tokenize.NUMBER:
                # Integer literals only: a literal like 1.5 or 1e3 would be binary.
                assert token.string.replace("_", "").isdigit(), f"{path}: {token.string}"
