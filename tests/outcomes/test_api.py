"""``POST /v1/outcomes`` over real HTTP (uvicorn on a loopback port), on SQLite and
PostgreSQL: stored before the answer, idempotent, 409 for another body, missed-fraud cases in
the case API, roles, and 4xx errors that name the field and never echo personal data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from fraudguard.api import create_app
from fraudguard.db import OutcomeRow, create_db_engine
from tests.api.conftest import auth, running, service_settings
from tests.scoring.conftest import event_body, model_root  # noqa: F401 - fixture

pytestmark = pytest.mark.integration

REPORTED = "2026-12-01T10:00:00+08:00"


def outcome(transaction_id: str, kind: str = "chargeback", **fields: Any) -> dict[str, Any]:
    return {"transaction_id": transaction_id, "kind": kind, "reported_at": REPORTED, **fields}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def service(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    model_root: Path,  # noqa: F811
) -> Iterator[tuple[httpx.Client, str]]:
    home = tmp_path_factory.mktemp("outcomes-http")
    if request.param == "sqlite":
        url = f"sqlite:///{home / 'fraudguard.db'}"
        yield from _serve(home, model_root, url)
        return
    from tests.postgres import fresh_database

    with fresh_database() as url:
        yield from _serve(home, model_root, url)


def _serve(home: Path, registry: Path, url: str) -> Iterator[tuple[httpx.Client, str]]:
    settings = service_settings(home, registry, rate_limit="", database_url=url)
    with running(create_app(settings)) as base, httpx.Client(base_url=base, timeout=60) as client:
        yield client, url


def _stored(url: str) -> int:
    engine = create_db_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(select(func.count(OutcomeRow.id))).scalar_one())
    finally:
        engine.dispose()


def test_a_chargeback_on_an_allowed_order_is_stored_and_opens_a_missed_fraud_case(
    service: tuple[httpx.Client, str],
) -> None:
    http, url = service
    scored = http.post("/v1/score", json=event_body(transaction_id="api-1"), headers=auth())
    assert scored.json()["decision"] == "allow"
    before = _stored(url)
    body = {"outcomes": [outcome("api-1", amount=100.0, reference="cb-88412", source="issuer",
                                 typology="stolen_card", note="reason code 4837")]}  # fmt: skip
    answer = http.post("/v1/outcomes", json=body, headers=auth("scorer"))
    assert answer.status_code == 200, answer.text
    [result] = answer.json()["results"]
    assert result["created"]
    assert result["matched"]
    assert result["decision"] == "allow"
    assert result["missed_fraud"]
    assert result["opened_case"]
    assert _stored(url) == before + 1  # committed before the answer
    # The reviewers see it: a missed-fraud case, with the outcome on it.
    queue = http.get("/v1/cases", params={"origin": "missed_fraud"}, headers=auth("reviewer"))
    assert [c["case_id"] for c in queue.json()["items"]] == [result["case_id"]]
    assert queue.json()["items"][0]["origin"] == "missed_fraud"
    case = http.get(f"/v1/cases/{result['case_id']}", headers=auth("reviewer")).json()
    [reported] = case["outcomes"]
    assert (reported["kind"], reported["typology"], reported["reference"]) == (
        "chargeback", "laundering", "cb-88412",
    )  # fmt: skip
    assert "outcome" in [h["action"] for h in case["history"]]
    # The same again: answered as stored, nothing new; another body: 409.
    again = http.post("/v1/outcomes", json=body, headers=auth("analyst"))
    assert again.status_code == 200
    assert again.json()["results"][0] == {**result, "created": False, "opened_case": False}
    assert _stored(url) == before + 1
    changed = {"outcomes": [{**body["outcomes"][0], "amount": 90.0}]}
    conflict = http.post("/v1/outcomes", json=changed, headers=auth("admin"))
    assert conflict.status_code == 409
    assert conflict.json()["error"] == "outcome_conflict"
    assert conflict.json()["problems"][0]["field"] == "outcomes.0"


def test_an_outcome_for_an_order_never_scored_is_kept(service: tuple[httpx.Client, str]) -> None:
    http, _ = service
    answer = http.post(
        "/v1/outcomes", json={"outcomes": [outcome("api-unknown", "fraud_report")]}, headers=auth()
    )
    assert answer.status_code == 200
    assert answer.json()["results"][0]["matched"] is False
    assert answer.json()["results"][0]["case_id"] is None


def test_roles(service: tuple[httpx.Client, str]) -> None:
    http, _ = service
    body = {"outcomes": [outcome("api-roles", "refund")]}
    assert http.post("/v1/outcomes", json=body).status_code == 401
    assert http.post("/v1/outcomes", json=body, headers=auth("reviewer")).status_code == 403
    for role in ("scorer", "analyst", "admin"):
        assert http.post("/v1/outcomes", json=body, headers=auth(role)).status_code == 200


def test_bad_input_is_named_never_echoed_and_nothing_is_stored(
    service: tuple[httpx.Client, str],
) -> None:
    http, url = service
    before = _stored(url)
    bad = {
        "outcomes": [
            outcome("api-bad-1", note="payer 13812345678 says it was not him"),
            outcome("api-bad-2", kind="dispute", reference="6222021234567890"),
            outcome("13812345678 x", reported_at="2026-12-01T10:00:00"),
        ]
    }
    answer = http.post("/v1/outcomes", json=bad, headers=auth())
    assert answer.status_code == 422
    fields = [p["field"] for p in answer.json()["problems"]]
    assert fields == [
        "outcomes.0.note",
        "outcomes.1.kind",
        "outcomes.1.reference",
        "outcomes.2.transaction_id",
        "outcomes.2.reported_at",
    ]
    for secret in ("13812345678", "6222021234567890", "5678"):
        assert secret not in answer.text
    assert _stored(url) == before  # one bad outcome sinks the batch: fix it and send again
    future = http.post(
        "/v1/outcomes",
        json={"outcomes": [outcome("api-late", reported_at="2099-01-01T00:00:00Z")]},
        headers=auth(),
    )
    assert future.status_code == 422
    assert future.json()["problems"][0]["field"] == "outcomes.0.reported_at"
    repeated = b'{"outcomes": [], "outcomes": []}'
    dup = http.post(
        "/v1/outcomes", content=repeated, headers={**auth(), "content-type": "application/json"}
    )
    assert dup.status_code == 422
    assert dup.json()["problems"][0]["field"] == "outcomes"
    assert http.post("/v1/outcomes", content=b"{", headers={**auth(),
                     "content-type": "application/json"}).status_code == 422  # fmt: skip
    assert http.post("/v1/outcomes", content=b"x", headers=auth()).status_code == 415
    too_many = {"outcomes": [outcome(f"api-n{i}", "refund") for i in range(501)]}
    assert http.post("/v1/outcomes", json=too_many, headers=auth()).status_code == 422
    assert _stored(url) == before


def test_the_openapi_document_describes_it(service: tuple[httpx.Client, str]) -> None:
    http, _ = service
    document = http.get("/openapi.json").json()
    operation = document["paths"]["/v1/outcomes"]["post"]
    assert operation["tags"] == ["outcomes"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/OutcomeBatch"}
    assert "OutcomeReport" in document["components"]["schemas"]


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
fields = st.sampled_from(
    [
        "transaction_id",
        "kind",
        "reported_at",
        "amount",
        "reference",
        "source",
        "typology",
        "note",
        "x",
    ]
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(items=st.lists(st.dictionaries(fields, json_values, max_size=8), max_size=4))
def test_no_body_a_client_can_send_is_a_500(
    service: tuple[httpx.Client, str], items: list[dict[str, Any]]
) -> None:
    http, _ = service
    answer = http.post("/v1/outcomes", json={"outcomes": items}, headers=auth())
    assert answer.status_code in (200, 409, 422), answer.text
    if answer.status_code != 200:
        assert set(answer.json()) == {"error", "message", "problems"}
