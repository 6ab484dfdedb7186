"""Train on the past, calibrate on the next period, test on the future.

Rows are ordered by ``event_time`` and cut into train / calibration / test periods. The
model is trained as if on the day of the last event: train and calibration rows carry only
the labels known by then (a chargeback that arrives later looks genuine, exactly as it would
in production). The test period is scored against every label, because that is the truth
the model will be judged on, and none of its labels reach training.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import Pipeline

from fraudguard.exceptions import InputError
from fraudguard.models.evaluation import (
    choose_thresholds,
    evaluate_scores,
    reliability_table,
    slice_metrics,
)
from fraudguard.models.pipeline import EventFeatures, build_classifier, feature_schema_hash
from fraudguard.models.schemas import Thresholds, TrainConfig, TrainingDataSummary

__all__ = ["TrainingResult", "data_fingerprint", "format_report", "train"]

LABEL_COLUMNS = ("is_fraud", "label_time")


@dataclass
class TrainingResult:
    """A fitted pipeline and everything the registry writes into its manifest."""

    pipeline: Pipeline
    thresholds: Thresholds
    metrics: dict[str, Any]
    training_data: TrainingDataSummary
    validation: dict[str, Any]
    config: TrainConfig
    categorical: list[str]
    numeric: list[str]
    test_index: pd.Index = field(repr=False)
    test_scores: npt.NDArray[np.float64] = field(repr=False)

    @property
    def feature_schema_hash(self) -> str:
        return feature_schema_hash(self.categorical, self.numeric)


def data_fingerprint(frame: pd.DataFrame) -> str:
    """sha256 of the rows' content, independent of the file they came from."""
    hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    return "sha256:" + hashlib.sha256(hashed.tobytes()).hexdigest()


def _check_validation(frame: pd.DataFrame, config: TrainConfig) -> dict[str, Any]:
    from fraudguard.validation import SuiteName, validate

    report = validate(frame, SuiteName.RAW_HISTORY)
    summary = {
        "success": report.success,
        "overridden": False,
        "failed": [check.message for check in report.failures],
    }
    if not report.success:
        if not config.allow_invalid_data:
            from fraudguard.exceptions import DataValidationError

            raise DataValidationError(
                "training data failed validation; fix it or pass allow_invalid_data=True "
                "(recorded in the manifest)\n" + report.to_text(),
                report=report,
            )
        summary["overridden"] = True
    return summary


def _known_labels(part: pd.DataFrame, as_of: pd.Timestamp) -> npt.NDArray[np.int_]:
    label_time = pd.to_datetime(part["label_time"], utc=True, errors="coerce")
    known = part["is_fraud"].astype(bool) & label_time.notna() & (label_time <= as_of)
    return known.to_numpy().astype(int)


def _no_progress(step: str) -> None:
    pass


def train(
    frame: pd.DataFrame,
    config: TrainConfig | None = None,
    compare_with: Mapping[str, npt.NDArray[np.float64]] | None = None,
    progress: Callable[[str], None] | None = None,
) -> TrainingResult:
    """Fit, calibrate, choose thresholds and evaluate on a labelled recharge history.

    ``compare_with`` maps a name ("rules", "promoted") to scores for every row of
    ``frame``, in the frame's row order; they are evaluated on the same test period.
    ``progress`` is called with the name of each step as it starts.
    """
    config = config or TrainConfig()
    step = progress or _no_progress
    missing = [c for c in ("event_time", "amount", *LABEL_COLUMNS) if c not in frame.columns]
    if missing:
        raise InputError(f"training data lacks the columns {missing}")
    step(f"validating {len(frame):,} events")
    validation = _check_validation(frame, config)
    times = pd.to_datetime(frame["event_time"], utc=True)
    order = np.argsort(times.to_numpy(), kind="stable")
    data = frame.iloc[order]
    times = times.iloc[order]
    n = len(data)
    train_end = int(n * (1 - config.test_share - config.calibration_share))
    cal_end = int(n * (1 - config.test_share))
    if min(train_end, cal_end - train_end, n - cal_end) < 100:
        raise InputError(f"too little data to train: {n} rows (need a few thousand)")

    step("computing features")
    features = EventFeatures().fit(data)
    X = features.transform(data)
    categorical, numeric = features.categorical_features_, features.numeric_features_
    as_of = times.iloc[-1]
    y_train = _known_labels(data.iloc[:train_end], as_of)
    y_cal = _known_labels(data.iloc[train_end:cal_end], as_of)
    if y_train.sum() < 10 or y_cal.sum() < 5:
        raise InputError("too few known frauds before the test period to train and calibrate")

    step(f"training {config.max_iter} boosted trees on {train_end:,} events")
    classifier = build_classifier(config, categorical, numeric)
    classifier.fit(X.iloc[:train_end], y_train)
    step("calibrating and choosing thresholds")
    calibrated = CalibratedClassifierCV(FrozenEstimator(classifier), method="isotonic")
    calibrated.fit(X.iloc[train_end:cal_end], y_cal)
    pipeline = Pipeline([("features", features), ("model", calibrated)])

    amount = data["amount"].to_numpy(dtype=float)
    cal_scores = calibrated.predict_proba(X.iloc[train_end:cal_end])[:, 1]
    thresholds = choose_thresholds(
        y_cal, cal_scores, amount[train_end:cal_end], config.costs, config.max_legit_flag_rate
    )
    step("evaluating on the test period")
    test = data.iloc[cal_end:]
    test_scores = calibrated.predict_proba(X.iloc[cal_end:])[:, 1]
    baselines = {
        name: np.asarray(scores, dtype=float)[order][cal_end:]
        for name, scores in (compare_with or {}).items()
    }
    metrics = _evaluate(test, test_scores, thresholds, config, baselines)
    summary = TrainingDataSummary(
        sha256=data_fingerprint(frame),
        rows=n,
        start=times.iloc[0].to_pydatetime(),
        end=times.iloc[-1].to_pydatetime(),
        fraud_rate=float(data["is_fraud"].mean()),
        train_end=times.iloc[train_end - 1].to_pydatetime(),
        calibration_end=times.iloc[cal_end - 1].to_pydatetime(),
    )
    return TrainingResult(
        pipeline=pipeline,
        thresholds=thresholds,
        metrics=metrics,
        training_data=summary,
        validation=validation,
        config=config,
        categorical=categorical,
        numeric=numeric,
        test_index=test.index,
        test_scores=test_scores,
    )


def _evaluate(
    test: pd.DataFrame,
    scores: npt.NDArray[np.float64],
    thresholds: Thresholds,
    config: TrainConfig,
    baselines: Mapping[str, npt.NDArray[np.float64]],
) -> dict[str, Any]:
    y = test["is_fraud"].astype(int).to_numpy()
    amount = test["amount"].to_numpy(dtype=float)
    days = pd.to_datetime(test["event_time"], utc=True).dt.tz_convert("Asia/Shanghai").dt.date
    metrics: dict[str, Any] = {
        "test_period": {
            "start": str(test["event_time"].iloc[0]),
            "end": str(test["event_time"].iloc[-1]),
        },
        "model": evaluate_scores(y, scores, amount, thresholds, config.costs, days.to_numpy()),
        "reliability": reliability_table(y, scores),
    }
    for column in ("typology", "channel"):
        if column in test.columns:
            metrics[f"by_{column}"] = slice_metrics(
                y, scores, amount, test[column].astype(str).to_numpy(), thresholds
            )
    for name, baseline in baselines.items():
        metrics[f"baseline_{name}"] = evaluate_scores(
            y, baseline, amount, thresholds, config.costs, days.to_numpy()
        )
    return metrics


def format_report(metrics: Mapping[str, Any]) -> str:
    """A plain-text evaluation table for terminals and notebooks."""
    rows = [("model", metrics["model"])] + [
        (k.removeprefix("baseline_"), v) for k, v in metrics.items() if k.startswith("baseline_")
    ]
    keys = [
        "roc_auc",
        "average_precision",
        "recall_at_1pct_fpr",
        "precision_at_review",
        "recall_at_review",
        "legit_flagged_rate",
        "fraud_money_recall",
        "brier",
    ]
    lines = [f"{'':<10}" + "".join(f"{k:>22}" for k in keys)]
    for name, values in rows:
        lines.append(f"{name:<10}" + "".join(f"{values.get(k, float('nan')):>22.4f}" for k in keys))
    for table in ("by_typology", "by_channel"):
        if table in metrics:
            lines.append("")
            lines.append(f"{table.removeprefix('by_')}: rows, fraud, flagged rate, recall")
            for row in metrics[table]:
                lines.append(
                    f"  {row['slice']:<32}{row['rows']:>8}{row['fraud_rows']:>7}"
                    f"{row['flagged_rate']:>9.3%}{row['recall']:>9.3f}"
                )
    return "\n".join(lines)
