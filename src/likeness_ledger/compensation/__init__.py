"""Compensation: effective-dated rate tables and a pure calculator. Money is always Decimal."""

from likeness_ledger.compensation.calculator import (
    Payment,
    money,
    real_time_generation_minimum,
    replica_use_payment,
    scale_category,
    scan_only_call_payment,
    total,
)
from likeness_ledger.compensation.rates import Rate, RateTable, parse_amount

__all__ = [
    "Payment",
    "Rate",
    "RateTable",
    "money",
    "parse_amount",
    "real_time_generation_minimum",
    "replica_use_payment",
    "scale_category",
    "scan_only_call_payment",
    "total",
]
