"""A real ``fraudguard serve`` killed with SIGKILL while outcomes pour in loses no answered
outcome: after a restart every outcome the client got a 200 for is stored under the id it was
told, with the missed-fraud case it was told of, and a retry is answered as already stored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from fraudguard.db import CaseRow, OutcomeRow, create_db_engine
from tests.api.conftest import KEYS, serve, server_env
from tests.durability import answered_before_sigkill
from tests.scoring.conftest import event_body, model_root  # noqa: F401 - fixture

pytestmark = [pytest.mark.integration, pytest.mark.slow]

HEADERS = {"Authorization": f"Bearer {KEYS['scorer']}"}
SCORED = 200


def _batch(i: int) -> dict[str, Any]:
    """Five outcomes: chargebacks on scored (allowed) orders, refunds on unknown ones."""
    return {
        "outcomes": [
            {
                "transaction_id": f"kill-{(5 * i + j) % SCORED}" if j < 2 else f"far-{i}-{j}",
                "kind": "chargeback" if j < 2 else "refund",
                "reported_at": "2026-12-01T10:00:00+08:00",
                "reference": f"ref-{i}-{j}",
                "amount": 10.0 + j,
            }
            for j in range(5)
        ]
    }


def test_sigkill_under_load_loses_no_answered_outcome(
    tmp_path: Path,
    model_root: Path,  # noqa: F811
) -> None:
    env = server_env(tmp_path, model_root)

    def score_the_orders(base: str) -> None:
        orders = [event_body(transaction_id=f"kill-{i}") for i in range(SCORED)]
        for start in range(0, SCORED, 100):
            scored = httpx.post(
                f"{base}/v1/score/batch",
                json={"events": orders[start : start + 100]},
                headers=HEADERS,
                timeout=60,
            )
            assert scored.status_code == 200

    answered = answered_before_sigkill(
        env, "/v1/outcomes", _batch, HEADERS, prepare=score_the_orders
    )
    received = {i: answer["results"] for i, answer in answered.items()}
    assert len(received) >= 150

    engine = create_db_engine(f"sqlite:///{tmp_path / 'fraudguard.db'}")
    try:
        with engine.connect() as connection:
            stored = {
                row.id: (row.transaction_id, row.kind, row.reference)
                for row in connection.execute(
                    select(OutcomeRow.id, OutcomeRow.transaction_id, OutcomeRow.kind,
                           OutcomeRow.reference)
                )
            }  # fmt: skip
            cases = dict(connection.execute(select(CaseRow.transaction_id, CaseRow.origin)).all())
    finally:
        engine.dispose()
    opened = 0
    for i, results in received.items():
        for sent, result in zip(_batch(i)["outcomes"], results, strict=True):
            key = (sent["transaction_id"], sent["kind"], sent["reference"])
            assert stored.get(result["outcome_id"]) == key, f"batch {i} answered, not stored"
            if result["missed_fraud"]:
                assert cases[sent["transaction_id"]] == "missed_fraud"
            opened += result["opened_case"]
    assert opened > 0

    with serve(env) as (base, _), httpx.Client(base_url=base, timeout=10) as http:
        for i, results in list(received.items())[:30]:
            again = http.post("/v1/outcomes", json=_batch(i), headers=HEADERS)
            assert again.status_code == 200
            for first, retry in zip(results, again.json()["results"], strict=True):
                assert retry["outcome_id"] == first["outcome_id"]
                assert retry["created"] is False
