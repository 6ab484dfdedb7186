"""The app's services, the ``Annotated`` dependency aliases routes ask for, and how a
route reads its JSON body and answers with a model."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import orjson
import pydantic
from fastapi import Depends, Header, Request
from fastapi.responses import Response

from fraudguard.api.exceptions import PayloadTooLargeError, UnsupportedMediaTypeError
from fraudguard.api.metrics import ServiceMetrics
from fraudguard.api.ratelimit import KeyRateLimiter
from fraudguard.auth import ApiKey, ApiKeys, Role
from fraudguard.decisions import DecisionLog, DecisionWriter, LoopDecisionWriter, Recorded
from fraudguard.exceptions import FieldProblem, FraudGuardError, InputError, UnavailableError
from fraudguard.schema import Decision, RechargeEvent, field_problems
from fraudguard.scoring import Scorer

__all__ = [
    "MAX_BODY_BYTES",
    "SCORING_ROLES",
    "AnalystRole",
    "JsonBody",
    "LogDep",
    "MetricsDep",
    "RequireRole",
    "ScorerDep",
    "ScorerRole",
    "Services",
    "ServicesDep",
    "admit",
    "check_body_size",
    "check_json_headers",
    "decode_json_object",
    "json_response",
    "parse_body",
]

#: Largest request body accepted (a full batch of 500 events fits easily).
MAX_BODY_BYTES = 1024 * 1024
#: Deepest JSON nesting accepted; the contract is three levels deep.
MAX_DEPTH = 32


@dataclass
class Services:
    scorer: Scorer
    log: DecisionLog
    writer: DecisionWriter | LoopDecisionWriter
    keys: ApiKeys
    metrics: ServiceMetrics
    limiter: KeyRateLimiter

    async def settle(self, events: list[RechargeEvent]) -> list[Recorded]:
        """Decide and store ``events`` through the group-commit writer; each result is the
        decision or the error to answer with, known once the group is committed."""
        results = await self.writer.settle(events)
        for result in results:
            if not isinstance(result, Decision | FraudGuardError):
                raise result  # unexpected: answered with a bare 500 and logged
        return results  # type: ignore[return-value]


# Dependencies are async: FastAPI runs a plain ``def`` dependency in a worker thread.
async def get_services(request: Request) -> Services:
    services: Services | None = getattr(request.app.state, "services", None)
    if services is None:
        raise UnavailableError("the service is starting")
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_scorer(services: ServicesDep) -> Scorer:
    return services.scorer


async def get_log(services: ServicesDep) -> DecisionLog:
    return services.log


async def get_metrics(services: ServicesDep) -> ServiceMetrics:
    return services.metrics


ScorerDep = Annotated[Scorer, Depends(get_scorer)]
LogDep = Annotated[DecisionLog, Depends(get_log)]
MetricsDep = Annotated[ServiceMetrics, Depends(get_metrics)]


def admit(services: Services, authorization: str | None, roles: tuple[Role, ...]) -> ApiKey:
    """The caller's key if it may use a route open to ``roles``, counted against its rate
    limit: 401 without a known key, 403 for another role, 429 over the limit."""
    key = services.keys.authenticate(authorization)
    services.keys.authorise(key.role, roles)
    services.limiter.hit(key.key_id)
    return key


#: Who may score orders (``POST /v1/score``, its fast path, and the batch route).
SCORING_ROLES = (Role.SCORER, Role.ADMIN)


class RequireRole:
    """A dependency admitting keys of ``roles`` (:func:`admit`); it answers the role and
    leaves the key on ``request.state.api_key``."""

    def __init__(self, *roles: Role) -> None:
        self.roles = roles

    # async: keys are held in memory, so this runs on the event loop, not a thread hop.
    async def __call__(
        self,
        request: Request,
        services: ServicesDep,
        authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
    ) -> Role:
        key = admit(services, authorization, self.roles)
        request.state.api_key = key  # the batch route charges its extra events to it
        return key.role


ScorerRole = Annotated[Role, Depends(RequireRole(*SCORING_ROLES))]
AnalystRole = Annotated[Role, Depends(RequireRole(Role.SCORER, Role.ANALYST, Role.ADMIN))]


def _bad_body(message: str) -> InputError:
    return InputError("the request body is not valid JSON", [FieldProblem("body", message)])


def _depth(value: Any, limit: int) -> int:
    """How deeply ``value`` nests (a scalar is 1), counted no further than ``limit + 1``."""
    deepest = 0
    level = [value]
    while level and deepest <= limit:
        deepest += 1
        inner: list[Any] = []
        for item in level:
            kind = type(item)
            # orjson gives plain dicts and lists: no isinstance needed.
            if kind is dict:
                inner.extend(v for v in item.values() if type(v) is dict or type(v) is list)
            elif kind is list:
                inner.extend(v for v in item if type(v) is dict or type(v) is list)
        level = inner
    return deepest + 1 if level else deepest


def check_json_headers(content_type: str, content_length: str | None) -> None:
    """415 unless the body is JSON; 413 when it says it is above 1 MiB."""
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise UnsupportedMediaTypeError(
            "send the body as JSON",
            [FieldProblem("content-type", "must be application/json")],
        )
    if content_length is not None and content_length.isdigit():
        check_body_size(int(content_length))


def check_body_size(size: int) -> None:
    """413 above ``MAX_BODY_BYTES`` (checked as the body arrives, whatever it declared)."""
    if size > MAX_BODY_BYTES:
        raise PayloadTooLargeError(f"the body is larger than {MAX_BODY_BYTES} bytes")


def decode_json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object; 422 if malformed, not an object, nested too deeply, with a
    key twice in one object, or with a number that is not finite."""
    try:
        # orjson is strict RFC 8259: NaN, Infinity, numbers beyond a double, lone surrogates
        # and invalid UTF-8 are refused, and nesting stops at 1024 levels.
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise _undecodable(body) from None
    if not isinstance(data, dict):
        raise _bad_body("must be a JSON object")
    if _depth(data, MAX_DEPTH) > MAX_DEPTH:
        raise _bad_body(f"nested deeper than {MAX_DEPTH} levels")
    if _key_tokens(body) > _key_count(data):
        _refuse_repeated_keys(body)
    return data


#: A key's closing quote and its colon with whitespace between (``"a" : 1``).
_SPACED_COLON = re.compile(rb'"[ \t\r\n]+:')


def _key_tokens(body: bytes) -> int:
    """At least the number of keys written in ``body``: each key ends in ``":`` (or a
    quote, whitespace and a colon); a string value holding ``":`` only adds to it."""
    return body.count(b'":') + (len(_SPACED_COLON.findall(body)) if b'" ' in body else 0)


def _key_count(value: Any) -> int:
    """Keys in the parsed value: fewer than written means a key was repeated (the last one
    won in the parse, where another parser of the same body may take the first)."""
    kind = type(value)
    if kind is dict:
        return len(value) + sum(_key_count(v) for v in value.values())
    if kind is list:
        return sum(_key_count(v) for v in value)
    return 0


class _RepeatedKeyError(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _no_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _RepeatedKeyError(key)
        seen[key] = value
    return seen


def _refuse_repeated_keys(body: bytes) -> None:
    """422 naming the first key written twice in one object (the cheap count only says
    one may be)."""
    try:
        json.loads(body, object_pairs_hook=_no_repeats)
    except _RepeatedKeyError as repeated:
        raise InputError(
            "the request body is not valid JSON",
            [FieldProblem(repeated.key, "appears twice in one object: send each key once")],
        ) from None


class _NotFinite:
    """Stands in for NaN, Infinity or a number beyond a double while locating it."""


def _not_finite_float(text: str) -> float | _NotFinite:
    number = float(text)
    return number if math.isfinite(number) else _NotFinite()


def _not_finite_int(text: str) -> int | _NotFinite:
    number = int(text)
    return number if -(2**63) <= number < 2**64 else _NotFinite()


def _path_to_not_finite(value: Any, path: str) -> str | None:
    if isinstance(value, _NotFinite):
        return path or "body"
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, item in items:
        found = _path_to_not_finite(item, f"{path}.{key}" if path else str(key))
        if found is not None:
            return found
    return None


def _undecodable(body: bytes) -> InputError:
    """Why orjson refused ``body``: a named field for a number that is not finite, else
    the generic reason (malformed JSON, invalid UTF-8)."""
    try:
        lenient = json.loads(
            body,
            parse_constant=lambda _name: _NotFinite(),
            parse_float=_not_finite_float,
            parse_int=_not_finite_int,
        )
    except (ValueError, RecursionError):
        return _bad_body("must be a JSON object in UTF-8")
    where = _path_to_not_finite(lenient, "")
    if where is None:
        return _bad_body("must be a JSON object in UTF-8")
    return InputError(
        "the request body is not valid JSON",
        [FieldProblem(where, "not a finite number (NaN, Infinity and overflows are refused)")],
    )


async def json_body(request: Request) -> dict[str, Any]:
    """The body as a JSON object: 415 unless JSON, 413 above 1 MiB, 422 if malformed."""
    check_json_headers(
        request.headers.get("content-type", ""), request.headers.get("content-length")
    )
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        check_body_size(size)
        chunks.append(chunk)
    return decode_json_object(b"".join(chunks))


JsonBody = Annotated[dict[str, Any], Depends(json_body)]

M = TypeVar("M", bound=pydantic.BaseModel)


def parse_body(model: type[M], body: dict[str, Any], what: str) -> M:
    """``body`` (a :data:`JsonBody`) as ``model``; a 422 ``the <what> is invalid`` naming
    each bad field otherwise."""
    try:
        return model.model_validate(body)
    except pydantic.ValidationError as exc:
        raise InputError(f"the {what} is invalid", field_problems(exc)) from None


def json_response(model: pydantic.BaseModel, status_code: int = 200) -> Response:
    """``model`` as the JSON answer, with its ``ETag`` when it has one (a change-control
    version): serialised by pydantic once, not validated again by FastAPI."""
    etag = getattr(model, "etag", None)
    return Response(
        model.model_dump_json(),
        status_code=status_code,
        media_type="application/json",
        headers={"ETag": etag} if isinstance(etag, str) else None,
    )
