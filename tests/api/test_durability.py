"""A real ``fraudguard serve`` killed with SIGKILL under load loses no answered decision:
after a restart every order the client got a 200 for is in the log with the same decision,
and a retry of it replays that decision instead of scoring it again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from fraudguard.decisions import DecisionLog
from fraudguard.schema import RechargeEvent
from tests.api.conftest import KEYS, serve, server_env
from tests.durability import answered_before_sigkill
from tests.scoring.conftest import event_body

pytestmark = [pytest.mark.integration, pytest.mark.slow]

HEADERS = {"Authorization": f"Bearer {KEYS['scorer']}"}


def _order(i: int) -> dict[str, Any]:
    # Every third order carries a fake promotion code: review, with a case.
    if i % 3 == 0:
        return event_body(transaction_id=f"dur-{i}", promotion={"code": "VIP-HALF"})
    return event_body(transaction_id=f"dur-{i}", amount=float(10 + i % 90))


def test_sigkill_under_load_loses_no_answered_decision(tmp_path: Path, model_root: Path) -> None:
    env = server_env(tmp_path, model_root)
    answered = answered_before_sigkill(env, "/v1/score", _order, HEADERS)
    received = {f"dur-{i}": decision for i, decision in answered.items()}
    assert len(received) >= 150
    assert any(d["case_id"] for d in received.values())

    log = DecisionLog(f"sqlite:///{tmp_path / 'fraudguard.db'}", "unused")
    try:
        for transaction_id, decision in received.items():
            i = int(transaction_id.split("-")[1])
            stored = log.find(RechargeEvent.model_validate(_order(i)))
            assert stored is not None, f"{transaction_id} was answered but is not in the log"
            assert stored.model_dump(mode="json") == decision
        cases = log.count_cases()
        flagged = {d["case_id"] for d in received.values() if d["case_id"]}
        assert cases >= len(flagged)

        with serve(env) as (base, _), httpx.Client(base_url=base, timeout=10) as http:
            for transaction_id, decision in list(received.items())[:60]:
                i = int(transaction_id.split("-")[1])
                again = http.post("/v1/score", json=_order(i), headers=HEADERS)
                assert again.status_code == 200
                assert again.json() == decision  # replayed, not scored again
        assert log.count_cases() == cases  # and no retry opened a second case
    finally:
        log.close()
