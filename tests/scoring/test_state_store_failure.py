"""Scoring while the Redis velocity store is down: the failure policy applies, every order
is still answered (never a 500), every answered decision is in the decision log, and
scoring recovers by itself when Redis is back.

The outages are real: a private ``redis-server`` on a free port is killed and restarted
under load (the machine's shared Redis is never touched).
"""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

from fraudguard.config import FailurePolicy, Settings
from fraudguard.decisions import DecisionLog
from fraudguard.features import FeatureState
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
    settings = base.settings.model_copy(update={"failure_policy": policy, "state_url": url})
    state = FeatureState.from_url(base.extractor, url)
    assert isinstance(state.velocity, RedisStateStore)
    return Scorer(base.reference, base.extractor, state, base.rules, base.model, settings)


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
            FeatureState.in_memory(base_scorer.extractor),
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


class Phase(enum.IntEnum):
    """Where the outage stood when an order was sent (or answered)."""

    UP = 0  # Redis up, before the outage
    OUTAGE = 1  # Redis killed
    RESTARTED = 2  # Redis started again; orders sent before it may still be in flight
    SETTLED = 3  # every order sent before the restart has been answered
    RECOVERED = 4  # an order sent once SETTLED came back scored with velocity again


@dataclass
class Order:
    event: RechargeEvent
    sent: Phase
    answered: Phase | None = None
    result: Any = None


def _run_through_outage(
    make_event: Callable[[int], RechargeEvent],
    answer: Callable[[RechargeEvent], Any],
    degraded: Callable[[Any], bool],
    server: RedisServer,
    *,
    workers: int = 3,
    before: int,
    outage_orders: int = 100,
    outage_s: float = 60.0,
    after: int = 100,
    deadline_s: float = 120.0,
    during_outage: Callable[[], None] = lambda: None,
) -> tuple[list[Order], list[BaseException]]:
    """Send orders from ``workers`` threads until Redis has been killed, restarted and
    scoring has recovered, then ``after`` more. Redis is killed once ``before`` orders were
    answered and started again once ``outage_orders`` more were, or after ``outage_s``.
    Each step is waited for by what happened, not by time: however fast or slow this
    machine is, the orders sent after the recovery are there to be checked. Each wait is
    bounded by ``deadline_s``; missing one fails the test, naming the step."""
    orders: list[Order] = []
    errors: list[BaseException] = []
    changed = threading.Condition()
    phase = Phase.UP
    stop = False
    answered = dict.fromkeys(Phase, 0)  # answered orders by the phase they were sent in
    in_flight = dict.fromkeys(Phase, 0)

    def worker() -> None:
        nonlocal phase
        while True:
            with changed:
                if stop or errors:
                    return
                number, sent = len(orders), phase
                in_flight[sent] += 1
                order = Order(make_event(number), sent)
                orders.append(order)
            try:
                result = answer(order.event)
            except BaseException as error:  # surfaced by the test
                with changed:
                    errors.append(error)
                    changed.notify_all()
                return
            with changed:
                order.result, order.answered = result, phase
                in_flight[sent] -= 1
                answered[sent] += 1
                if sent is Phase.SETTLED and phase is Phase.SETTLED and not degraded(result):
                    phase = Phase.RECOVERED
                changed.notify_all()

    def wait_for(done: Callable[[], bool], what: str, timeout: float = deadline_s) -> None:
        with changed:
            reached = changed.wait_for(lambda: done() or bool(errors), timeout)
        assert reached, f"not within {timeout:.0f} s: {what}"

    def move_to(new: Phase) -> None:
        nonlocal phase
        with changed:
            phase = new

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    try:
        wait_for(lambda: answered[Phase.UP] >= before, f"{before} orders answered")
        move_to(Phase.OUTAGE)  # first: an order answered while UP was answered before the kill
        server.stop()
        with changed:  # counted, not timed, however fast degraded answers come
            changed.wait_for(
                lambda: answered[Phase.OUTAGE] >= outage_orders or bool(errors), outage_s
            )
        during_outage()
        server.start()
        move_to(Phase.RESTARTED)
        wait_for(
            lambda: in_flight[Phase.UP] + in_flight[Phase.OUTAGE] == 0,
            "the orders sent before the restart answered",
        )
        move_to(Phase.SETTLED)
        wait_for(lambda: phase is Phase.RECOVERED, "scoring with velocity again after the restart")
        wait_for(lambda: answered[Phase.RECOVERED] >= after, f"{after} orders after the recovery")
    finally:
        with changed:
            stop = True
        for thread in threads:
            thread.join(timeout=300)
    return orders, errors


def _events(frame: pd.DataFrame, prefix: str) -> Callable[[int], RechargeEvent]:
    """Order ``i``: the frame's rows in turn, each time under a new ``transaction_id``."""
    rows = frame.to_dict(orient="records")

    def event(i: int) -> RechargeEvent:
        return from_flat({**rows[i % len(rows)], "transaction_id": f"{prefix}-{i}"})

    return event


def _check_the_outage(orders: list[Order], degraded: Callable[[Any], bool], after: int) -> None:
    """Degraded during the outage only: not before it, not after the recovery."""
    assert any(degraded(order.result) for order in orders), "the outage was not noticed"
    before = [o for o in orders if o.answered is Phase.UP]
    assert before
    assert not any(degraded(o.result) for o in before)
    recovered = [o for o in orders if o.sent is Phase.RECOVERED]
    assert len(recovered) >= after
    assert not any(degraded(o.result) for o in recovered)


def test_redis_restart_under_load_loses_no_decision(
    base_scorer: Scorer, sample_frame: pd.DataFrame, tmp_path: Path
) -> None:
    log = DecisionLog(f"sqlite:///{tmp_path / 'decisions.db'}", base_scorer.settings.hmac_key)
    log.create_tables()
    with private_redis(tmp_path) as server:
        scorer = redis_scorer(base_scorer, f"{server.url}?retry_after_s=0.2")
        seen_degraded: list[bool] = []

        def answer(event: RechargeEvent) -> Decision:
            scored = scorer.score_one(event, now=LATER)
            return log.record(event, scored.decision, scored.features)

        def degraded(decision: Decision) -> bool:
            return decision.degraded

        orders, errors = _run_through_outage(
            _events(sample_frame.head(900), "load"),
            answer,
            degraded,
            server,
            before=250,
            during_outage=lambda: seen_degraded.append(scorer.degraded),
        )
    assert not errors, errors[:3]
    assert seen_degraded == [True]
    _check_the_outage(orders, degraded, after=100)
    # Every order sent was answered, and every answer is the stored decision.
    for order in orders:
        assert order.answered is not None
        assert log.find(order.event) == order.result
    log.close()


def test_redis_restart_under_http_load(
    base_settings: Settings, sample_frame: pd.DataFrame, tmp_path: Path
) -> None:
    import uvicorn

    from fraudguard.api import create_app

    key = "state-test-scorer-key"
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

            orders, errors = _run_through_outage(
                _events(sample_frame.head(500), "http"),
                answer,
                _degraded_answer,
                server,
                before=150,
                after=50,
                during_outage=probe,
            )
            time.sleep(0.3)
            probe()
        finally:
            http_server.should_exit = True
            thread.join(timeout=10)
    assert not errors, errors[:3]
    statuses = [order.result.status_code for order in orders]
    assert statuses.count(200) == len(orders), sorted(set(statuses))
    _check_the_outage(orders, _degraded_answer, after=50)
    assert readiness[0]["degraded"] is True
    assert readiness[0]["status"] == "degraded"
    assert "fraudguard_degraded 1.0" in gauges[0]  # the outage shows on /metrics too
    assert "fraudguard_degraded 0.0" in gauges[-1]
    assert readiness[-1]["degraded"] is False
    assert readiness[-1]["status"] == "ready"
    log = DecisionLog(settings.resolved_database_url, settings.hmac_key)
    for order in orders:
        stored = log.find(order.event)
        assert stored is not None
        assert stored.model_dump(mode="json") == Decision.model_validate(
            order.result.json()
        ).model_dump(mode="json")
    log.close()


def _degraded_answer(response: httpx.Response) -> bool:
    return response.status_code != 200 or bool(response.json()["degraded"])


def _secret(value: str) -> Any:
    from pydantic import SecretStr

    return SecretStr(value)
