"""Thin routes: parse, call the scorer and the decision log, answer."""

from __future__ import annotations

import logging
from typing import Any

import pydantic
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from fraudguard.api.deps import (
    AnalystRole,
    JsonBody,
    LogDep,
    MetricsDep,
    ScorerDep,
    ScorerRole,
    Services,
    ServicesDep,
)
from fraudguard.api.logs import event_fields
from fraudguard.api.schemas import ErrorBody, ReadyBody
from fraudguard.exceptions import FieldProblem, FraudGuardError, InputError
from fraudguard.schema import (
    MAX_BATCH_EVENTS,
    BatchItemError,
    BatchScoreResponse,
    Decision,
    PromotionClaim,
    PromotionVerification,
    field_problems,
    parse_event,
)

__all__ = ["router"]

_log = logging.getLogger("fraudguard.api")

router = APIRouter()

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (401, 403, 409, 413, 415, 422, 503)
}


def _score(services: Services, data: dict[str, Any], request: Request | None) -> Decision:
    event = parse_event(data)
    stored = services.log.find(event)
    if stored is not None:
        return stored
    scored = services.scorer.score_one(event)
    decision = services.log.record(event, scored.decision, scored.features)
    services.metrics.observe_rules(scored.rules)
    if request is not None:
        request.state.decision = decision.decision.value
    _log.info(
        "scored",
        extra={
            **event_fields(event),
            "decision": decision.decision.value,
            "score": round(decision.score, 4),
            "case_id": decision.case_id,
            "degraded": decision.degraded,
        },
    )
    return decision


def _json(model: pydantic.BaseModel) -> Response:
    return Response(model.model_dump_json(), media_type="application/json")


@router.post(
    "/v1/score", response_model=Decision, responses=_ERRORS, tags=["scoring"], summary="Score"
)
def score(request: Request, body: JsonBody, services: ServicesDep, _role: ScorerRole) -> Response:
    """Score one recharge order; the same ``transaction_id`` again returns the stored decision
    (409 with a different body)."""
    return _json(_score(services, body, request))


@router.post(
    "/v1/score/batch",
    response_model=BatchScoreResponse,
    responses=_ERRORS,
    tags=["scoring"],
    summary="Score a batch",
)
def score_batch(
    request: Request, body: JsonBody, services: ServicesDep, _role: ScorerRole
) -> Response:
    """Score up to ``MAX_BATCH_EVENTS`` (500) orders in order; a bad item gets its own error."""
    events = _batch_events(body)
    results: list[Decision | BatchItemError] = []
    for index, item in enumerate(events):
        try:
            if not isinstance(item, dict):
                raise InputError(
                    "the recharge event is invalid",
                    [FieldProblem("body", "each event must be a JSON object")],
                )
            results.append(_score(services, item, None))
        except FraudGuardError as error:
            if error.status_code >= 500:
                raise
            transaction_id = item.get("transaction_id") if isinstance(item, dict) else None
            results.append(
                BatchItemError(
                    index=index,
                    transaction_id=transaction_id
                    if isinstance(transaction_id, str) and len(transaction_id) <= 128
                    else None,
                    error=error.code,
                    problems=[{"field": p.location, "message": p.message} for p in error.problems],
                )
            )
    request.state.decision = "batch"
    return _json(BatchScoreResponse(results=results))


def _batch_events(body: dict[str, Any]) -> list[Any]:
    """``body["events"]``: 1 to ``MAX_BATCH_EVENTS`` items, each checked on its own later
    (``BatchScoreRequest`` documents the shape)."""
    problems = [
        FieldProblem(str(key)[:64], "unknown field; send only `events`")
        for key in body
        if key != "events"
    ]
    events = body.get("events")
    if not isinstance(events, list):
        problems.append(FieldProblem("events", "must be a list of recharge events"))
    elif not 1 <= len(events) <= MAX_BATCH_EVENTS:
        problems.append(FieldProblem("events", f"send 1 to {MAX_BATCH_EVENTS} events"))
    if problems or not isinstance(events, list):
        raise InputError("the batch is invalid", problems)
    return events


@router.post(
    "/v1/promotions/verify",
    response_model=PromotionVerification,
    responses=_ERRORS,
    tags=["promotions"],
    summary="Verify a promotion",
)
def verify_promotion(body: JsonBody, scorer: ScorerDep, _role: AnalystRole) -> Response:
    """Is the promotion a payer was offered genuine, fake, or unknown?"""
    try:
        claim = PromotionClaim.model_validate(body)
    except pydantic.ValidationError as exc:
        raise InputError("the promotion claim is invalid", field_problems(exc)) from None
    return _json(scorer.verify_promotion(claim))


@router.get("/healthz", tags=["operations"], summary="Liveness")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    response_model=ReadyBody,
    responses={503: {"model": ReadyBody}},
    tags=["operations"],
    summary="Readiness",
)
def readyz(scorer: ScorerDep, log: LogDep) -> JSONResponse:
    """200 while the service can score (also degraded, rules only); 503 without a database."""
    database = "ok" if log.ping() else "unavailable"
    body = ReadyBody(
        status="unavailable" if database != "ok" else "degraded" if scorer.degraded else "ready",
        degraded=scorer.degraded,
        model_version=scorer.model_version,
        ruleset_version=scorer.rules.version,
        rules=len(scorer.rules.current),
        store=type(scorer.store).__name__,
        database=database,
        failure_policy=str(scorer.settings.failure_policy),
    )
    return JSONResponse(body.model_dump(), status_code=200 if database == "ok" else 503)


@router.get("/metrics", tags=["operations"], summary="Prometheus metrics")
def metrics(service_metrics: MetricsDep) -> Response:
    return Response(generate_latest(service_metrics.registry), media_type=CONTENT_TYPE_LATEST)
