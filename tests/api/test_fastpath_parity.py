"""The fast path answers ``POST /v1/score`` exactly as FastAPI's router would.

``docs/adr/0001-score-fast-path.md`` lists what the plain-ASGI ``/v1/score``
(:mod:`fraudguard.api.fastpath`) must keep equal to the router. Here the same requests go
to it and to its *routed twin*: ``POST /v1/score`` written as an ordinary FastAPI route on
the same app, from the router's own dependencies (``ScorerRole``, ``JsonBody``,
``ServicesDep``: the key first, then the body, as the fast path checks them) and the
app's exception handlers, request id / metrics / log middleware. Status, the headers that
matter, the JSON body, the log line and the metrics must come out the same; where
``/v1/score/batch`` (a production route) refuses a request the same way, its answer must
match too. Any drift - a role no longer checked, a header or a field of the error body
lost, a check skipped - fails here.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.testclient import TestClient
from httpx import Response as HttpResponse

from fraudguard.api import create_app
from fraudguard.api.deps import JsonBody, ScorerRole, ServicesDep
from fraudguard.api.logs import JsonFormatter, scored_fields
from fraudguard.api.ratelimit import KeyRateLimiter
from fraudguard.exceptions import FraudGuardError
from fraudguard.schema import Decision, parse_event
from tests.api.conftest import KEYS, auth, service_settings
from tests.scoring.conftest import event_body

FAST = "/v1/score"
ROUTED = "/parity/v1/score"
BATCH = "/v1/score/batch"
JSON = {"Content-Type": "application/json"}
MIB = 1024 * 1024

#: Headers whose value must be equal on both paths (``x-request-id`` is checked apart: each
#: request sends its own).
COMPARED_HEADERS = ("content-type", "allow", "retry-after", "www-authenticate", "set-cookie")
#: Statuses every scoring route answers without being documented (FastAPI lists neither).
UNDOCUMENTED = {405, 500}


def add_routed_twin(app: FastAPI) -> None:
    """``POST /v1/score`` as a plain router route: what the fast path stands in for."""

    @app.post(ROUTED, include_in_schema=False)
    async def score_routed(
        request: Request, _role: ScorerRole, body: JsonBody, services: ServicesDep
    ) -> Response:
        event = parse_event(body)
        [result] = await services.settle([event])
        if isinstance(result, FraudGuardError):
            raise result
        request.state.decision = result.decision.value
        request.state.log = scored_fields(event, result)
        return Response(result.model_dump_json(), media_type="application/json")


class _Lines(logging.Handler):
    """The app's log lines as JSON objects, formatted when emitted (with the request id)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(JsonFormatter())
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(orjson.loads(self.format(record)))

    def request_line(self, request_id: str) -> dict[str, Any]:
        [line] = [
            x for x in self.lines if x["message"] == "request" and x["request_id"] == request_id
        ]
        return line


@dataclass
class Service:
    app: FastAPI
    client: TestClient
    log: _Lines
    #: Every status the fast path answered in this module's tests.
    statuses: set[int] = field(default_factory=set)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, model_root: Path) -> Iterator[Service]:
    app = create_app(service_settings(tmp_path_factory.mktemp("parity"), model_root, rate_limit=""))
    add_routed_twin(app)
    lines = _Lines()
    logger = logging.getLogger("fraudguard.api")
    logger.addHandler(lines)
    try:
        # 500s answered, not raised: they are compared like any other answer.
        with TestClient(app, raise_server_exceptions=False) as client:
            yield Service(app, client, lines)
    finally:
        logger.removeHandler(lines)


_orders = itertools.count(1)


def fresh_order(**changes: Any) -> dict[str, Any]:
    """A genuine order with an id not sent before (so it is scored, not replayed)."""
    return event_body(transaction_id=f"parity-{next(_orders)}", **changes)


@dataclass(frozen=True)
class Case:
    """One request, sent alike to each path; ``body`` makes its content (each call a fresh
    order where the order is scored)."""

    name: str
    headers: dict[str, str]
    body: Callable[[], bytes | Iterator[bytes] | None]
    method: str = "POST"
    #: /v1/score/batch refuses it the same way (before reading what the events are).
    batch_alike: bool = False


def _json(value: Any) -> Callable[[], bytes]:
    return lambda: orjson.dumps(value)


def _order(**changes: Any) -> Callable[[], bytes]:
    return lambda: orjson.dumps(fresh_order(**changes))


def _without(name: str) -> Callable[[], bytes]:
    def body() -> bytes:
        order = fresh_order()
        del order[name]
        return orjson.dumps(order)

    return body


def _nested(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


SCORER = {**JSON, **auth()}
FORM = "application/x-www-form-urlencoded"

CASES = [
    Case("no key", JSON, _order(), batch_alike=True),
    Case("unknown key", {**JSON, "Authorization": "Bearer nope-nope"}, _order(), batch_alike=True),
    Case("not a bearer key", {**JSON, "Authorization": f"Basic {KEYS['scorer']}"}, _order()),
    Case("reviewer key", {**JSON, **auth("reviewer")}, _order(), batch_alike=True),
    Case("analyst key", {**JSON, **auth("analyst")}, _order(), batch_alike=True),
    Case("no key, not JSON either", {"Content-Type": "text/plain"}, lambda: b"hello"),
    Case("text/plain", {**auth(), "Content-Type": "text/plain"}, _order(), batch_alike=True),
    Case("no content type", auth(), _order(), batch_alike=True),
    Case("form content type", {**auth(), "Content-Type": FORM}, lambda: b"a=1", batch_alike=True),
    Case("JSON; charset", {**auth(), "Content-Type": "application/json; charset=utf-8"}, _order()),
    Case("declared too large", SCORER, lambda: b"{" + b" " * MIB + b"}", batch_alike=True),
    Case("too large in chunks", SCORER, lambda: iter([b"{", b" " * MIB, b"}"]), batch_alike=True),
    Case("bad JSON", SCORER, lambda: b'{"transaction_id": ', batch_alike=True),
    Case("empty body", SCORER, lambda: b"", batch_alike=True),
    Case("invalid UTF-8", SCORER, lambda: b'{"a": "\xff"}', batch_alike=True),
    Case("NaN", SCORER, lambda: b'{"amount": NaN}', batch_alike=True),
    Case("a JSON array", SCORER, _json([fresh_order()]), batch_alike=True),
    Case("nested too deep", SCORER, lambda: _nested(40), batch_alike=True),
    Case("unknown field", SCORER, _order(surprise=1)),
    Case("missing field", SCORER, _without("msisdn")),
    Case("bad values", SCORER, _order(amount=-5, channel="pigeon")),
    Case("valid, scorer key", SCORER, _order()),
    Case("valid, admin key", {**JSON, **auth("admin")}, _order()),
    Case("GET", auth(), lambda: None, method="GET", batch_alike=True),
    Case("PUT", SCORER, _order(), method="PUT", batch_alike=True),
]


def send(client: TestClient, method: str, path: str, case: Case, request_id: str) -> HttpResponse:
    headers = {**case.headers, "X-Request-ID": request_id}
    response: HttpResponse = client.request(method, path, headers=headers, content=case.body())
    return response


#: What differs from one order to the next, in a decision and on its log line: each
#: path scores an order of its own, and the velocity state moves between them.
BY_ORDER = frozenset({"transaction_id", "case_id", "decision", "score", "reasons"})


def _blurred(values: dict[str, Any], keys: frozenset[str]) -> dict[str, Any]:
    """``values`` with those of ``keys`` left out, their names kept."""
    return {k: "<varies>" if k in keys else v for k, v in values.items()}


def answer(response: HttpResponse) -> dict[str, Any]:
    """What must be equal: status, the compared headers, and the body - in full for an
    error; for a decision, its fields and all values but those of the order itself."""
    body: Any = response.json() if response.content else None
    if response.status_code == 200:
        Decision.model_validate(body)  # a decision, on both paths
        body = _blurred(body, BY_ORDER)
    return {
        "status": response.status_code,
        "headers": {h: response.headers.get(h) for h in COMPARED_HEADERS},
        "body": body,
    }


def log_line(service: Service, request_id: str) -> dict[str, Any]:
    """The request's log line; what differs by design (time, duration, route, request id)
    or by order (:data:`BY_ORDER`) is blurred, the fields must all be there."""
    by_design = frozenset({"time", "duration_ms", "route", "request_id"})
    return _blurred(service.log.request_line(request_id), by_design | BY_ORDER)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_fast_path_answers_as_the_router(service: Service, case: Case) -> None:
    slug = re.sub(r"\W+", "-", case.name)
    fast = send(service.client, case.method, FAST, case, f"fast-{slug}")
    routed = send(service.client, case.method, ROUTED, case, f"routed-{slug}")
    service.statuses.add(fast.status_code)
    assert answer(fast) == answer(routed)
    assert fast.headers["x-request-id"] == f"fast-{slug}"
    assert routed.headers["x-request-id"] == f"routed-{slug}"
    assert log_line(service, f"fast-{slug}") == log_line(service, f"routed-{slug}")
    if case.batch_alike:
        batch = send(service.client, case.method, BATCH, case, f"batch-{slug}")
        assert answer(fast) == answer(batch)


def _request_counts(service: Service, route: str) -> Counter[tuple[str, str]]:
    """``fraudguard_requests_total`` for ``route`` by (decision, status)."""
    text = service.client.get("/metrics").text
    counts: Counter[tuple[str, str]] = Counter()
    pattern = re.compile(
        r'^fraudguard_requests_total\{decision="([^"]*)",route="([^"]*)",status="(\d+)"\} (\S+)$'
    )
    for match in map(pattern.match, text.splitlines()):
        if match and match.group(2) == route:
            counts[(match.group(1), match.group(3))] += int(float(match.group(4)))
    return counts


def test_metrics_count_both_paths_alike_under_their_route(service: Service) -> None:
    before = {path: _request_counts(service, path) for path in (FAST, ROUTED)}
    for case in CASES:
        for path in (FAST, ROUTED):
            send(service.client, case.method, path, case, f"metrics-{path}-{case.name}")
    fast = _request_counts(service, FAST) - before[FAST]
    routed = _request_counts(service, ROUTED) - before[ROUTED]
    assert fast.total() == len(CASES), "the fast path's requests are not all counted"
    assert fast == routed


def test_replays_and_conflicts_answer_alike(service: Service) -> None:
    order = fresh_order()
    headers = SCORER
    first = service.client.post(FAST, content=orjson.dumps(order), headers=headers)
    assert first.status_code == 200
    # The same order again replays the stored decision, through either path.
    for path in (ROUTED, FAST):
        again = service.client.post(path, content=orjson.dumps(order), headers=headers)
        assert (again.status_code, again.content) == (200, first.content)
    # Another body under the same id is a conflict, answered alike.
    changed = orjson.dumps({**order, "amount": 50.0})
    fast = service.client.post(FAST, content=changed, headers=headers)
    routed = service.client.post(ROUTED, content=changed, headers=headers)
    service.statuses.add(fast.status_code)
    assert fast.status_code == 409
    assert answer(fast) == answer(routed)
    # And an order first stored by the router replays through the fast path.
    other = fresh_order()
    stored = service.client.post(ROUTED, content=orjson.dumps(other), headers=headers)
    replayed = service.client.post(FAST, content=orjson.dumps(other), headers=headers)
    assert (replayed.status_code, replayed.content) == (200, stored.content)


def test_a_key_over_its_rate_limit_hears_the_same_429(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = service.app.state.services
    monkeypatch.setattr(services, "limiter", KeyRateLimiter("2/hour"))
    headers = SCORER
    for path in (FAST, ROUTED):  # the key's budget, spent one request on each path
        ok = service.client.post(path, content=orjson.dumps(fresh_order()), headers=headers)
        assert ok.status_code == 200
    order = orjson.dumps(fresh_order())
    fast = service.client.post(FAST, content=order, headers=headers)
    routed = service.client.post(ROUTED, content=order, headers=headers)
    service.statuses.add(fast.status_code)
    assert fast.status_code == 429
    retry_fast, retry_routed = int(fast.headers["retry-after"]), int(routed.headers["retry-after"])
    assert abs(retry_fast - retry_routed) <= 1  # the same window, read a moment apart

    def without_wait(response: HttpResponse) -> dict[str, Any]:
        seen = answer(response)
        seen["headers"].pop("retry-after")
        seen["body"]["message"] = re.sub(r"after \d+ s", "after N s", seen["body"]["message"])
        return seen

    assert without_wait(fast) == without_wait(routed)
    # Refused before scoring: the order is in no log.
    assert services.log.find(parse_event(orjson.loads(order))) is None


def test_a_service_still_starting_is_503_on_both(service: Service) -> None:
    services = service.app.state.services
    service.app.state.services = None  # as before start-up is over
    try:
        case = Case("starting", SCORER, _order())
        fast = send(service.client, "POST", FAST, case, "fast-starting")
        routed = send(service.client, "POST", ROUTED, case, "routed-starting")
    finally:
        service.app.state.services = services
    service.statuses.add(fast.status_code)
    assert fast.status_code == 503
    assert answer(fast) == answer(routed)


def test_a_decision_log_that_is_away_is_503_on_both(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import OperationalError

    from fraudguard.db import database_errors

    def log_away(*_args: object, **_kwargs: object) -> None:
        with database_errors():
            raise OperationalError("INSERT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(service.app.state.services.log, "settle", log_away)
    case = Case("log away", SCORER, _order())
    fast = send(service.client, "POST", FAST, case, "fast-log-away")
    routed = send(service.client, "POST", ROUTED, case, "routed-log-away")
    service.statuses.add(fast.status_code)
    assert fast.status_code == 503
    assert answer(fast) == answer(routed)
    assert log_line(service, "fast-log-away") == log_line(service, "routed-log-away")


def test_an_unexpected_error_is_the_same_bare_500(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("a secret detail")

    monkeypatch.setattr(service.app.state.services.scorer, "score_one", explode)
    case = Case("boom", SCORER, _order())
    fast = send(service.client, "POST", FAST, case, "fast-boom")
    routed = send(service.client, "POST", ROUTED, case, "routed-boom")
    assert fast.status_code == 500
    assert answer(fast) == answer(routed)
    assert "secret" not in fast.text


def test_the_openapi_document_describes_the_fast_path(service: Service) -> None:
    """Documented like the router's routes: its request body and every status it answered
    in these tests (a route FastAPI mounts gets neither 405 nor 500 listed)."""
    operation = service.client.get("/openapi.json").json()["paths"][FAST]["post"]
    content = operation["requestBody"]["content"]["application/json"]
    assert content["schema"] == {"$ref": "#/components/schemas/RechargeEvent"}
    ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/Decision"}
    documented = {int(code) for code in operation["responses"]}
    assert service.statuses - UNDOCUMENTED <= documented
    batch = service.client.get("/openapi.json").json()["paths"][BATCH]["post"]
    assert set(operation["responses"]) == set(batch["responses"])
