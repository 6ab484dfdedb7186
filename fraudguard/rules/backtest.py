"""Backtest a rule set on labelled history: what each rule catches, costs and duplicates.

Per rule (active and shadow alike):

* ``hits``, ``hit_rate`` (hits / rows), ``true_positives``, ``precision`` (fraud share of the
  hits) and ``recall`` (share of all fraud it catches); ``NaN`` where undefined;
* ``amount_hit`` and ``amount_true_positive``: money at stake on its hits, and on its fraud;
* ``overlap_share``: share of its hits that some *other active* rule also catches, and
  ``unique_hits`` / ``unique_true_positives``: hits and fraud no other active rule catches.
  For an active rule this says whether it is redundant; for a shadow rule, what promoting
  it would add;
* ``recall_<typology>`` when the frame has a ``typology`` column (fraud rows only).

The decision mix counts allow / tag / review / block, their rates and the precision and
recall of flagging (review or block), once for the active rules and once as if the shadow
rules were promoted. :attr:`BacktestReport.overlap` is the pairwise Jaccard index of the
rules' hits (|A∩B| / |A∪B|).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from fraudguard.exceptions import ConfigError, DataFileError
from fraudguard.features.base import FeatureKind
from fraudguard.files import read_events
from fraudguard.reference import ReferenceData
from fraudguard.rules.enums import RuleAction
from fraudguard.rules.ruleset import FrameEvaluation, RuleSet
from fraudguard.rules.service import load_rules

__all__ = ["BacktestReport", "backtest", "backtest_files"]

_DECISIONS = ("allow", "tag", "review", "block")
_TEXT_COLUMNS = {
    "action": "action",
    "hits": "hits",
    "hit_rate": "hit_rate",
    "precision": "precision",
    "recall": "recall",
    "amount_hit": "amount",
    "amount_true_positive": "fraud_amount",
    "overlap_share": "overlap",
    "unique_true_positives": "unique_tp",
    "errors": "errors",
}


def _ratio(numerator: Any, denominator: Any) -> Any:
    """``numerator / denominator`` with ``NaN`` where the denominator is 0."""
    num = np.asarray(numerator, dtype=float)
    den = np.asarray(denominator, dtype=float)
    return np.divide(num, den, out=np.full(np.broadcast(num, den).shape, np.nan), where=den != 0)


@dataclass(frozen=True)
class BacktestReport:
    """The result of :func:`backtest`: tables as DataFrames, plus text, CSV and JSON."""

    ruleset_version: str
    rows: int
    positives: int
    #: One row per enabled rule, in pack order (index ``rule_id``).
    rules: pd.DataFrame
    #: Decision mix, rows ``active`` and ``with_shadow`` (shadow rules promoted).
    decisions: pd.DataFrame
    #: Pairwise Jaccard index of the rules' hits.
    overlap: pd.DataFrame
    #: Recall per rule and fraud typology, when the frame had a ``typology`` column.
    typology_recall: pd.DataFrame | None = None

    def to_frame(self) -> pd.DataFrame:
        """The per-rule table, with ``recall_<typology>`` columns when typologies are known."""
        if self.typology_recall is None:
            return self.rules.copy()
        return self.rules.join(self.typology_recall.add_prefix("recall_"))

    def to_csv(self, path: Path | str) -> None:
        self.to_frame().to_csv(path, index_label="rule_id")

    def to_dict(self) -> dict[str, Any]:
        """Everything in the report as JSON-ready values (``NaN`` becomes ``null``)."""

        def records(frame: pd.DataFrame) -> Any:
            return json.loads(frame.to_json(orient="index", force_ascii=False))

        return {
            "ruleset_version": self.ruleset_version,
            "rows": self.rows,
            "positives": self.positives,
            "rules": records(self.to_frame()),
            "decisions": records(self.decisions),
            "overlap": records(self.overlap),
        }

    def to_json(self, path: Path | str) -> None:
        text = json.dumps(self.to_dict(), indent=2, ensure_ascii=False)
        Path(path).write_text(text + "\n", encoding="utf-8")

    def to_text(self) -> str:
        share = f"{self.positives / self.rows:.2%}" if self.rows else "n/a"
        parts = [
            f"Backtest of rules {self.ruleset_version}",
            f"{self.rows:,} events, {self.positives:,} fraud ({share})",
        ]
        for mode, heading in (("active", "Active rules"), ("shadow", "Shadow rules (not obeyed)")):
            table = self.rules[self.rules["mode"] == mode]
            if not table.empty:
                shown = table[list(_TEXT_COLUMNS)].rename(columns=_TEXT_COLUMNS)
                parts += ["", heading, _format(shown)]
        parts += ["", "Decisions", _format(self.decisions.T)]
        if self.typology_recall is not None:
            parts += ["", "Recall by fraud typology", _format(self.typology_recall)]
        return "\n".join(parts)

    def __str__(self) -> str:
        return self.to_text()


def _format(frame: pd.DataFrame) -> str:
    def number(value: float) -> str:
        return "-" if np.isnan(value) else f"{value:,.3f}".rstrip("0").rstrip(".")

    return frame.to_string(float_format=number, na_rep="-")


def _labels(frame: pd.DataFrame, column: str) -> npt.NDArray[np.bool_]:
    if column not in frame.columns:
        raise DataFileError(f"the frame has no label column {column!r}")
    labels = frame[column]
    if labels.isna().any() or not labels.isin([0, 1]).all():
        raise DataFileError(f"label column {column!r} must hold 0/1 or true/false, with no gaps")
    return labels.to_numpy(dtype=bool)


def _amounts(frame: pd.DataFrame, column: str) -> npt.NDArray[np.float64]:
    if column not in frame.columns:
        raise DataFileError(f"the frame has no amount column {column!r}")
    amounts = pd.to_numeric(frame[column], errors="coerce")
    if amounts.isna().any():
        raise DataFileError(f"amount column {column!r} must hold numbers, with no gaps")
    return amounts.to_numpy(dtype=float)


def _decision_mix(
    ranks: npt.NDArray[np.int8],
    labels: npt.NDArray[np.bool_],
    amounts: npt.NDArray[np.float64],
) -> dict[str, float]:
    rows, positives = len(labels), int(labels.sum())
    counts = np.bincount(ranks, minlength=4)  # rank 0 allow, 1 tag, 2 review, 3 block
    flagged = ranks >= RuleAction.REVIEW.rank
    caught = flagged & labels
    mix: dict[str, float] = {name: int(counts[i]) for i, name in enumerate(_DECISIONS)}
    mix.update(
        {f"{name}_rate": float(_ratio(counts[i], rows)) for i, name in enumerate(_DECISIONS)}
    )
    mix.update(
        {
            "flagged": int(flagged.sum()),
            "precision": float(_ratio(caught.sum(), flagged.sum())),
            "recall": float(_ratio(caught.sum(), positives)),
            # The cost side: genuine orders sent to review or block.
            "legit_flagged_rate": float(_ratio((flagged & ~labels).sum(), rows - positives)),
            "amount_flagged": float(amounts[flagged].sum()),
            "fraud_amount_caught": float(amounts[caught].sum()),
            "fraud_amount_recall": float(_ratio(amounts[caught].sum(), amounts[labels].sum())),
        }
    )
    return mix


def backtest(
    rules: RuleSet,
    frame: pd.DataFrame,
    label_column: str = "is_fraud",
    amount_column: str = "amount",
    *,
    evaluation: FrameEvaluation | None = None,
) -> BacktestReport:
    """Evaluate ``rules`` on labelled history and measure every rule and the decisions.

    ``frame`` holds flat events, feature columns, the 0/1 label and optionally
    ``typology`` (which fraud scheme a fraud row belongs to). With ``evaluation`` (the
    rules already evaluated on these rows, in this order, e.g. partition by partition on
    a cluster) ``frame`` needs only the label, amount and typology columns.
    """
    labels = _labels(frame, label_column)
    amounts = _amounts(frame, amount_column)
    if evaluation is None:
        evaluation = rules.evaluate_frame(frame)
    elif len(evaluation.hits) != len(frame) or list(evaluation.hits.columns) != [
        r.id for r in rules.live
    ]:
        raise ValueError("the evaluation does not match the rules and rows of this backtest")
    live = rules.live
    hits = evaluation.hits.to_numpy(dtype=bool)
    rows, positives = len(frame), int(labels.sum())
    active = np.array([rule.active for rule in live], dtype=bool)

    true_hits = hits & labels[:, None]
    active_count = hits[:, active].sum(axis=1)
    # For each rule: is the row also caught by an active rule other than itself?
    others = (active_count[:, None] - (hits & active[None, :])) > 0
    count = hits.sum(axis=0)
    table = pd.DataFrame(
        {
            "mode": [str(r.rule.mode) for r in live],
            "action": [str(r.rule.action) for r in live],
            "family": [str(r.rule.family) for r in live],
            "severity": [str(r.rule.severity) for r in live],
            "hits": count,
            "hit_rate": _ratio(count, rows),
            "true_positives": true_hits.sum(axis=0),
            "precision": _ratio(true_hits.sum(axis=0), count),
            "recall": _ratio(true_hits.sum(axis=0), positives),
            "amount_hit": amounts @ hits,
            "amount_true_positive": amounts @ true_hits,
            "overlap_share": _ratio((hits & others).sum(axis=0), count),
            "unique_hits": (hits & ~others).sum(axis=0),
            "unique_true_positives": (true_hits & ~others).sum(axis=0),
            "errors": evaluation.errors.to_numpy(dtype=bool).sum(axis=0),
        },
        index=pd.Index([r.id for r in live], name="rule_id"),
    )

    both = hits.astype(np.int64)
    together = both.T @ both
    union = count[:, None] + count[None, :] - together
    overlap = pd.DataFrame(_ratio(together, union), index=table.index, columns=table.index)

    deciding = np.array([r.hit.action is not RuleAction.SCORE for r in live], dtype=bool)
    rank_of = np.array([r.hit.action.rank for r in live], dtype=np.int8)
    ranked = np.where(hits & deciding[None, :], rank_of[None, :], 0).astype(np.int8)
    with_shadow = ranked.max(axis=1, initial=0).astype(np.int8)
    only_active = np.where(active[None, :], ranked, 0).max(axis=1, initial=0).astype(np.int8)
    decisions = pd.DataFrame(
        [_decision_mix(only_active, labels, amounts), _decision_mix(with_shadow, labels, amounts)],
        index=pd.Index(["active", "with_shadow"], name="rules"),
    )

    typology_recall = None
    if "typology" in frame.columns:
        typology = frame["typology"].to_numpy(dtype=object)
        names = sorted({str(t) for t in typology[labels] if not pd.isna(t)})
        recall = {}
        for name in names:
            members = labels & (typology == name)
            recall[name] = _ratio((hits & members[:, None]).sum(axis=0), members.sum())
            for row, ranks in (("active", only_active), ("with_shadow", with_shadow)):
                decisions.loc[row, f"recall_{name}"] = float(
                    _ratio((members & (ranks >= RuleAction.REVIEW.rank)).sum(), members.sum())
                )
        typology_recall = pd.DataFrame(recall, index=table.index)

    return BacktestReport(
        evaluation.ruleset_version, rows, positives, table, decisions, overlap, typology_recall
    )


def _features(frame: pd.DataFrame, reference: ReferenceData) -> tuple[pd.DataFrame, Any]:
    try:
        from fraudguard.features import extract_many, feature_specs
    except ImportError as error:
        raise ConfigError(
            f"cannot compute features for the backtest: {error} "
            "(fraudguard.features must provide extract_many and feature_specs)"
        ) from None
    return extract_many(frame, reference), feature_specs()


def backtest_files(
    rules_path: Path,
    data_path: Path,
    reference: ReferenceData,
    *,
    label_column: str = "is_fraud",
    amount_column: str = "amount",
) -> BacktestReport:
    """Backtest a rule pack on a history file: read it, compute features, evaluate, measure."""
    frame = read_events(data_path)
    features, specs = _features(frame, reference)
    kinds: Mapping[str, FeatureKind] = {name: spec.kind for name, spec in specs.items()}
    rules = load_rules(rules_path, features=kinds, lists=reference.lists)
    # Features are recomputed from the events, so stale copies in the file are replaced.
    history = pd.concat([frame.drop(columns=features.columns, errors="ignore"), features], axis=1)
    return backtest(rules, history, label_column, amount_column)
