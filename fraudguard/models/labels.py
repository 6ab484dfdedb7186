"""Merge reviewers' dispositions (exported labels) into labelled history before training.

A reviewer's disposition is a label like a chargeback, only earlier: it carries the time it
became known (``label_time``), so training's label-delay logic treats both alike - a label
known after the training cut-off does not reach training.

Per transaction in both frames, the reviewer's label is applied this way:

=================================  =========================================================
history                            result
=================================  =========================================================
no label (``label_time`` missing)  **added**: the reviewer's ``is_fraud`` and ``label_time``
same verdict                       **confirmed**: the verdict stays; ``label_time`` is the
                                   earlier of the two (the label was known from then on)
other verdict                      **overturned**: the reviewer's ``is_fraud`` and
                                   ``label_time`` replace the history's
=================================  =========================================================

``typology`` (when the history has it) takes the reviewer's typology when one is given,
keeps the history's when the verdict is unchanged, and is left missing (scheme unknown)
when the verdict changed without one. A transaction labelled more than once keeps its
latest label (a reviewer who revised a disposition).

>>> history = pd.DataFrame({"transaction_id": ["t1", "t2", "t3"],
...     "is_fraud": [True, False, False], "typology": ["card_testing", "legit", "legit"],
...     "label_time": pd.to_datetime(["2026-11-20", None, None]).tz_localize("UTC")})
>>> labels = pd.DataFrame({"transaction_id": ["t1", "t2"], "is_fraud": [True, True],
...     "typology": [None, "account_takeover"],
...     "label_time": pd.to_datetime(["2026-11-10", "2026-11-12"]).tz_localize("UTC")})
>>> merged = merge_labels(history, labels)
>>> merged.confirmed, merged.added, merged.overturned
(1, 1, 0)
>>> merged.frame[["is_fraud", "typology"]].to_dict("list")
{'is_fraud': [True, True, False], 'typology': ['card_testing', 'account_takeover', 'legit']}
>>> str(merged.frame["label_time"].iloc[0].date())
'2026-11-10'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from fraudguard.exceptions import FieldProblem, InputError

__all__ = ["REVIEW_LABEL_COLUMNS", "MergedLabels", "merge_labels"]

#: Columns an exported labels frame must have (``typology`` is used when present).
REVIEW_LABEL_COLUMNS = ("transaction_id", "is_fraud", "label_time")
_HISTORY_COLUMNS = ("transaction_id", "is_fraud", "label_time")


@dataclass(frozen=True)
class MergedLabels:
    """The history with reviewers' labels applied, and what they changed."""

    #: The history's rows, index and columns, with ``is_fraud``, ``label_time`` and
    #: ``typology`` updated.
    frame: pd.DataFrame
    #: History rows without a label that got the reviewer's.
    added: int
    #: History labels the reviewer agreed with.
    confirmed: int
    #: History labels the reviewer reversed.
    overturned: int
    #: Labels of transactions the history does not hold (only with ``unmatched="ignore"``).
    unmatched: int

    def summary(self) -> str:
        return (
            f"{self.added + self.confirmed + self.overturned:,} reviewer labels applied: "
            f"{self.added:,} added, {self.confirmed:,} confirmed, {self.overturned:,} "
            f"overturned; {self.unmatched:,} for transactions not in the history"
        )


def _require(frame: pd.DataFrame, columns: tuple[str, ...], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(
            f"the {name} frame lacks required columns",
            [FieldProblem(f"{name}.{c}", "add this column") for c in missing],
        )


def _verdicts(values: pd.Series, where: str) -> pd.Series:
    if values.isna().any() or not values.isin([0, 1]).all():
        raise InputError(
            "labels must be true/false",
            [FieldProblem(where, "hold only true/false (or 1/0), with no gaps")],
        )
    return values.astype(bool)


def _times(values: pd.Series, where: str, *, allow_missing: bool) -> pd.Series:
    if not isinstance(values.dtype, pd.DatetimeTZDtype):
        raise InputError(
            "label times must be tz-aware",
            [FieldProblem(where, "use timezone-aware timestamps (for example UTC)")],
        )
    if not allow_missing and values.isna().any():
        raise InputError(
            "every reviewer label needs its time",
            [FieldProblem(where, f"{int(values.isna().sum()):,} rows have no label_time")],
        )
    return values


def _prepared_labels(labels: pd.DataFrame) -> pd.DataFrame:
    _require(labels, REVIEW_LABEL_COLUMNS, "labels")
    if labels["transaction_id"].isna().any():
        raise InputError(
            "every reviewer label needs its transaction",
            [FieldProblem("labels.transaction_id", "must not be empty")],
        )
    columns = [*REVIEW_LABEL_COLUMNS, *(["typology"] if "typology" in labels.columns else [])]
    prepared = labels.loc[:, columns].copy()
    prepared["transaction_id"] = prepared["transaction_id"].astype(str)
    prepared["is_fraud"] = _verdicts(prepared["is_fraud"], "labels.is_fraud")
    prepared["label_time"] = _times(
        prepared["label_time"], "labels.label_time", allow_missing=False
    )
    # A revised disposition: the latest label of a transaction wins.
    prepared = prepared.sort_values("label_time", kind="stable")
    return prepared.drop_duplicates("transaction_id", keep="last").set_index("transaction_id")


def merge_labels(
    history: pd.DataFrame,
    labels: pd.DataFrame,
    *,
    unmatched: Literal["raise", "ignore"] = "raise",
) -> MergedLabels:
    """Apply reviewers' labels (``fraudguard.cases.export_labels``) to labelled history.

    ``history`` needs unique ``transaction_id`` values, ``is_fraud`` and a tz-aware
    ``label_time``; ``labels`` needs :data:`REVIEW_LABEL_COLUMNS`. Labels of transactions the
    history lacks raise :class:`InputError` (they usually mean the wrong history file)
    unless ``unmatched="ignore"``, which counts and skips them.
    """
    _require(history, _HISTORY_COLUMNS, "history")
    if history["transaction_id"].duplicated().any():
        raise InputError(
            "the history holds a transaction twice",
            [FieldProblem("history.transaction_id", "must be unique")],
        )
    history_fraud = _verdicts(history["is_fraud"], "history.is_fraud")
    history_times = _times(history["label_time"], "history.label_time", allow_missing=True)
    reviewed = _prepared_labels(labels)
    ids = history["transaction_id"].astype(str)
    matched = ids.isin(reviewed.index).to_numpy()
    missing = int((~reviewed.index.isin(ids)).sum())
    if missing and unmatched == "raise":
        raise InputError(
            "reviewer labels name transactions the history does not hold",
            [
                FieldProblem(
                    "labels.transaction_id",
                    f"{missing:,} labels match no history row: check the history file or "
                    'pass unmatched="ignore"',
                )
            ],
        )

    frame = history.copy()
    rows = np.flatnonzero(matched)
    review = reviewed.loc[ids.iloc[rows].to_list()]
    review_fraud = review["is_fraud"].to_numpy(dtype=bool)
    review_time = review["label_time"].dt.tz_convert(history_times.dt.tz).to_numpy()
    old_fraud = history_fraud.iloc[rows].to_numpy(dtype=bool)
    old_time = history_times.iloc[rows]
    had_label = old_time.notna().to_numpy()
    same_verdict = old_fraud == review_fraud
    same = had_label & same_verdict
    overturned = had_label & ~same

    old_times = old_time.to_numpy()
    earliest = np.where(same & (old_times < review_time), old_times, review_time)
    # Reviewer times carry microseconds; a history read from Parquet may hold milliseconds.
    times = history_times.dt.as_unit("ns")
    times.iloc[rows] = pd.DatetimeIndex(earliest, tz="UTC").tz_convert(history_times.dt.tz)
    verdicts = history_fraud.to_numpy(dtype=bool, copy=True)
    verdicts[rows] = review_fraud
    frame["is_fraud"] = verdicts
    frame["label_time"] = times
    if "typology" in frame.columns:
        given = (
            review["typology"].to_numpy(dtype=object)
            if "typology" in review.columns
            else np.full(len(rows), None, dtype=object)
        )
        kept = frame["typology"].iloc[rows].to_numpy(dtype=object)
        # A new verdict without a typology leaves the scheme unknown: a legit row the
        # reviewer calls fraud must not keep "legit".
        unknown = np.full(len(rows), None, dtype=object)
        typology = np.where(~pd.isna(given), given, np.where(same_verdict, kept, unknown))
        column = frame["typology"].astype(object).to_numpy(copy=True)
        column[rows] = typology
        frame["typology"] = pd.Series(column, index=frame.index, dtype=frame["typology"].dtype)
    return MergedLabels(
        frame=frame,
        added=int((~had_label).sum()),
        confirmed=int(same.sum()),
        overturned=int(overturned.sum()),
        unmatched=missing,
    )
