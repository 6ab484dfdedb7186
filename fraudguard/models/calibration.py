"""Calibrated probabilities that keep the model's ranking.

scikit-learn's isotonic calibration is a step function: every order inside one step gets
the same probability, so a review queue ranked by score is mostly ties. Here the map from
the trees' margin (log-odds) to a probability is strictly increasing: two orders whose
margins differ get different probabilities, in the same order.

* ``isotonic``: the pooled-adjacent-violators steps, joined by straight lines through the
  centre (mean margin, fraud rate) of each step, blended with a small share of a logistic
  fit so the map also rises inside the lowest and highest steps and beyond them.
* ``sigmoid``: the logistic fit alone (Platt scaling), for calibration windows with few
  frauds, where isotonic steps follow noise.

Either way the map is stored as knots for ``numpy.interp``: the same numbers score a batch
here and one order in :class:`~fraudguard.models.runtime.FastModel`.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> margin = rng.normal(size=4_000); y = (rng.random(4_000) < 1 / (1 + np.exp(2 - 2 * margin)))
>>> calibrator = MarginCalibrator("isotonic").fit(margin, y.astype(int))
>>> p = calibrator.predict(margin)
>>> bool(np.all(np.diff(p[np.argsort(margin)]) > 0)), len(np.unique(p)) == len(margin)
(True, True)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.isotonic import isotonic_regression
from sklearn.linear_model import LogisticRegression

from fraudguard.models.enums import CalibrationMethod

__all__ = ["MIN_ISOTONIC_FRAUDS", "MarginCalibrator", "RankCalibratedClassifier"]

#: ``auto`` calibrates isotonically from this many known frauds in the calibration window.
MIN_ISOTONIC_FRAUDS = 100
#: Share of the logistic fit in the isotonic map: enough to break every tie, small enough
#: not to move a probability by more than this share.
_SIGMOID_SHARE = 0.01
#: Outer knots, in margin (log-odds) units: the map rises up to them, so no real margin is
#: clipped into a tie.
_GUARD = 1_000.0
_SIGMOID_KNOTS = 257

Floats = npt.NDArray[np.float64]


def _logistic(margin: Floats, y: npt.NDArray[Any]) -> tuple[float, float]:
    """Slope and intercept of Platt's fit; the slope is kept positive (rank kept)."""
    model = LogisticRegression(C=1e6, max_iter=1_000).fit(margin.reshape(-1, 1), y)
    slope = max(float(model.coef_[0, 0]), 1e-6)
    return slope, float(model.intercept_[0])


class MarginCalibrator(BaseEstimator):  # type: ignore[misc]
    """A strictly increasing map from tree margins to fraud probabilities.

    ``method``: ``isotonic``, ``sigmoid`` or ``auto`` (isotonic from
    :data:`MIN_ISOTONIC_FRAUDS` frauds). Learned: ``method_``, the knots ``x_`` (margins)
    and ``y_`` (probabilities), both strictly increasing.
    """

    def __init__(self, method: str = CalibrationMethod.AUTO) -> None:
        self.method = method

    def fit(self, margin: npt.ArrayLike, y: npt.ArrayLike) -> MarginCalibrator:
        x = np.asarray(margin, dtype=np.float64).ravel()
        target = np.asarray(y, dtype=np.int64).ravel()
        if len(x) != len(target) or not 0 < target.sum() < len(target):
            raise ValueError("calibration needs both classes, one label per margin")
        method = CalibrationMethod(self.method)
        if method is CalibrationMethod.AUTO:
            enough = target.sum() >= MIN_ISOTONIC_FRAUDS
            method = CalibrationMethod.ISOTONIC if enough else CalibrationMethod.SIGMOID
        slope, intercept = _logistic(x, target)
        if method is CalibrationMethod.ISOTONIC:
            knots, values = self._isotonic(x, target)
            lowest, highest = values[0], values[-1]
            knots = np.concatenate([[-_GUARD], knots, [_GUARD]])
            values = np.concatenate([[lowest], values, [highest]])
            values = (1 - _SIGMOID_SHARE) * values + _SIGMOID_SHARE * expit(
                slope * knots + intercept
            )
        else:
            inner = np.linspace(x.min(), x.max(), _SIGMOID_KNOTS)
            knots = np.unique(np.concatenate([[-_GUARD], inner, [_GUARD]]))
            values = expit(slope * knots + intercept)
        keep = np.concatenate([[True], np.diff(values) > 0])  # a float that did not rise
        self.method_ = method.value
        self.x_: Floats = knots[keep]
        self.y_: Floats = values[keep]
        return self

    @staticmethod
    def _isotonic(x: Floats, y: npt.NDArray[np.int64]) -> tuple[Floats, Floats]:
        """Each isotonic step's mean margin and fraud rate, both strictly increasing."""
        margins, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
        rate = np.bincount(inverse, weights=y) / counts
        fitted = isotonic_regression(rate, sample_weight=counts)
        step = np.concatenate([[0], np.cumsum(np.diff(fitted) != 0)])
        weight = np.bincount(step, weights=counts)
        centre = np.bincount(step, weights=counts * margins) / weight
        value = np.bincount(step, weights=counts * fitted) / weight
        return centre, value

    def predict(self, margin: npt.ArrayLike) -> Floats:
        return np.interp(np.asarray(margin, dtype=np.float64), self.x_, self.y_)


class RankCalibratedClassifier(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """A fitted binary classifier whose margins :class:`MarginCalibrator` maps to probabilities.

    ``estimator`` is already fitted (on the training window); ``fit`` only calibrates it on
    the data it is given (the calibration window). Learned: ``calibrator_``, ``classes_``.
    """

    def __init__(self, estimator: Any, method: str = CalibrationMethod.AUTO) -> None:
        self.estimator = estimator
        self.method = method

    def fit(self, X: Any, y: npt.ArrayLike) -> RankCalibratedClassifier:
        self.calibrator_ = MarginCalibrator(self.method).fit(self.decision_function(X), y)
        self.classes_ = np.array([0, 1])
        return self

    def decision_function(self, X: Any) -> Floats:
        return np.asarray(self.estimator.decision_function(X), dtype=np.float64).ravel()

    def predict_proba(self, X: Any) -> Floats:
        p = self.calibrator_.predict(self.decision_function(X))
        return np.column_stack([1.0 - p, p])

    def predict(self, X: Any) -> npt.NDArray[np.int64]:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(np.int64)
