"""Issue 25 (training side): training as of a date, time windows, inputs without data, scores
that keep their ranking, thresholds from an alert budget, one-line errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import spearmanr

from fraudguard.config import Settings
from fraudguard.exceptions import InputError
from fraudguard.models import ModelRegistry, TrainConfig, TrainingResult, train
from fraudguard.models.evaluation import choose_thresholds_by_budget
from fraudguard.models.schemas import parse_train_config
from fraudguard.models.training import _known_labels
from fraudguard.schema import FLAT_COLUMNS, from_flat
from fraudguard.scoring import build_scorer

SMALL = {"seed": 1, "max_iter": 20}
TRAIN_START = datetime(2026, 10, 6, tzinfo=UTC)
CALIBRATION_START = datetime(2026, 10, 20, tzinfo=UTC)
TEST_START = datetime(2026, 10, 24, tzinfo=UTC)
TEST_END = datetime(2026, 10, 30, tzinfo=UTC)
AS_OF = datetime(2026, 10, 26, tzinfo=UTC)


def _times(frame: pd.DataFrame, column: str = "event_time") -> pd.Series:
    return pd.to_datetime(frame[column], utc=True)


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(st.booleans(), st.one_of(st.none(), st.integers(0, 100))),
        min_size=1,
        max_size=60,
    ),
    st.integers(0, 100),
)
def test_a_label_counts_only_if_known_by_as_of(
    rows: list[tuple[bool, int | None]], as_of_day: int
) -> None:
    start = pd.Timestamp("2026-10-01", tz="UTC")
    part = pd.DataFrame(
        {
            "is_fraud": [fraud for fraud, _ in rows],
            "label_time": [None if d is None else start + pd.Timedelta(days=d) for _, d in rows],
        }
    )
    as_of = start + pd.Timedelta(days=as_of_day)
    expected = [int(f and d is not None and d <= as_of_day) for f, d in rows]
    assert _known_labels(part, as_of).tolist() == expected


@pytest.fixture(scope="module")
def windowed(history: pd.DataFrame) -> TrainingResult:
    config = TrainConfig(
        **SMALL,
        as_of=AS_OF,
        train_start=TRAIN_START,
        calibration_start=CALIBRATION_START,
        test_start=TEST_START,
        test_end=TEST_END,
    )
    return train(history, config)


def test_windows_are_honoured(windowed: TrainingResult, history: pd.DataFrame) -> None:
    data = windowed.training_data
    assert data.train_start is not None
    assert data.test_start is not None
    assert TRAIN_START <= data.train_start < data.train_end < CALIBRATION_START
    assert CALIBRATION_START <= data.calibration_end < TEST_START <= data.test_start
    test_times = _times(history.loc[windowed.test_index])
    assert test_times.min() >= TEST_START
    assert test_times.max() < TEST_END
    earlier = int((_times(history) < TRAIN_START).sum())
    assert data.warm_up_rows == earlier == windowed.metrics["windows"]["warm_up"] > 0
    assert data.as_of == AS_OF


def test_warm_up_rows_and_labels_after_as_of_never_reach_the_model(
    windowed: TrainingResult, history: pd.DataFrame
) -> None:
    times, labelled = _times(history), _times(history, "label_time")
    changed = history.copy()
    # Rows before the training window: every label flipped.
    warm = (times < TRAIN_START).to_numpy()
    changed.loc[warm, "is_fraud"] = ~changed.loc[warm, "is_fraud"].astype(bool)
    changed.loc[warm, "label_time"] = times[warm]
    # Train and calibration frauds labelled after as_of: made genuine.
    late = (times < TEST_START) & history["is_fraud"].astype(bool) & (labelled > AS_OF)
    assert late.sum() > 20
    changed.loc[late, "is_fraud"] = False
    changed.loc[late, "typology"] = "legit"
    # The changed labels break the label checks (that is not what is tested here).
    lenient = windowed.config.model_copy(update={"allow_invalid_data": True})
    again = train(changed, lenient)
    np.testing.assert_array_equal(again.test_scores, windowed.test_scores)
    assert again.thresholds == windowed.thresholds
    known = windowed.training_data.known_frauds_train
    assert known == again.training_data.known_frauds_train
    # ... while a label known in time does change the model.
    inside = (times >= TRAIN_START) & (times < CALIBRATION_START) & ~history["is_fraud"]
    flipped = history.copy()
    rows = inside[inside].index[:200]
    flipped.loc[rows, "is_fraud"] = True
    flipped.loc[rows, "label_time"] = times[rows]
    assert not np.array_equal(train(flipped, lenient).test_scores, windowed.test_scores)


def test_scores_keep_the_ranking_of_the_raw_margins(trained: TrainingResult) -> None:
    assert len(np.unique(trained.test_scores)) > 20 * 23  # isotonic steps left 16-23
    assert trained.metrics["model"]["distinct_scores"] == len(np.unique(trained.test_scores))
    calibrator = trained.pipeline.named_steps["model"].calibrator_
    assert np.all(np.diff(calibrator.x_) > 0)
    assert np.all(np.diff(calibrator.y_) > 0)
    margin = np.linspace(-40.0, 40.0, 20_001)
    p = calibrator.predict(margin)
    assert np.all(np.diff(p) > 0)
    assert spearmanr(margin, p).statistic == pytest.approx(1.0)


def test_test_scores_tie_only_where_margins_tie(
    trained: TrainingResult, history: pd.DataFrame
) -> None:
    model = trained.pipeline.named_steps["model"]
    features = trained.pipeline.named_steps["features"]
    inputs = features.transform(history).loc[trained.test_index]  # velocity over all rows
    margin = model.decision_function(inputs)
    p = model.predict_proba(inputs)[:, 1]
    np.testing.assert_array_equal(p, trained.test_scores)
    order = np.argsort(margin, kind="stable")
    rising = np.diff(margin[order]) > 0
    assert np.all(np.diff(p[order])[rising] > 0)
    assert len(np.unique(p)) == len(np.unique(margin))


@settings(max_examples=40, deadline=None)
@given(
    st.integers(0, 10_000),
    st.floats(0.001, 0.2),
    st.one_of(st.none(), st.floats(0.0005, 0.2)),
    st.floats(0.5, 1.0),
)
def test_budget_thresholds_never_exceed_the_budget_on_calibration_data(
    seed: int, review: float, block: float | None, precision: float
) -> None:
    rng = np.random.default_rng(seed)
    y = (rng.random(2_000) < 0.03).astype(int)
    # Many ties; below 1.0, as the calibrated scores (a threshold of 1.0 flags nothing then).
    score = np.round(np.clip(rng.normal(0.2 + 0.5 * y, 0.2), 0, 0.99), 2)
    block = None if block is None else min(block, review)
    choice = choose_thresholds_by_budget(y, score, review, block, precision)
    t = choice.thresholds
    assert t.review <= t.block
    assert (score >= t.review).mean() <= review + 1e-12
    if block is not None:
        assert (score >= t.block).mean() <= block + 1e-12
    blocked = score >= t.block
    if blocked.any() and t.block < 1.0:
        assert y[blocked].mean() >= precision - 1e-12
    elif not blocked.any() and (score >= t.review).any():
        assert any("blocks nothing" in w for w in choice.warnings)


def test_training_with_a_review_budget_respects_it(history: pd.DataFrame) -> None:
    result = train(history, TrainConfig(**SMALL, review_budget=0.02, block_budget=0.005))
    chosen = result.metrics["threshold_choice"]
    assert chosen["method"] == "budget"
    assert 0 < chosen["review_rate"] <= 0.02
    assert chosen["block_rate"] <= 0.005
    assert 0 < result.metrics["model"]["review_rate"] < 0.04  # the test week follows


@pytest.fixture(scope="module")
def bare_history(history: pd.DataFrame) -> pd.DataFrame:
    """The history as a file without platform details would give it."""
    bare = history.copy()
    for column in ("platform_name", "platform_url", "platform_app_package"):
        bare[column] = None
    bare["platform_wechat_account"] = None
    return bare


@pytest.fixture(scope="module")
def bare_trained(bare_history: pd.DataFrame) -> TrainingResult:
    return train(bare_history, TrainConfig(**SMALL))


def test_a_group_without_data_is_left_out_with_a_note(
    bare_trained: TrainingResult, bare_history: pd.DataFrame
) -> None:
    result = bare_trained
    dropped = result.metrics["dropped_inputs"]
    assert {"platform_official", "platform_lookalike_score"} <= set(dropped)
    assert not set(dropped) & {*result.categorical, *result.numeric}
    assert any("PlatformFeatures" in note for note in result.metrics["notes"])
    inputs = result.pipeline.named_steps["features"].transform(bare_history)
    assert list(inputs.columns) == [*result.categorical, *result.numeric]
    train_rows = inputs.iloc[: int(len(inputs) * 0.6)]
    assert (train_rows.nunique(dropna=False) > 1).all()  # no constant column reaches the trees


def test_a_model_without_a_group_serves_what_it_scores_in_batch(
    bare_trained: TrainingResult, bare_history: pd.DataFrame, tmp_path: Path
) -> None:
    registry = ModelRegistry(tmp_path / "registry")
    manifest = registry.register(bare_trained, native=False)
    loaded = registry.load(manifest.version)
    assert len(loaded.fast.columns) == len(bare_trained.categorical) + len(bare_trained.numeric)
    settings = Settings(
        home=tmp_path, model_registry=tmp_path / "registry", bootstrap_model=False,
        api_keys=None, _env_file=None,
    )  # fmt: skip
    scorer = build_scorer(settings, model=loaded)
    rows = bare_history.iloc[:400].reset_index(drop=True)
    flat = rows.reindex(columns=list(FLAT_COLUMNS))
    batch = bare_trained.pipeline.predict_proba(flat)[:, 1]
    online = []
    for row in flat.to_dict("records"):
        event = from_flat({str(k): v for k, v in row.items()})
        online.append(scorer.score_one(event, now=event.event_time).model_score)
    np.testing.assert_allclose(np.array(online, dtype=float), batch, atol=1e-6)


def test_too_few_known_frauds_is_one_line_with_counts_and_the_fix(history: pd.DataFrame) -> None:
    start = _times(history).min()
    config = TrainConfig(
        **SMALL, test_end=start + timedelta(days=5), as_of=start + timedelta(days=5)
    )
    with pytest.raises(InputError) as info:
        train(history, config)
    text = str(info.value)
    assert "\n" not in text
    assert "too few known frauds" in text
    assert "labelled later" in text
    assert "--as-of" in text


def test_an_as_of_inside_the_calibration_window_is_refused(history: pd.DataFrame) -> None:
    with pytest.raises(InputError, match="before the end of the calibration window"):
        train(history, TrainConfig(**SMALL, as_of=CALIBRATION_START, test_start=TEST_START))


def test_windows_too_small_name_their_sizes(history: pd.DataFrame) -> None:
    config = TrainConfig(**SMALL, test_start=TEST_START, test_end=TEST_START + timedelta(hours=1))
    with pytest.raises(InputError, match=r"too little data in the time windows \(train [\d,]+"):
        train(history, config)


def test_bad_options_are_one_line_naming_the_option() -> None:
    with pytest.raises(InputError) as info:
        parse_train_config(
            {"as_of": "2026-11-01T00:00:00", "review_budget": 1.5, "block_budget": 0.1},
            as_options=True,
        )
    text = str(info.value)
    assert "\n" not in text
    assert "--as-of: give a time zone offset" in text
    assert "--review-budget" in text
    with pytest.raises(InputError, match="--test-start must be after --calibration-start"):
        parse_train_config(
            {"calibration_start": "2026-11-05", "test_start": "2026-11-01"}, as_options=True
        )
    assert parse_train_config({"as_of": "2026-11-01"}).as_of == datetime(2026, 11, 1, tzinfo=UTC)
