"""One scikit-learn ``Pipeline`` carries features and model, so training and serving agree.

``Pipeline([("features", EventFeatures()), ("model", <calibrated encoder + boosted trees>)])``
takes flat events (the columns of :data:`fraudguard.schema.FLAT_COLUMNS`) and returns a
calibrated fraud probability. The scoring service computes the same features online (the
feature parity tests prove they match) and hands them to ``pipeline["model"]`` or to the
compiled :class:`~fraudguard.models.runtime.FastModel`.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder

from fraudguard.exceptions import ModelError
from fraudguard.features import (
    FeatureKind,
    FeatureSpec,
    default_extractor,
    with_flat_columns,
)
from fraudguard.features.behaviour import CONTEXT_ONLY as BEHAVIOUR_CONTEXT_ONLY
from fraudguard.models.schemas import TrainConfig
from fraudguard.reference import ReferenceData, ReferencePaths, load_reference

__all__ = [
    "EXCLUDED_FEATURES",
    "RAW_INPUTS",
    "EventFeatures",
    "build_classifier",
    "feature_schema_hash",
    "mask_unknown_flags",
    "model_inputs",
    "unknown_flag_pairs",
    "without_data",
]

#: Flat event columns the model reads directly, beside the features.
RAW_INPUTS: dict[str, FeatureKind] = {
    "amount": FeatureKind.FLOAT,
    "channel": FeatureKind.CATEGORY,
    "payment_method": FeatureKind.CATEGORY,
    "network_type": FeatureKind.CATEGORY,
}
#: Features the model must not learn from: identifiers that would be memorised, not
#: generalised (a domain or a province), and context that is only shown to reviewers.
EXCLUDED_FEATURES = frozenset(
    {
        "platform_registrable_domain",
        "net_ip_province",
        "number_province",
        "promo_status",
        "list_allowlisted",
    }
    | BEHAVIOUR_CONTEXT_ONLY
)


def unknown_flag_pairs(columns: list[str]) -> list[tuple[str, str]]:
    """``(<entity>_is_new, age_<entity>_first_seen_s)`` pairs among ``columns``.

    A velocity "is new" flag is ``False`` both for an entity seen before and for an order that
    carried no id at all (rules read unknown as false); its age is NaN for a new entity *and*
    for a missing id. So "not new, no age" means the id was missing: the model gets NaN for
    the flag there, not a "seen before" it would read as a signal.
    """
    names = set(columns)
    return [
        (flag, age)
        for flag in columns
        if flag.endswith("_is_new")
        and (age := f"age_{flag.removesuffix('_is_new')}_first_seen_s") in names
    ]


def mask_unknown_flags(frame: pd.DataFrame, pairs: list[tuple[str, str]]) -> pd.DataFrame:
    """``frame`` with each flag of :func:`unknown_flag_pairs` NaN where its id was missing."""
    if not pairs:
        return frame
    frame = frame.copy()
    for flag, age in pairs:
        values = frame[flag].astype(float)
        unknown = (values == 0.0) & frame[age].isna()
        frame[flag] = values.where(~unknown)
    return frame


def model_inputs(specs: dict[str, FeatureSpec]) -> tuple[list[str], list[str]]:
    """The model's categorical and numeric input columns, in a fixed order."""
    kinds = {**{n: s.kind for n, s in specs.items() if n not in EXCLUDED_FEATURES}, **RAW_INPUTS}
    categorical = [n for n, k in kinds.items() if k is FeatureKind.CATEGORY]
    numeric = [n for n, k in kinds.items() if k is not FeatureKind.CATEGORY]
    return categorical, numeric


def feature_schema_hash(categorical: list[str], numeric: list[str]) -> str:
    """A short hash of the model's inputs, to refuse a model whose features no longer exist."""
    text = json.dumps({"categorical": categorical, "numeric": numeric})
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:16]


def without_data(frame: pd.DataFrame, columns: list[str]) -> dict[str, str]:
    """The ``columns`` of ``frame`` that carry no data: every value missing, or one value
    everywhere (missing counts as a value). Columns ``frame`` lacks, and an empty frame,
    are not judged."""
    dropped: dict[str, str] = {}
    for name in columns:
        if frame.empty or name not in frame.columns:
            continue
        values = frame[name]
        if values.isna().all():
            dropped[name] = "no value"
        elif values.nunique(dropna=False) <= 1:
            dropped[name] = "one value"
    return dropped


class EventFeatures(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Flat events in, the model's input columns out (features plus :data:`RAW_INPUTS`).

    Stateless: ``fit`` only records the output columns and the version of the reference data
    (``reference_version_``). A frame that already carries the feature columns (the scorer
    computed them for the rules) is passed through unchanged. Fitted on such a frame
    (training passes its training window), ``fit`` also leaves out the inputs that carry no
    data there (:func:`without_data`; ``dropped_features_``: name -> why).

    ``reference``: the reference files the features are computed from (``None``: the tables
    shipped with the package). Training builds it from the service's settings
    (:meth:`ReferencePaths.from_settings`), so a model learns from the tables it is served
    with; the registry records ``reference_version_`` and the service refuses a model fitted
    on other reference data.
    """

    def __init__(self, reference: ReferencePaths | None = None) -> None:
        self.reference = reference

    def _reference(self) -> ReferenceData:
        # getattr: a pipeline saved before the parameter existed used the shipped tables
        return load_reference(getattr(self, "reference", None) or ReferencePaths())

    def fit(self, X: pd.DataFrame, y: Any = None) -> EventFeatures:
        reference = self._reference()
        self.reference_version_ = reference.features_version
        categorical, numeric = model_inputs(default_extractor(reference).specs)
        # Inputs with no data in the rows fitted on would be a constant column to the trees.
        self.dropped_features_ = without_data(X, [*categorical, *numeric])
        categorical = [c for c in categorical if c not in self.dropped_features_]
        numeric = [c for c in numeric if c not in self.dropped_features_]
        self.categorical_features_ = categorical
        self.numeric_features_ = numeric
        self.feature_names_out_ = np.array([*categorical, *numeric], dtype=object)
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        wanted = list(self.feature_names_out_)
        X = with_flat_columns(X)  # an absent optional column (payment_method) is missing
        missing = [c for c in wanted if c not in X.columns]
        if missing:
            reference = self._reference()
            fitted = getattr(self, "reference_version_", reference.features_version)
            if reference.features_version != fitted:
                raise ModelError(
                    f"the model's features were fitted on reference data {fitted}, but its "
                    f"reference files now hash to {reference.features_version}: point it at "
                    "the files it was fitted on (set_params(features__reference=...)) or retrain"
                )
            features = default_extractor(reference).extract_many(X)
            X = pd.concat([X.drop(columns=features.columns, errors="ignore"), features], axis=1)
        return mask_unknown_flags(X.loc[:, wanted], unknown_flag_pairs(wanted))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray[Any, Any]:
        return np.asarray(self.feature_names_out_, dtype=object)


def _as_float(frame: pd.DataFrame) -> np.ndarray[Any, Any]:
    return frame.astype(float).to_numpy()


def build_classifier(config: TrainConfig, categorical: list[str], numeric: list[str]) -> Pipeline:
    """Ordinal-encode categories (unknown -> missing) and fit balanced boosted trees."""
    encoder = ColumnTransformer(
        [
            (
                "categorical",
                OrdinalEncoder(
                    handle_unknown="use_encoded_value",
                    unknown_value=np.nan,
                    encoded_missing_value=np.nan,
                    dtype=np.float64,
                ),
                categorical,
            ),
            ("numeric", "passthrough", numeric),
        ],
        sparse_threshold=0.0,
        verbose_feature_names_out=False,
    )
    is_categorical = np.array([True] * len(categorical) + [False] * len(numeric))
    gbm = HistGradientBoostingClassifier(
        max_iter=config.max_iter,
        learning_rate=config.learning_rate,
        max_leaf_nodes=config.max_leaf_nodes,
        min_samples_leaf=config.min_samples_leaf,
        l2_regularization=config.l2_regularization,
        categorical_features=is_categorical,
        class_weight="balanced",
        early_stopping=False,
        random_state=config.seed,
    )
    return Pipeline([("encode", encoder), ("gbm", gbm)])
