"""The population stability index (PSI) of one column between two windows.

``PSI = sum over bins of (c - r) * ln(c / r)``, where ``r`` and ``c`` are the shares of
the reference and current rows in the bin. Bins come from the reference window only:

* **numeric**: edges at the reference's quantiles (``bins`` of them, duplicates merged, so
  a count that is 0 on 80% of rows gets one ``<= 0`` bin); bins are right-closed and the
  outer ones open-ended, so current values outside the reference's range still land in one;
* **categorical** (strings, booleans, tri-state flags): the ``max_categories`` most frequent
  reference values (ties broken by name), then ``(other)`` for the rest and for values the
  reference never had;
* **missing** (``None``, ``NaN``) is a bin of its own in both kinds: a feed that starts
  losing a field is drift too.

Epsilon: a share below ``epsilon`` is raised to ``epsilon`` before the logarithm (shares are
not renormalised). An empty bin then adds a finite ``(p - eps) * ln(p / eps)``, every term
stays ``>= 0``, identical windows give exactly 0, swapping the windows on the same bins
gives the same value, and PSI never exceeds ``(2 + bins * eps) * ln(1 / eps)``.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> reference = rng.normal(size=5000)
>>> round(psi(reference, reference).value, 6)
0.0
>>> round(psi(reference, rng.normal(size=5000)).value, 3)  # same distribution: noise only
0.005
>>> round(psi(reference, rng.normal(loc=0.5, size=5000)).value, 2)  # mean moved half a sd
0.25
>>> psi(["a", "a", "b", None], ["a", "c", "c", "c"]).bins.index.tolist()
['a', 'b', '(other)', '(missing)']
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from fraudguard.exceptions import InputError
from fraudguard.monitoring.enums import BinningKind
from fraudguard.monitoring.schemas import PsiResult

__all__ = [
    "DEFAULT_BINS",
    "DEFAULT_EPSILON",
    "DEFAULT_MAX_CATEGORIES",
    "MISSING_BIN",
    "OTHER_BIN",
    "binning_kind",
    "psi",
    "psi_from_counts",
]

DEFAULT_BINS = 10
DEFAULT_MAX_CATEGORIES = 20
DEFAULT_EPSILON = 1e-4
MISSING_BIN = "(missing)"
OTHER_BIN = "(other)"

Values = pd.Series | npt.ArrayLike | Sequence[Any]


def binning_kind(values: pd.Series) -> BinningKind:
    """Numeric for real numbers and integers, categorical for anything else (booleans too)."""
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_numeric_dtype(dtype):
        return BinningKind.CATEGORICAL
    return BinningKind.NUMERIC


def psi_from_counts(
    reference: npt.ArrayLike, current: npt.ArrayLike, epsilon: float = DEFAULT_EPSILON
) -> tuple[float, npt.NDArray[np.float64]]:
    """PSI and the per-bin terms from two count vectors over the same bins."""
    ref = np.asarray(reference, dtype=float)
    cur = np.asarray(current, dtype=float)
    if ref.shape != cur.shape or ref.ndim != 1:
        raise InputError("reference and current counts must be vectors over the same bins")
    if ref.sum() <= 0 or cur.sum() <= 0:
        raise InputError("PSI needs at least one row in each window")
    r = np.maximum(ref / ref.sum(), epsilon)
    c = np.maximum(cur / cur.sum(), epsilon)
    terms = (c - r) * np.log(c / r)
    return float(terms.sum()), terms


def _series(values: Values) -> pd.Series:
    if isinstance(values, pd.Series):
        return values.reset_index(drop=True)
    return pd.Series(np.asarray(values, dtype=object) if not _numeric(values) else values)


def _numeric(values: Any) -> bool:
    try:
        array = np.asarray(values)
    except (TypeError, ValueError):
        return False
    return array.dtype.kind in "iuf"


def _numeric_bins(
    reference: pd.Series, current: pd.Series, bins: int, fixed: Sequence[float] | None
) -> tuple[list[str], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    ref = pd.to_numeric(reference, errors="coerce").to_numpy(dtype=float)
    cur = pd.to_numeric(current, errors="coerce").to_numpy(dtype=float)
    finite = ref[~np.isnan(ref)]
    if fixed is not None:
        edges = np.asarray(fixed, dtype=float)
        if edges.ndim != 1 or not np.all(np.diff(edges) > 0):
            raise InputError("PSI bin edges must be strictly increasing numbers")
    else:
        edges = (
            # Edges are observed values, so ties and counts never get edges between them.
            np.unique(
                np.quantile(finite, np.linspace(0.0, 1.0, bins + 1)[1:-1], method="inverted_cdf")
            )
            if finite.size
            else np.array([], dtype=float)
        )
    labels = [*_edge_labels(edges), MISSING_BIN]
    missing_index = len(labels) - 1

    def counts(values: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
        which = np.searchsorted(edges, values, side="left")  # right-closed bins
        which[np.isnan(values)] = missing_index
        return np.bincount(which, minlength=len(labels)).astype(np.int64)

    return labels, counts(ref), counts(cur)


def _edge_labels(edges: npt.NDArray[np.float64]) -> list[str]:
    if edges.size == 0:
        return ["all values"]
    text = [f"{edge:.6g}" for edge in edges]
    labels = [f"<= {text[0]}"]
    labels += [f"({low}, {high}]" for low, high in itertools.pairwise(text)]
    labels.append(f"> {text[-1]}")
    return labels


def _as_text(values: pd.Series) -> pd.Series:
    missing = values.isna().to_numpy()
    text = values.astype(object).map(str).to_numpy(dtype=object)
    text[missing] = MISSING_BIN
    return pd.Series(text)


def _categorical_bins(
    reference: pd.Series, current: pd.Series, max_categories: int
) -> tuple[list[str], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    ref = _as_text(reference)
    cur = _as_text(current)
    frequency = ref[ref != MISSING_BIN].value_counts()
    ranked = sorted(frequency.items(), key=lambda item: (-int(item[1]), str(item[0])))
    kept = [str(name) for name, _ in ranked[:max_categories]]
    labels = [*kept, OTHER_BIN, MISSING_BIN]
    other = labels.index(OTHER_BIN)

    def counts(values: pd.Series) -> npt.NDArray[np.int64]:
        which = pd.Index(labels).get_indexer(pd.Index(values)).astype(np.int64)
        which[which < 0] = other  # a value the reference never had (or never kept)
        return np.bincount(which, minlength=len(labels)).astype(np.int64)

    return labels, counts(ref), counts(cur)


def psi(
    reference: Values,
    current: Values,
    *,
    kind: BinningKind | None = None,
    bins: int = DEFAULT_BINS,
    max_categories: int = DEFAULT_MAX_CATEGORIES,
    epsilon: float = DEFAULT_EPSILON,
    edges: Sequence[float] | None = None,
) -> PsiResult:
    """PSI of ``current`` against ``reference`` (see the module for bins and epsilon).

    ``kind`` defaults to :func:`binning_kind` of the reference. Numeric ``edges``, when
    given, replace the reference's quantiles (right-closed bins, open-ended outer ones):
    for a calibrated score whose quantiles collapse onto 0. Row order never matters.
    Raises :class:`InputError` when either window is empty.
    """
    ref = _series(reference)
    cur = _series(current)
    if ref.empty or cur.empty:
        raise InputError("PSI needs at least one row in each window")
    kind = kind or binning_kind(ref)
    if kind is BinningKind.NUMERIC:
        labels, ref_counts, cur_counts = _numeric_bins(ref, cur, bins, edges)
    else:
        labels, ref_counts, cur_counts = _categorical_bins(ref, cur, max_categories)
    value, terms = psi_from_counts(ref_counts, cur_counts, epsilon)
    table = pd.DataFrame(
        {
            "reference_count": ref_counts,
            "current_count": cur_counts,
            "reference_share": ref_counts / ref_counts.sum(),
            "current_share": cur_counts / cur_counts.sum(),
            "contribution": terms,
        },
        index=pd.Index(labels, name="bin"),
    )
    return PsiResult(value=value, kind=kind, bins=table)
