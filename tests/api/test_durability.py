"""A real ``fraudguard serve`` killed with SIGKILL under load loses no answered decision:
after a restart every order the client got a 200 for is in the log with the same decision,
and a retry of it replays that decision instead of scoring it again."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from fraudguard.decisions import DecisionLog
from fraudguard.schema import RechargeEvent
from tests.api.conftest import KEYS, serve, server_env
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
    answered: dict[str, dict[str, Any]] = {}
    lock = threading.Lock()
    next_order = iter(range(100_000))
    stop = threading.Event()

    def client(base: str) -> None:
        with httpx.Client(base_url=base, timeout=10) as http:
            while not stop.is_set():
                with lock:
                    i = next(next_order)
                try:
                    response = http.post("/v1/score", json=_order(i), headers=HEADERS)
                except httpx.HTTPError:
                    continue  # the server is gone: this order was never answered
                if response.status_code == 200:
                    with lock:
                        answered[f"dur-{i}"] = response.json()

    with serve(env) as (base, process):
        threads = [threading.Thread(target=client, args=(base,)) for _ in range(8)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 120
        while len(answered) < 150 and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(process.pid, signal.SIGKILL)  # mid-load: requests are in flight
        process.wait(timeout=10)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    received = dict(answered)
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
