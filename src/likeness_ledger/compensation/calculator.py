"""Payments owed for digital replicas: pure functions over :class:`~decimal.Decimal`.

Sources (RULES.md):

- §1.1 [V] (TheWrap, quoting the union summary): a replica used in place of in-person work is
  paid "the performer's pro-rata daily rate or the minimum, whichever is higher, for each day the
  producer determines (in good faith) the performer would have worked".
- §1.1 [V]: a background actor's replica used as a principal is paid "a principal's rate for the
  estimated days".
- §1.1 [V]: a performer called in only for a scan is paid for the day ("paid for a full day").
- §1.3 [V]: Interactive Media real-time generation minimum is 7.5 x scale.

The half-day scan session and the other-production minimum are [U] in RULES.md and not encoded.
No database or framework code is imported here, so a third party can run the calculator alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Iterable

    from likeness_ledger.compensation.rates import Rate

CENT: Final = Decimal("0.01")
ZERO: Final = Decimal("0.00")

#: RULES.md §1.3 [V]: "Real-Time Generation (e.g., replica-voiced chatbot) minimum 7.5x scale".
REAL_TIME_GENERATION_MULTIPLE: Final = Decimal("7.5")

#: RULES.md §1.1 [V]: a scan-only call is one paid day.
SCAN_ONLY_CALL_DAYS: Final = 1


@dataclass(frozen=True, slots=True)
class Payment:
    """An amount owed, with the arithmetic that produced it spelled out in ``basis``."""

    amount: Decimal
    basis: str


def money(amount: Decimal) -> Decimal:
    """Round to cents, half up, as payroll does."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def day_rate(*, own_daily_rate: Decimal | None, scale: Rate | None, category: str) -> tuple[Decimal, str] | None:
    """Return the higher of the performer's own daily rate and day scale, with its description.

    ``None`` when neither is known: the engine then owes nothing it can compute rather than
    guessing a number.
    """
    scale_amount = scale.amount if scale is not None else None
    if own_daily_rate is not None and (scale_amount is None or own_daily_rate > scale_amount):
        return own_daily_rate, f"own daily rate {money(own_daily_rate)}"
    if scale_amount is None:
        return None
    return scale_amount, f"{category.replace('_', '-')} day scale {money(scale_amount)}"


def scale_category(performer_category: str, role: str) -> str:
    """Return the scale category a replica's days are paid at.

    A background actor's replica playing a principal role is paid principal scale (RULES.md §1.1
    [V]); a principal is never paid less than principal scale because the replica plays background.
    """
    return "principal" if "principal" in (performer_category, role) else performer_category


def replica_use_payment(
    *, days: int, own_daily_rate: Decimal | None, scale: Rate | None, category: str
) -> Payment | None:
    """Pay ``days`` (the producer's good-faith estimate) at the higher of own rate and day scale."""
    if days <= 0:
        return None
    rate = day_rate(own_daily_rate=own_daily_rate, scale=scale, category=category)
    if rate is None:
        return None
    amount, described = rate
    unit = "day" if days == 1 else "days"
    return Payment(amount=money(amount * days), basis=f"{days} {unit} x {described}")


def scan_only_call_payment(*, own_daily_rate: Decimal | None, scale: Rate | None, category: str) -> Payment | None:
    """Pay one day for a call made only to scan the performer."""
    rate = day_rate(own_daily_rate=own_daily_rate, scale=scale, category=category)
    if rate is None:
        return None
    amount, described = rate
    return Payment(
        amount=money(amount * SCAN_ONLY_CALL_DAYS),
        basis=f"{SCAN_ONLY_CALL_DAYS} day (scan-only call) x {described}",
    )


def real_time_generation_minimum(scale_amount: Decimal) -> Decimal:
    """Return the Interactive Media real-time generation minimum for a given scale amount."""
    return money(scale_amount * REAL_TIME_GENERATION_MULTIPLE)


def total(amounts: Iterable[Decimal]) -> Decimal:
    """Sum amounts to cents; an empty sum is ``0.00``."""
    return money(sum(amounts, ZERO))
