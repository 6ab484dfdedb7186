"""The FastAPI application: ``create_app(settings)``; run with ``fraudguard serve``."""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import Response
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fraudguard import __version__
from fraudguard.api.cases import router as cases_router
from fraudguard.api.changes import REQUEST_BODIES as CHANGE_BODIES
from fraudguard.api.changes import router as changes_router
from fraudguard.api.changes import start_change_control
from fraudguard.api.changes_console import router as changes_console_router
from fraudguard.api.console import answer_refusal
from fraudguard.api.console import router as console_router
from fraudguard.api.console_session import ConsoleRefusal
from fraudguard.api.deps import Services
from fraudguard.api.exceptions import error_response, fraudguard_error_response
from fraudguard.api.fastpath import SCORE_PATH, SCORE_ROUTE, ScoreFastPath
from fraudguard.api.logs import REQUEST_ID, configure_logging
from fraudguard.api.metrics import ServiceMetrics
from fraudguard.api.outcomes import router as outcomes_router
from fraudguard.api.process import freeze_startup_objects, thaw
from fraudguard.api.ratelimit import KeyRateLimiter
from fraudguard.api.routes import router
from fraudguard.auth import ApiKeys, Role
from fraudguard.auth.keys import ApiKeyStore
from fraudguard.config import Settings, get_settings
from fraudguard.decisions import Decide, DecisionLog, decision_writer
from fraudguard.exceptions import FraudGuardError
from fraudguard.outcomes import FeedbackCatchUp, LabelPolicy, load_label_policy
from fraudguard.privacy import redact
from fraudguard.schema import (
    BatchScoreRequest,
    Decision,
    OutcomeBatch,
    PromotionClaim,
    RechargeEvent,
)
from fraudguard.scoring import Scorer, build_scorer

__all__ = ["create_app"]

_log = logging.getLogger("fraudguard.api")


async def _fraudguard_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, FraudGuardError)  # noqa: S101 - registered for this class only
    return fraudguard_error_response(exc)


async def _http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)  # noqa: S101
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return error_response(exc.status_code, code, str(exc.detail), [], exc.headers)


async def _validation_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)  # noqa: S101
    problems = [
        {"field": redact(".".join(str(p) for p in e["loc"])), "message": redact(str(e["msg"]))}
        for e in exc.errors()
    ]
    return error_response(422, "invalid_input", "the request is invalid", problems)


async def _unexpected(_request: Request, exc: Exception) -> Response:
    _log.error("unhandled error", exc_info=exc)
    return error_response(500, "internal", "internal error", [])


async def _refresh_keys(services: Services, store: ApiKeyStore, interval_s: float) -> None:
    """Re-read the keys made with ``fraudguard keys``: added and revoked keys take effect."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            services.keys.replace_stored(await run_in_threadpool(store.active))
        except Exception as error:  # the database is away: the last known keys stay in force
            _log.warning("API keys not refreshed: %s", type(error).__name__)


def _decider(scorer: Scorer, metrics: ServiceMetrics) -> Decide:
    """What the decision writer calls for each new order: score it, count its rule hits."""

    def decide(event: RechargeEvent) -> tuple[Decision, Mapping[str, Any]]:
        scored = scorer.score_one(event)
        metrics.observe_rules(scored.rules)
        return scored.decision, scored.features

    return decide


_REQUEST_IDS = itertools.count()
_PROCESS_TAG = os.urandom(6).hex()


def _new_request_id() -> str:
    """Unique per process and across processes (a random tag per process, then a count):
    request ids need to be unique, not secret, and a random one costs a system call."""
    return f"{_PROCESS_TAG}{next(_REQUEST_IDS):08x}"


class _Observe:
    """Request id, metrics and one JSON log line per request, carrying what the route put in
    ``request.state.log`` (plain ASGI: cheaper than ``BaseHTTPMiddleware`` on every
    request)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = ""
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                request_id = value.decode("latin-1")[:64]
                break
        request_id = request_id or _new_request_id()
        token = REQUEST_ID.set(request_id)
        state: dict[str, Any] = scope.setdefault("state", {})
        state["decision"] = "none"
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            path = getattr(route, "path", "unmatched")
            services: Services | None = getattr(scope["app"].state, "services", None)
            decision = str(state.get("decision", "none"))
            if services is not None:
                services.metrics.requests.labels(path, decision, str(status)).inc()
                services.metrics.latency.labels(path, decision).observe(elapsed)
            _log.info(
                "request",
                extra={
                    "method": scope["method"],
                    "route": path,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                    **state.get("log", {}),  # what the route adds, e.g. the order scored
                },
            )
            REQUEST_ID.reset(token)


async def _watch(services: Services, interval_s: float, refresh: Callable[[], bool]) -> None:
    """Follow what change control says is live (rules, model, shadow), off the request
    path: ``refresh`` is :meth:`fraudguard.changes.Activator.sync`."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            if await run_in_threadpool(refresh):
                services.metrics.set_model(
                    services.scorer.model_version, services.scorer.rules.version
                )
        except Exception:  # the watcher must outlive any one bad reload
            _log.exception("reload check failed")


async def _catch_up_feedback(catch_up: FeedbackCatchUp, interval_s: float) -> None:
    """Bring the feedback store up to the log's fraud reports, however they were stored
    (another worker, ``fraudguard outcomes import``), off the request path."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            await run_in_threadpool(catch_up.step)
        except Exception:  # the loop must outlive any one bad step
            _log.exception("feedback catch-up failed")


def _feedback_catch_up(services: Services, policy: LabelPolicy) -> FeedbackCatchUp | None:
    """The scorer's feedback store warmed from the log (a restart forgets no report)."""
    scorer = services.scorer
    feedback, store = scorer.extractor.feedback, scorer.state.feedback
    if feedback is None or store is None:
        return None
    catch_up = FeedbackCatchUp(services.log.engine, policy, feedback, store)
    catch_up.step()
    services.metrics.follow_feedback(lambda: catch_up.caught_up_at)
    return catch_up


#: Routes that read their JSON body themselves (for 413/415 and per-item batch errors):
#: their request schema is added to the OpenAPI document here.
_REQUEST_BODIES: dict[str, type[BaseModel]] = {
    SCORE_PATH: RechargeEvent,
    "/v1/score/batch": BatchScoreRequest,
    "/v1/promotions/verify": PromotionClaim,
    "/v1/outcomes": OutcomeBatch,
}


def _openapi_with_bodies(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title,
            version=app.version,
            summary=app.summary,
            routes=[SCORE_ROUTE, *app.routes],
        )
        bodies = {(path, "post"): model for path, model in _REQUEST_BODIES.items()}
        bodies.update(CHANGE_BODIES)
        _, definitions = models_json_schema(
            [(model, "validation") for model in set(bodies.values())],
            ref_template="#/components/schemas/{model}",
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for name, definition in definitions.get("$defs", {}).items():
            components.setdefault(name, definition)
        for (path, method), model in bodies.items():
            schema["paths"][path][method]["requestBody"] = {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {"$ref": f"#/components/schemas/{model.__name__}"}
                    }
                },
            }
        app.openapi_schema = schema
    return app.openapi_schema


def create_app(settings: Settings | None = None) -> FastAPI:
    """The scoring service. Loads reference data, rules, velocity store, the promoted model
    (training one first when ``bootstrap_model`` and none is promoted) and the decision log
    at start-up."""
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    # Read now: a bad FRAUDGUARD_LABEL_POLICY_PATH stops the start, not the first outcome.
    label_policy = load_label_policy(settings.label_policy_path)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        def start() -> tuple[Services, ApiKeyStore]:
            scorer: Scorer = build_scorer(settings)
            scorer.warm_up()  # before the freeze below: caches built on first use included
            log = DecisionLog(
                settings.resolved_database_url,
                settings.hmac_key,
                settings.sqlite_synchronous,
                background_checkpoints=True,
            )
            log.create_tables()
            key_store = ApiKeyStore(log.engine, [str(r) for r in Role])
            keys = ApiKeys.parse(settings.api_keys, settings.hmac_key)
            keys.replace_stored(key_store.active())
            metrics = ServiceMetrics()
            metrics.set_model(scorer.model_version, scorer.rules.version)
            metrics.follow_degraded(lambda: scorer.degraded)
            limiter = KeyRateLimiter(settings.rate_limit, settings.rate_limit_storage)
            writer = decision_writer(
                log,
                _decider(scorer, metrics),
                in_process_state=settings.state_url.startswith("memory"),
            )
            return Services(scorer, log, writer, keys, metrics, limiter), key_store

        services, key_store = await run_in_threadpool(start)
        app.state.services = services
        catch_up = await run_in_threadpool(_feedback_catch_up, services, label_policy)
        app.state.feedback_catch_up = catch_up
        # The live rule pack and model are the ones change control activated (seeded from
        # what the scorer loaded at first start), on every worker.
        changes = await run_in_threadpool(start_change_control, services)
        app.state.changes = changes
        thresholds = freeze_startup_objects()
        _log.info(
            "started",
            extra={
                "model_version": services.scorer.model_version,
                "ruleset_version": services.scorer.rules.version,
                "api_keys": len(services.keys),
            },
        )
        tasks = [
            asyncio.create_task(_refresh_keys(services, key_store, settings.api_key_refresh_s))
        ]
        if settings.reload_interval_s > 0:
            tasks.append(
                asyncio.create_task(
                    _watch(services, settings.reload_interval_s, changes.activator.sync)
                )
            )
            if catch_up is not None:
                tasks.append(
                    asyncio.create_task(_catch_up_feedback(catch_up, settings.reload_interval_s))
                )
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await services.writer.aclose()
            await run_in_threadpool(changes.activator.flush)
            services.log.close()
            app.state.services = None
            app.state.changes = None
            app.state.feedback_catch_up = None
            thaw(thresholds)

    app = FastAPI(
        title="FraudGuard",
        version=__version__,
        summary="Fraud and promotion-safety scoring for phone top-ups (话费充值)",
        lifespan=lifespan,
    )
    app.include_router(router)
    app.include_router(cases_router)
    app.include_router(outcomes_router)
    app.include_router(console_router)
    app.include_router(changes_router)
    app.include_router(changes_console_router)
    app.state.label_policy = label_policy
    app.openapi = lambda: _openapi_with_bodies(app)  # type: ignore[method-assign]
    app.add_exception_handler(FraudGuardError, _fraudguard_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(ConsoleRefusal, answer_refusal)  # the console's own answers
    app.add_exception_handler(Exception, _unexpected)

    app.add_middleware(ScoreFastPath)  # see docs/adr/0001-score-fast-path.md
    app.add_middleware(_Observe)  # added last: outermost, around the fast path too
    return app
