"""The app's services and the ``Annotated`` dependency aliases routes ask for."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Request

from fraudguard.api.auth import ApiKeys
from fraudguard.api.enums import Role
from fraudguard.api.exceptions import PayloadTooLargeError, UnsupportedMediaTypeError
from fraudguard.api.metrics import ServiceMetrics
from fraudguard.cases import DecisionLog
from fraudguard.exceptions import FieldProblem, InputError, UnavailableError
from fraudguard.scoring import Scorer

__all__ = [
    "MAX_BODY_BYTES",
    "AnalystRole",
    "JsonBody",
    "LogDep",
    "MetricsDep",
    "ScorerDep",
    "ScorerRole",
    "Services",
    "ServicesDep",
]

#: Largest request body accepted (a full batch of 500 events fits easily).
MAX_BODY_BYTES = 1024 * 1024
#: Deepest JSON nesting accepted; the contract is three levels deep.
MAX_DEPTH = 32


@dataclass
class Services:
    scorer: Scorer
    log: DecisionLog
    keys: ApiKeys
    metrics: ServiceMetrics


def get_services(request: Request) -> Services:
    services: Services | None = getattr(request.app.state, "services", None)
    if services is None:
        raise UnavailableError("the service is starting")
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_scorer(services: ServicesDep) -> Scorer:
    return services.scorer


def get_log(services: ServicesDep) -> DecisionLog:
    return services.log


def get_metrics(services: ServicesDep) -> ServiceMetrics:
    return services.metrics


ScorerDep = Annotated[Scorer, Depends(get_scorer)]
LogDep = Annotated[DecisionLog, Depends(get_log)]
MetricsDep = Annotated[ServiceMetrics, Depends(get_metrics)]


class _RequireRole:
    def __init__(self, *roles: Role) -> None:
        self.roles = roles

    def __call__(
        self,
        services: ServicesDep,
        authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
    ) -> Role:
        role = services.keys.authenticate(authorization)
        services.keys.authorise(role, self.roles)
        return role


ScorerRole = Annotated[Role, Depends(_RequireRole(Role.SCORER, Role.ADMIN))]
AnalystRole = Annotated[Role, Depends(_RequireRole(Role.SCORER, Role.ANALYST, Role.ADMIN))]


def _bad_body(message: str) -> InputError:
    return InputError("the request body is not valid JSON", [FieldProblem("body", message)])


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _depth(value: Any, limit: int) -> int:
    stack = [(value, 1)]
    deepest = 0
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > limit:
            return deepest
        if isinstance(item, dict):
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)
    return deepest


def _finite(value: str) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise ValueError("number out of range")
    return number


async def json_body(request: Request) -> dict[str, Any]:
    """The body as a JSON object: 415 unless JSON, 413 above 1 MiB, 422 if malformed."""
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise UnsupportedMediaTypeError(
            "send the body as JSON",
            [FieldProblem("content-type", "must be application/json")],
        )
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise PayloadTooLargeError(f"the body is larger than {MAX_BODY_BYTES} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise PayloadTooLargeError(f"the body is larger than {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    try:
        data = json.loads(b"".join(chunks), parse_constant=_refuse_constant, parse_float=_finite)
    except RecursionError:
        raise _bad_body("nested too deeply") from None
    except (ValueError, UnicodeDecodeError):
        raise _bad_body("must be a JSON object in UTF-8") from None
    if not isinstance(data, dict):
        raise _bad_body("must be a JSON object")
    if _depth(data, MAX_DEPTH) > MAX_DEPTH:
        raise _bad_body(f"nested deeper than {MAX_DEPTH} levels")
    return data


JsonBody = Annotated[dict[str, Any], Depends(json_body)]
