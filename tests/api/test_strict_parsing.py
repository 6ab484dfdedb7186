"""Strict parsing over real HTTP: what a caller's other parsers could read differently is
refused with a 422 that names the field, on every JSON route, and nothing personal is
echoed back whatever position it arrives in."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from fraudguard.api import create_app
from tests.api.conftest import auth, running, service_settings
from tests.scoring.conftest import event_body

pytestmark = pytest.mark.integration

PHONE = "13812345678"


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory, model_root: Path) -> Iterator[httpx.Client]:
    # The default bound on an order's age (90 days), not the suite's relaxed one.
    settings = service_settings(
        tmp_path_factory.mktemp("strict"), model_root, rate_limit="", max_event_age_days=90
    )
    with running(create_app(settings)) as base, httpx.Client(base_url=base, timeout=60) as client:
        yield client


def _now_body(**changes: Any) -> dict[str, Any]:
    """A genuine order placed now, under a transaction id of its own."""
    fresh = {"transaction_id": f"strict-{uuid.uuid4().hex[:12]}"}
    return event_body(**{"event_time": datetime.now(UTC).isoformat(), **fresh, **changes})


def _claim() -> dict[str, Any]:
    body = _now_body()
    kept = ("event_time", "msisdn", "amount", "channel", "platform")
    return {k: body[k] for k in kept if k in body} | {"promotion": {"code": "VIP-HALF"}}


def _post(client: httpx.Client, path: str, text: str, role: str = "scorer") -> httpx.Response:
    response = client.post(
        path,
        content=text.encode(),
        headers={**auth(role), "Content-Type": "application/json"},
    )
    assert PHONE not in response.text
    assert "5678" not in response.text or "****5678" in response.text
    return response


def _problems(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 422, response.text
    return {p["field"]: p["message"] for p in response.json()["problems"]}


def _with_duplicate(body: dict[str, Any], key: str, value: Any) -> str:
    """``body`` as JSON with ``key`` written once more at the end."""
    text = json.dumps(body)
    return text[:-1] + f", {json.dumps(key)}: {json.dumps(value)}" + "}"


@pytest.mark.parametrize(
    ("path", "role", "body"),
    [
        ("/v1/score", "scorer", _now_body),
        ("/v1/promotions/verify", "analyst", _claim),
    ],
)
def test_a_key_sent_twice_is_refused_naming_the_key(
    http: httpx.Client, path: str, role: str, body: Any
) -> None:
    response = _post(http, path, _with_duplicate(body(), "amount", 1), role)
    assert "amount" in _problems(response)
    assert "twice" in _problems(response)["amount"]


def test_a_key_sent_twice_inside_an_object_is_refused(http: httpx.Client) -> None:
    body = _now_body()
    body.pop("promotion", None)
    text = json.dumps(body)[:-1] + ', "promotion": {"code": "A", "code": "B"}}'
    assert "code" in _problems(_post(http, "/v1/score", text))


def test_a_key_sent_twice_in_a_batch_or_a_case_request_is_refused(http: httpx.Client) -> None:
    batch = '{"events": [], "events": [' + json.dumps(_now_body()) + "]}"
    assert "events" in _problems(_post(http, "/v1/score/batch", batch))
    assign = '{"assignee": "li.na", "assignee": null}'
    response = _post(http, "/v1/cases/case-000001/assign", assign, "reviewer")
    assert "assignee" in _problems(response)


def test_a_string_holding_quote_colon_is_not_a_repeated_key(http: httpx.Client) -> None:
    body = _now_body(attributes={"note": 'said "a": 1', "other": '"x":'})
    response = _post(http, "/v1/score", json.dumps(body))
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("field", ["amount", "paid_amount"])
def test_booleans_are_not_numbers(http: httpx.Client, field: str) -> None:
    response = _post(http, "/v1/score", json.dumps(_now_body(**{field: True})))
    assert "true or false" in _problems(response)[field]


def test_a_boolean_discount_is_refused(http: httpx.Client) -> None:
    body = _now_body(promotion={"code": "VIP-HALF", "discount": False})
    assert "promotion.discount" in _problems(_post(http, "/v1/score", json.dumps(body)))


@pytest.mark.parametrize(
    ("literal", "field"),
    [("NaN", "amount"), ("Infinity", "amount"), ("-Infinity", "paid_amount"), ("1e400", "amount")],
)
def test_a_number_that_is_not_finite_is_named(http: httpx.Client, literal: str, field: str) -> None:
    body = _now_body()
    body[field] = "__NUMBER__"
    text = json.dumps(body).replace('"__NUMBER__"', literal)
    assert _problems(_post(http, "/v1/score", text))[field].startswith("not a finite number")


def test_a_nested_number_that_is_not_finite_is_named_by_its_path(http: httpx.Client) -> None:
    body = _now_body(promotion={"code": "VIP-HALF", "discount": "__NUMBER__"})
    text = json.dumps(body).replace('"__NUMBER__"', "NaN")
    assert "promotion.discount" in _problems(_post(http, "/v1/score", text))


def test_a_phone_number_sent_as_a_key_is_masked(http: httpx.Client) -> None:
    body = _now_body()
    body[PHONE] = 1
    problems = _problems(_post(http, "/v1/score", json.dumps(body)))
    assert "138****5678" in problems


def test_a_phone_number_as_a_transaction_id_is_masked_in_batch_errors(http: httpx.Client) -> None:
    bad = _now_body(transaction_id=PHONE, amount=-1)
    response = _post(http, "/v1/score/batch", json.dumps({"events": [bad]}))
    assert response.status_code == 200, response.text
    (item,) = response.json()["results"]
    assert item["transaction_id"] == "138****5678"


def test_an_order_older_than_the_bound_is_refused_online(http: httpx.Client) -> None:
    old = datetime.now(UTC) - timedelta(days=91)
    response = _post(http, "/v1/score", json.dumps(_now_body(event_time=old.isoformat())))
    assert "90 days" in _problems(response)["event_time"]
    ancient = json.dumps(_now_body(event_time="0001-01-01T00:00:00-12:00"))
    assert "event_time" in _problems(_post(http, "/v1/score", ancient))
    recent = datetime.now(UTC) - timedelta(days=89)
    response = _post(http, "/v1/score", json.dumps(_now_body(event_time=recent.isoformat())))
    assert response.status_code == 200, response.text
