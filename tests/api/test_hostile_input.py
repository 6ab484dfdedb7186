"""Anything a client can send gives a 4xx, never a 500."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from fraudguard.api import create_app
from fraudguard.config import Settings
from tests.api.conftest import auth
from tests.scoring.conftest import event_body

JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def lenient(tmp_path_factory: pytest.TempPathFactory, model_root: object) -> Iterator[TestClient]:
    from tests.api.conftest import service_settings

    settings: Settings = service_settings(tmp_path_factory.mktemp("hostile"), model_root)  # type: ignore[arg-type]
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def _raw(client: TestClient, body: bytes, headers: dict[str, str] | None = None) -> int:
    response = client.post("/v1/score", content=body, headers={**auth(), **JSON, **(headers or {})})
    assert "18912345678" not in response.text
    return response.status_code


_BASE = event_body()
_BIG_INT = "1" + "0" * 400
HOSTILE: list[bytes] = [
    b"",
    b"{",
    b"null",
    b"[]",
    b'"text"',
    b"{}",
    b"\xff\xfe\x00garbage",
    b'{"transaction_id": "\xff\xfe"}',
    b'{"amount": NaN}',
    b'{"amount": Infinity}',
    b'{"amount": 1e999}',
    ('{"amount": ' + _BIG_INT + "}").encode(),
    ('{"amount": ' + "9" * 5000 + "}").encode(),
    b"[" * 100_000 + b"]" * 100_000,
    b'{"a":' * 5_000 + b"1" + b"}" * 5_000,
    b'{"transaction_id": "\\ud800\\udfff\\ud800"}',
    '{"transaction_id": "订单\u202e\u0000", "msisdn": "18912345678"}'.encode(),
]


@pytest.mark.parametrize("body", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_bodies_are_4xx(lenient: TestClient, body: bytes) -> None:
    assert 400 <= _raw(lenient, body) < 500


@pytest.mark.parametrize(
    "changes",
    [
        {"amount": 10**400},
        {"amount": 1e308},
        {"amount": True},
        {"amount": "100"},
        {"paid_amount": 200},
        {"event_time": "yesterday"},
        {"event_time": "2026-11-24T09:30:00"},  # no offset
        {"event_time": "9999-12-31T23:59:59+14:00"},
        {"event_time": "0001-01-01T00:00:00-12:00"},
        {"transaction_id": "x" * 10_000},
        {"transaction_id": "订单"},
        {"transaction_id": 12},
        {"msisdn": "\u0661\u0668\u0669\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668"},
        {"channel": ["operator_app"]},
        {"platform": "app"},
        {"network": {"ip": "999.1.1.1"}},
        {"attributes": {"k" * 100: 1}},
        {"attributes": {"nested": {"a": 1}}},
        {"promotion": {"discount": -1}},
    ],
    ids=str,
)
def test_hostile_fields_are_4xx(lenient: TestClient, changes: dict[str, object]) -> None:
    # Some of these are accepted (pydantic's lax mode takes ``true`` as 1); none may crash.
    body = {**_BASE, **changes, "transaction_id": changes.get("transaction_id", str(changes)[:40])}
    body["transaction_id"] = changes.get("transaction_id", f"h-{abs(hash(str(changes)))}")
    response = lenient.post("/v1/score", json=body, headers=auth())
    assert response.status_code < 500, response.text


def test_wrong_content_type_is_415(lenient: TestClient) -> None:
    response = lenient.post(
        "/v1/score", content=b"a=1", headers={**auth(), "Content-Type": "text/plain"}
    )
    assert response.status_code == 415
    missing = lenient.post("/v1/score", content=b"{}", headers=auth())
    assert missing.status_code == 415


def test_oversized_body_is_413(lenient: TestClient) -> None:
    body = b'{"pad": "' + b"x" * (1024 * 1024 + 10) + b'"}'
    assert _raw(lenient, body) == 413


def test_unknown_route_and_method(lenient: TestClient) -> None:
    assert lenient.get("/v1/nothing").status_code == 404
    assert lenient.get("/v1/score", headers=auth()).status_code == 405
    assert lenient.get("/v1/nothing").json()["error"] == "not_found"


def test_batch_with_hostile_items(lenient: TestClient) -> None:
    body = {"events": [None, 1, [], {"amount": 10**400}, {**_BASE, "transaction_id": "ok-1"}]}
    response = lenient.post("/v1/score/batch", json=body, headers=auth())
    assert response.status_code in {200, 422}
    bad = lenient.post("/v1/score/batch", json={"events": "x", "extra": 1}, headers=auth())
    assert bad.status_code == 422


def test_a_body_nested_too_deeply_is_refused_naming_the_body(lenient: TestClient) -> None:
    nested: object = 1
    for _ in range(40):
        nested = {"a": nested}
    body = {**_BASE, "attributes": {"deep": nested}}
    response = lenient.post("/v1/score", json=body, headers=auth())
    assert response.status_code == 422
    [problem] = response.json()["problems"]
    assert problem["field"] == "body"
    assert "nested deeper than 32 levels" in problem["message"]
