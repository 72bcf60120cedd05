"""A world for the ledger's unit tests: the demo registry and a stand-in for the consent service.

The stand-in answers from a dict the test fills in, so each test decides what clears; the real
``consent.services.evaluate`` is exercised by the functional tests.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from likeness_ledger.accounts.services import Principal, account_by_name, principal_for
from likeness_ledger.compensation.rates import RateTable
from likeness_ledger.consent.clearance import Decision, Obligation
from likeness_ledger.consent.query import ClearanceQuery
from likeness_ledger.consent.rules.policy import Code, Reason
from likeness_ledger.registry.models import Performer, Production, ReplicaAsset
from likeness_ledger.runtime import Runtime
from likeness_ledger.usage.models import Obligation as Line
from likeness_ledger.usage.models import Payment, PaymentAllocation, UsageOutput, UsageReport

TODAY = date(2026, 10, 1)
RATES = RateTable.builtin(include_unverified=True)


@dataclass
class FakeConsent:
    """Allows the uses in ``allowed`` (by use key), paying ``day_rate`` per estimated day."""

    allowed: set[str] = field(default_factory=set)
    day_rate: Decimal = Decimal("231.00")
    calls: list[ClearanceQuery] = field(default_factory=list)

    def __call__(self, session: Session, query: ClearanceQuery, *, rates: RateTable | None = None) -> Decision:
        self.calls.append(query)
        if query.use not in self.allowed:
            reason = Reason(Code.NO_CONSENT, f"no consent covers use {query.use}", "test: consent required")
            return Decision("q", "deny", (reason,), (), "0.00")
        days = query.estimated_days or 0
        amount = (self.day_rate * days).quantize(Decimal("0.01"))
        payment = Obligation(
            "payment", str(query.performer_id), amount, "USD", f"{days} days x background day scale {self.day_rate}"
        )
        ok = Reason(Code.CONSENT_OK, "consent c-1 covers it", "test: consent covers use")
        return Decision("q", "allow", (ok,), (payment,) if days else (), f"{amount:.2f}")


@dataclass
class World:
    rt: Runtime
    union: Principal
    studio: Principal
    games: Principal
    maya: Principal
    jon: Principal
    maya_id: uuid.UUID
    jon_id: uuid.UUID
    film_id: uuid.UUID
    game_id: uuid.UUID
    maya_asset: uuid.UUID


@pytest.fixture
def world(runtime: Runtime, tokens: dict[str, str]) -> World:
    # These tests start from the demo's registry and consents with an empty ledger: the demo's own
    # usage lines are removed (with Core statements, so no session hook sees them).
    with runtime.db.engine.begin() as conn:
        for table in (PaymentAllocation, Payment, Line, UsageOutput, UsageReport):
            conn.execute(delete(table))
    with runtime.db.read() as s:
        p = {n: principal_for(s, account_by_name(s, n)) for n in ("union", "northlight", "pixelforge", "maya", "jon")}
        film = s.scalar(select(Production).where(Production.title == "Stadium"))
        game = s.scalar(select(Production).where(Production.title == "Skyline Heist"))
        jon = s.scalar(select(Performer).where(Performer.union_member_id == "SAG-100202"))
        assert film and game and jon and p["maya"].performer_id
        asset = s.scalar(select(ReplicaAsset.id).where(ReplicaAsset.performer_id == p["maya"].performer_id))
        assert asset is not None
    return World(
        runtime,
        p["union"],
        p["northlight"],
        p["pixelforge"],
        p["maya"],
        p["jon"],
        p["maya"].performer_id,
        jon.id,
        film.id,
        game.id,
        asset,
    )
