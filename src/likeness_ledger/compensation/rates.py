"""Effective-dated scale minimums (RULES.md §2: "ship rates as effective-dated data files").

A :class:`RateTable` holds rows keyed by ``(agreement, category, per)``; a lookup returns the row
with the latest ``effective`` date on or before the day asked about. The built-in rows live in
``data/*.json``, each with its source and a confidence tag copied from RULES.md (``V`` verified,
``R`` reported, ``U`` unverified or derived). Only ``V`` and ``R`` rows are used by default; the
derived rows (most dollar figures in RULES.md §2) need ``include_unverified=True``.

A case can bring its own rows (``rates`` in ``likeness-case/1``). They override the built-in rows
key by key: once a case gives any row for a key, the built-in rows for that key are ignored, so a
case's table is never silently mixed with numbers its author did not see.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Final, Literal

from likeness_ledger.errors import InvalidInput

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

Confidence = Literal["V", "R", "U", "case"]
RateKey = tuple[str, str, str]

#: Data files shipped with the package, one per agreement with published figures. The Interactive
#: and Commercials agreements have no dollar figures in RULES.md (§1.3, §1.4 give only percentages),
#: so they have no file: their scale comes from a case's own ``rates``.
BUILTIN_FILES: Final = ("sag_aftra_tv_theatrical_2023.json", "sag_aftra_tv_theatrical_2026.json")

#: Confidence tags used when the caller does not opt in to unverified figures.
TRUSTED: Final[frozenset[str]] = frozenset({"V", "R", "case"})

_ROW_FIELDS: Final = frozenset({"category", "per", "amount", "effective", "confidence", "source"})


@dataclass(frozen=True, slots=True)
class Rate:
    """One scale minimum: ``amount`` USD per ``per`` for ``category``, from ``effective`` on."""

    agreement: str
    category: str
    per: str
    amount: Decimal
    effective: date
    source: str
    confidence: Confidence

    @property
    def key(self) -> RateKey:
        """The ``(agreement, category, per)`` series this row belongs to."""
        return (self.agreement, self.category, self.per)


class RateTable:
    """An immutable, effective-dated set of :class:`Rate` rows with date lookups."""

    __slots__ = ("_series",)

    def __init__(self, rates: Iterable[Rate]) -> None:
        grouped: dict[RateKey, dict[date, Rate]] = {}
        for rate in rates:
            series = grouped.setdefault(rate.key, {})
            if rate.effective in series:
                agreement, category, per = rate.key
                raise InvalidInput(
                    f"rates: two {category} {per} rates for {agreement} effective {rate.effective.isoformat()}"
                )
            series[rate.effective] = rate
        # Parallel sorted lists so a lookup is one bisect, with no per-call allocation.
        self._series: dict[RateKey, tuple[tuple[date, ...], tuple[Rate, ...]]] = {
            key: (tuple(sorted(rows)), tuple(rows[d] for d in sorted(rows))) for key, rows in grouped.items()
        }

    def __iter__(self) -> Iterator[Rate]:
        for _, rows in self._series.values():
            yield from rows

    def __len__(self) -> int:
        return sum(len(rows) for _, rows in self._series.values())

    def __contains__(self, key: object) -> bool:
        return key in self._series

    def keys(self) -> frozenset[RateKey]:
        """Return the ``(agreement, category, per)`` series present in the table."""
        return frozenset(self._series)

    def lookup(self, agreement: str, category: str, on: date, per: str = "day") -> Rate | None:
        """Return the row in force on ``on``: the latest one effective on or before that day."""
        series = self._series.get((agreement, category, per))
        if series is None:
            return None
        dates, rows = series
        index = bisect_right(dates, on) - 1
        return rows[index] if index >= 0 else None

    def overridden_by(self, other: RateTable) -> RateTable:
        """Return a table where each series present in ``other`` replaces this table's series."""
        if not other._series:
            return self
        merged = RateTable(())
        merged._series = {**self._series, **other._series}
        return merged

    @classmethod
    def builtin(cls, *, include_unverified: bool = False) -> RateTable:
        """Return the shipped tables; derived (``U``) rows only when asked for by name."""
        return _builtin(include_unverified=include_unverified)


def parse_amount(value: object, *, where: str) -> Decimal:
    """Parse a money string such as ``"208.00"`` into a :class:`Decimal`.

    Money travels as strings so no binary fraction ever touches it; a JSON number is refused.
    """
    if not isinstance(value, str):
        raise InvalidInput(f"{where}: expected a decimal string like '208.00', got {value!r}")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise InvalidInput(f"{where}: invalid amount {value!r}") from None
    if not amount.is_finite() or amount < 0:
        raise InvalidInput(f"{where}: invalid amount {value!r}")
    return amount


def rates_from_document(document: dict[str, Any], *, where: str) -> list[Rate]:
    """Build rows from one ``data/*.json`` document (one agreement, rows with sources)."""
    agreement = document.get("agreement")
    rows = document.get("rates")
    if not isinstance(agreement, str) or not isinstance(rows, list):
        raise InvalidInput(f"{where}: expected 'agreement' and a list of 'rates'")
    rates = []
    for index, row in enumerate(rows):
        at = f"{where}: rates[{index}]"
        if not isinstance(row, dict) or set(row) != _ROW_FIELDS:
            raise InvalidInput(f"{at}: expected exactly the fields {sorted(_ROW_FIELDS)}")
        if row["confidence"] not in {"V", "R", "U"}:
            raise InvalidInput(f"{at}.confidence: expected V, R or U, got {row['confidence']!r}")
        try:
            effective = date.fromisoformat(row["effective"])
        except (TypeError, ValueError):
            raise InvalidInput(f"{at}.effective: invalid date {row['effective']!r}") from None
        rates.append(
            Rate(
                agreement=agreement,
                category=str(row["category"]),
                per=str(row["per"]),
                amount=parse_amount(row["amount"], where=f"{at}.amount"),
                effective=effective,
                source=str(row["source"]),
                confidence=row["confidence"],
            )
        )
    return rates


@cache
def _builtin(*, include_unverified: bool) -> RateTable:
    package = resources.files("likeness_ledger.compensation") / "data"
    rates: list[Rate] = []
    for name in BUILTIN_FILES:
        document = json.loads((package / name).read_text(encoding="utf-8"))
        rates.extend(rates_from_document(document, where=f"compensation/data/{name}"))
    if not include_unverified:
        rates = [rate for rate in rates if rate.confidence in TRUSTED]
    return RateTable(rates)
