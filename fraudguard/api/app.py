"""The FastAPI application: ``create_app(settings)``; run with ``fraudguard serve``."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from fraudguard import __version__
from fraudguard.api.auth import ApiKeys
from fraudguard.api.cases import router as cases_router
from fraudguard.api.console import router as console_router
from fraudguard.api.deps import Services
from fraudguard.api.logs import REQUEST_ID, configure_logging
from fraudguard.api.metrics import ServiceMetrics
from fraudguard.api.routes import router
from fraudguard.cases import DecisionLog
from fraudguard.config import Settings, get_settings
from fraudguard.exceptions import FraudGuardError
from fraudguard.scoring import build_scorer

__all__ = ["create_app"]

_log = logging.getLogger("fraudguard.api")


def _error(status: int, code: str, message: str, problems: list[dict[str, str]]) -> JSONResponse:
    return JSONResponse(
        {"error": code, "message": message, "problems": problems}, status_code=status
    )


async def _fraudguard_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, FraudGuardError)  # noqa: S101 - registered for this class only
    problems = [{"field": p.location, "message": p.message} for p in exc.problems]
    return _error(exc.status_code, exc.code, exc.message, problems)


async def _http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)  # noqa: S101
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return _error(exc.status_code, code, str(exc.detail), [])


async def _validation_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)  # noqa: S101
    problems = [
        {"field": ".".join(str(p) for p in e["loc"]), "message": str(e["msg"])}
        for e in exc.errors()
    ]
    return _error(422, "invalid_input", "the request is invalid", problems)


async def _unexpected(_request: Request, exc: Exception) -> Response:
    _log.error("unhandled error", exc_info=exc)
    return _error(500, "internal", "internal error", [])


async def _watch(services: Services, interval_s: float) -> None:
    """Reload rules and the promoted model when they change on disk, off the request path."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            if await run_in_threadpool(services.scorer.refresh):
                services.metrics.set_model(
                    services.scorer.model_version, services.scorer.rules.version
                )
        except Exception:  # the watcher must outlive any one bad reload
            _log.exception("reload check failed")


def create_app(settings: Settings | None = None) -> FastAPI:
    """The scoring service. Loads reference data, rules, velocity store, the promoted model
    (training one first when ``bootstrap_model`` and none is promoted) and the decision log
    at start-up."""
    settings = settings or get_settings()
    configure_logging(settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        def start() -> Services:
            scorer = build_scorer(settings)
            log = DecisionLog(settings.resolved_database_url, settings.hmac_key)
            log.create_tables()
            keys = ApiKeys.parse(settings.api_keys, settings.hmac_key)
            metrics = ServiceMetrics()
            metrics.set_model(scorer.model_version, scorer.rules.version)
            return Services(scorer, log, keys, metrics)

        services = await run_in_threadpool(start)
        app.state.services = services
        _log.info(
            "started",
            extra={
                "model_version": services.scorer.model_version,
                "ruleset_version": services.scorer.rules.version,
                "api_keys": len(services.keys),
            },
        )
        watcher = (
            asyncio.create_task(_watch(services, settings.reload_interval_s))
            if settings.reload_interval_s > 0
            else None
        )
        try:
            yield
        finally:
            if watcher is not None:
                watcher.cancel()
            services.log.close()
            app.state.services = None

    app = FastAPI(
        title="FraudGuard",
        version=__version__,
        summary="Fraud and promotion-safety scoring for phone top-ups (话费充值)",
        lifespan=lifespan,
    )
    app.include_router(router)
    app.include_router(cases_router)
    app.include_router(console_router)
    app.add_exception_handler(FraudGuardError, _fraudguard_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)

    @app.middleware("http")
    async def observe(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        request_id = request.headers.get("x-request-id", "")[:64] or uuid.uuid4().hex
        token = REQUEST_ID.set(request_id)
        request.state.decision = "none"
        started = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            response.headers["X-Request-ID"] = request_id
            return response
        finally:
            elapsed = time.perf_counter() - started
            route = request.scope.get("route")
            path = getattr(route, "path", "unmatched")
            services: Services | None = getattr(request.app.state, "services", None)
            if services is not None:
                decision = str(request.state.decision)
                services.metrics.requests.labels(path, decision, str(status)).inc()
                services.metrics.latency.labels(path, decision).observe(elapsed)
            _log.info(
                "request",
                extra={
                    "method": request.method,
                    "route": path,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                },
            )
            REQUEST_ID.reset(token)

    return app
