"""Money never passes through binary floating point in the compensation and usage code.

The sources are parsed and every node is checked: a ``float`` name (a call, a conversion, an
annotation), a float or complex literal, ``math`` (whose functions return floats), or a
``parse_float`` hook would each let a binary fraction touch an amount.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[3] / "src" / "likeness_ledger"
SCANNED = sorted(
    [
        *(SRC / "compensation").rglob("*.py"),
        *(SRC / "usage").rglob("*.py"),
        SRC / "web" / "api" / "usage.py",
        SRC / "cli" / "usage.py",
    ]
)


def offences(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Name) and node.id == "float":
            found.append(f"line {line}: the name float")
        elif isinstance(node, ast.Constant) and isinstance(node.value, float | complex):
            found.append(f"line {line}: literal {node.value!r}")
        elif isinstance(node, ast.Attribute) and node.attr in {"__float__", "fromhex", "as_integer_ratio"}:
            found.append(f"line {line}: .{node.attr}")
        elif isinstance(node, ast.Import | ast.ImportFrom):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            if any(m.split(".")[0] in {"math", "statistics", "fractions"} for m in modules):
                found.append(f"line {line}: imports {modules}")
        elif isinstance(node, ast.keyword) and node.arg == "parse_float":
            found.append(f"line {line}: parse_float hook")
    return found


@pytest.mark.parametrize("path", SCANNED, ids=lambda p: str(p.relative_to(SRC)))
def test_no_float_in_money_code(path: Path) -> None:
    assert offences(ast.parse(path.read_text(encoding="utf-8"))) == []


def test_the_scan_sees_every_kind_of_float() -> None:
    sample = "import math\nx = float('1')\ny = 0.1\nz: float\nw = d.as_integer_ratio()\nj = loads(s, parse_float=D)\n"
    assert len(offences(ast.parse(sample))) == 6


def test_the_scan_covers_the_usage_package() -> None:
    names = {p.name for p in SCANNED}
    assert {"calculator.py", "obligations.py", "payments.py", "statements.py", "documents.py"} <= names
