"""Feedback features: online (a store told about reports as they arrive) equals batch (a
reports frame), a report known after an order never counts for it, one count per reported
order, the same keys as the decision log's links, and the Redis store answers as the
in-memory one does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fraudguard.decisions import link_keys
from fraudguard.exceptions import InputError
from fraudguard.features import FeatureExtractor, FeatureState, FeedbackFeatures
from fraudguard.features.feedback import KEY_COLUMNS, REPORT_COLUMNS, entity_keys
from fraudguard.features.feedback_store import FraudReport, InMemoryFeedbackStore
from fraudguard.features.platform import PlatformFeatures
from fraudguard.schema import to_flat
from tests.features.strategies import REFERENCE, events

KEY = "feedback-test-key"
FB = FeedbackFeatures(KEY)
DAY = timedelta(days=1)
T0 = datetime(2026, 11, 1, tzinfo=UTC)
_SHOPS = ["https://cheap-189.shop/pay", "https://10086-cz.com/a", "https://www.189.cn/chongzhi"]
_CODES = ["VIP-HALF", " VIP-HALF ", "FREE100", None]
_DEVICES = ["d1", "d2", None]
_PAYERS = ["u1", "u2", "u3"]


@st.composite
def histories(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Orders over ~40 days at a few shops, and reports on some of them after a delay
    (several per order sometimes: a chargeback, then a complaint, then a confirmation)."""
    n = draw(st.integers(1, 25))
    minutes = sorted(draw(st.lists(st.integers(0, 40 * 24 * 60), min_size=n, max_size=n)))
    rows = [
        {
            "transaction_id": f"o{i}",
            "event_time": pd.Timestamp(T0 + timedelta(minutes=m)),
            "platform_url": draw(st.sampled_from(_SHOPS)),
            "promotion_code": draw(st.sampled_from(_CODES)),
            "device_id": draw(st.sampled_from(_DEVICES)),
            "payment_payer_id": draw(st.sampled_from(_PAYERS)),
            "payment_instrument_id": None,
        }
        for i, m in enumerate(minutes)
    ]
    frame = pd.DataFrame(rows)
    reports = []
    for row in rows:
        for _ in range(draw(st.integers(0, 2))):
            # Delays of 0 (known as the order happens) up to 35 days, in whole minutes.
            delay = timedelta(minutes=draw(st.integers(0, 35 * 24 * 60)))
            reports.append(
                {"report_id": row["transaction_id"], "known_at": row["event_time"] + delay}
            )
    known = pd.DataFrame(reports, columns=["report_id", "known_at"])
    return frame, FB.reports_for(frame, known)


def _online(frame: pd.DataFrame, reports: pd.DataFrame, store: Any) -> pd.DataFrame:
    """Score the orders in time order, telling the store each report before the first order
    at or after its known time (what a service sees: reports arrive, orders read them)."""
    platform = PlatformFeatures(REFERENCE)
    pending = reports.sort_values("known_at", kind="stable").reset_index(drop=True)
    told = 0
    out = []
    for row in frame.sort_values("event_time", kind="stable").to_dict("records"):
        due = int((pending["known_at"] <= row["event_time"]).sum())
        if due > told:
            FB.record(store, pending.iloc[told:due])
            told = due
        features = platform.transform_one(row)
        out.append(pd.Series(FB.transform_one(row, features, store), name=row["transaction_id"]))
    result = pd.DataFrame(out)
    return result.loc[frame["transaction_id"]].reset_index(drop=True)


def _brute(frame: pd.DataFrame, reports: pd.DataFrame) -> pd.DataFrame:
    """The definition, literally: per order, reports on its keys known in (t - w, t], one per
    reported order per 30 days (greedy in known-time order)."""
    longest = FB.windows_s[-1]
    counted: list[dict[str, Any]] = []
    last: dict[str, pd.Timestamp] = {}
    for report in reports.sort_values("known_at", kind="stable").to_dict("records"):
        before = last.get(report["report_id"])
        if before is None or report["known_at"] - before >= timedelta(seconds=longest):
            last[report["report_id"]] = report["known_at"]
            counted.append(report)
    keys = FB.keys_many(frame)
    out: dict[str, list[float]] = {name: [] for name in FB.names()}
    for i, t in enumerate(frame["event_time"]):
        for column, entity in zip(
            KEY_COLUMNS, ("platform", "promotion", "device", "instrument", "payer"), strict=True
        ):
            key = keys[column].iloc[i]
            for w in FB.windows_s:
                name = f"fb_{entity}_fraud_{w // 86_400}d"
                if not isinstance(key, str):  # no such entity
                    out[name].append(np.nan)
                    continue
                out[name].append(
                    sum(
                        1
                        for r in counted
                        if r[column] == key and t - timedelta(seconds=w) < r["known_at"] <= t
                    )
                )
    return pd.DataFrame(out, columns=list(FB.names()))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories())
def test_online_equals_batch_equals_the_definition(
    history: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    frame, reports = history
    batch = FB.transform_many(frame, reports=reports).reset_index(drop=True)
    online = _online(frame, reports, FB.new_store())
    pd.testing.assert_frame_equal(online.astype(float), batch, check_names=False)
    pd.testing.assert_frame_equal(_brute(frame, reports).astype(float), batch, check_dtype=False)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories())
def test_a_report_known_after_an_order_never_counts_for_it(
    history: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    frame, reports = history
    platform = FB._platform_features(frame)  # once: the rows are scored one by one below
    batch = FB.transform_many(frame, platform, reports=reports)
    for i, t in enumerate(frame["event_time"]):
        row, its_platform = frame.iloc[[i]], platform.iloc[[i]]
        known_then = reports[reports["known_at"] <= t]
        alone = FB.transform_many(row, its_platform, reports=known_then)
        # Dropping everything known after the order changes nothing...
        pd.testing.assert_series_equal(batch.iloc[i], alone.iloc[0], check_names=False)
        # ...and nothing known after it counts on its own.
        later = reports[reports["known_at"] > t]
        only_later = FB.transform_many(row, its_platform, reports=later).iloc[0]
        assert (only_later.fillna(0) == 0).all()


def test_a_shop_with_two_complaints_this_morning_counts_two_this_afternoon() -> None:
    morning = pd.Timestamp("2026-11-24 09:00", tz="Asia/Shanghai")
    frame = pd.DataFrame(
        {
            "transaction_id": ["a", "b", "c", "d"],
            "event_time": [morning, morning + pd.Timedelta("30min"), morning + pd.Timedelta("6h"),
                           morning + pd.Timedelta("2D")],
            "platform_url": ["https://m.cheap-189.shop/x", "https://cheap-189.shop/pay",
                             "https://www.cheap-189.shop/", "https://cheap-189.shop/"],
        }
    )  # fmt: skip
    known = pd.DataFrame(
        {"report_id": ["a", "b", "b"], "known_at": [morning + pd.Timedelta("2h")] * 3}
    )  # b twice (a chargeback and a complaint): one report
    reports = FB.reports_for(frame, known)
    got = FB.transform_many(frame, reports=reports)
    # Subdomains of one registrable domain are one shop.
    assert got["fb_platform_fraud_1d"].tolist() == [0, 0, 2, 0]
    assert got["fb_platform_fraud_7d"].tolist() == [0, 0, 2, 2]
    assert got["fb_device_fraud_1d"].isna().all()  # no device id: unknown, not 0


def test_official_platforms_get_no_key() -> None:
    frame = pd.DataFrame(
        {"transaction_id": ["a"], "event_time": [pd.Timestamp(T0)],
         "platform_url": ["https://www.189.cn/chongzhi"]}
    )  # fmt: skip
    assert FB.keys_many(frame)["platform_key"].tolist() == [None]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events())
def test_keys_are_the_decision_logs_link_keys(event: Any) -> None:
    row = to_flat(event)
    features = PlatformFeatures(REFERENCE).transform_one(row)
    ours = entity_keys(row, features, KEY)
    theirs = link_keys(event, features, KEY)
    for column in ("platform_key", "payer_key", "instrument_key", "device_key"):
        assert ours[column] == theirs[column], column
    # The online path's store keys are the same keys, prefixed by entity.
    assert FB.keys_one(row, features) == FB.store_keys(ours)
    batch = FB.keys_many(pd.DataFrame([row]), pd.DataFrame([features]))
    assert batch.iloc[0].tolist() == [ours[c] for c in KEY_COLUMNS]


def test_reports_from_a_labelled_file_respect_label_time() -> None:
    frame = pd.DataFrame(
        {
            "transaction_id": ["a", "b", "c"],
            "event_time": [pd.Timestamp(T0), pd.Timestamp(T0 + DAY / 2), pd.Timestamp(T0 + DAY)],
            "platform_url": ["https://cheap-189.shop/"] * 3,
            "is_fraud": [True, True, False],
            "label_time": [pd.Timestamp(T0 + DAY * 0.75), pd.NaT, pd.NaT],
        }
    )
    reports = FB.reports_from_labels(frame)
    assert list(reports.columns) == list(REPORT_COLUMNS)
    assert reports["report_id"].tolist() == ["a"]  # b has no label time: never known
    got = FB.transform_many(frame, reports=reports)["fb_platform_fraud_1d"].tolist()
    assert got == [0, 0, 1]  # b happened before a was known


def test_the_extractor_adds_feedback_after_the_other_features() -> None:
    extractor = FeatureExtractor(REFERENCE, feedback=FB)
    columns = {
        "transaction_id": ["a", "b"],
        "event_time": [pd.Timestamp(T0), pd.Timestamp(T0 + DAY / 2)],
        "msisdn": ["13812345678"] * 2,
        "amount": [100.0] * 2,
        "channel": ["other_web"] * 2,
        "platform_url": ["https://cheap-189.shop/"] * 2,
    }
    frame = pd.DataFrame(columns).reindex(columns=list(dict.fromkeys([*FB.inputs, *columns])))
    known = pd.DataFrame({"report_id": ["a"], "known_at": [pd.Timestamp(T0 + DAY / 4)]})
    many = extractor.extract_many(frame, reports=FB.reports_for(frame, known))
    assert list(many.columns[-len(FB.names()) :]) == list(FB.names())
    assert many["fb_platform_fraud_1d"].tolist() == [0, 1]
    state = FeatureState.in_memory(extractor)
    assert state.feedback is not None
    FB.record(state.feedback, FB.reports_for(frame, known))
    one = extractor.extract_one(frame.iloc[1].to_dict(), state)
    assert one["fb_platform_fraud_1d"] == 1
    with pytest.raises(ValueError, match="feedback store"):
        extractor.extract_one(frame.iloc[1].to_dict(), FeatureState())


def test_a_reports_frame_is_checked() -> None:
    with pytest.raises(InputError) as error:
        FB.record(FB.new_store(), pd.DataFrame({"report_id": ["a"]}))
    assert {p.location for p in error.value.problems} >= {"known_at", "platform_key"}
    bad = pd.DataFrame({c: [None] for c in REPORT_COLUMNS}).assign(report_id="a", known_at="soon")
    with pytest.raises(InputError, match="reports frame"):
        FB.record(FB.new_store(), bad)


def test_the_in_memory_store_forgets_what_no_order_can_count() -> None:
    store = InMemoryFeedbackStore(windows_s=(86_400,))
    day = 86_400 * 1_000_000
    store.record([FraudReport("t1", 0, ("platform:x",))])
    store.record([FraudReport("t2", 200 * day, ("platform:y",))])  # far later: prunes t1
    assert store.counts(["platform:x", "platform:y"], 200 * day) == [(0,), (1,)]
    assert store.record([FraudReport("t1", 200 * day, ("platform:x",))]) == 1  # counts again


@pytest.mark.integration
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories())
def test_the_redis_store_answers_as_the_in_memory_store(
    history: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    import redis

    from fraudguard.features.feedback_redis import RedisFeedbackStore
    from tests.features.redis_support import shared_redis_url, unique_prefix

    frame, reports = history
    client = redis.Redis.from_url(shared_redis_url())
    prefix = unique_prefix()
    try:
        store = RedisFeedbackStore(client, b"feedback-test-key", key_prefix=prefix)
        online = _online(frame, reports, store)
        pd.testing.assert_frame_equal(online, _online(frame, reports, FB.new_store()))
        every = _as_reports(reports)
        store.record(every)  # the reports known after the last order, too
        assert store.record(every) == 0  # re-posted: nothing counts twice
        assert not any(b"u1" in key or b"o0" in key for key in client.keys(prefix + "*"))
    finally:
        for key in client.scan_iter(match=prefix + "*"):
            client.delete(key)
        client.close()


def _as_reports(reports: pd.DataFrame) -> list[FraudReport]:
    known = pd.to_datetime(reports["known_at"], utc=True).dt.tz_convert(None)
    micros = known.to_numpy(dtype="datetime64[us]").view(np.int64)
    return [
        FraudReport(str(r), int(t), FB.store_keys(k))
        for r, t, k in zip(
            reports["report_id"], micros, reports[list(KEY_COLUMNS)].to_dict("records"), strict=True
        )
    ]
