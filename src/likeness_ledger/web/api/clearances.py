"""Clearance routes: may this replica be created, used or altered, and what is owed.

``POST /clearances`` answers one question from the database, exactly; ``POST /clearances/batch``
answers many from the in-memory index (:class:`~likeness_ledger.consent.engine.ClearanceIndex`),
which gives the same decisions and is reloaded whenever a change is committed. Only the parties
may ask: a producer about its own productions, a performer (or representative) about themself,
the union and admins about anyone; anything else answers 404.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from likeness_ledger.accounts.models import Role
from likeness_ledger.compensation.rates import RateTable
from likeness_ledger.consent import schemas
from likeness_ledger.consent import services as svc
from likeness_ledger.consent.engine import DEFAULT_CASE_ID
from likeness_ledger.errors import Error, NotFound
from likeness_ledger.web.api import ERROR_RESPONSES
from likeness_ledger.web.deps import CurrentPrincipal, ReadSession, State

router = APIRouter(responses=ERROR_RESPONSES, tags=["clearances"])


def _rates(state: State) -> RateTable:
    # One setting decides, for clearances and usage alike, whether [U] scale rows count.
    return RateTable.builtin(include_unverified=state.settings.rates_include_unverified)


@router.post("/clearances")
def clear_one(
    state: State, session: ReadSession, principal: CurrentPrincipal, body: schemas.ClearanceIn
) -> schemas.DecisionOut:
    """Decide one question: the FORMAT.md decision report (decision, reasons, obligations, total)."""
    query = body.to_query()
    svc.check_query_visible(session, principal, query)
    decision = svc.evaluate(session, query, rates=_rates(state), case_id=body.id or DEFAULT_CASE_ID)
    return schemas.DecisionOut.model_validate(decision.to_report())


@router.post("/clearances/batch", response_model=schemas.DecisionBatchOut)
def clear_many(state: State, principal: CurrentPrincipal, body: schemas.ClearanceBatchIn) -> JSONResponse:
    """Decide many questions at once (for throughput); one report per query, in order.

    Errors name the query at fault, e.g. ``queries[3].production_id: ...``.
    """
    index = svc.clearance_index(state.db)
    rates = _rates(state)
    producer = str(principal.producer_id) if principal.role is Role.PRODUCER else None
    reports = []
    for position, item in enumerate(body.queries):
        query = item.to_query()
        try:
            if not principal.sees_all:
                if producer is not None:
                    production = index.production(query.production_id)
                    if production is None or production.producer != producer:
                        raise NotFound(f"production_id: production {query.production_id} not found")
                elif not principal.acts_for_performer or query.performer_id != principal.performer_id:
                    raise NotFound(f"performer_id: performer {query.performer_id} not found")
            decision = index.evaluate(query, rates=rates, case_id=item.id or DEFAULT_CASE_ID)
        except Error as error:
            error.message = f"queries[{position}].{error.message}"
            error.errors = [f"queries[{position}].{line}" for line in error.errors]
            raise
        reports.append(decision.to_report())
    # Built as plain JSON: the reports are already in their final shape, and validating thousands
    # of them again would cost more than deciding them.
    return JSONResponse({"decisions": reports})
