"""``POST /v1/score`` as plain ASGI, answered ahead of FastAPI's router.

Every order a recharge pipeline sends comes through this one route, so it skips what it
does not need of FastAPI's request handling - the middleware layers inside, the router's
walk over every route, the ``Request`` object and dependency injection - which cost about
a third of the service's CPU per order (``benchmarks/bench_service.py``, issue 5). It does
what the dependencies of the other routes do, with the same functions
(:func:`~fraudguard.api.deps.admit`, :func:`~fraudguard.api.deps.check_json_headers`,
:func:`~fraudguard.api.deps.decode_json_object`) and answers errors with the same bodies;
``_Observe`` (request id, metrics, the log line) and the 500 handler still wrap it.

The route is documented in the OpenAPI schema by :data:`SCORE_ROUTE`, which is not mounted.
"""

from __future__ import annotations

from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from fraudguard.api.deps import (
    Services,
    admit,
    check_body_size,
    check_json_headers,
    decode_json_object,
)
from fraudguard.api.enums import Role
from fraudguard.api.exceptions import error_response, fraudguard_error_response
from fraudguard.api.logs import scored_fields
from fraudguard.api.schemas import ERROR_RESPONSES
from fraudguard.exceptions import FraudGuardError, UnavailableError
from fraudguard.schema import Decision, parse_event

__all__ = ["SCORE_ROUTE", "ScoreEndpoint"]

_PATH = "/v1/score"
_ROLES = (Role.SCORER, Role.ADMIN)


async def _score() -> Decision:  # pragma: no cover - documents the route, never called
    """Score one recharge order; the same ``transaction_id`` again returns the stored decision
    (409 with a different body). Answered once the decision is committed to the log."""
    raise NotImplementedError


#: How ``POST /v1/score`` appears in the OpenAPI schema (``ScoreEndpoint`` serves it).
SCORE_ROUTE = APIRoute(
    _PATH,
    _score,
    methods=["POST"],
    response_model=Decision,
    responses=ERROR_RESPONSES,
    tags=["scoring"],
    summary="Score",
)


class ScoreEndpoint:
    """ASGI middleware answering ``POST /v1/score`` (405 for other methods on that path);
    every other request goes on to ``app``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _route_path(scope) != _PATH:
            await self.app(scope, receive, send)
            return
        scope["route"] = SCORE_ROUTE  # what the metrics and the log line name the route by
        if scope["method"] != "POST":
            response: Response = error_response(
                405, "method_not_allowed", "Method Not Allowed", [], {"Allow": "POST"}
            )
        else:
            try:
                response = await self._score(scope, receive)
            except FraudGuardError as error:
                response = fraudguard_error_response(error)
            except ClientDisconnect:
                return  # the caller hung up before sending the whole body
        await response(scope, receive, send)

    async def _score(self, scope: Scope, receive: Receive) -> Response:
        services: Services | None = getattr(scope["app"].state, "services", None)
        if services is None:
            raise UnavailableError("the service is starting")
        headers = _headers(scope)
        admit(services, headers.get("authorization"), _ROLES)
        check_json_headers(headers.get("content-type", ""), headers.get("content-length"))
        event = parse_event(decode_json_object(await _body(receive)))
        [result] = await services.settle([event])
        if isinstance(result, FraudGuardError):
            raise result
        state: dict[str, Any] = scope.setdefault("state", {})
        state["decision"] = result.decision.value
        state["log"] = scored_fields(event, result)  # on the request's one log line
        return Response(result.model_dump_json(), media_type="application/json")


_WANTED = frozenset((b"authorization", b"content-type", b"content-length"))


def _headers(scope: Scope) -> dict[str, str]:
    """The headers this route reads (the first of each, as Starlette's ``Headers.get``)."""
    found: dict[str, str] = {}
    for name, value in scope["headers"]:
        if name in _WANTED:
            found.setdefault(name.decode("latin-1"), value.decode("latin-1"))
    return found


def _route_path(scope: Scope) -> str:
    """The path as routes see it: without the ``root_path`` a proxy mounted the app at."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


async def _body(receive: Receive) -> bytes:
    """The whole request body, refused (413) as soon as it passes 1 MiB."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        check_body_size(size)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)
