"""``POST /v1/score`` is served ahead of FastAPI's router: what it must still do alike."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from fastapi.testclient import TestClient

from fraudguard.api import create_app
from fraudguard.config import Settings
from tests.api.conftest import auth, running
from tests.scoring.conftest import event_body


def test_other_methods_on_the_path_are_405_naming_post(client: TestClient) -> None:
    response = client.get("/v1/score", headers=auth())
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["error"] == "method_not_allowed"


def test_the_key_is_checked_before_the_body_is_read(client: TestClient) -> None:
    response = client.post("/v1/score", content=b"not json", headers={"Content-Type": "text/plain"})
    assert response.status_code == 401
    assert response.json()["error"] == "unauthenticated"


def test_a_reviewer_key_may_not_score(client: TestClient) -> None:
    response = client.post(
        "/v1/score", json=event_body(transaction_id="ep-1"), headers=auth("reviewer")
    )
    assert response.status_code == 403
    assert "scorer" in response.json()["message"]


def test_the_route_answers_behind_a_proxy_that_strips_a_prefix(settings: Settings) -> None:
    """``uvicorn --root-path /fraudguard``: the proxy forwards ``/v1/score``, and uvicorn
    hands the app ``/fraudguard/v1/score`` with that root path."""
    with running(create_app(settings), root_path="/fraudguard") as base:
        response = httpx.post(
            f"{base}/v1/score", json=event_body(transaction_id="ep-root"), headers=auth()
        )
        assert response.status_code == 200, response.text
        assert response.json()["transaction_id"] == "ep-root"
        metrics = httpx.get(f"{base}/metrics").text
        assert 'route="/v1/score",status="200"' in metrics


def test_a_body_sent_in_pieces_is_scored_and_one_over_the_limit_is_413(
    client: TestClient,
) -> None:
    import orjson

    body = orjson.dumps(event_body(transaction_id="ep-chunks"))
    pieces = [body[i : i + 50] for i in range(0, len(body), 50)]
    response = client.post(
        "/v1/score",
        content=iter(pieces),  # chunked: no Content-Length to trust
        headers={**auth(), "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    too_big = iter([b"{" + b" " * (1024 * 1024), b"}"])
    response = client.post(
        "/v1/score", content=too_big, headers={**auth(), "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"


def test_a_caller_that_hangs_up_mid_body_gets_nothing_and_breaks_nothing(
    client: TestClient,
) -> None:
    app: Any = client.app
    sent: list[dict[str, Any]] = []
    messages = iter(
        [
            {"type": "http.request", "body": b'{"transaction_id": ', "more_body": True},
            {"type": "http.disconnect"},
        ]
    )

    async def receive() -> dict[str, Any]:
        return next(messages)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "path": "/v1/score",
        "raw_path": b"/v1/score",
        "root_path": "",
        "scheme": "http",
        "query_string": b"",
        "headers": [
            (b"authorization", auth()["Authorization"].encode()),
            (b"content-type", b"application/json"),
        ],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
        "app": app,
    }
    asyncio.run(app(scope, receive, send))
    assert sent == []
    response = client.post("/v1/score", json=event_body(transaction_id="ep-after"), headers=auth())
    assert response.status_code == 200
