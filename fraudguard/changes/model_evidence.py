"""The evidence a model proposal carries: the candidate and the active model scored on the
same held-out window of labelled history, each at its own thresholds, next to the metrics
their manifests recorded on their own test periods.

The window is the candidate's own test period (orders after its calibration period) within
the labelled history given; a history that does not reach that far is evaluated on its
latest quarter, so both models are still judged on the same orders, neither trained on.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fraudguard.changes.schemas import ModelEvaluation, ModelScores
from fraudguard.exceptions import FieldProblem, InputError
from fraudguard.files import read_events
from fraudguard.models import LoadedModel, evaluate_scores

__all__ = ["MIN_WINDOW_ROWS", "evaluate_models", "held_out_window"]

#: Fewest orders a comparison is made on.
MIN_WINDOW_ROWS = 200
_LATEST_SHARE = 0.25


def held_out_window(frame: pd.DataFrame, after: pd.Timestamp) -> pd.DataFrame:
    """The orders of ``frame`` after ``after``, or its latest quarter when too few are."""
    missing = [c for c in ("event_time", "amount", "is_fraud") if c not in frame.columns]
    if missing:
        raise InputError(
            "the held-out data cannot be evaluated",
            [FieldProblem("data", f"needs the columns {', '.join(missing)}")],
        )
    times = pd.to_datetime(frame["event_time"], utc=True)
    ordered = frame.assign(_t=times).sort_values("_t", kind="stable")
    window = ordered[ordered["_t"] > after]
    if len(window) < MIN_WINDOW_ROWS:
        window = ordered.iloc[int(len(ordered) * (1 - _LATEST_SHARE)) :]
    return window.drop(columns="_t").reset_index(drop=True)


def _finite(value: Any) -> float | None:
    return None if value is None or not np.isfinite(value) else float(value)


def _scores(model: LoadedModel, window: pd.DataFrame) -> ModelScores:
    manifest = model.manifest
    y = window["is_fraud"].astype(int).to_numpy()
    amount = window["amount"].to_numpy(dtype=float)
    score = model.pipeline.predict_proba(window)[:, 1]
    metrics = evaluate_scores(y, score, amount, manifest.thresholds)
    own = manifest.metrics.get("model", {}).get("average_precision")
    return ModelScores(
        version=manifest.version,
        review_threshold=manifest.thresholds.review,
        block_threshold=manifest.thresholds.block,
        average_precision=_finite(metrics["average_precision"]),
        roc_auc=_finite(metrics["roc_auc"]),
        recall_at_review=_finite(metrics["recall_at_review"]),
        precision_at_review=_finite(metrics["precision_at_review"]),
        legit_flagged_rate=_finite(metrics["legit_flagged_rate"]),
        flagged=int((score >= manifest.thresholds.review).sum()),
        fraud_money_caught=round(float(metrics["fraud_money_caught"]), 2),
        registry_average_precision=_finite(own),
    )


def evaluate_models(
    candidate: LoadedModel,
    active: LoadedModel | None,
    data: Path | pd.DataFrame,
    source: str,
) -> ModelEvaluation:
    """Both models on the candidate's held-out window of ``data`` (a labelled history)."""
    started = time.perf_counter()
    frame = read_events(data) if isinstance(data, Path) else data
    after = pd.Timestamp(candidate.manifest.training_data.calibration_end)
    window = held_out_window(frame, after)
    times = pd.to_datetime(window["event_time"], utc=True)
    return ModelEvaluation(
        data=source,
        window_start=times.min().to_pydatetime() if len(window) else None,
        window_end=times.max().to_pydatetime() if len(window) else None,
        rows=len(window),
        fraud=int(window["is_fraud"].astype(int).sum()),
        candidate=_scores(candidate, window),
        active=None if active is None else _scores(active, window),
        seconds=round(time.perf_counter() - started, 3),
    )
