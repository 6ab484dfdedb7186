"""Scoring while the Redis velocity store is down: the failure policy applies, every order
is still answered (never a 500), every answered decision is in the decision log, and
scoring recovers by itself when Redis is back.

The outages are real: a private ``redis-server`` on a free port is killed and restarted
under load (the machine's shared Redis is never touched).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

from fraudguard.cases import DecisionLog
from fraudguard.config import FailurePolicy, Settings
from fraudguard.features.redis_store import RedisStateStore
from fraudguard.schema import Decision, DecisionOutcome, RechargeEvent, from_flat
from fraudguard.scoring import Scorer
from fraudguard.scoring.service import STATE_UNAVAILABLE
from tests.features.redis_support import RedisServer, free_port, private_redis
from tests.scoring.conftest import LATER, make_event

pytestmark = pytest.mark.integration

#: A burst on one device: the default pack's velocity rules fire on the sixth order.
_BURST = 6


def redis_scorer(base: Scorer, url: str, policy: FailurePolicy = FailurePolicy.FAIL_OPEN) -> Scorer:
    velocity = base.extractor.velocity
    assert velocity is not None
    settings = base.settings.model_copy(update={"failure_policy": policy, "state_url": url})
    store = velocity.new_store(url)
    assert isinstance(store, RedisStateStore)
    return Scorer(base.reference, base.extractor, store, base.rules, base.model, settings)


def burst(n: int, prefix: str) -> list[RechargeEvent]:
    return [
        make_event(
            transaction_id=f"{prefix}-{i}",
            event_time=f"2026-11-05T10:00:{i:02d}+08:00",
            msisdn=f"1891234{i:04d}",
            payment={"method": "bank_card", "instrument_id": f"tok-{prefix}", "payer_id": f"u-{i}"},
            device={"id": f"dev-{prefix}", "os": "android", "rooted": False, "emulator": False},
        )
        for i in range(n)
    ]


def test_fail_open_scores_without_velocity_and_says_degraded(base_scorer: Scorer) -> None:
    down = f"redis://127.0.0.1:{free_port()}/0?socket_connect_timeout=0.2"
    scorer = redis_scorer(base_scorer, down)
    decisions = [scorer.score_one(e, now=LATER) for e in burst(_BURST, "open")]
    assert all(d.decision.degraded for d in decisions)
    assert scorer.degraded
    assert not scorer.state_available
    last = decisions[-1]
    # The model still scores (version reported); velocity features are missing, not zero.
    assert last.decision.model_version is not None
    assert pd.isna(last.features["vel_device_count_10m"])
    assert last.features["device_is_new"] is False
    assert STATE_UNAVAILABLE not in last.decision.reasons


def test_fail_closed_sends_to_review_with_the_reason(base_scorer: Scorer) -> None:
    down = f"redis://127.0.0.1:{free_port()}/0?socket_connect_timeout=0.2"
    scorer = redis_scorer(base_scorer, down, FailurePolicy.FAIL_CLOSED)
    scored = scorer.score_one(burst(1, "closed")[0], now=LATER)
    assert scored.decision.degraded
    assert scored.decision.decision in {DecisionOutcome.REVIEW, DecisionOutcome.BLOCK}
    assert scored.decision.reasons[-1] == STATE_UNAVAILABLE
    assert scored.decision.reasons[-1].message_zh


def test_velocity_on_redis_decides_like_in_memory(base_scorer: Scorer, tmp_path: Path) -> None:
    with private_redis(tmp_path) as server:
        on_redis = redis_scorer(base_scorer, server.url)
        in_memory = Scorer(
            base_scorer.reference,
            base_scorer.extractor,
            base_scorer.extractor.velocity.new_store(),  # type: ignore[union-attr]
            base_scorer.rules,
            base_scorer.model,
            base_scorer.settings,
        )
        for event in burst(_BURST + 2, "same"):
            a = on_redis.score_one(event, now=LATER)
            b = in_memory.score_one(event, now=LATER)
            assert a.decision == b.decision
            assert a.features == pytest.approx(b.features, nan_ok=True)
            assert not a.decision.degraded
        assert a.features["vel_device_count_10m"] == _BURST + 1


def _run_under_load(
    events: list[RechargeEvent],
    answer: Callable[[RechargeEvent], Any],
    server: RedisServer,
    *,
    workers: int = 3,
    outage_after: int,
    outage_s: float,
    outage_orders: int = 100,
    during_outage: Callable[[], None] = lambda: None,
) -> tuple[list[tuple[RechargeEvent, Any]], list[BaseException]]:
    """Score ``events`` from ``workers`` threads; kill Redis after ``outage_after`` answers
    and start it again once ``outage_orders`` more were answered, or after ``outage_s`` at
    most: counted, not timed, so however fast degraded answers come, orders are left to see
    the recovery. Returns the answers and any exceptions."""
    answered: list[tuple[RechargeEvent, Any]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    queue = list(reversed(events))

    def worker() -> None:
        while True:
            with lock:
                if not queue:
                    return
                event = queue.pop()
            try:
                result = answer(event)
            except BaseException as error:  # surfaced by the test
                errors.append(error)
                return
            with lock:
                answered.append((event, result))

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 120
    while len(answered) < outage_after and time.monotonic() < deadline and not errors:
        time.sleep(0.01)
    server.stop()
    stopped_at = len(answered)
    limit = time.monotonic() + outage_s
    while len(answered) < stopped_at + outage_orders and time.monotonic() < limit and not errors:
        time.sleep(0.005)
    during_outage()
    server.start()
    for thread in threads:
        thread.join(timeout=300)
    return answered, errors


def _events(frame: pd.DataFrame, n: int, prefix: str) -> list[RechargeEvent]:
    rows = frame.head(n).to_dict(orient="records")
    for i, row in enumerate(rows):
        row["transaction_id"] = f"{prefix}-{i}"
    return [from_flat(row) for row in rows]


def test_redis_restart_under_load_loses_no_decision(
    base_scorer: Scorer, sample_frame: pd.DataFrame, tmp_path: Path
) -> None:
    events = _events(sample_frame, 900, "load")
    log = DecisionLog(f"sqlite:///{tmp_path / 'decisions.db'}", base_scorer.settings.hmac_key)
    log.create_tables()
    with private_redis(tmp_path) as server:
        scorer = redis_scorer(base_scorer, f"{server.url}?retry_after_s=0.2")
        seen_degraded: list[bool] = []

        def answer(event: RechargeEvent) -> Decision:
            scored = scorer.score_one(event, now=LATER)
            return log.record(event, scored.decision, scored.features)

        answered, errors = _run_under_load(
            events,
            answer,
            server,
            outage_after=250,
            outage_s=60.0,
            during_outage=lambda: seen_degraded.append(scorer.degraded),
        )
    assert not errors, errors[:3]
    assert len(answered) == len(events)
    decisions = [decision for _, decision in answered]
    degraded = [d.degraded for d in decisions]
    assert any(degraded), "the outage was not noticed"
    assert seen_degraded == [True]
    # Recovery is automatic: the orders answered last were scored with velocity again.
    assert not any(degraded[-100:])
    assert not any(degraded[:200])
    for event, decision in answered:
        assert log.find(event) == decision
    log.close()


def test_redis_restart_under_http_load(
    base_settings: Settings, sample_frame: pd.DataFrame, tmp_path: Path
) -> None:
    import uvicorn

    from fraudguard.api import create_app

    key = "state-test-scorer-key"
    events = _events(sample_frame, 500, "http")
    with private_redis(tmp_path) as server:
        settings = base_settings.model_copy(
            update={
                "home": tmp_path,
                "database_url": f"sqlite:///{tmp_path / 'service.db'}",
                "state_url": f"{server.url}?retry_after_s=0.2",
                "api_keys": _secret(f"{key}:scorer"),
                "reload_interval_s": 0,
            }
        )
        port = free_port()
        config = uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=port, log_level="error"
        )
        http_server = uvicorn.Server(config)
        thread = threading.Thread(target=http_server.run, daemon=True)
        thread.start()
        readiness: list[dict[str, Any]] = []
        gauges: list[str] = []
        try:
            deadline = time.monotonic() + 60
            while not http_server.started:
                assert time.monotonic() < deadline, "uvicorn did not start"
                time.sleep(0.05)
            base = f"http://127.0.0.1:{port}"
            headers = {"Authorization": f"Bearer {key}"}
            local = threading.local()

            def answer(event: RechargeEvent) -> httpx.Response:
                if not hasattr(local, "client"):
                    local.client = httpx.Client(base_url=base, timeout=30)
                body = event.model_dump(mode="json", exclude_none=True)
                return local.client.post("/v1/score", json=body, headers=headers)

            def probe() -> None:
                readiness.append(httpx.get(f"{base}/readyz", timeout=10).json())
                gauges.append(httpx.get(f"{base}/metrics", timeout=10).text)

            answered, errors = _run_under_load(
                events, answer, server, outage_after=150, outage_s=60.0, during_outage=probe
            )
            time.sleep(0.3)
            probe()
        finally:
            http_server.should_exit = True
            thread.join(timeout=10)
    assert not errors, errors[:3]
    statuses = [response.status_code for _, response in answered]
    assert statuses.count(200) == len(events), sorted(set(statuses))
    bodies = [response.json() for _, response in answered]
    assert any(body["degraded"] for body in bodies)
    assert not any(body["degraded"] for body in bodies[-50:])
    assert readiness[0]["degraded"] is True
    assert readiness[0]["status"] == "degraded"
    assert "fraudguard_degraded 1.0" in gauges[0]  # the outage shows on /metrics too
    assert "fraudguard_degraded 0.0" in gauges[-1]
    assert readiness[-1]["degraded"] is False
    assert readiness[-1]["status"] == "ready"
    log = DecisionLog(settings.resolved_database_url, settings.hmac_key)
    for (event, _), body in zip(answered, bodies, strict=True):
        stored = log.find(event)
        assert stored is not None
        assert stored.model_dump(mode="json") == Decision.model_validate(body).model_dump(
            mode="json"
        )
    log.close()


def _secret(value: str) -> Any:
    from pydantic import SecretStr

    return SecretStr(value)
