"""Training an analyst can trust: time-ordered, label-delay aware, reproducible, evaluated."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fraudguard.exceptions import DataValidationError
from fraudguard.models import (
    Costs,
    TrainConfig,
    TrainingResult,
    choose_thresholds,
    format_report,
    train,
)


def test_model_ranks_fraud_far_above_chance_on_the_future_period(trained: TrainingResult) -> None:
    model = trained.metrics["model"]
    assert model["roc_auc"] > 0.85
    assert model["average_precision"] > 0.5
    assert model["legit_flagged_rate"] <= 0.01 + 1e-9


def test_periods_are_in_time_order_and_test_labels_never_reach_training(
    trained: TrainingResult, history: pd.DataFrame
) -> None:
    data = trained.training_data
    assert data.start < data.train_end < data.calibration_end < data.end
    test_times = pd.to_datetime(history.loc[trained.test_index, "event_time"], utc=True)
    assert test_times.min() >= pd.Timestamp(data.calibration_end)


def test_labels_that_arrive_after_the_data_are_not_used(history: pd.DataFrame) -> None:
    from fraudguard.models.training import _known_labels

    as_of = pd.to_datetime(history["event_time"], utc=True).max()
    known = _known_labels(history, as_of)
    late = history["is_fraud"] & (pd.to_datetime(history["label_time"], utc=True) > as_of)
    assert late.any()
    assert known[late.to_numpy()].sum() == 0


def test_same_data_and_seed_give_the_same_model(history: pd.DataFrame) -> None:
    part = history
    config = TrainConfig(seed=1, max_iter=20)
    first, second = train(part, config), train(part, config)
    np.testing.assert_array_equal(first.test_scores, second.test_scores)
    assert first.thresholds == second.thresholds


def test_metrics_cover_slices_and_calibration(trained: TrainingResult) -> None:
    metrics = trained.metrics
    typologies = {row["slice"] for row in metrics["by_typology"]}
    assert "legit" in typologies
    assert (
        len(
            typologies
            & {
                "card_testing",
                "laundering",
                "account_takeover",
                "promotion_abuse",
                "fake_discount_scam",
            }
        )
        >= 3
    )
    assert {row["slice"] for row in metrics["by_channel"]} >= {"operator_app"}
    assert sum(row["count"] for row in metrics["reliability"]) == metrics["model"]["rows"]
    assert "precision_at_k_per_day" in metrics["model"]
    assert "average_precision" in format_report(metrics)


def test_baselines_are_scored_on_the_same_test_period(history: pd.DataFrame) -> None:
    part = history
    perfect = part["is_fraud"].astype(float).to_numpy()
    result = train(part, TrainConfig(seed=1, max_iter=20), compare_with={"oracle": perfect})
    oracle = result.metrics["baseline_oracle"]
    assert oracle["rows"] == result.metrics["model"]["rows"]
    assert oracle["average_precision"] == pytest.approx(1.0)


def test_bad_training_data_is_refused_with_a_readable_report(history: pd.DataFrame) -> None:
    broken = history.iloc[:5_000].copy()
    broken.loc[broken.index[:10], "msisdn"] = "12345"
    with pytest.raises(DataValidationError) as info:
        train(broken)
    text = str(info.value)
    assert "msisdn" in text
    assert "expect_column_values_to_match_regex" in text


def test_overriding_validation_is_recorded(history: pd.DataFrame) -> None:
    broken = history.copy()
    broken.loc[broken.index[:3], "channel"] = "kiosk"
    result = train(broken, TrainConfig(seed=1, max_iter=20, allow_invalid_data=True))
    assert result.validation["success"] is False
    assert result.validation["overridden"] is True


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.001, 0.05))
def test_chosen_thresholds_never_flag_more_genuine_orders_than_allowed(
    seed: int, max_rate: float
) -> None:
    rng = np.random.default_rng(seed)
    y = (rng.random(3_000) < 0.03).astype(int)
    score = np.clip(rng.normal(0.2 + 0.5 * y, 0.2), 0, 1)
    amount = rng.choice([10.0, 50.0, 100.0, 300.0], size=3_000)
    t = choose_thresholds(y, score, amount, Costs(), max_rate)
    assert t.review <= t.block
    assert (score[y == 0] >= t.review).mean() <= max_rate + 1e-12
