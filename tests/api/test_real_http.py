"""The service over real HTTP (uvicorn on a loopback port): every decision path and reason
family on the sample, idempotency and 409, roles, 422 naming fields, degraded mode, metrics."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

from fraudguard.api import create_app
from fraudguard.schema import DecisionOutcome, ReasonFamily, from_flat
from tests.api.conftest import auth, running, service_settings
from tests.scoring.conftest import event_body

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory, model_root: Path) -> Iterator[httpx.Client]:
    settings = service_settings(tmp_path_factory.mktemp("http"), model_root, rate_limit="")
    with running(create_app(settings)) as base, httpx.Client(base_url=base, timeout=60) as client:
        yield client


@pytest.mark.slow
def test_sample_over_http_shows_every_decision_and_family(
    http: httpx.Client, sample_frame: pd.DataFrame
) -> None:
    frame = sample_frame.copy()
    frame.loc[frame.index[::800], "network_ip"] = "198.51.100.9"  # block-listed: payment_risk
    bodies = [
        from_flat(row).model_dump(mode="json", exclude_none=True)
        for row in frame.to_dict(orient="records")
    ]
    results: list[dict[str, Any]] = []
    for start in range(0, len(bodies), 500):
        response = http.post(
            "/v1/score/batch", json={"events": bodies[start : start + 500]}, headers=auth()
        )
        assert response.status_code == 200, response.text
        results += response.json()["results"]
    assert all("decision" in r for r in results), [r for r in results if "error" in r][:3]
    assert {r["decision"] for r in results} == {d.value for d in DecisionOutcome}
    families = {reason["family"] for r in results for reason in r["reasons"]}
    assert families == {f.value for f in ReasonFamily}
    flagged = [r for r in results if r["decision"] != "allow"]
    assert all(r["reasons"] and r["case_id"] for r in flagged)
    # The single-order route replays what the batch stored.
    again = http.post("/v1/score", json=bodies[0], headers=auth())
    assert again.json() == results[0]


def test_idempotency_conflict_roles_and_422(http: httpx.Client) -> None:
    body = event_body(transaction_id="http-1", promotion={"code": "VIP-HALF"})
    first = http.post("/v1/score", json=body, headers=auth())
    assert first.status_code == 200
    assert first.json()["decision"] == "review"
    assert http.post("/v1/score", json=body, headers=auth("admin")).json() == first.json()
    other = http.post("/v1/score", json={**body, "amount": 30.0}, headers=auth())
    assert other.status_code == 409
    assert other.json()["problems"][0]["field"] == "transaction_id"
    assert http.post("/v1/score", json=body).status_code == 401
    assert http.post("/v1/score", json=body, headers=auth("reviewer")).status_code == 403
    bad = http.post(
        "/v1/score", json=event_body(transaction_id="http-2", amount=-1, msisdn="1"), headers=auth()
    )
    assert bad.status_code == 422
    assert {p["field"] for p in bad.json()["problems"]} == {"amount", "msisdn"}
    assert bad.headers["x-request-id"]


def test_metrics_over_http(http: httpx.Client) -> None:
    http.post("/v1/score", json=event_body(transaction_id="http-m"), headers=auth())
    text = http.get("/metrics").text
    assert 'fraudguard_requests_total{decision="allow",route="/v1/score",status="200"}' in text
    assert "fraudguard_degraded 0.0" in text


def test_degraded_over_http(tmp_path: Path) -> None:
    settings = service_settings(tmp_path, tmp_path / "no-models", rate_limit="")
    with running(create_app(settings)) as base, httpx.Client(base_url=base) as client:
        ready = client.get("/readyz").json()
        assert ready["status"] == "degraded"
        decision = client.post("/v1/score", json=event_body(), headers=auth()).json()
        assert decision["degraded"] is True
        assert decision["model_version"] is None
        assert "fraudguard_degraded 1.0" in client.get("/metrics").text
