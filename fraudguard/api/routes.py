"""Thin routes: parse, call the scorer and the decision log, answer.

``POST /v1/score`` is served by :mod:`fraudguard.api.fastpath`, ahead of these.
"""

from __future__ import annotations

import logging
from typing import Any

import pydantic
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from fraudguard.api.deps import (
    AnalystRole,
    JsonBody,
    LogDep,
    MetricsDep,
    ScorerDep,
    ScorerRole,
    ServicesDep,
)
from fraudguard.api.exceptions import public_problems
from fraudguard.api.logs import scored_fields
from fraudguard.api.schemas import ERROR_RESPONSES, ReadyBody
from fraudguard.exceptions import FieldProblem, FraudGuardError, InputError
from fraudguard.privacy import redact
from fraudguard.schema import (
    MAX_BATCH_EVENTS,
    BatchItemError,
    BatchScoreResponse,
    Decision,
    PromotionClaim,
    PromotionVerification,
    RechargeEvent,
    field_problems,
    parse_event,
)

__all__ = ["router"]

_log = logging.getLogger("fraudguard.api")

router = APIRouter()


def _json(model: pydantic.BaseModel) -> Response:
    return Response(model.model_dump_json(), media_type="application/json")


@router.post(
    "/v1/score/batch",
    response_model=BatchScoreResponse,
    responses=ERROR_RESPONSES,
    tags=["scoring"],
    summary="Score a batch",
)
async def score_batch(
    request: Request, body: JsonBody, services: ServicesDep, _role: ScorerRole
) -> Response:
    """Score up to ``MAX_BATCH_EVENTS`` (500) orders in order; a bad item gets its own error.
    The whole batch is stored in one transaction; each event counts against the rate limit."""
    items = _batch_events(body)
    if len(items) > 1:
        services.limiter.hit(request.state.api_key.key_id, cost=len(items) - 1)
    parsed = await run_in_threadpool(lambda: [_parse_item(item) for item in items])
    events = [p for p in parsed if isinstance(p, RechargeEvent)]
    settled = iter(await services.settle(events))
    results: list[Decision | BatchItemError] = []
    for index, (item, outcome) in enumerate(zip(items, parsed, strict=True)):
        result = next(settled) if isinstance(outcome, RechargeEvent) else outcome
        if isinstance(result, Decision):
            assert isinstance(outcome, RechargeEvent)  # noqa: S101 - only events are decided
            _log.info("scored", extra=scored_fields(outcome, result))
            results.append(result)
            continue
        if result.status_code >= 500:
            raise result
        transaction_id = item.get("transaction_id") if isinstance(item, dict) else None
        results.append(
            BatchItemError(
                index=index,
                transaction_id=redact(transaction_id)
                if isinstance(transaction_id, str) and len(transaction_id) <= 128
                else None,
                error=result.code,
                problems=public_problems(result.problems),
            )
        )
    request.state.decision = "batch"
    return _json(BatchScoreResponse(results=results))


def _parse_item(item: Any) -> RechargeEvent | FraudGuardError:
    if not isinstance(item, dict):
        return InputError(
            "the recharge event is invalid",
            [FieldProblem("body", "each event must be a JSON object")],
        )
    try:
        return parse_event(item)
    except InputError as error:
        return error


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
    responses=ERROR_RESPONSES,
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
    """200 while the service can score (also degraded, rules only); 503 without a database,
    or when the model to serve was refused for being fitted on other reference data and
    none is served (``reason`` says why and how to fix it)."""
    database = "ok" if log.ping() else "unavailable"
    refused = scorer.refused_model
    not_ready = refused is not None and scorer.model is None
    warnings = []
    if refused is not None and not not_ready:
        warnings.append(f"{refused.refusal()}; still serving {scorer.model_version}")
    if (served := scorer.reference_mismatch()) is not None:
        warnings.append(served.warning())
    status = "unavailable" if database != "ok" else "not_ready" if not_ready else None
    body = ReadyBody(
        status=status or ("degraded" if scorer.degraded else "ready"),
        degraded=scorer.degraded,
        model_version=scorer.model_version,
        ruleset_version=scorer.rules.version,
        rules=len(scorer.rules.current),
        store=type(scorer.state.velocity).__name__,
        database=database,
        failure_policy=str(scorer.settings.failure_policy),
        reference_version=scorer.reference.features_version,
        reason=refused.refusal() if not_ready and refused is not None else None,
        warnings=warnings,
    )
    return JSONResponse(body.model_dump(), status_code=503 if status else 200)


@router.get(
    "/metrics",
    tags=["operations"],
    summary="Prometheus metrics",
    responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}},
    response_class=Response,
)
def metrics(service_metrics: MetricsDep) -> Response:
    return Response(generate_latest(service_metrics.registry), media_type=CONTENT_TYPE_LATEST)
