"""Velocity features and their state store.

The key property: streaming a frame's events one by one through ``transform_one`` and a
fresh store gives exactly the values ``transform_many`` computes for the whole frame, and
both agree with a brute-force reading of the definitions.
"""

from __future__ import annotations

import math
import threading
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fraudguard.exceptions import ConfigError, InputError
from fraudguard.features.base import FeatureKind
from fraudguard.features.store import (
    InMemoryStateStore,
    Observation,
    check_horizons,
    make_store,
)
from fraudguard.features.velocity import VelocityFeatures, _platform_key
from fraudguard.schema import ReasonFamily

KEY = "test-hmac-key"
T0 = pd.Timestamp("2026-11-24 09:30", tz="Asia/Shanghai")
US = 1_000_000
SMALL = {"windows_s": (60, 600), "first_seen_ttl_s": 1200}

_ENTITY_COLUMNS = {
    "payer": "payment_payer_id",
    "instrument": "payment_instrument_id",
    "device": "device_id",
    "msisdn": "msisdn",
    "ip": "network_ip",
}
_COUNTERPARTS = {
    "payer": ("msisdn",),
    "instrument": ("msisdn",),
    "device": ("msisdn", "payer", "instrument"),
    "msisdn": ("payer",),
    "ip": ("msisdn",),
}
_AMOUNTS = {"payer", "instrument", "msisdn"}
_AGES = ("payer", "instrument", "device", "platform")


def stream(features: VelocityFeatures, frame: pd.DataFrame) -> pd.DataFrame:
    """The online path: rows in event-time order (stable) through one fresh store."""
    ordered = frame.sort_values("event_time", kind="stable")
    store = features.new_store()
    rows = [features.transform_one(row, store) for row in ordered.to_dict("records")]
    return pd.DataFrame(rows, index=ordered.index, columns=list(features.names()))


def assert_same(online: pd.DataFrame, batch: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(
        online.astype(batch.dtypes.to_dict()), batch, check_exact=True, check_dtype=True
    )


def brute_force(features: VelocityFeatures, frame: pd.DataFrame) -> pd.DataFrame:
    """The definitions read literally, O(n^2), in event-time order."""
    ordered = frame.sort_values("event_time", kind="stable")
    rows = ordered.to_dict("records")
    times = [int(pd.Timestamp(r["event_time"]).value) // 1000 for r in rows]  # microseconds

    def ident(row: dict[str, Any], entity: str) -> str | None:
        if entity == "platform":
            return _platform_key(row)
        value = row.get(_ENTITY_COLUMNS[entity])
        return (
            None
            if value is None or (isinstance(value, float) and math.isnan(value))
            else str(value)
        )

    def fen(row: dict[str, Any]) -> int:
        amount = row.get("amount")
        if amount is None or not math.isfinite(amount * 100):
            return 0
        value = round(amount * 100)
        return value if 0 < value <= 5_000_000 else 0

    suffixes = [name.rsplit("_", 1)[1] for name in features.names() if "vel_payer_count" in name]
    out = []
    for i, row in enumerate(rows):
        result: dict[str, Any] = {}
        for entity, counterparts in _COUNTERPARTS.items():
            me = ident(row, entity)
            for w, suffix in zip(features.windows_s, suffixes, strict=True):
                prior = [
                    j
                    for j in range(i)
                    if me is not None
                    and ident(rows[j], entity) == me
                    and times[j] > times[i] - w * US
                ]
                base = f"vel_{entity}"
                result[f"{base}_count_{suffix}"] = math.nan if me is None else len(prior)
                if entity in _AMOUNTS:
                    total = sum(fen(rows[j]) for j in prior) / 100
                    result[f"{base}_amount_{suffix}"] = math.nan if me is None else total
                for c in counterparts:
                    seen = {ident(rows[j], c) for j in prior} - {None}
                    result[f"{base}_distinct_{c}_{suffix}"] = math.nan if me is None else len(seen)
        for entity in _AGES:
            me = ident(row, entity)
            earlier = [j for j in range(i) if me is not None and ident(rows[j], entity) == me]
            ttl = features.first_seen_ttl_s * US
            first = previous = None
            for j in [*earlier, i]:  # a silence of the TTL or more starts the entity over
                if previous is None or times[j] - previous >= ttl:
                    first = times[j]
                previous = times[j]
            new = me is not None and (not earlier or times[i] - times[earlier[-1]] >= ttl)
            result[f"{entity}_is_new"] = new
            age = math.nan if me is None or new else (times[i] - first) / US
            result[f"age_{entity}_first_seen_s"] = age
        out.append(result)
    return pd.DataFrame(out, index=ordered.index, columns=list(features.names()))


# --- generated event streams -------------------------------------------------------------

# Gaps (microseconds) that land on, just inside and just outside the small windows / TTL.
_GAPS = [
    0,
    0,
    0,
    1,
    59_999_999,
    60 * US,
    60 * US + 1,
    599 * US,
    600 * US,
    600 * US + 1,
    1_199 * US,
    1_200 * US,
    1_201 * US,
    5 * US,
]
_AMOUNT_CHOICES = [10.0, 30.0, 0.015, 0.025, 33.333, 50_000.0, 50_000.01, -5.0, 0.0, math.nan]


@st.composite
def event_frames(draw: st.DrawFn, max_events: int = 40) -> pd.DataFrame:
    n = draw(st.integers(0, max_events))
    gaps = draw(st.lists(st.sampled_from(_GAPS), min_size=n, max_size=n))
    micros = np.cumsum(np.array(gaps, dtype=np.int64))

    def ids(pool: list[Any]) -> list[Any]:
        return draw(st.lists(st.sampled_from(pool), min_size=n, max_size=n))

    frame = pd.DataFrame(
        {
            "event_time": T0 + pd.to_timedelta(micros, unit="us"),
            "amount": ids(_AMOUNT_CHOICES),
            "msisdn": ids(["18912345678", "13812345678", "17012345678", None]),
            "payment_payer_id": ids(["u-1", "u-2", "u-3", None, math.nan]),
            "payment_instrument_id": ids(["tok_1", "tok_2", None]),
            "device_id": ids(["dev-1", "dev-2", None]),
            "network_ip": ids(["36.110.14.2", "10.0.0.1", None]),
            "platform_app_package": ids(["com.ct.client", None, None]),
            "platform_url": ids(["https://www.189.cn/pay", "http://10086-cz.com/a", "[::1", None]),
            "platform_wechat_account": ids(["中国移动10086", None, None]),
            "platform_id": ids(["ctyi", None]),
        }
    )
    # Rows arrive in any order and with any labels: the stable time sort defines the order.
    permutation = draw(st.permutations(range(n)))
    frame = frame.iloc[list(permutation)]
    frame.index = pd.Index(
        draw(st.lists(st.integers(-1000, 1000), min_size=n, max_size=n, unique=True)), dtype="int64"
    )
    return frame


@pytest.mark.parametrize("config", [SMALL, {}], ids=["small-windows", "defaults"])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=event_frames())
def test_online_batch_and_brute_force_agree(frame: pd.DataFrame, config: dict[str, Any]) -> None:
    features = VelocityFeatures(KEY, **config)
    batch = features.transform_many(frame)
    assert list(batch.index) == list(frame.index)
    assert list(batch.columns) == list(features.names())
    ordered = batch.loc[frame.sort_values("event_time", kind="stable").index]
    assert_same(stream(features, frame), ordered)
    assert_same(brute_force(features, frame), ordered)


def realistic_frame(n: int, seed: int) -> pd.DataFrame:
    """``n`` events over 40 days: busy and quiet ids, bursts, missing ids, shuffled rows."""
    rng = np.random.default_rng(seed)

    def ids(prefix: str, population: int, missing: float) -> np.ndarray:
        picks = np.minimum(rng.zipf(1.5, n), population)
        out = np.char.add(prefix, picks.astype(str)).astype(object)
        out[rng.random(n) < missing] = None
        return out

    # About one event every 30 s on average (20,000 events span about a week), in bursts.
    gaps = rng.choice(
        [0, 1, 2, 10, 30, 60, 120, 599, 600, 601],
        n,
        p=[0.15, 0.15, 0.1, 0.2, 0.2, 0.1, 0.07, 0.01, 0.01, 0.01],
    )
    seconds = np.cumsum(gaps) + rng.integers(0, 2, n)  # some events a second out of order
    frame = pd.DataFrame(
        {
            "event_time": T0 + pd.to_timedelta(seconds * US + rng.integers(0, 3, n), unit="us"),
            "amount": rng.choice([10.0, 30.0, 50.0, 100.0, 200.0, 0.5], n),
            "msisdn": ids("1891234", 3000, 0.0),
            "payment_payer_id": ids("u-", 1500, 0.1),
            "payment_instrument_id": ids("tok_", 1500, 0.3),
            "device_id": ids("dev-", 800, 0.2),
            "network_ip": ids("10.1.", 300, 0.2),
            "platform_app_package": ids("com.app", 20, 0.6),
            "platform_url": ids("https://pay", 100, 0.7),
            "platform_id": ids("p", 10, 0.5),
        }
    )
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)


@pytest.mark.parametrize("config", [{}, SMALL], ids=["defaults", "small-windows"])
def test_parity_on_twenty_thousand_realistic_events(config: dict[str, Any]) -> None:
    frame = realistic_frame(20_000, seed=11)
    features = VelocityFeatures(KEY, **config)
    batch = features.transform_many(frame)
    assert_same(
        stream(features, frame), batch.loc[frame.sort_values("event_time", kind="stable").index]
    )
    # The frame exercises what it should: busy windows, repeats, new and returning ids.
    widest = "24h" if not config else "10m"
    assert batch[f"vel_ip_count_{widest}"].max() > 5
    assert batch[f"vel_device_distinct_msisdn_{widest}"].max() > 5
    assert 0 < batch["payer_is_new"].mean() < 1


def test_rows_come_back_in_the_frame_order() -> None:
    # Without ties the frame order cannot matter; each row's features must follow it.
    frame = realistic_frame(4_000, seed=3).drop_duplicates("event_time")
    features = VelocityFeatures(KEY)
    expected = features.transform_many(frame)
    shuffled = frame.sample(frac=1.0, random_state=5)
    pd.testing.assert_frame_equal(features.transform_many(shuffled), expected.loc[shuffled.index])


# --- definitions, worked by hand ---------------------------------------------------------


def event(minutes: float, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"event_time": T0 + pd.Timedelta(minutes=minutes), "amount": 100.0}
    row.update(values)
    return row


def test_window_boundaries_and_ties() -> None:
    features = VelocityFeatures(KEY)
    frame = pd.DataFrame(
        [
            event(0, payment_payer_id="u-1", msisdn="18912345678", amount=50.0),
            event(0, payment_payer_id="u-1", msisdn="18912345678"),  # same instant: counts
            event(10, payment_payer_id="u-1", msisdn="13812345678"),  # exactly 10 min later
            event(69, payment_payer_id="u-1", msisdn="17012345678"),  # 59 min after the third
        ]
    )
    batch = features.transform_many(frame)
    assert batch["vel_payer_count_10m"].tolist() == [0, 1, 0, 0]  # 10 min old has left
    assert batch["vel_payer_count_1h"].tolist() == [0, 1, 2, 1]
    assert batch["vel_payer_amount_1h"].tolist() == [0.0, 50.0, 150.0, 100.0]
    # Distinct counts leave out this event's own number.
    assert batch["vel_payer_distinct_msisdn_1h"].tolist() == [0, 1, 1, 1]
    assert batch["vel_payer_distinct_msisdn_24h"].tolist() == [0, 1, 1, 2]
    assert batch["payer_is_new"].tolist() == [True, False, False, False]
    assert batch["age_payer_first_seen_s"].tolist()[1:] == [0.0, 600.0, 4140.0]
    assert math.isnan(batch["age_payer_first_seen_s"].iloc[0])
    assert_same(stream(features, frame), batch)


def test_a_missing_id_gives_unknown_features_and_records_nothing() -> None:
    features = VelocityFeatures(KEY)
    store = features.new_store()
    first = features.transform_one(event(0, msisdn="18912345678", payment_payer_id=None), store)
    assert math.isnan(first["vel_payer_count_1h"])
    assert math.isnan(first["age_payer_first_seen_s"])
    assert first["payer_is_new"] is False
    assert first["vel_msisdn_count_1h"] == 0
    assert first["vel_msisdn_distinct_payer_1h"] == 0
    assert len(store) == 1  # only the phone number
    second = features.transform_one(event(1, msisdn="18912345678", payment_payer_id="u-1"), store)
    assert second["payer_is_new"] is True
    assert second["vel_msisdn_count_1h"] == 1
    assert second["vel_msisdn_distinct_payer_1h"] == 0  # an unknown payer is no payer
    assert second["vel_msisdn_amount_1h"] == 100.0


def test_first_seen_expires_after_an_idle_ttl() -> None:
    features = VelocityFeatures(KEY, windows_s=(60,), first_seen_ttl_s=3600)
    frame = pd.DataFrame(
        [
            event(0, device_id="dev-1"),
            event(50, device_id="dev-1"),
            event(100, device_id="dev-1"),  # seen every 50 min: still known, age from the first
            event(160, device_id="dev-1"),  # silent for exactly the TTL: new again
            event(170, device_id="dev-1"),
        ]
    )
    batch = features.transform_many(frame)
    assert batch["device_is_new"].tolist() == [True, False, False, True, False]
    assert batch["age_device_first_seen_s"].tolist()[1:3] == [3000.0, 6000.0]
    assert batch["age_device_first_seen_s"].iloc[4] == 600.0
    assert_same(stream(features, frame), batch)


def test_platform_identity_prefers_the_most_specific_part() -> None:
    features = VelocityFeatures(KEY)
    rows = [
        event(0, platform_app_package="com.ct.client", platform_url="https://a.example/x"),
        event(1, platform_app_package="com.ct.client", platform_id="other"),  # same app
        event(2, platform_url="https://189.cn.pay-secure.top/pay"),
        event(3, platform_url="189.cn.pay-secure.top/other?x=1"),  # same host, no scheme
        event(4, platform_url="HTTPS://189.CN.PAY-SECURE.TOP./"),  # host is case-blind
        event(5, platform_url="https://189.cn/pay"),  # the real one is another host
        event(6, platform_wechat_account="中国移动10086", platform_id="ctyi"),
        event(7, platform_id="ctyi"),  # the id alone is another identity
        event(8, platform_url="[::1", platform_id="ctyi"),  # no host: falls back to the id
    ]
    frame = pd.DataFrame(rows)
    batch = features.transform_many(frame)
    assert batch["platform_is_new"].tolist() == [
        True,
        False,
        True,
        False,
        False,
        True,
        True,
        True,
        False,
    ]
    assert_same(stream(features, frame), batch)
    assert _platform_key({}) is None


def test_out_of_order_events_are_clamped_to_the_newest_time() -> None:
    store = InMemoryStateStore(windows_s=(600,), first_seen_ttl_s=3600)
    t = 1_800_000_000 * US
    store.observe([Observation("k", t, 100)])
    late = store.observe([Observation("k", t - 300 * US, 200)])[0]  # 5 min late
    assert late.counts == (1,)
    assert late.sums_fen == (100,)
    assert late.age_us == 0
    # Recorded at t, not at t - 5 min: it is still in the window 9 min after t.
    after = store.observe([Observation("k", t + 540 * US, 0)])[0]
    assert after.counts == (2,)
    assert after.sums_fen == (300,)
    assert after.age_us == 540 * US
    # A back-dated event cannot hide from the windows either.
    backdated = store.observe([Observation("k", t - 86_400 * US, 0)])[0]
    assert backdated.counts == (3,)


def test_event_time_forms_agree() -> None:
    features = VelocityFeatures(KEY)
    when = datetime(2026, 11, 24, 9, 30, 0, 123456, tzinfo=timezone(timedelta(hours=8)))
    forms = [
        when,
        pd.Timestamp(when),
        when.isoformat(),
        when.astimezone(UTC).replace(tzinfo=None),  # naive means UTC
        np.datetime64("2026-11-24T01:30:00.123456789"),  # nanoseconds are floored
    ]
    for i, form in enumerate(forms):
        store = features.new_store()
        features.transform_one(event(0, payment_payer_id="u-1", event_time=when), store)
        row = features.transform_one(event(0, payment_payer_id="u-1", event_time=form), store)
        assert row["age_payer_first_seen_s"] == 0.0, i
    frame = pd.DataFrame({"event_time": [when.isoformat(), when], "payment_payer_id": ["u", "u"]})
    assert features.transform_many(frame)["age_payer_first_seen_s"].tolist()[1] == 0.0
    # Far outside pandas' nanosecond range, both paths still agree.
    far = [datetime(2999, 12, 31, 23, 0, tzinfo=UTC), datetime(3000, 1, 1, tzinfo=UTC)]
    frame = pd.DataFrame({"event_time": far, "device_id": ["d", "d"]})
    batch = features.transform_many(frame)
    assert batch["age_device_first_seen_s"].tolist()[1] == 3600.0
    assert_same(stream(features, frame), batch)


def test_bad_event_times_are_input_errors_without_personal_data() -> None:
    features = VelocityFeatures(KEY)
    store = features.new_store()
    for bad in (None, math.nan, pd.NaT, "not a time"):
        with pytest.raises(InputError) as caught:
            features.transform_one(event(0, msisdn="18912345678", event_time=bad), store)
        assert "18912345678" not in str(caught.value)
    with pytest.raises(InputError):
        features.transform_many(pd.DataFrame({"msisdn": ["18912345678"]}))
    with pytest.raises(InputError):
        features.transform_many(pd.DataFrame({"event_time": [None], "amount": [1.0]}))
    with pytest.raises(InputError):
        features.transform_many(pd.DataFrame({"event_time": ["yesterday-ish"]}))


def test_an_empty_frame_and_absent_columns() -> None:
    features = VelocityFeatures(KEY)
    empty = features.transform_many(pd.DataFrame({"event_time": pd.to_datetime([], utc=True)}))
    assert empty.shape == (0, len(features.names()))
    only_time = features.transform_many(pd.DataFrame({"event_time": [T0, T0]}))
    assert (
        only_time.drop(columns=[n for n in features.names() if n.endswith("_is_new")])
        .isna()
        .all()
        .all()
    )
    assert not only_time["platform_is_new"].any()


def test_store_keys_are_keyed_hashes() -> None:
    features = VelocityFeatures(KEY)
    store = InMemoryStateStore()
    raw = {
        "msisdn": "18912345678",
        "payment_payer_id": "u-77121",
        "payment_instrument_id": "tok_9f2c",
        "device_id": "dev-a1b2",
        "network_ip": "36.110.14.2",
        "platform_app_package": "com.chinatelecom.bestpayclient",
    }
    for minutes in (0, 1):
        features.transform_one(event(minutes, **raw), store)
    # White-box: what the store holds, keys and counterparts alike (a lone event is a
    # tuple, a key's log lists its events).
    logs = [(key, getattr(state, "events", state)) for key, state in store._series.items()]
    assert any(isinstance(events, list) and len(events) == 2 for _, events in logs)
    held = repr(list(store._seen)) + repr(logs)
    for value in raw.values():
        assert value not in held
    assert len(store) == 6
    other = VelocityFeatures("another-key")
    assert other.transform_one(event(2, **raw), store)["payer_is_new"] is True


def test_specs_describe_every_feature() -> None:
    features = VelocityFeatures(KEY)
    names = features.names()
    assert len(set(names)) == len(names) == 53
    for spec in features.specs:
        assert spec.description
        assert spec.description_zh
        assert spec.family in {
            ReasonFamily.VELOCITY,
            ReasonFamily.PROMOTION_ABUSE,
            ReasonFamily.SUSPICIOUS_PLATFORM,
        }
    kinds = {spec.name: spec.kind for spec in features.specs}
    assert kinds["vel_payer_count_1h"] is FeatureKind.INT
    assert kinds["vel_payer_amount_24h"] is FeatureKind.FLOAT
    assert kinds["vel_device_distinct_instrument_10m"] is FeatureKind.INT
    assert kinds["vel_msisdn_distinct_payer_24h"] is FeatureKind.INT
    assert kinds["age_device_first_seen_s"] is FeatureKind.FLOAT
    assert kinds["platform_is_new"] is FeatureKind.BOOL
    families = {spec.name: spec.family for spec in features.specs}
    assert families["platform_is_new"] is ReasonFamily.SUSPICIOUS_PLATFORM
    assert families["vel_device_distinct_msisdn_24h"] is ReasonFamily.PROMOTION_ABUSE
    assert "vel_platform_count_1h" not in names  # platforms are first-seen only
    custom = VelocityFeatures(KEY, windows_s=(30, 120, 7200), first_seen_ttl_s=7 * 86_400)
    assert "vel_ip_count_30s" in custom.names()
    assert "vel_ip_count_2m" in custom.names()
    assert "7 days" in {s.name: s for s in custom.specs}["device_is_new"].description


def test_a_store_with_other_windows_is_refused() -> None:
    features = VelocityFeatures(KEY)
    with pytest.raises(ConfigError, match="disagree"):
        features.transform_one(event(0, msisdn="18912345678"), InMemoryStateStore(**SMALL))


@pytest.mark.parametrize(
    ("windows", "ttl"), [((), 10), ((600, 60), 3600), ((0, 60), 3600), ((60,), 59), ((1.5,), 60)]
)
def test_bad_horizons_are_config_errors(windows: tuple[Any, ...], ttl: int) -> None:
    with pytest.raises(ConfigError):
        check_horizons(windows, ttl)


# --- the store ---------------------------------------------------------------------------


def test_make_store() -> None:
    assert isinstance(make_store("memory://"), InMemoryStateStore)
    assert isinstance(make_store(" MEMORY:// "), InMemoryStateStore)
    for url in (
        "memory://host",
        "postgres://u:s3cret@db/x",
        "s3cret",
        "",
        "redis://:s3cret@cache:6379/0?key_prefix=",
        "redis://:s3cret@cache:6379/0?retry_after_s=soon",
        "redis://:s3cret@cache:6379/zero",
    ):
        with pytest.raises(ConfigError) as caught:
            make_store(url)
        assert "s3cret" not in str(caught.value)


def test_concurrent_observes_lose_no_events() -> None:
    store = InMemoryStateStore(windows_s=(600,), first_seen_ttl_s=600)
    t, threads, per_thread = 1_800_000_000 * US, 8, 400
    seen: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(threads)

    def work(worker: int) -> None:
        barrier.wait()
        mine = []
        for i in range(per_thread):
            answers = store.observe(
                [
                    Observation("shared", t, 1, (f"c{worker}-{i % 7}",)),
                    Observation(f"own-{worker}", t, 1),
                ]
            )
            mine.append(answers[0].counts[0])
            assert answers[1].counts == (i,)
        with lock:
            seen.extend(mine)

    pool = [threading.Thread(target=work, args=(w,)) for w in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    # Every observe saw a different number of earlier events: none was lost or doubled.
    total = threads * per_thread
    assert sorted(seen) == list(range(total))
    final = store.observe([Observation("shared", t, 1, (None,))])[0]
    assert final.counts == (total,)
    assert final.sums_fen == (total,)
    assert final.distinct == ((threads * 7,),)


def test_the_key_cap_bounds_memory() -> None:
    store = InMemoryStateStore(windows_s=(600, 3600), first_seen_ttl_s=86_400, max_keys=500)
    t = 1_800_000_000 * US
    for i in range(20_000):
        store.observe([Observation(f"k{i}", t + i, 100, (f"c{i}",)), Observation("hot", t + i)])
        if i % 997 == 0:
            size = store.size()
            assert size.keys <= 500
            assert size.windowed_keys <= 500
    assert len(store) == 500
    # The hot key is always recently seen, so LRU eviction never takes it.
    assert store.observe([Observation("hot", t + 20_000)])[0].counts == (20_000, 20_000)
    # An evicted key looks new again: the documented cost of the cap.
    assert store.observe([Observation("k0", t + 20_001, 0, (None,))])[0].age_us is None


def test_quiet_keys_are_swept_and_old_events_pruned() -> None:
    store = InMemoryStateStore(windows_s=(600, 3600), first_seen_ttl_s=7200)
    t = 1_800_000_000 * US
    for i in range(1000):  # one event a second on one key, and one-off keys
        store.observe(
            [Observation("busy", t + i * US, 1, ("x",)), Observation(f"once{i}", t + i * US)]
        )
    assert store.size() == (1001, 1001, 2000)
    # 61 minutes later the one-off keys have left every window; only "busy" is observed.
    later = t + (999 + 3_660) * US
    answer = store.observe([Observation("busy", later, 1, ("x",))])[0]
    assert answer.counts == (0, 0)
    assert answer.distinct == ((0, 0),)
    assert answer.age_us == later - t
    assert store.size() == (1001, 1, 1)  # logs swept, first-seen records kept
    # Past the TTL the records go too, without being touched.
    store.observe([Observation("other", later + 7_200 * US)])
    assert len(store) == 1
    # Inside a busy key the log is compacted as the windows slide.
    for i in range(5000):
        store.observe([Observation("slide", later + 7_200 * US + i * 10 * US, 1)])
    assert store.size().events <= 361 + 1
    assert len(store._series["slide"].events) < 2 * 361 + 40


def test_counterpart_layout_is_checked() -> None:
    store = InMemoryStateStore()
    store.observe([Observation("k", 0, 0, ("a",))])
    store.observe([Observation("k", 1, 0, ("b",))])
    with pytest.raises(ValueError, match="counterparts"):
        store.observe([Observation("k", 2, 0, ("a", "b"))])
