"""Fast single-event inference agrees with scikit-learn; explanations are deterministic."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fraudguard.models import FastModel, TrainingResult


def _features(trained: TrainingResult, history: pd.DataFrame) -> pd.DataFrame:
    return trained.pipeline.named_steps["features"].transform(history.iloc[:3_000])


def test_fast_path_equals_sklearn_within_1e6_one_row_and_batch(
    trained: TrainingResult, history: pd.DataFrame
) -> None:
    features = _features(trained, history)
    expected = trained.pipeline.named_steps["model"].predict_proba(features)[:, 1]
    fast = FastModel(trained.pipeline)
    np.testing.assert_allclose(fast.score_many(features), expected, atol=1e-6)
    rows = features.to_dict("records")
    one = np.array([fast.score_one(row) for row in rows[:500]])
    np.testing.assert_allclose(one, expected[:500], atol=1e-6)


def test_unknown_categories_and_missing_values_are_scored_not_refused(
    trained: TrainingResult, history: pd.DataFrame
) -> None:
    fast = FastModel(trained.pipeline)
    row = _features(trained, history).iloc[0].to_dict()
    row["channel"] = "a channel never seen"
    row = {k: (None if k.startswith("vel_") else v) for k, v in row.items()}
    assert 0.0 <= fast.score_one(row) <= 1.0


def test_explanations_are_deterministic_and_add_up_to_the_raw_score(
    trained: TrainingResult, history: pd.DataFrame
) -> None:
    fast = FastModel(trained.pipeline)
    features = _features(trained, history)
    top = features.iloc[int(np.argmax(fast.score_many(features)))].to_dict()
    first, second = fast.explain_one(top), fast.explain_one(top)
    assert first == second
    assert first
    assert all(c.log_odds > 0 for c in first)
    assert [c.log_odds for c in first] == sorted((c.log_odds for c in first), reverse=True)
    row = fast.encode_one(top)
    contributions = fast.explainer.contributions(row[0])
    gbm = trained.pipeline.named_steps["model"].estimator
    baseline = gbm.named_steps["gbm"]._baseline_prediction.ravel()[0]
    assert contributions.sum() + baseline == pytest.approx(fast.margin_many(row)[0], abs=1e-9)
