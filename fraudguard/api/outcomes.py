"""Outcome API: ``POST /v1/outcomes``. Thin: parse, call :class:`OutcomeStore`, answer.

Roles: ``scorer`` (the pipeline or the payment processor reporting), ``analyst`` and
``admin``. A batch is stored whole, committed before the answer, or not at all.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from fraudguard.api.cases import RequireActor
from fraudguard.api.deps import JsonBody, ServicesDep
from fraudguard.api.feedback import feed_back_outcomes
from fraudguard.api.schemas import ErrorBody
from fraudguard.auth import Role
from fraudguard.cases import Actor
from fraudguard.outcomes import LabelPolicy, OutcomesResponse, OutcomeStore, load_label_policy
from fraudguard.schema import parse_outcomes

__all__ = ["REPORTING_ROLES", "OutcomeReporter", "OutcomesDep", "outcome_store", "router"]

#: Who may report outcomes.
REPORTING_ROLES = (Role.SCORER, Role.ANALYST, Role.ADMIN)

router = APIRouter(tags=["outcomes"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (401, 403, 409, 413, 415, 422, 429, 503)
}

OutcomeReporter = Annotated[Actor, Depends(RequireActor(*REPORTING_ROLES))]


def outcome_store(request: Request, services: ServicesDep) -> OutcomeStore:
    """One :class:`OutcomeStore` per app, over the decision log's engine, with the label
    policy the app was started with (``FRAUDGUARD_LABEL_POLICY_PATH``)."""
    current: OutcomeStore | None = getattr(request.app.state, "outcome_store", None)
    if current is None or current.engine is not services.log.engine:
        policy: LabelPolicy | None = getattr(request.app.state, "label_policy", None)
        current = OutcomeStore(services.log.engine, policy or load_label_policy())
        request.app.state.outcome_store = current
    return current


OutcomesDep = Annotated[OutcomeStore, Depends(outcome_store)]


@router.post(
    "/v1/outcomes",
    response_model=OutcomesResponse,
    responses=_ERRORS,
    summary="Report outcomes",
)
def report_outcomes(
    request: Request,
    body: JsonBody,
    services: ServicesDep,
    outcomes: OutcomesDep,
    actor: OutcomeReporter,
) -> Response:
    """What happened after decisions: ``{"outcomes": [...]}``, 1 to ``MAX_OUTCOMES`` (500)
    chargebacks, refunds, complaints, fraud reports or confirmations, stored together
    (committed before the answer) or not at all.

    Idempotent on (``transaction_id``, ``kind``, ``reference``): the same outcome again is
    answered as stored (``created: false``); the same key with another body is a 409 naming
    ``outcomes.<i>``. An outcome for an order FraudGuard never scored is kept
    (``matched: false``). Fraud on an order FraudGuard allowed opens a missed-fraud case.
    A new fraud outcome on a scored order counts, from now on, in the feedback features of
    later orders sharing its platform, promotion code, device, instrument or payer.
    Each outcome counts against the key's rate limit. Roles: scorer, analyst, admin.
    """
    batch = parse_outcomes(body)
    if len(batch.outcomes) > 1:
        services.limiter.hit(request.state.api_key.key_id, cost=len(batch.outcomes) - 1)
    results = outcomes.report(batch.outcomes, actor)
    # Fraud on a scored order raises the risk of the next order at its shop, code, device.
    fed_back = feed_back_outcomes(services.scorer, outcomes.engine, results, outcomes.policy)
    request.state.log = {"outcomes": len(results), "fed_back": fed_back}
    return Response(
        OutcomesResponse(results=results).model_dump_json(), media_type="application/json"
    )
