"""Single-event inference without pandas: the fitted trees imported into treelite, the
encoder's category maps as dicts, and the calibrator as ``numpy.interp`` over its knots.

sklearn's ``predict_proba`` on a one-row DataFrame costs milliseconds, mostly input
validation and pandas. Here one row is a list of floats; its trees run compiled to native
code (:mod:`fraudguard.models.native`, ~25 us here for 150 trees) when the registry has a
verified library for this machine, else on treelite's GTIL on one thread (~130 us).
Batches always use GTIL on every core. All paths agree with the pipeline to 1e-6 (tested).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import treelite
import treelite.sklearn
from sklearn.calibration import CalibratedClassifierCV
from sklearn.pipeline import Pipeline
from treelite import gtil

from fraudguard.exceptions import ModelError
from fraudguard.models.calibration import RankCalibratedClassifier
from fraudguard.models.explain import Contribution, TreeExplainer
from fraudguard.models.native import MISSING, NativeTrees
from fraudguard.models.pipeline import unknown_flag_pairs

__all__ = ["FastModel"]

#: Rows from which tree inference uses every core (below it one thread is faster).
_PARALLEL_ROWS = 2048
#: treelite up to 4.4 (checked: 4.1.2-4.4.1) imports a HistGradientBoosting model only if its
#: internal column transformer has exactly two entries; scikit-learn 1.7 added a third.
_IMPORTER_READS_TWO_ENTRIES = tuple(map(int, treelite.__version__.split(".")[:2])) <= (4, 4)


def _import_trees(gbm: Any) -> treelite.Model:
    """A fitted ``HistGradientBoostingClassifier`` as a treelite model.

    treelite is pinned to the version TL2cgen's runtime is built with (pyproject.toml), so
    that TL2cgen reads the model in its own format. That version's importer predates
    scikit-learn 1.7, whose trees keep a third, empty ``("remainder", "drop", [False, ...])``
    entry in their internal column transformer: it is given a view of the model without
    that entry. The two entries it reads (the category encoder and the numeric columns) are
    the model's own, and the imported trees are tested equal to scikit-learn's.
    """
    preprocessor = getattr(gbm, "_preprocessor", None)
    if _IMPORTER_READS_TWO_ENTRIES and preprocessor is not None:
        entries = list(preprocessor.transformers_)
        if len(entries) == 3:
            name, transformer, columns = entries[2]
            if name != "remainder" or not isinstance(transformer, str) or any(columns):
                raise ModelError("the boosted trees' column transformer is not the one expected")
            gbm = copy.copy(gbm)
            gbm._preprocessor = SimpleNamespace(transformers_=entries[:2])
    trees: treelite.Model = treelite.sklearn.import_model(gbm)  # type: ignore[no-untyped-call]
    return trees


def _calibrated_parts(
    model: Any,
) -> tuple[Pipeline, npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The encoder + trees pipeline and the calibration knots of a pipeline's model step.

    Models trained since issue 25 carry a :class:`RankCalibratedClassifier`; earlier ones a
    ``CalibratedClassifierCV`` (isotonic), still served. Both calibrators are
    ``numpy.interp`` over their knots, clipped at the ends.
    """
    if isinstance(model, RankCalibratedClassifier):
        calibrator = model.calibrator_
        knots, values = calibrator.x_, calibrator.y_
        inner: Pipeline = model.estimator
    elif isinstance(model, CalibratedClassifierCV):
        [pair] = model.calibrated_classifiers_
        inner = pair.estimator.estimator  # FrozenEstimator -> Pipeline(encode, gbm)
        knots, values = pair.calibrators[0].X_thresholds_, pair.calibrators[0].y_thresholds_
    else:
        raise ModelError("the pipeline's `model` step is not a calibrated classifier")
    return inner, np.asarray(knots, dtype=np.float64), np.asarray(values, dtype=np.float64)


class FastModel:
    """A fitted pipeline's model part, compiled for one row at a time."""

    def __init__(self, pipeline: Pipeline) -> None:
        inner, self._x, self._y = _calibrated_parts(pipeline.named_steps["model"])
        encoder = inner.named_steps["encode"]
        categorical_encoder = encoder.named_transformers_["categorical"]
        self.categorical: list[str] = list(encoder.transformers_[0][2])
        self.numeric: list[str] = list(encoder.transformers_[1][2])
        self.columns = [*self.categorical, *self.numeric]
        # A missing category (None / NaN) is encoded as NaN, never as a code.
        self._codes: list[dict[Any, float]] = [
            {value: float(code) for code, value in enumerate(categories) if isinstance(value, str)}
            for categories in categorical_encoder.categories_
        ]
        gbm = inner.named_steps["gbm"]
        self._trees = _import_trees(gbm)
        self.explainer = TreeExplainer(gbm, self.columns)
        self._n_cat = len(self.categorical)
        # Flags whose id was missing reach the trees as missing (see unknown_flag_pairs).
        position = {name: i for i, name in enumerate(self.columns)}
        self._unknown_flags = [
            (position[flag], position[age]) for flag, age in unknown_flag_pairs(self.numeric)
        ]
        self.native: NativeTrees | None = None

    @property
    def trees(self) -> treelite.Model:
        """The boosted trees as a treelite model (what :func:`compile_trees` compiles)."""
        return self._trees

    def attach_native(self, native: NativeTrees) -> None:
        """Score single rows with compiled trees, once they reproduce GTIL's margins."""
        rows = self._probe_rows()
        native.self_check(rows, self.margin_many(rows))
        self.native = native

    def _probe_rows(self, n: int = 64) -> npt.NDArray[np.float64]:
        """Deterministic rows covering every category code, numbers and missing values."""
        rng = np.random.default_rng(0)
        rows = rng.normal(0.0, 50.0, size=(n, len(self.columns)))
        for i, codes in enumerate(self._codes):
            rows[:, i] = rng.integers(0, max(len(codes), 1), size=n)
        rows[rng.random(rows.shape) < 0.2] = np.nan
        rows[0] = np.nan
        return rows

    def encode_values(self, features: Mapping[str, Any]) -> list[float]:
        """One event's model inputs in column order; a missing or unseen value is
        :data:`~fraudguard.models.native.MISSING` (a NaN the compiled trees read too)."""
        values = [
            codes.get(features.get(name), MISSING)
            for name, codes in zip(self.categorical, self._codes, strict=True)
        ]
        for name in self.numeric:
            value = features.get(name)
            values.append(MISSING if value is None or value != value else float(value))
        for flag, age in self._unknown_flags:
            if values[flag] == 0.0 and values[age] != values[age]:
                values[flag] = MISSING
        return values

    def encode_one(self, features: Mapping[str, Any]) -> npt.NDArray[np.float64]:
        return np.array([self.encode_values(features)], dtype=np.float64)

    def encode_many(self, frame: pd.DataFrame) -> npt.NDArray[np.float64]:
        out = np.empty((len(frame), len(self.columns)), dtype=np.float64)
        for i, name in enumerate(self.categorical):
            out[:, i] = frame[name].map(self._codes[i]).astype(float).to_numpy()
        for j, name in enumerate(self.numeric, start=self._n_cat):
            out[:, j] = pd.to_numeric(frame[name], errors="coerce").astype(float).to_numpy()
        for flag, age in self._unknown_flags:
            out[(out[:, flag] == 0.0) & np.isnan(out[:, age]), flag] = np.nan
        return out

    def _calibrate(self, margin: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        # Both calibrators' predict is interp over their knots (see _calibrated_parts).
        return np.interp(margin, self._x, self._y)

    def margin_many(self, rows: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        # One thread for small inputs: waking an OpenMP team per call costs ~0.1 ms idle and
        # tens of ms on a busy machine, far more than the trees themselves for a few rows.
        nthread = 1 if len(rows) < _PARALLEL_ROWS else -1
        return np.asarray(
            gtil.predict(self._trees, rows, pred_margin=True, nthread=nthread)
        ).reshape(-1)

    def margin_one(self, row: npt.NDArray[np.float64]) -> float:
        if self.native is not None:
            margin = self.native.margin_one(row)
            if margin is not None:
                return margin
        return float(self.margin_many(row)[0])

    def score_one(self, features: Mapping[str, Any]) -> float:
        """Calibrated fraud probability of one event's features."""
        margin = None
        if self.native is not None:
            margin = self.native.margin_values(self.encode_values(features))
        if margin is None:  # no compiled trees, or a row they cannot read
            margin = float(self.margin_many(self.encode_one(features))[0])
        return float(np.interp(margin, self._x, self._y))

    def score_many(self, frame: pd.DataFrame) -> npt.NDArray[np.float64]:
        """Calibrated fraud probabilities of a feature frame (vectorised)."""
        return self._calibrate(self.margin_many(self.encode_many(frame)))

    def explain_one(self, features: Mapping[str, Any], k: int = 3) -> list[Contribution]:
        """The inputs that pushed this event's score up most, strongest first."""
        return self.explainer.top(self.encode_one(features)[0], dict(features), k)
