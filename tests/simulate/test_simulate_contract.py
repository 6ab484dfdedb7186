"""Every simulated row is a valid contract event, the frame has the documented shape, and
a seed always gives the same frame."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fraudguard.schema import FLAT_COLUMNS, from_flat
from fraudguard.simulate import (
    FRAUD_TYPOLOGIES,
    LABEL_COLUMNS,
    OUTPUT_COLUMNS,
    SimulationConfig,
    Typology,
    simulate,
)

from .conftest import DEFAULT

# New-user promotions in the shipped catalogue run 2025-01-01 .. 2028-01-01.
starts = st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 10, 1))


def check_frame(frame: pd.DataFrame, config: SimulationConfig, validate: int | None = None) -> None:
    """Shape and labels of the whole frame; ``validate`` rows (default all) through the
    contract."""
    assert tuple(frame.columns) == OUTPUT_COLUMNS
    assert len(frame) == config.events
    assert frame["transaction_id"].is_unique
    assert frame["event_time"].is_monotonic_increasing
    assert str(frame["event_time"].dt.tz) == "Asia/Shanghai"
    assert str(frame["label_time"].dt.tz) == "Asia/Shanghai"
    first = pd.Timestamp(config.start, tz="Asia/Shanghai")
    assert frame["event_time"].min() >= first
    assert frame["event_time"].max() < first + pd.Timedelta(days=config.days)
    assert frame["msisdn"].str.fullmatch(r"1[3-9]\d{9}").all()
    assert frame["is_fraud"].dtype == bool
    assert frame["payment_declined"].dtype == bool
    assert set(frame["typology"]) <= {t.value for t in Typology}
    fraud_values = {t.value for t in FRAUD_TYPOLOGIES}
    assert (frame["is_fraud"] == frame["typology"].isin(fraud_values)).all()
    fraud = frame[frame["is_fraud"]]
    assert (fraud["label_time"] > fraud["event_time"]).all()
    rows = frame if validate is None else frame.sample(validate, random_state=0)
    for row in rows.to_dict("records"):
        event = from_flat(row)
        assert event.paid <= event.amount


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    events=st.integers(1, 400),
    start=starts,
    days=st.integers(1, 60),
)
def test_every_row_validates_against_the_contract(
    seed: int, events: int, start: date, days: int
) -> None:
    config = SimulationConfig(events=events, seed=seed, start=start, days=days)
    check_frame(simulate(config), config)


@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), start=starts)
def test_fraud_heavy_runs_validate_too(seed: int, start: date) -> None:
    rates = {f"{t.value}_rate": 0.1 for t in FRAUD_TYPOLOGIES}
    config = SimulationConfig(events=800, seed=seed, start=start, days=10, **rates)
    check_frame(simulate(config), config)


def test_default_sample_has_the_documented_columns(sample: pd.DataFrame) -> None:
    check_frame(sample, DEFAULT, validate=5_000)
    assert tuple(sample.columns) == (*FLAT_COLUMNS, *LABEL_COLUMNS)


def test_same_seed_same_frame() -> None:
    config = SimulationConfig(events=3_000, seed=99)
    pd.testing.assert_frame_equal(simulate(config), simulate(config))


def test_other_seed_other_frame() -> None:
    one = simulate(SimulationConfig(events=500, seed=1))
    two = simulate(SimulationConfig(events=500, seed=2))
    assert not one["msisdn"].equals(two["msisdn"])


def test_counts_per_typology_are_floor_of_rate_times_events(sample: pd.DataFrame) -> None:
    counts = sample["typology"].value_counts()
    for typology in Typology:
        if typology is Typology.LEGIT:
            continue
        expected = math.floor(DEFAULT.rate(typology) * DEFAULT.events)
        assert counts.get(typology.value, 0) == expected, typology
    assert sample["is_fraud"].mean() == pytest.approx(DEFAULT.fraud_rate, abs=1e-4)


def test_label_time_delay_and_disputes(sample: pd.DataFrame) -> None:
    fraud = sample[sample["is_fraud"]]
    delay = (fraud["label_time"] - fraud["event_time"]).dt.total_seconds() / 86_400
    assert delay.min() >= DEFAULT.label_delay_min_days
    assert delay.max() <= DEFAULT.label_delay_max_days
    assert 3 < delay.median() < 15  # most complaints come early, chargebacks trail
    legit = sample[~sample["is_fraud"]]
    disputed = legit["label_time"].notna().mean()
    assert disputed == pytest.approx(DEFAULT.legit_dispute_rate, abs=0.001)


def test_decline_rates(sample: pd.DataFrame) -> None:
    legit = sample[~sample["is_fraud"]]
    assert legit["payment_declined"].mean() == pytest.approx(DEFAULT.legit_decline_rate, abs=0.005)


def test_daily_and_weekly_rhythm(sample: pd.DataFrame) -> None:
    hour = sample.loc[~sample["is_fraud"], "event_time"].dt.hour
    share = hour.value_counts(normalize=True)
    assert share.loc[[1, 2, 3, 4, 5]].sum() < 0.03  # quiet small hours
    assert share.loc[[19, 20, 21]].sum() > 0.2  # evening peak
    per_day = sample.groupby(sample["event_time"].dt.date).size()
    assert per_day[date(2026, 11, 1)] > 1.3 * per_day[date(2026, 10, 27)]  # month start
    assert per_day[date(2026, 11, 11)] > per_day[date(2026, 11, 12)]  # last Double-11 day


def test_missing_values_are_none_or_nan_not_strings(sample: pd.DataFrame) -> None:
    for column in ("device_rooted", "network_tls", "network_proxy"):
        assert set(sample[column].dropna().unique()) <= {True, False}
    assert sample["network_ip"].isna().mean() == pytest.approx(DEFAULT.missing_rate, abs=0.005)
    assert not sample["msisdn"].isna().any()


def test_no_event_after_the_window() -> None:
    config = SimulationConfig(events=2_000, seed=5, days=1)
    frame = simulate(config)
    end = pd.Timestamp(config.start + timedelta(days=1), tz="Asia/Shanghai")
    assert frame["event_time"].max() < end
    assert np.all(frame["transaction_id"].str.startswith("ord-20261015-"))
