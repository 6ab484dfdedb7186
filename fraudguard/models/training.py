"""Train on the past, calibrate on the next period, test on the future.

Rows are ordered by ``event_time`` and cut into time windows (:mod:`.windows`): rows before
the training window only warm velocity (features are computed over the whole frame in event
order, then rows are selected), then train, calibration and test. The model is trained as
of ``TrainConfig.as_of`` (default: the last event): train and calibration rows carry only the
labels known by then (a chargeback that arrives later looks genuine, exactly as it would in
production). The test window is scored against every label, because that is the truth the
model will be judged on, and none of its labels reach training. Inputs with no data in the
training window are left out, with a note in the metrics (``notes``, ``dropped_inputs``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.pipeline import Pipeline

from fraudguard.exceptions import InputError
from fraudguard.features import default_extractor
from fraudguard.models.calibration import RankCalibratedClassifier
from fraudguard.models.evaluation import (
    choose_thresholds,
    choose_thresholds_by_budget,
    evaluate_scores,
    reliability_table,
    slice_metrics,
)
from fraudguard.models.pipeline import EventFeatures, build_classifier, feature_schema_hash
from fraudguard.models.schemas import Thresholds, TrainConfig, TrainingDataSummary
from fraudguard.models.windows import training_windows
from fraudguard.reference import ReferencePaths, load_reference

__all__ = [
    "PYTHON_OVERRIDE",
    "TrainingResult",
    "data_fingerprint",
    "format_report",
    "readable_history",
    "train",
]

LABEL_COLUMNS = ("is_fraud", "label_time")
#: Fewest frauds known by ``as_of`` in the training and the calibration window.
MIN_TRAIN_FRAUDS = 10
MIN_CALIBRATION_FRAUDS = 5


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

    @property
    def reference_version(self) -> str:
        """The version of the reference data the features were computed from."""
        return str(self.pipeline.named_steps["features"].reference_version_)

    @property
    def reference_overrides(self) -> dict[str, str]:
        """The tables that were not the shipped ones (table -> file)."""
        paths = self.pipeline.named_steps["features"].reference
        return {} if paths is None else dict(paths.overrides())


def data_fingerprint(frame: pd.DataFrame) -> str:
    """sha256 of the rows' content, independent of the file they came from."""
    hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    return "sha256:" + hashlib.sha256(hashed.tobytes()).hexdigest()


#: How a Python caller overrides failed validation; the CLI names its flag instead.
PYTHON_OVERRIDE = "TrainConfig(allow_invalid_data=True)"


def _check_validation(frame: pd.DataFrame, config: TrainConfig, override: str) -> dict[str, Any]:
    from fraudguard.validation import history_suite, validate

    report = validate(frame, history_suite(frame))
    summary = {
        "suite": str(report.suite),
        "success": report.success,
        "overridden": False,
        "failed": [check.message for check in report.failures],
    }
    if not report.success:
        if not config.allow_invalid_data:
            from fraudguard.exceptions import DataValidationError

            failed = [f"{f.column or 'table'}: {f.expectation}" for f in report.failures]
            shown = "; ".join(failed[:3]) + (f"; {len(failed) - 3} more" if len(failed) > 3 else "")
            raise DataValidationError(
                f"training data failed {len(failed)} validation checks ({shown}): fix the rows "
                f"(`fraudguard validate --data FILE` lists them) or pass {override} "
                "(recorded in the manifest)",
                report=report,
            )
        summary["overridden"] = True
    return summary


def readable_history(frame: pd.DataFrame) -> pd.DataFrame:
    """Refuse, naming the column and the fix, what training cannot read even with validation
    overridden: a time, amount or label that is not one. Numbers given as text are read as
    numbers; an optional one that is no number is missing."""
    checks = (
        ("event_time", _all_times, "every row needs an ISO 8601 time with a UTC offset"),
        ("amount", _all_numbers, "every row needs a number"),
        ("is_fraud", _all_labels, "every row needs true or false (or 1 / 0)"),
    )
    for column, readable, fix in checks:
        try:
            ok = readable(frame[column])
        except (ValueError, TypeError, OverflowError):
            ok = False
        if not ok:
            raise InputError(
                f"training data cannot be read: {column}: {fix} (`fraudguard validate` names "
                "the rows; `fraudguard import` converts a file of another shape)"
            )
    numbers = {
        column: pd.to_numeric(frame[column], errors="coerce")
        for column in ("amount", "paid_amount", "promotion_discount")
        if column in frame.columns and not pd.api.types.is_float_dtype(frame[column].dtype)
    }
    return frame.assign(**numbers) if numbers else frame


def _all_times(values: pd.Series) -> bool:
    return bool(pd.to_datetime(values, utc=True, format="ISO8601").notna().all())


def _all_numbers(values: pd.Series) -> bool:
    return bool(np.isfinite(pd.to_numeric(values).to_numpy(dtype=float)).all())


def _all_labels(values: pd.Series) -> bool:
    return bool(values.map(lambda v: isinstance(v, bool | np.bool_) or v in (0, 1)).all())


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
    reference: ReferencePaths | None = None,
    override: str = PYTHON_OVERRIDE,
) -> TrainingResult:
    """Fit, calibrate, choose thresholds and evaluate on a labelled recharge history.

    ``compare_with`` maps a name ("rules", "promoted") to scores for every row of
    ``frame``, in the frame's row order; they are evaluated on the same test period.
    ``progress`` is called with the name of each step as it starts. ``reference``: the
    reference files the features are computed from; default the ones the service is
    configured with (``FRAUDGUARD_*_PATH``), so the model learns from the tables it serves.
    ``override``: how the caller overrides failed validation, named in the error (the CLI
    passes ``--allow-invalid-data``).
    """
    config = config or TrainConfig()
    step = progress or _no_progress
    missing = [c for c in ("event_time", "amount", *LABEL_COLUMNS) if c not in frame.columns]
    if missing:
        raise InputError(
            f"training data lacks the columns {missing}: add them (labels: is_fraud and "
            "label_time, when the label became known)"
        )
    step(f"validating {len(frame):,} events")
    validation = _check_validation(frame, config, override)
    frame = readable_history(frame)
    times = pd.to_datetime(frame["event_time"], utc=True)
    order = np.argsort(times.to_numpy(), kind="stable")
    data = frame.iloc[order]
    times = times.iloc[order]
    windows = training_windows(times.reset_index(drop=True), config)
    # Rows after the test window are not used; earlier rows all feed velocity.
    as_of = pd.Timestamp(config.as_of) if config.as_of is not None else times.iloc[-1]
    data, times = data.iloc[: windows.end], times.iloc[: windows.end]
    fit_rows = slice(windows.warm, windows.calibration)
    cal_rows = slice(windows.calibration, windows.test)
    last_cal = times.iloc[windows.test - 1]
    if as_of < last_cal:
        raise InputError(
            f"as_of {as_of:%Y-%m-%d %H:%M} UTC is before the end of the calibration window "
            f"({last_cal:%Y-%m-%d %H:%M} UTC): a model cannot learn from orders after its own "
            "date; give a later --as-of or end calibration earlier (--test-start)"
        )
    y_train = _known_labels(data.iloc[fit_rows], as_of)
    y_cal = _known_labels(data.iloc[cal_rows], as_of)
    _check_known_frauds(data.iloc[windows.warm : windows.test], y_train, y_cal, as_of)

    step(f"computing features of {len(data):,} events ({windows.warm:,} only warm velocity)")
    if reference is None:
        from fraudguard.config import get_settings

        reference = ReferencePaths.from_settings(get_settings())
    features = EventFeatures(reference=reference).fit(data.iloc[:0])
    every_input = features.transform(_with_features(data, reference))
    features.fit(every_input.iloc[fit_rows])  # leaves out inputs with no data to train on
    X = every_input.loc[:, list(features.feature_names_out_)]
    del every_input
    categorical, numeric = features.categorical_features_, features.numeric_features_

    step(f"training {config.max_iter} boosted trees on {fit_rows.stop - fit_rows.start:,} events")
    classifier = build_classifier(config, categorical, numeric)
    classifier.fit(X.iloc[fit_rows], y_train)
    step("calibrating and choosing thresholds")
    calibrated = RankCalibratedClassifier(classifier, config.calibration)
    calibrated.fit(X.iloc[cal_rows], y_cal)
    pipeline = Pipeline([("features", features), ("model", calibrated)])

    amount = data["amount"].to_numpy(dtype=float)
    cal_scores = calibrated.predict_proba(X.iloc[cal_rows])[:, 1]
    thresholds, choice = _thresholds(y_cal, cal_scores, amount[cal_rows], config)
    step("evaluating on the test period")
    test = data.iloc[windows.test :]
    test_scores = calibrated.predict_proba(X.iloc[windows.test :])[:, 1]
    baselines = {
        name: np.asarray(scores, dtype=float)[order][windows.test : windows.end]
        for name, scores in (compare_with or {}).items()
    }
    metrics = _evaluate(test, test_scores, thresholds, config, baselines)
    dropped = dict(features.dropped_features_)
    notes = [*_dropped_notes(dropped, reference), *choice["warnings"]]
    if not test["is_fraud"].astype(bool).any():
        notes.append("the test window holds no fraud: its ranking figures are undefined")
    metrics.update(
        windows=windows.sizes(),
        calibration={"method": calibrated.calibrator_.method_, "known_frauds": int(y_cal.sum())},
        threshold_choice=choice,
        dropped_inputs=dropped,
        notes=notes,
    )
    summary = TrainingDataSummary(
        sha256=data_fingerprint(frame),
        rows=len(frame),
        start=times.iloc[0].to_pydatetime(),
        end=times.iloc[-1].to_pydatetime(),
        fraud_rate=float(data["is_fraud"].mean()),
        train_end=times.iloc[windows.calibration - 1].to_pydatetime(),
        calibration_end=last_cal.to_pydatetime(),
        as_of=as_of.to_pydatetime(),
        train_start=times.iloc[windows.warm].to_pydatetime(),
        test_start=times.iloc[windows.test].to_pydatetime(),
        warm_up_rows=windows.warm,
        known_frauds_train=int(y_train.sum()),
        known_frauds_calibration=int(y_cal.sum()),
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


def _check_known_frauds(
    part: pd.DataFrame, y_train: npt.NDArray[np.int_], y_cal: npt.NDArray[np.int_], as_of: Any
) -> None:
    """Refuse, in one line with the counts and the fix, too few frauds known by ``as_of``."""
    if y_train.sum() >= MIN_TRAIN_FRAUDS and y_cal.sum() >= MIN_CALIBRATION_FRAUDS:
        return
    later = int(part["is_fraud"].astype(bool).sum()) - int(y_train.sum() + y_cal.sum())
    raise InputError(
        f"too few known frauds: {int(y_train.sum())} in the training window and "
        f"{int(y_cal.sum())} in the calibration window are labelled by as_of "
        f"{pd.Timestamp(as_of):%Y-%m-%d %H:%M} UTC (need {MIN_TRAIN_FRAUDS} and "
        f"{MIN_CALIBRATION_FRAUDS}; {later:,} more are labelled later): give a later --as-of "
        "(labels arrive days after the order) or wider windows"
    )


def _thresholds(
    y: npt.NDArray[np.int_], scores: npt.NDArray[np.float64], amount: Any, config: TrainConfig
) -> tuple[Thresholds, dict[str, Any]]:
    """From the alert budget when one is set, else by expected cost (the earlier default)."""
    if config.review_budget is not None:
        budget = choose_thresholds_by_budget(
            y, scores, config.review_budget, config.block_budget, config.block_precision
        )
        return budget.thresholds, {
            "method": "budget",
            **budget.facts,
            "warnings": budget.warnings,
        }
    thresholds = choose_thresholds(y, scores, amount, config.costs, config.max_legit_flag_rate)
    warnings = []
    if not (scores >= thresholds.review).any():
        warnings.append(
            "no review threshold keeps genuine orders flagged within max_legit_flag_rate on "
            "the calibration window: the model reviews nothing; set --review-budget"
        )
    return thresholds, {
        "method": "cost",
        "review_rate": float((scores >= thresholds.review).mean()),
        "block_rate": float((scores >= thresholds.block).mean()),
        "warnings": warnings,
    }


def _dropped_notes(dropped: Mapping[str, str], reference: ReferencePaths | None) -> list[str]:
    """One note per feature group with inputs left out, e.g. a group the file has no data for."""
    if not dropped:
        return []
    extractor = default_extractor(load_reference(reference or ReferencePaths()))
    groups = {name: type(g).__name__ for g in extractor.groups for name in g.names()}
    if extractor.velocity is not None:
        groups.update((name, "VelocityFeatures") for name in extractor.velocity.names())
    by_group: dict[str, list[str]] = {}
    for name in dropped:
        by_group.setdefault(groups.get(name, "raw inputs"), []).append(name)
    return [
        f"left out of the model, no data in the training window: {group} "
        f"({', '.join(f'{n} ({dropped[n]})' for n in names)})"
        for group, names in sorted(by_group.items())
    ]


def _with_features(data: pd.DataFrame, reference: ReferencePaths) -> pd.DataFrame:
    """``data`` with every feature; the feedback counts come from its own labels.

    Each fraud label is a report against its order's entities from its ``label_time``, what
    the service would have counted online once the report arrived; a label known no later
    than its own order counts from just after it, so no order sees its own label. A frame
    that already carries every feature (a training set from the decision log) is kept.
    """
    extractor = default_extractor(load_reference(reference))
    if all(name in data.columns for name in extractor.specs):
        return data
    computed = extractor.extract_labelled(data)
    return pd.concat([data.drop(columns=computed.columns, errors="ignore"), computed], axis=1)


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
    choice = metrics.get("threshold_choice")
    if choice:
        lines.append(
            f"\nthresholds by {choice['method']}: review {choice['review_rate']:.2%} and block "
            f"{choice['block_rate']:.2%} of the calibration window's orders"
        )
    lines.extend(f"note: {note}" for note in metrics.get("notes", []))
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
