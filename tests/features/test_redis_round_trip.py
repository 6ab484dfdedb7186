"""Feature state on Redis: one pipelined round trip per order, the same answers as the
in-process state, every group missing together when Redis is down, and scripts loaded
again after Redis lost them.

Against the machine's Redis (127.0.0.1:6379) under a fresh key prefix, deleting only its
own keys; the script-cache test runs a private ``redis-server``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from fraudguard.exceptions import StateStoreError
from fraudguard.features import FeatureExtractor, FeatureState, default_extractor
from fraudguard.features.behaviour_redis import RedisDailyStore
from fraudguard.features.feedback_redis import RedisFeedbackStore
from fraudguard.features.redis_store import RedisStateStore
from fraudguard.schema import from_flat, to_flat
from tests.features.redis_support import free_port, private_redis, shared_redis_url, unique_prefix
from tests.features.strategies import REFERENCE

pytestmark = pytest.mark.integration

SAMPLE = Path(__file__).parents[2] / "data" / "samples" / "recharges.parquet"
#: Orders streamed through both states; the first ones are reported as fraud.
ORDERS, REPORTED = 400, 60


@pytest.fixture(scope="module")
def extractor() -> FeatureExtractor:
    return default_extractor(REFERENCE)


@pytest.fixture(scope="module")
def orders() -> pd.DataFrame:
    return pd.read_parquet(SAMPLE).head(ORDERS)


@pytest.fixture
def redis_state(extractor: FeatureExtractor) -> Iterator[FeatureState]:
    prefix = unique_prefix()
    state = FeatureState.from_url(extractor, f"{shared_redis_url()}?key_prefix={prefix}")
    assert isinstance(state.velocity, RedisStateStore)
    yield state
    state.velocity.delete_all()
    state.velocity.client.close()


def _report_first_orders(
    extractor: FeatureExtractor, orders: pd.DataFrame, *states: FeatureState
) -> None:
    """The first orders reported as fraud a minute after each, told to every state."""
    assert extractor.feedback is not None
    first = orders.head(REPORTED)
    known = pd.DataFrame(
        {
            "report_id": first["transaction_id"],
            "known_at": first["event_time"] + pd.Timedelta("1min"),
        }
    )
    reports = extractor.feedback.reports_for(orders, known)
    for state in states:
        assert state.feedback is not None
        extractor.feedback.record(state.feedback, reports)


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    def equal(x: Any, y: Any) -> bool:
        both_nan = isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y)
        return both_nan or x == y

    return a.keys() == b.keys() and all(equal(a[k], b[k]) for k in a)


class _Counting:
    """Counts what a Redis client sends: pipelines executed and commands sent alone."""

    def __init__(self, client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        self.pipelines = 0
        self.commands = 0
        make_pipeline, send = client.pipeline, client.execute_command

        def pipeline(*args: Any, **kwargs: Any) -> Any:
            pipe = make_pipeline(*args, **kwargs)
            execute = pipe.execute

            def counted(*a: Any, **k: Any) -> Any:
                self.pipelines += 1
                return execute(*a, **k)

            pipe.execute = counted
            return pipe

        def command(*args: Any, **kwargs: Any) -> Any:
            self.commands += 1
            return send(*args, **kwargs)

        monkeypatch.setattr(client, "pipeline", pipeline)
        monkeypatch.setattr(client, "execute_command", command)


def test_each_order_is_one_round_trip_with_the_in_process_answers(
    extractor: FeatureExtractor,
    orders: pd.DataFrame,
    redis_state: FeatureState,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    in_process = FeatureState.in_memory(extractor)
    assert in_process.round_trip is None
    assert redis_state.round_trip is not None
    _report_first_orders(extractor, orders, redis_state, in_process)
    rows = [to_flat(from_flat(record)) for record in orders.to_dict("records")]
    # The first order loads the scripts if this server has not seen them yet.
    assert _same(
        extractor.extract_one(rows[0], redis_state), extractor.extract_one(rows[0], in_process)
    )
    assert isinstance(redis_state.velocity, RedisStateStore)
    sent = _Counting(redis_state.velocity.client, monkeypatch)
    reported_seen = 0
    for row in rows[1:]:
        on_redis = extractor.extract_one(row, redis_state)
        assert _same(on_redis, extractor.extract_one(row, in_process)), row["transaction_id"]
        reported_seen += on_redis["fb_payer_fraud_30d"] > 0 or on_redis["fb_device_fraud_30d"] > 0
    assert sent.pipelines == len(rows) - 1
    assert sent.commands == 0
    assert reported_seen  # the feedback counts were part of the comparison


def test_redis_down_takes_every_stateful_group_down_together(extractor: FeatureExtractor) -> None:
    state = FeatureState.from_url(
        extractor, f"redis://127.0.0.1:{free_port()}/0?socket_connect_timeout=0.2&retry_after_s=30"
    )
    assert isinstance(state.daily, RedisDailyStore)
    assert isinstance(state.feedback, RedisFeedbackStore)
    row = to_flat(from_flat(pd.read_parquet(SAMPLE).head(1).to_dict("records")[0]))
    features, down = extractor.extract_one_or_missing(row, state)
    assert down
    for group in (extractor.velocity, extractor.behaviour, extractor.feedback):
        assert group is not None
        assert _same({k: features[k] for k in group.missing()}, group.missing())
    assert features["number_operator"]  # the stateless features are still there
    assert not state.available
    for store in (state.velocity, state.daily, state.feedback):
        assert not store.available  # type: ignore[union-attr]
    with pytest.raises(StateStoreError, match="retrying shortly"):
        extractor.extract_one(row, state)


def test_scripts_lost_by_redis_are_loaded_again(
    extractor: FeatureExtractor, orders: pd.DataFrame, tmp_path: Path
) -> None:
    rows = [to_flat(from_flat(record)) for record in orders.head(6).to_dict("records")]
    in_process = FeatureState.in_memory(extractor)
    with private_redis(tmp_path) as server:
        state = FeatureState.from_url(extractor, server.url)
        assert isinstance(state.velocity, RedisStateStore)
        for i, row in enumerate(rows):
            if i % 2:
                state.velocity.client.script_flush()  # what a restarted Redis has lost
            features, down = extractor.extract_one_or_missing(row, state)
            assert not down
            assert _same(features, extractor.extract_one(row, in_process))
        state.velocity.client.close()
