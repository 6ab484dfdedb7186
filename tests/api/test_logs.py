"""Structured logs: one JSON line per request, the scored order's fields on it, ids masked."""

from __future__ import annotations

import io
import json
import logging

from fastapi.testclient import TestClient

from fraudguard.api.logs import JsonFormatter
from fraudguard.privacy import mask
from tests.api.conftest import auth
from tests.scoring.conftest import event_body


def test_a_scored_order_is_one_json_line_with_its_ids_masked(client: TestClient) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("fraudguard.api")
    logger.addHandler(handler)
    body = event_body(
        transaction_id="log-1",
        payment={"payer_id": "payer-7f3a9c21", "instrument_id": "tok_5b1d77e0a4"},
    )
    try:
        response = client.post("/v1/score", json=body, headers={**auth(), "x-request-id": "r-1"})
    finally:
        logger.removeHandler(handler)
    assert response.status_code == 200
    text = stream.getvalue()
    lines = [json.loads(line) for line in text.splitlines()]
    [line] = [entry for entry in lines if entry["request_id"] == "r-1"]
    assert line["message"] == "request"
    assert (line["route"], line["status"], line["transaction_id"]) == ("/v1/score", 200, "log-1")
    assert line["decision"] == response.json()["decision"]
    assert line["msisdn"] == mask(body["msisdn"])
    assert line["payer"] == mask("payer-7f3a9c21")
    for raw in (body["msisdn"], "payer-7f3a9c21", "tok_5b1d77e0a4"):
        assert raw not in text
