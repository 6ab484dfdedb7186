"""Judged on a period and seed the model never saw: it must beat the rules alone, and
model + rules together must catch 90% of fraud money while flagging <= 1% of genuine orders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score

from fraudguard.baselines import RULE_ACTION_SCORES, rules_only_scores
from fraudguard.config import Settings
from fraudguard.features import default_extractor
from fraudguard.files import read_events
from fraudguard.models import FastModel, train
from fraudguard.rules import RuleAction
from fraudguard.simulate import SimulationConfig, simulate

pytestmark = pytest.mark.slow


SAMPLE = Path(__file__).resolve().parents[2] / "data" / "samples" / "recharges.parquet"


def test_model_beats_rules_and_together_they_catch_90_percent_of_fraud_money() -> None:
    # The model `make run` starts with: the committed sample, default configuration.
    trained = train(read_events(SAMPLE))
    holdout = simulate(SimulationConfig(events=40_000, seed=2027, start="2026-12-01", days=30))
    features = default_extractor().extract_many(holdout)

    model = FastModel(trained.pipeline).score_many(pd.concat([holdout, features], axis=1))
    rules = rules_only_scores(holdout, Settings(), features)
    y = holdout["is_fraud"].to_numpy(dtype=int)
    amount = holdout["amount"].to_numpy(dtype=float)
    assert average_precision_score(y, model) > average_precision_score(y, rules)

    flagged = (model >= trained.thresholds.review) | (
        rules >= RULE_ACTION_SCORES[RuleAction.REVIEW]
    )
    fraud = y == 1
    money_recall = amount[fraud & flagged].sum() / amount[fraud].sum()
    assert money_recall >= 0.90
    assert flagged[~fraud].mean() <= 0.01
    assert np.isfinite(model).all()
