"""The clearance engine: ``clear(case) -> Decision``.

A case is compiled once into the records the rules read (:mod:`.rules.context`) and cached on the
frozen case; each call then runs the policy for the agreement in force and the action asked for,
and, for an allowed request, works out what is owed:

- payment (RULES.md §1.1 [V], FORMAT.md "Payments"): for a use, the producer's estimated days x
  the higher of the performer's own daily rate and day scale, at principal scale when a
  background performer's replica plays a principal role; for a creation on a scan-only call, one
  paid day. Payments follow the agreement in force on ``request.on``; under the laws alone
  nothing is owed that the engine could compute;
- ``disclose_ai``: a replica use in the EU from Aug 2, 2026 (RULES.md §3.8 [V], Art. 50(4));
- ``notify_union``: none of the union notices in RULES.md (synthetic performers in a human role,
  §1.1/§1.2; licensing performers' data for AI training, §1.2) can arise from a replica case, so
  the engine never owes one today. The obligation type exists for when they can.

A denied request owes nothing (FORMAT.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final, Literal

from likeness_ledger.compensation.calculator import (
    Payment,
    replica_use_payment,
    scale_category,
    scan_only_call_payment,
    total,
)
from likeness_ledger.compensation.rates import Rate, RateTable
from likeness_ledger.consent.cases import (
    EngagedFact,
    RateRow,
    ScanNoticeFact,
    ScanScheduledFact,
    StrikeFact,
)
from likeness_ledger.consent.rules import policy_for, rulebook_in_force
from likeness_ledger.consent.rules.common import find_coverage
from likeness_ledger.consent.rules.context import Ask, Grant, Strike
from likeness_ledger.consent.rules.eu_ai_act import deep_fake_disclosure_required
from likeness_ledger.consent.rules.policy import ConsentDenied, Policy, Reason

if TYPE_CHECKING:
    from datetime import date

    from likeness_ledger.consent.cases import Case

CURRENCY: Final = "USD"
ZERO_TOTAL: Final = "0.00"

ObligationType = Literal["payment", "notify_union", "disclose_ai"]


@dataclass(frozen=True, slots=True)
class Obligation:
    """Something an allowed request owes: a payment, a union notice or an AI disclosure."""

    type: ObligationType
    payee: str | None = None
    amount: Decimal | None = None
    currency: str | None = None
    basis: str | None = None

    def to_report(self) -> dict[str, str]:
        """Return the ``obligations[]`` entry of a decision report."""
        if self.type != "payment":
            return {"type": self.type}
        # Narrowing only: _obligations builds every payment with all four fields.
        assert self.payee is not None
        assert self.amount is not None
        assert self.currency is not None
        assert self.basis is not None
        return {
            "type": "payment",
            "payee": self.payee,
            "amount": f"{self.amount:.2f}",
            "currency": self.currency,
            "basis": self.basis,
        }


@dataclass(frozen=True, slots=True)
class Decision:
    """The engine's answer to one case."""

    case_id: str
    decision: Literal["allow", "deny"]
    reasons: tuple[Reason, ...]
    obligations: tuple[Obligation, ...]
    #: Sum of the payment obligations, as a decimal string with two places.
    payment_total: str

    @property
    def allowed(self) -> bool:
        """Whether the request is allowed."""
        return self.decision == "allow"

    @property
    def codes(self) -> tuple[str, ...]:
        """The reason codes, in the order the rules produced them."""
        return tuple(reason.code.value for reason in self.reasons)

    def to_report(self) -> dict[str, Any]:
        """Return the FORMAT.md decision report."""
        return {
            "id": self.case_id,
            "decision": self.decision,
            "reasons": [reason.to_report() for reason in self.reasons],
            "obligations": [obligation.to_report() for obligation in self.obligations],
            "payment_total": self.payment_total,
        }


def clear(case: Case, *, rates: RateTable | None = None) -> Decision:
    """Decide a case: allow or deny, the reasons, and what an allowed request owes.

    ``rates`` is the built-in scale table to fall back on; by default only verified and reported
    rows (:meth:`RateTable.builtin`). A case's own ``rates`` override it series by series.
    """
    # Read the private slot directly: pydantic's attribute hook costs more than a whole rule.
    private = case.__pydantic_private__
    compiled: _Compiled | None = private["_compiled"] if private else None
    if compiled is None:
        compiled = _Compiled(case)
        case._compiled = compiled
    ask = compiled.ask
    try:
        reasons = compiled.policy.check(ask)
    except ConsentDenied as denial:
        return Decision(ask.case_id, "deny", denial.reasons, (), ZERO_TOTAL)
    if rates is None or rates is _DEFAULT_RATES:
        owed = compiled.owed
        if owed is None:
            owed = compiled.owed = _owed(ask, (compiled.case_rates(), _DEFAULT_RATES))
    else:
        owed = _owed(ask, (compiled.case_rates(), rates))
    return Decision(ask.case_id, "allow", reasons, owed[0], owed[1])


_DEFAULT_RATES: Final = RateTable.builtin()


def precompile(case: Case) -> object:
    """Build the view of ``case`` that :func:`clear` reads; cases call this as they are built."""
    return _Compiled(case)


#: The case's own rate table and the built-in one it overrides.
_Scales = tuple[RateTable, RateTable]


class _Compiled:
    """What ``clear`` keeps on a case: its compiled request, policy, and default-table dues."""

    __slots__ = ("ask", "owed", "policy", "rate_rows")

    def __init__(self, case: Case) -> None:
        self.ask = compile_case(case)
        self.policy: Policy[Ask] = policy_for(self.ask.rulebook, self.ask.action, self.ask.alteration)
        self.rate_rows = tuple(case.rates)
        # What an allowed request owes depends only on the frozen case and the rate table, so
        # for the built-in table it is worked out once, on the first allow.
        self.owed: tuple[tuple[Obligation, ...], str] | None = None

    def case_rates(self) -> RateTable:
        """The case's own rate table (built on first need: a denial never needs it)."""
        return case_rate_table(self.rate_rows)


def _owed(ask: Ask, rates: _Scales) -> tuple[tuple[Obligation, ...], str]:
    obligations = _obligations(ask, rates)
    amounts = [o.amount for o in obligations if o.amount is not None]
    return obligations, (f"{total(amounts):.2f}" if amounts else ZERO_TOTAL)


def compile_case(case: Case) -> Ask:
    """Resolve a case into the records the rules read; done once per case."""
    request = case.request
    performer = case.performer
    book = rulebook_in_force(case.agreement, request.on)
    grants = tuple(
        Grant(
            id=c.id,
            scope=c.scope,
            replica=c.replica,
            production=c.production,
            uses=frozenset(u.key for u in c.uses),
            specific=c.specific,
            separately_signed=c.separately_signed,
            signed_by=c.signed_by,
            signed_on=c.signed_on,
            starts_on=max(c.signed_on, c.valid_from) if c.valid_from else c.signed_on,
            expires_on=c.expires_on,
            revoked_on=c.revoked_on,
            representation=c.representation,
        )
        for c in case.consents
    )
    gap, covering = find_coverage(
        grants,
        action=request.action,
        performer_id=performer.id,
        replica_id=request.replica,
        production=request.production,
        use=request.use,
        rulebook=book,
    )
    engaged = sorted(f.at for f in case.facts if isinstance(f, EngagedFact))
    notices = sorted(f.at for f in case.facts if isinstance(f, ScanNoticeFact))
    scans = [f for f in case.facts if isinstance(f, ScanScheduledFact)]
    # The scan asked about is the one held on the request's day; failing that, the first one.
    scan = next((f for f in scans if f.at.date() == request.on), None) or min(scans, key=lambda f: f.at, default=None)
    return Ask(
        case_id=case.id,
        action=request.action,
        on=request.on,
        performer_id=performer.id,
        category=performer.category,
        died=performer.died,
        own_daily_rate=performer.daily_rate,
        jurisdiction=case.jurisdiction,
        rulebook=book,
        role=request.role,
        use=request.use,
        estimated_days=request.estimated_days,
        replaces_in_person_work=request.replaces_in_person_work,
        alteration=request.alteration,
        replica_id=request.replica,
        # A replica not made yet (action create) is made on the day of the request.
        replica_created_on=case.replica.created_on if case.replica is not None else request.on,
        coverage_gap=gap,
        covering=covering,
        engaged_at=engaged[0] if engaged else None,
        notice_at=notices[0] if notices else None,
        scan_at=scan.at if scan is not None else None,
        scan_only_call=scan is not None and scan.scan_only_call,
        strikes=tuple(Strike(f.agreement, f.start, f.end) for f in case.facts if isinstance(f, StrikeFact)),
    )


@lru_cache(maxsize=256)
def case_rate_table(rows: tuple[RateRow, ...]) -> RateTable:
    """Build the table of a case's own ``rates``; cases written from one template share it."""
    return RateTable(
        Rate(
            agreement=r.agreement,
            category=r.category,
            per=r.per,
            amount=r.amount,
            effective=r.effective,
            source="case rates",
            confidence="case",
        )
        for r in rows
    )


def day_scale(agreement: str, category: str, on: date, *, case_rates: RateTable, builtin: RateTable) -> Rate | None:
    """Return day scale for ``category``: the case's own series if it has one, else built-in."""
    if (agreement, category, "day") in case_rates:
        return case_rates.lookup(agreement, category, on)
    return builtin.lookup(agreement, category, on)


def _obligations(ask: Ask, rates: _Scales) -> tuple[Obligation, ...]:
    payment = _payment(ask, rates)
    owed: list[Obligation] = []
    if payment is not None:
        owed.append(Obligation("payment", ask.performer_id, payment.amount, CURRENCY, payment.basis))
    if ask.action == "use" and deep_fake_disclosure_required(ask.jurisdiction, ask.on):
        owed.append(Obligation("disclose_ai"))
    return tuple(owed)


def _payment(ask: Ask, rates: _Scales) -> Payment | None:
    # Pay is set by the collective agreements; the laws in RULES.md §3 set none.
    book = ask.rulebook
    if book is None:
        return None
    case_rates, builtin = rates
    if ask.action == "use" and ask.estimated_days:
        category = scale_category(ask.category, ask.role)
        return replica_use_payment(
            days=ask.estimated_days,
            own_daily_rate=ask.own_daily_rate,
            scale=day_scale(book.id, category, ask.on, case_rates=case_rates, builtin=builtin),
            category=category,
        )
    if ask.action == "create" and ask.scan_only_call:
        return scan_only_call_payment(
            own_daily_rate=ask.own_daily_rate,
            scale=day_scale(book.id, ask.category, ask.on, case_rates=case_rates, builtin=builtin),
            category=ask.category,
        )
    return None
