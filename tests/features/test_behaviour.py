"""Behaviour baselines and their daily store.

The key properties: streaming a frame's events one by one through ``transform_one`` and a
fresh store (in memory or on Redis) gives exactly the values ``transform_many`` computes,
and both agree with a brute-force reading of the definitions.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fraudguard.exceptions import ConfigError, StateStoreError
from fraudguard.features import FeatureExtractor, FeatureState
from fraudguard.features.behaviour import MIN_Z_EVENTS, BehaviourFeatures
from fraudguard.features.behaviour_redis import RedisDailyStore, daily_store_from_url
from fraudguard.features.behaviour_store import (
    DailyStore,
    DayObservation,
    InMemoryDailyStore,
    make_daily_store,
)
from fraudguard.features.redis_store import RedisStateStore
from fraudguard.features.velocity import VelocityFeatures, _platform_key
from fraudguard.reference import load_reference
from tests.features.redis_support import free_port, shared_redis_url, unique_prefix

KEY = "test-hmac-key"
T0 = pd.Timestamp("2026-10-01 00:00", tz="UTC")
FEATURES = BehaviourFeatures(KEY)
_COLUMNS = {
    "payer": "payment_payer_id",
    "instrument": "payment_instrument_id",
    "msisdn": "msisdn",
    "device": "device_id",
}


def stream(frame: pd.DataFrame, store: DailyStore) -> pd.DataFrame:
    """The online path: rows in event-time order (stable) through one store."""
    ordered = frame.sort_values("event_time", kind="stable")
    rows = [FEATURES.transform_one(row, store) for row in ordered.to_dict("records")]
    return pd.DataFrame(rows, index=ordered.index, columns=list(FEATURES.names())).loc[frame.index]


def assert_same(online: pd.DataFrame, batch: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(
        online.astype(float), batch.astype(float), check_exact=True, check_dtype=False
    )


@st.composite
def frames(draw: st.DrawFn) -> pd.DataFrame:
    """Few ids (so histories build up), times over 45 days with ties, odd amounts."""
    n = draw(st.integers(1, 60))
    ids = st.sampled_from(["a", "b", "c", None])
    minutes = draw(st.lists(st.integers(0, 45 * 24 * 60), min_size=n, max_size=n))
    ties = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    for i in range(1, n):
        if ties[i]:
            minutes[i] = minutes[i - 1]  # equal timestamps keep frame order
    amounts = st.sampled_from([10.0, 50.0, 100.0, 0.01, 37.5, 50_000.0, 0.0, -5.0, None, 1e9])
    platforms = st.sampled_from(["com.ct.client", "https://www.189.cn/x", None])
    return pd.DataFrame(
        {
            "event_time": [T0 + pd.Timedelta(minutes=m) for m in minutes],
            "amount": draw(st.lists(amounts, min_size=n, max_size=n)),
            "payment_payer_id": draw(st.lists(ids, min_size=n, max_size=n)),
            "payment_instrument_id": draw(st.lists(ids, min_size=n, max_size=n)),
            "msisdn": draw(st.lists(ids, min_size=n, max_size=n)),
            "device_id": draw(st.lists(ids, min_size=n, max_size=n)),
            "platform_app_package": draw(st.lists(platforms, min_size=n, max_size=n)),
        },
        index=pd.RangeIndex(n)[::-1],  # an index out of order: results follow it
    )


def brute_force(frame: pd.DataFrame) -> pd.DataFrame:
    """The module docstring's definitions, read literally, one row at a time."""
    ordered = frame.sort_values("event_time", kind="stable")
    records = ordered.to_dict("records")
    out: dict[Any, dict[str, float]] = {}
    for i, row in enumerate(records):
        day = row["event_time"].value // (86_400 * 10**9)
        fen = _valid_fen(row["amount"])
        result: dict[str, float] = dict.fromkeys(FEATURES.names(), math.nan)
        for entity in ("payer", "instrument", "msisdn", "device", "platform"):
            mine = _id(row, entity)
            if mine is None:
                continue
            earlier = [
                (other["event_time"].value // (86_400 * 10**9), _valid_fen(other["amount"]))
                for other in records[:i]
                if _id(other, entity) == mine and _valid_fen(other["amount"]) > 0
            ]
            week = [f for d, f in earlier if d >= day - 6]
            month = [f for d, f in earlier if d >= day - 29]
            days_active = len({d for d, _ in earlier if d >= day - 29})
            n, s, q = len(month), sum(month), sum(f * f for f in month)
            mean7 = float(sum(week)) / float(len(week)) if week else math.nan
            mean30 = float(s) / float(n) if n else math.nan
            std = math.nan
            if n >= 2:
                std = math.sqrt(max((float(q) - float(s) * float(s) / n) / (n - 1), 0.0))
            ratio = fen / mean30 if fen > 0 and n else math.nan
            z = (fen - mean30) / std if fen > 0 and n >= MIN_Z_EVENTS and std > 0 else math.nan
            values = (len(week), n, days_active, mean7 / 100, mean30 / 100, std / 100, ratio, z)
            names = [f"beh_{entity}_{s}" for s in _SUFFIXES]
            result.update(zip(names, map(float, values), strict=True))
        out[ordered.index[i]] = result
    return pd.DataFrame.from_dict(out, orient="index").loc[frame.index, list(FEATURES.names())]


_SUFFIXES = [name.removeprefix("beh_payer_") for name in FEATURES.names()[:8]]


def _id(row: dict[str, Any], entity: str) -> str | None:
    if entity == "platform":
        return _platform_key(row)
    value = row[_COLUMNS[entity]]
    return None if value is None or value != value else str(value)


def _valid_fen(amount: Any) -> int:
    if amount is None or amount != amount:
        return 0
    fen = round(float(amount) * 100)
    return fen if 0 < fen <= 5_000_000 else 0


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=frames())
def test_online_batch_and_definitions_agree(frame: pd.DataFrame) -> None:
    batch = FEATURES.transform_many(frame)
    assert list(batch.index) == list(frame.index)
    assert_same(stream(frame, InMemoryDailyStore()), batch)
    assert_same(brute_force(frame), batch)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=frames())
def test_redis_equals_the_batch_path(frame: pd.DataFrame) -> None:
    store = daily_store_from_url(f"{shared_redis_url()}?key_prefix={unique_prefix()}")
    try:
        assert_same(stream(frame, store), FEATURES.transform_many(frame))
    finally:
        _delete(store)


def _delete(store: RedisDailyStore) -> None:
    keys = list(store.client.scan_iter(match=store.key_prefix + "*"))
    if keys:
        store.client.unlink(*keys)


observations = st.lists(
    st.lists(
        st.builds(
            DayObservation,
            key=st.sampled_from(["payer:a", "device:b", "platform:c"]),
            day=st.integers(20_000, 20_070),
            amount_fen=st.sampled_from([0, 1, 5_000, 5_000_000, -3]),
        ),
        min_size=1,
        max_size=4,
    ),
    max_size=30,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calls=observations)
def test_redis_answers_like_the_in_memory_store(calls: list[list[DayObservation]]) -> None:
    """Out-of-order days (clamped per key), invalid amounts, several keys per call."""
    redis_store = daily_store_from_url(f"{shared_redis_url()}?key_prefix={unique_prefix()}")
    memory = InMemoryDailyStore()
    try:
        for call in calls:
            assert redis_store.observe(call) == memory.observe(call)
    finally:
        _delete(redis_store)


def test_a_month_of_history_against_todays_order() -> None:
    """The issue's case: a card that spent 50 a day for three weeks, then 250 today."""
    times = [T0 + pd.Timedelta(days=d, hours=9) for d in range(21)] + [T0 + pd.Timedelta(days=21)]
    frame = pd.DataFrame(
        {"event_time": times, "amount": [50.0] * 20 + [60.0, 250.0], "payment_instrument_id": "c"}
    )
    last = FEATURES.transform_many(frame).iloc[-1]
    assert last["beh_instrument_count_30d"] == 21
    assert last["beh_instrument_count_7d"] == 6  # days 15..20: today has no earlier event
    assert last["beh_instrument_days_active_30d"] == 21
    assert last["beh_instrument_mean_30d"] == pytest.approx(1060 / 21)
    assert last["beh_instrument_amount_ratio_30d"] == pytest.approx(250 / (1060 / 21))
    assert last["beh_instrument_amount_z_30d"] > 50
    assert math.isnan(last["beh_payer_count_30d"])  # no payer id: NaN, not 0


def test_the_horizon_is_utc_days_and_excludes_the_event() -> None:
    store = InMemoryDailyStore()
    day = 20_400
    assert store.observe([DayObservation("k", day, 100)]) == [()]
    assert store.observe([DayObservation("k", day, 300)]) == [((0, 1, 100, 10_000),)]
    # Day 29 later still sees both; day 30 later sees nothing, and the key is reclaimed.
    assert store.observe([DayObservation("k", day + 29, 0)]) == [((29, 2, 400, 100_000),)]
    assert store.observe([DayObservation("k", day + 30, 0)]) == [()]
    assert len(store) == 0


def test_a_late_event_counts_on_the_keys_newest_day() -> None:
    store = InMemoryDailyStore()
    store.observe([DayObservation("k", 20_410, 100)])
    store.observe([DayObservation("k", 20_400, 200)])  # clamped up to 20_410
    assert store.observe([DayObservation("k", 20_410, 0)]) == [((0, 2, 300, 50_000),)]


def test_missing_ids_and_amounts_record_nothing() -> None:
    store = InMemoryDailyStore()
    row = {"event_time": T0, "amount": 100.0}
    assert all(math.isnan(v) for v in FEATURES.transform_one(row, store).values())
    assert len(store) == 0
    row = {"event_time": T0, "amount": None, "msisdn": "13812345678"}
    features = FEATURES.transform_one(row, store)
    assert features["beh_msisdn_count_30d"] == 0
    assert math.isnan(features["beh_msisdn_amount_ratio_30d"])
    assert len(store) == 0


def test_the_in_memory_store_is_bounded() -> None:
    store = InMemoryDailyStore(max_keys=2)
    for key in "abc":
        store.observe([DayObservation(key, 20_400, 100)])
    assert len(store) == 2
    assert store.observe([DayObservation("a", 20_400, 0)]) == [()]  # evicted: no history
    with pytest.raises(ConfigError):
        InMemoryDailyStore(max_keys=0)
    with pytest.raises(ConfigError):
        make_daily_store("postgres://x")


def test_the_extractor_and_its_batch_path_carry_the_baselines() -> None:
    extractor = FeatureExtractor(load_reference(), behaviour=FEATURES)
    assert set(FEATURES.names()) <= set(extractor.specs)
    assert all(spec.description and spec.description_zh for spec in FEATURES.specs)
    frame = pd.DataFrame({"event_time": [T0, T0], "amount": [10.0, 20.0], "msisdn": ["1", "1"]})
    many = extractor.extract_many(frame)
    assert list(many["beh_msisdn_count_7d"]) == [0, 1]
    state = FeatureState.in_memory(extractor)
    assert isinstance(state.daily, InMemoryDailyStore)
    assert state.velocity is None
    one = [extractor.extract_one(row, state) for row in frame.to_dict("records")]
    names = list(FEATURES.names())
    assert_same(pd.DataFrame(one, columns=names), many[names])
    assert many["beh_msisdn_mean_7d"].iloc[1] == 10.0


def test_redis_down_raises_the_state_store_error_and_recovers_nothing_silently() -> None:
    url = f"redis://127.0.0.1:{free_port()}/0?retry_after_s=30"
    extractor = FeatureExtractor(
        load_reference(), velocity=VelocityFeatures("behaviour-test-key"), behaviour=FEATURES
    )
    state = FeatureState.from_url(extractor, url)
    store = state.daily
    assert isinstance(store, RedisDailyStore)
    assert isinstance(state.velocity, RedisStateStore)
    assert store.client is state.velocity.client  # one connection pool
    assert store.retry_after_s == 30
    row = {"event_time": T0, "amount": 10.0, "msisdn": "13812345678"}
    with pytest.raises(StateStoreError):
        FEATURES.transform_one(row, store)
    assert not store.available
    with pytest.raises(StateStoreError, match="retrying"):
        FEATURES.transform_one(row, store)
