"""The fast path: ``POST /v1/score`` as plain ASGI, answered ahead of FastAPI's router.

Every order a recharge pipeline sends comes through this one route, so it skips what it
does not need of FastAPI's request handling: the middleware layers inside the app, the
router's walk over every route, the ``Request`` object and dependency injection, which
together were a large share of each order's CPU (``docs/adr/0001-score-fast-path.md``
records the decision and what the fast path must keep equal to the router).

It does what the dependencies of the router's routes do, with the same functions
(:func:`~fraudguard.api.deps.admit` with :data:`~fraudguard.api.deps.SCORING_ROLES`,
:func:`~fraudguard.api.deps.check_json_headers`,
:func:`~fraudguard.api.deps.check_body_size`,
:func:`~fraudguard.api.deps.decode_json_object`), and answers errors with the same
bodies; the app's request id / metrics / log middleware and its 500 handler still wrap
it. ``tests/api/test_fastpath_parity.py`` holds it to the router's answers.

Everything here is only the fast path; the app adds :class:`ScoreFastPath` inside its
observing middleware and documents the route with :data:`SCORE_ROUTE`, which is never
mounted.
"""

from __future__ import annotations

from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from fraudguard.api.deps import (
    SCORING_ROLES,
    Services,
    admit,
    check_body_size,
    check_json_headers,
    decode_json_object,
)
from fraudguard.api.exceptions import error_response, fraudguard_error_response
from fraudguard.api.logs import scored_fields
from fraudguard.api.schemas import ERROR_RESPONSES
from fraudguard.exceptions import FraudGuardError, UnavailableError
from fraudguard.schema import Decision, parse_event

__all__ = ["SCORE_PATH", "SCORE_ROUTE", "ScoreFastPath"]

#: The one path the fast path answers (as routes see it, without a proxy's root path).
SCORE_PATH = "/v1/score"


async def _score() -> Decision:  # pragma: no cover - documents the route, never called
    """Score one recharge order; the same ``transaction_id`` again returns the stored decision
    (409 with a different body). Answered once the decision is committed to the log."""
    raise NotImplementedError


#: How ``POST /v1/score`` appears in the OpenAPI schema (:class:`ScoreFastPath` serves it);
#: the app adds its request body with the other routes that read their own.
SCORE_ROUTE = APIRoute(
    SCORE_PATH,
    _score,
    methods=["POST"],
    response_model=Decision,
    responses=ERROR_RESPONSES,
    tags=["scoring"],
    summary="Score",
)


class ScoreFastPath:
    """ASGI middleware answering ``POST /v1/score`` (405 for other methods on that path);
    every other request goes on to ``app``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _route_path(scope) != SCORE_PATH:
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
        # The key first, as the router's routes declare it: nothing is read for a stranger.
        admit(services, headers.get("authorization"), SCORING_ROLES)
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
    """The whole request body, refused (413) as soon as it passes ``MAX_BODY_BYTES``."""
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
