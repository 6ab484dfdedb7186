"""Training, evaluation, thresholds, the model registry and fast single-event inference.

Typical use from a notebook::

    from fraudguard.models import ModelRegistry, TrainConfig, train
    result = train(history, TrainConfig(seed=7))  # on the configured reference files
    print(format_report(result.metrics))
    manifest = ModelRegistry(Path("var/models")).register(result)

Reviewers' dispositions join the history first: ``merge_labels(history, labels).frame``.
"""

from fraudguard.models.bootstrap import ensure_promoted_model
from fraudguard.models.enums import ArtifactFormat
from fraudguard.models.evaluation import (
    choose_thresholds,
    evaluate_scores,
    expected_cost,
    pr_curve,
    reliability_table,
    slice_metrics,
)
from fraudguard.models.explain import Contribution, TreeExplainer
from fraudguard.models.labels import REVIEW_LABEL_COLUMNS, MergedLabels, merge_labels
from fraudguard.models.pipeline import EventFeatures, model_inputs
from fraudguard.models.reference_check import ReferenceMismatch, reference_mismatch
from fraudguard.models.registry import TRUSTED_TYPES, LoadedModel, ModelRegistry
from fraudguard.models.runtime import FastModel
from fraudguard.models.schemas import Costs, ModelManifest, Thresholds, TrainConfig
from fraudguard.models.training import TrainingResult, data_fingerprint, format_report, train

__all__ = [
    "REVIEW_LABEL_COLUMNS",
    "TRUSTED_TYPES",
    "ArtifactFormat",
    "Contribution",
    "Costs",
    "EventFeatures",
    "FastModel",
    "LoadedModel",
    "MergedLabels",
    "ModelManifest",
    "ModelRegistry",
    "ReferenceMismatch",
    "Thresholds",
    "TrainConfig",
    "TrainingResult",
    "TreeExplainer",
    "choose_thresholds",
    "data_fingerprint",
    "ensure_promoted_model",
    "evaluate_scores",
    "expected_cost",
    "format_report",
    "merge_labels",
    "model_inputs",
    "pr_curve",
    "reference_mismatch",
    "reliability_table",
    "slice_metrics",
    "train",
]
