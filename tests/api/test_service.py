from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from fraudguard.api import create_app
from fraudguard.schema import MAX_BATCH_EVENTS
from tests.api.conftest import auth, service_settings
from tests.scoring.conftest import event_body

PHONE = "18912345678"


def _score(client: TestClient, body: dict[str, Any], role: str = "scorer") -> Any:
    return client.post("/v1/score", json=body, headers=auth(role))


def test_score_allows_a_plain_order(client: TestClient) -> None:
    response = _score(client, event_body())
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["transaction_id"] == "ord-1"
    assert body["decision"] == "allow"
    assert body["model_version"] is not None
    assert body["degraded"] is False
    assert body["ruleset_version"].startswith("sha256:")
    assert response.headers["X-Request-ID"]


def test_review_opens_a_case_and_retries_are_idempotent(client: TestClient) -> None:
    body = event_body(transaction_id="ord-fd", promotion={"code": "VIP-HALF"})
    first = _score(client, body)
    assert first.status_code == 200
    decision = first.json()
    assert decision["decision"] in {"review", "block"}
    assert decision["case_id"].startswith("case-")
    assert decision["reasons"][0]["source"] == "rule:FD-001"
    again = _score(client, body)
    assert again.json() == decision
    log = client.app.state.services.log  # type: ignore[attr-defined]
    assert log.count_cases() == 1


def test_same_id_other_body_is_409(client: TestClient) -> None:
    assert _score(client, event_body(transaction_id="ord-c")).status_code == 200
    response = _score(client, event_body(transaction_id="ord-c", amount=50))
    assert response.status_code == 409
    assert response.json()["error"] == "conflict"


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Bearer not-a-known-key"}, 401),
        ({"Authorization": "Basic c2NvcmVyOmtleQ=="}, 401),
        (auth("analyst"), 403),
        (auth("reviewer"), 403),
        (auth("scorer"), 200),
        (auth("admin"), 200),
    ],
)
def test_score_auth(client: TestClient, headers: dict[str, str], status: int) -> None:
    response = client.post("/v1/score", json=event_body(), headers=headers)
    assert response.status_code == status
    if status != 200:
        assert response.json()["error"] in {"unauthenticated", "forbidden"}


@pytest.mark.parametrize(
    ("role", "status"), [("scorer", 200), ("analyst", 200), ("admin", 200), ("reviewer", 403)]
)
def test_verify_auth(client: TestClient, role: str, status: int) -> None:
    response = client.post("/v1/promotions/verify", json=_claim(), headers=auth(role))
    assert response.status_code == status


def test_422_names_fields_without_echoing_values(client: TestClient) -> None:
    bad_phone = "12912345678"
    body = event_body(msisdn=bad_phone, amount=-5, channel="kiosk", colour="red")
    body["payment"]["card_bin"] = "62x"
    response = _score(client, body)
    assert response.status_code == 422
    payload = response.json()
    assert payload["error"] == "invalid_input"
    fields = {p["field"] for p in payload["problems"]}
    assert {"msisdn", "amount", "channel", "colour", "payment.card_bin"} <= fields
    assert bad_phone not in response.text
    assert "62x" not in response.text
    assert "kiosk" not in response.text


def test_far_future_event_is_422(client: TestClient) -> None:
    later = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    response = _score(client, event_body(transaction_id="ord-future", event_time=later))
    assert response.status_code == 422
    assert response.json()["problems"][0]["field"] == "event_time"


def test_batch_keeps_order_and_reports_items(client: TestClient) -> None:
    events = [
        event_body(transaction_id="b-1"),
        event_body(transaction_id="b-2", msisdn="123"),
        "not an object",
        event_body(transaction_id="b-4", promotion={"code": "VIP-HALF"}),
        event_body(transaction_id="b-1", amount=20),  # same id, other body
    ]
    response = client.post("/v1/score/batch", json={"events": events}, headers=auth())
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert len(results) == 5
    assert results[0]["transaction_id"] == "b-1"
    assert results[0]["decision"] == "allow"
    assert results[1] == {
        "index": 1,
        "transaction_id": "b-2",
        "error": "invalid_input",
        "problems": [{"field": "msisdn", "message": results[1]["problems"][0]["message"]}],
    }
    assert "123" not in json.dumps(results[1]["problems"])
    assert results[2]["index"] == 2
    assert results[2]["error"] == "invalid_input"
    assert results[3]["transaction_id"] == "b-4"
    assert results[3]["case_id"].startswith("case-")
    assert results[4]["error"] == "conflict"


def test_batch_limit(client: TestClient) -> None:
    events = [event_body(transaction_id=f"x-{i}") for i in range(MAX_BATCH_EVENTS + 1)]
    response = client.post("/v1/score/batch", json={"events": events}, headers=auth())
    assert response.status_code == 422
    assert response.json()["problems"][0]["field"] == "events"
    empty = client.post("/v1/score/batch", json={"events": []}, headers=auth())
    assert empty.status_code == 422


def _claim(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "msisdn": PHONE,
        "channel": "operator_app",
        "platform": {"app_package": "com.chinatelecom.bestpayclient"},
        "promotion": {"code": "DX-DOUBLE11", "discount": 10.0},
        "amount": 100.0,
        "paid_amount": 100.0,
        "event_time": "2026-11-05T10:00:00+08:00",
    }
    body.update(changes)
    return body


@pytest.mark.parametrize(
    ("changes", "verdict"),
    [
        ({}, "genuine"),
        ({"promotion": {"code": "VIP-HALF"}, "paid_amount": 50.0}, "fake"),
        ({"platform": {"url": "https://10086-cz.com/pay"}}, "fake"),
        ({"promotion": {"description": "充值活动"}}, "unknown"),
    ],
)
def test_verify_promotion(client: TestClient, changes: dict[str, Any], verdict: str) -> None:
    response = client.post("/v1/promotions/verify", json=_claim(**changes), headers=auth())
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["verdict"] == verdict
    if verdict == "genuine":
        assert body["matched_promotion"]["code"] == "DX-DOUBLE11"
    if verdict == "fake":
        assert body["reasons"]
        assert {r["family"] for r in body["reasons"]} <= {"fake_discount", "suspicious_platform"}


def test_verify_422(client: TestClient) -> None:
    response = client.post(
        "/v1/promotions/verify", json=_claim(msisdn="99"), headers=auth("analyst")
    )
    assert response.status_code == 422
    assert response.json()["problems"][0]["field"] == "msisdn"


def test_metrics_after_a_request(client: TestClient) -> None:
    _score(client, event_body(transaction_id="m-1", promotion={"code": "VIP-HALF"}))
    text = client.get("/metrics").text
    assert 'fraudguard_requests_total{decision="' in text
    assert 'route="/v1/score"' in text
    assert 'fraudguard_request_seconds_bucket{decision="' in text
    assert 'fraudguard_rule_hits_total{mode="active",rule_id="FD-001"} 1.0' in text
    assert "fraudguard_model_info{" in text
    assert "fraudguard_degraded 0.0" in text


def test_health_and_docs(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["degraded"] is False
    assert ready.json()["database"] == "ok"
    assert client.get("/docs").status_code == 200
    schema = client.get("/openapi.json").json()
    assert "/v1/score" in schema["paths"]


def test_readyz_degraded_without_model(tmp_path: Path) -> None:
    settings = service_settings(tmp_path, tmp_path / "empty-registry")
    with TestClient(create_app(settings)) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["status"] == "degraded"
        assert ready.json()["degraded"] is True
        assert ready.json()["model_version"] is None
        decision = _score(client, event_body()).json()
        assert decision["degraded"] is True
        assert decision["model_version"] is None
        assert "fraudguard_degraded 1.0" in client.get("/metrics").text


def test_fail_closed_without_model_reviews(tmp_path: Path) -> None:
    settings = service_settings(tmp_path, tmp_path / "empty-registry", failure_policy="fail_closed")
    with TestClient(create_app(settings)) as client:
        decision = _score(client, event_body()).json()
    assert decision["decision"] == "review"
    assert decision["reasons"][-1]["code"] == "MODEL.UNAVAILABLE"
    assert decision["case_id"].startswith("case-")


def test_unexpected_error_is_a_bare_500(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        scorer = app.state.services.scorer

        def explode(*_args: object, **_kwargs: object) -> None:
            raise RuntimeError(f"secret detail {PHONE}")

        monkeypatch.setattr(scorer, "score_one", explode)
        response = _score(client, event_body(transaction_id="boom"))
    assert response.status_code == 500
    assert response.json() == {"error": "internal", "message": "internal error", "problems": []}
    assert PHONE not in response.text


def test_real_http(settings: Any) -> None:
    import socket
    import threading
    import time

    import httpx
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="error")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while not server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            response = http.post("/v1/score", json=event_body(), headers=auth())
            assert response.status_code == 200
            assert response.json()["decision"] == "allow"
            assert http.get("/readyz").json()["status"] == "ready"
            assert http.post("/v1/score", content=b"{", headers=auth()).status_code == 415
    finally:
        server.should_exit = True
        thread.join(timeout=10)
