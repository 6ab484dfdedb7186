"""Metrics an analyst can trust: ranking, money, calibration, slices, and comparisons.

>>> import numpy as np
>>> y = np.array([0, 0, 1, 1]); s = np.array([0.1, 0.4, 0.35, 0.8])
>>> round(evaluate_scores(y, s, np.full(4, 100.0), Thresholds(review=0.3, block=0.7))
...       ["average_precision"], 3)
0.833
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.stats import beta
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)

from fraudguard.models.schemas import Costs, Thresholds

__all__ = [
    "PRECISION_CONFIDENCE",
    "BudgetChoice",
    "choose_thresholds",
    "choose_thresholds_by_budget",
    "evaluate_scores",
    "expected_cost",
    "reliability_table",
    "slice_metrics",
]

Array = npt.NDArray[Any]


def _safe(metric: Any, y: Array, s: Array) -> float:
    return float(metric(y, s)) if 0 < y.sum() < len(y) else float("nan")


def recall_at_fpr(y: Array, score: Array, fpr_target: float = 0.01) -> float:
    """Share of fraud caught when at most ``fpr_target`` of genuine orders are flagged."""
    if not 0 < y.sum() < len(y):
        return float("nan")
    fpr, tpr, _ = roc_curve(y, score)
    return float(tpr[fpr <= fpr_target].max(initial=0.0))


def reliability_table(y: Array, score: Array, bins: int = 10) -> list[dict[str, float]]:
    """Mean predicted vs. observed fraud rate per score bin (equal-width bins on [0, 1])."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(score, edges[1:-1]), 0, bins - 1)
    rows = []
    for b in range(bins):
        mask = which == b
        if mask.any():
            rows.append(
                {
                    "bin_low": float(edges[b]),
                    "bin_high": float(edges[b + 1]),
                    "count": int(mask.sum()),
                    "mean_score": float(score[mask].mean()),
                    "fraud_rate": float(y[mask].mean()),
                }
            )
    return rows


def expected_cost(
    y: Array, score: Array, amount: Array, thresholds: Thresholds, costs: Costs
) -> float:
    """Yuan lost to missed fraud plus review work plus genuine orders wrongly blocked."""
    block = score >= thresholds.block
    review = (score >= thresholds.review) & ~block
    missed = (y == 1) & ~block & ~review
    return float(
        (amount[missed] * costs.missed_fraud_per_yuan).sum()
        + review.sum() * costs.review
        + ((y == 0) & block).sum() * costs.false_block
    )


def choose_thresholds(
    y: Array, score: Array, amount: Array, costs: Costs, max_legit_flag_rate: float
) -> Thresholds:
    """Cheapest review/block pair on held-out data with at most ``max_legit_flag_rate``
    of genuine orders flagged; candidates are the scores' own quantiles."""
    candidates = np.unique(np.quantile(score, np.linspace(0.5, 1.0, 101)))
    legit = y == 0
    n_legit = max(int(legit.sum()), 1)
    best: tuple[float, Thresholds] | None = None
    for review in candidates:
        if (score[legit] >= review).sum() / n_legit > max_legit_flag_rate:
            continue
        for block in candidates[candidates >= review]:
            t = Thresholds(review=float(review), block=float(block))
            cost = expected_cost(y, score, amount, t, costs)
            if best is None or cost < best[0]:
                best = (cost, t)
    if best is None:  # even the top score flags too much: review only the very top
        top = float(np.nextafter(score.max(), 2.0))
        return Thresholds(review=min(top, 1.0), block=min(top, 1.0))
    return best[1]


#: One-sided confidence of the precision bound a block threshold must reach.
PRECISION_CONFIDENCE = 0.95


@dataclass(frozen=True)
class BudgetChoice:
    """Thresholds chosen from an alert budget, what they do on the calibration window, and
    warnings where the labels there cannot support the request."""

    thresholds: Thresholds
    #: On the calibration window: shares of orders reviewed-or-blocked and blocked, the
    #: known-fraud share (precision) of each, and its lower confidence bound.
    facts: dict[str, float]
    warnings: list[str] = field(default_factory=list)


def _precision_floor(frauds: Array, flagged: Array) -> Array:
    """Clopper-Pearson lower bound of a precision ``frauds / flagged`` (0 when none)."""
    floor = beta.ppf(1 - PRECISION_CONFIDENCE, frauds, flagged - frauds + 1)
    return np.where(frauds > 0, np.nan_to_num(floor, nan=0.0), 0.0)


def choose_thresholds_by_budget(
    y: Array,
    score: Array,
    review_budget: float,
    block_budget: float | None = None,
    block_precision: float = 0.9,
) -> BudgetChoice:
    """Review the ``review_budget`` share of orders with the highest scores; block the
    largest top share (at most ``block_budget``) whose precision is, with
    :data:`PRECISION_CONFIDENCE`, at least ``block_precision``; ``y`` are the labels known
    when training. Ties never push a share over its budget. No top share that meets the
    precision: nothing is blocked, with a warning. "Nothing" is a threshold of 1.0, which the
    calibrated scores stay below.
    """
    y = np.asarray(y, dtype=int)
    score = np.asarray(score, dtype=float)
    n = len(score)
    order = np.argsort(-score, kind="stable")
    ranked, hits = score[order], np.cumsum(y[order])
    # Positions where a top set may end: after the last of a run of equal scores.
    ends = np.flatnonzero(np.append(ranked[1:] < ranked[:-1], True)) + 1
    warnings: list[str] = []

    def cut(count: int) -> float:
        # The threshold that flags exactly the top ``count`` orders (1.0: none).
        return float(ranked[count - 1]) if count > 0 else 1.0

    review_ends = ends[ends <= review_budget * n + 1e-9]
    reviewed = int(review_ends.max(initial=0))
    if reviewed == 0:
        warnings.append(
            f"a review budget of {review_budget:.2%} is less than one order of the "
            f"{n:,} in the calibration window: the model reviews nothing; raise the budget"
        )
    frauds_reviewed = int(hits[reviewed - 1]) if reviewed else 0
    if reviewed and frauds_reviewed < 10:
        warnings.append(
            f"only {frauds_reviewed} known frauds among the {reviewed:,} calibration orders the "
            "review budget flags: its precision is uncertain; use a later --as-of or a wider "
            "calibration window"
        )
    cap = reviewed if block_budget is None else min(reviewed, int(block_budget * n + 1e-9))
    candidates = review_ends[review_ends <= cap]
    frauds = hits[candidates - 1] if len(candidates) else np.array([], dtype=int)
    floors = _precision_floor(frauds, candidates)
    meets = candidates[floors >= block_precision]
    blocked = int(meets.max(initial=0))
    if blocked == 0 and reviewed:
        best = int(np.argmax(floors)) if len(floors) else -1
        found = (
            f"best: {int(frauds[best])} known frauds in the top {int(candidates[best]):,}"
            if best >= 0
            else "no top share within the block budget"
        )
        warnings.append(
            f"no top share of the calibration window is known to be fraud at a precision of "
            f"{block_precision:.0%} ({PRECISION_CONFIDENCE:.0%} confidence; {found}): the "
            "model blocks nothing; lower --block-precision or add labels (later --as-of)"
        )
    review_t = cut(reviewed)
    thresholds = Thresholds(review=review_t, block=max(cut(blocked), review_t))
    facts = {
        "review_rate": reviewed / n if n else float("nan"),
        "block_rate": blocked / n if n else float("nan"),
        "known_frauds_reviewed": float(frauds_reviewed),
        "precision_at_review": frauds_reviewed / reviewed if reviewed else float("nan"),
        "precision_at_block": float(hits[blocked - 1]) / blocked if blocked else float("nan"),
        "precision_at_block_floor": float(
            _precision_floor(hits[blocked - 1 : blocked], np.array([blocked]))[0]
        )
        if blocked
        else float("nan"),
    }
    return BudgetChoice(thresholds, facts, warnings)


def evaluate_scores(
    y: Array,
    score: Array,
    amount: Array,
    thresholds: Thresholds,
    costs: Costs | None = None,
    days: Array | None = None,
    k_per_day: int = 20,
) -> dict[str, Any]:
    """Headline metrics of one score over one labelled period."""
    y = np.asarray(y, dtype=int)
    score = np.asarray(score, dtype=float)
    amount = np.asarray(amount, dtype=float)
    flagged = score >= thresholds.review
    blocked = score >= thresholds.block
    fraud, legit = y == 1, y == 0
    out: dict[str, Any] = {
        "rows": len(y),
        "fraud_rows": int(fraud.sum()),
        "roc_auc": _safe(roc_auc_score, y, score),
        "average_precision": _safe(average_precision_score, y, score),
        "brier": float(brier_score_loss(y, score)) if len(y) else float("nan"),
        "recall_at_1pct_fpr": recall_at_fpr(y, score, 0.01),
        "review_threshold": thresholds.review,
        "block_threshold": thresholds.block,
        "precision_at_review": float(y[flagged].mean()) if flagged.any() else float("nan"),
        "recall_at_review": float(flagged[fraud].mean()) if fraud.any() else float("nan"),
        "precision_at_block": float(y[blocked].mean()) if blocked.any() else float("nan"),
        "recall_at_block": float(blocked[fraud].mean()) if fraud.any() else float("nan"),
        "legit_flagged_rate": float(flagged[legit].mean()) if legit.any() else float("nan"),
        "review_rate": float(flagged.mean()) if len(y) else float("nan"),
        "block_rate": float(blocked.mean()) if len(y) else float("nan"),
        "distinct_scores": len(np.unique(score)),
        "fraud_money": float(amount[fraud].sum()),
        "fraud_money_caught": float(amount[fraud & flagged].sum()),
        "fraud_money_recall": float(amount[fraud & flagged].sum() / amount[fraud].sum())
        if fraud.any()
        else float("nan"),
        "legit_money_blocked": float(amount[legit & blocked].sum()),
    }
    if costs is not None:
        out["expected_cost"] = expected_cost(y, score, amount, thresholds, costs)
    if days is not None:
        out["precision_at_k_per_day"] = _precision_at_k(y, score, days, k_per_day)
        out["k_per_day"] = k_per_day
    return out


def _precision_at_k(y: Array, score: Array, days: Array, k: int) -> float:
    """Mean over days of the fraud share among the day's ``k`` highest scores."""
    frame = pd.DataFrame({"y": y, "score": score, "day": days})
    top = frame.sort_values("score", ascending=False).groupby("day", sort=False).head(k)
    return float(top.groupby("day")["y"].mean().mean())


def slice_metrics(
    y: Array, score: Array, amount: Array, groups: Array, thresholds: Thresholds
) -> list[dict[str, Any]]:
    """Per slice (typology, channel ...): rows, fraud, recall and AP where defined."""
    frame = pd.DataFrame({"y": y, "score": score, "amount": amount, "group": groups})
    rows = []
    for name, part in frame.groupby("group", sort=True, dropna=False):
        flagged = part["score"].to_numpy() >= thresholds.review
        fraud = part["y"].to_numpy() == 1
        rows.append(
            {
                "slice": str(name),
                "rows": len(part),
                "fraud_rows": int(fraud.sum()),
                "flagged_rate": float(flagged.mean()),
                "recall": float(flagged[fraud].mean()) if fraud.any() else float("nan"),
                "average_precision": _safe(
                    average_precision_score, part["y"].to_numpy(), part["score"].to_numpy()
                ),
            }
        )
    return rows


def pr_curve(y: Array, score: Array) -> dict[str, list[float]]:
    """Precision/recall pairs for plotting in a notebook."""
    precision, recall, thresholds = precision_recall_curve(y, score)
    return {
        "precision": precision.tolist(),
        "recall": recall.tolist(),
        "thresholds": thresholds.tolist(),
    }
