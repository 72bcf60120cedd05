"""Who may see which money records: a performer only their own, a producer only what it owes.

The union and admins see everything. Every usage read goes through one of these filters, so a
record outside them answers 404 exactly as if it did not exist.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, true

from likeness_ledger.accounts.models import Role
from likeness_ledger.accounts.services import Principal
from likeness_ledger.usage.models import Obligation, Payment, UsageReport


def report_filter(principal: Principal) -> ColumnElement[bool]:
    """Which usage reports (violations included) the principal may read."""
    if principal.sees_all:
        return true()
    if principal.acts_for_performer:
        return UsageReport.performer_id == principal.performer_id
    if principal.role is Role.PRODUCER:
        return UsageReport.producer_id == principal.producer_id
    return false()


def obligation_filter(principal: Principal) -> ColumnElement[bool]:
    """Which obligation lines the principal may read."""
    if principal.sees_all:
        return true()
    if principal.acts_for_performer:
        return Obligation.performer_id == principal.performer_id
    if principal.role is Role.PRODUCER:
        return Obligation.producer_id == principal.producer_id
    return false()


def payment_filter(principal: Principal) -> ColumnElement[bool]:
    """Which payments the principal may read."""
    if principal.sees_all:
        return true()
    if principal.acts_for_performer:
        return Payment.performer_id == principal.performer_id
    if principal.role is Role.PRODUCER:
        return Payment.producer_id == principal.producer_id
    return false()
