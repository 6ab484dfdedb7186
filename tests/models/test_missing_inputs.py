"""Issue 22: a missing input reaches the model as missing and is never given as a reason.

An order without payer and instrument ids has NaN velocity counts for them (not "no activity"),
its "payer is new" flag reaches the trees as missing (not "seen before"), and an explanation
never cites an input the order did not carry (it once cited MODEL.VEL_PAYER_AMOUNT_1H)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from fraudguard.features import default_extractor
from fraudguard.models import FastModel, TrainingResult
from fraudguard.models.native import MISSING
from fraudguard.models.pipeline import mask_unknown_flags, unknown_flag_pairs


def _without_payer(history: pd.DataFrame) -> pd.DataFrame:
    frame = history[history["is_fraud"]].copy()
    frame["payment_payer_id"] = None
    frame["payment_instrument_id"] = None
    return frame


def test_missing_ids_give_missing_velocity_not_zero(history: pd.DataFrame) -> None:
    frame = _without_payer(history).iloc[:200]
    features = default_extractor().extract_many(frame)
    for name in ("vel_payer_amount_1h", "vel_payer_count_24h", "vel_instrument_count_1h",
                 "age_payer_first_seen_s", "age_instrument_first_seen_s"):  # fmt: skip
        assert features[name].isna().all(), name
    assert not features["payer_is_new"].any()  # rules read unknown as false


def test_a_flag_of_a_missing_id_reaches_the_trees_as_missing(
    trained: TrainingResult, history: pd.DataFrame
) -> None:
    fast = FastModel(trained.pipeline)
    pairs = unknown_flag_pairs(fast.numeric)
    assert ("payer_is_new", "age_payer_first_seen_s") in pairs
    assert ("platform_is_new", "age_platform_first_seen_s") in pairs
    flag = fast.columns.index("payer_is_new")
    row = dict.fromkeys(fast.numeric, 0.0)
    row["age_payer_first_seen_s"] = math.nan  # no age and not new: the id was missing
    assert math.isnan(fast.encode_values(row)[flag])
    assert np.isnan(fast.encode_one(row)[0, flag])
    row["age_payer_first_seen_s"] = 3600.0  # seen an hour ago: known, not new
    assert fast.encode_values(row)[flag] == 0.0
    row["payer_is_new"] = 1.0
    row["age_payer_first_seen_s"] = math.nan  # new
    assert fast.encode_values(row)[flag] == 1.0
    frame = pd.DataFrame(
        {"payer_is_new": [False, False, True], "age_payer_first_seen_s": [math.nan, 5.0, math.nan]}
    )
    masked = mask_unknown_flags(frame, [("payer_is_new", "age_payer_first_seen_s")])
    assert masked["payer_is_new"].isna().tolist() == [True, False, False]
    assert masked["payer_is_new"].iloc[1:].tolist() == [0.0, 1.0]
    assert MISSING != MISSING


def test_training_and_serving_encode_missing_alike(
    trained: TrainingResult, history: pd.DataFrame
) -> None:
    frame = _without_payer(history).iloc[:300]
    fast = FastModel(trained.pipeline)
    inputs = trained.pipeline.named_steps["features"].transform(frame)
    assert inputs["payer_is_new"].isna().all()
    expected = trained.pipeline.named_steps["model"].predict_proba(inputs)[:, 1]
    features = pd.concat([frame, default_extractor().extract_many(frame)], axis=1)
    np.testing.assert_allclose(fast.score_many(features), expected, atol=1e-6)
    rows = [{str(k): v for k, v in r.items()} for r in features.iloc[:100].to_dict("records")]
    one = [fast.score_one(row) for row in rows]
    np.testing.assert_allclose(one, expected[:100], atol=1e-6)


def test_explanations_never_cite_a_missing_input(
    trained: TrainingResult, history: pd.DataFrame
) -> None:
    frame = _without_payer(history)
    fast = FastModel(trained.pipeline)
    features = pd.concat([frame, default_extractor().extract_many(frame)], axis=1)
    scores = fast.score_many(features)
    explained = 0
    for i in np.argsort(-scores)[:150]:
        row = {str(k): v for k, v in features.iloc[int(i)].to_dict().items()}
        encoded = fast.encode_one(row)[0]
        for item in fast.explain_one(row, 5):
            j = fast.columns.index(item.feature)
            assert encoded[j] == encoded[j], item  # NaN: the order did not carry it
            assert not item.feature.startswith(("vel_payer", "vel_instrument")), item
            explained += 1
    assert explained > 100
