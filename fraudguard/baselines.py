"""What a candidate model is compared with: the rules alone and the promoted model, scored
on the same events. Lives above ``rules`` and ``models`` because it needs both."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from fraudguard.config import Settings
from fraudguard.exceptions import FraudGuardError
from fraudguard.features import default_extractor
from fraudguard.models import ModelRegistry
from fraudguard.reference import ReferencePaths, load_reference
from fraudguard.rules import DEFAULT_PACK_DIR, RuleAction, load_rules

__all__ = ["RULE_ACTION_SCORES", "baseline_scores", "rules_only_scores"]

#: The score a rules-only decision stands for, so rules and models share one scale.
RULE_ACTION_SCORES = {RuleAction.BLOCK: 1.0, RuleAction.REVIEW: 0.75, RuleAction.TAG: 0.1}


def rules_only_scores(
    frame: pd.DataFrame, settings: Settings, features: pd.DataFrame | None = None
) -> npt.NDArray[np.float64]:
    """One score per row from the rule pack alone: its strongest action plus score deltas."""
    reference = load_reference(ReferencePaths.from_settings(settings))
    extractor = default_extractor(reference)
    kinds = {name: spec.kind for name, spec in extractor.specs.items()}
    rules = load_rules(
        settings.rules_path or DEFAULT_PACK_DIR, features=kinds, lists=reference.lists
    )
    # A file may carry feature columns of its own (an earlier export): the ones computed
    # here replace them, so no column appears twice.
    events = frame.drop(columns=list(extractor.specs), errors="ignore")
    # Feedback rules count the file's own fraud labels from when each was known, as
    # training does: without them a rules baseline could never fire them.
    features = extractor.extract_labelled(events) if features is None else features
    events = events.drop(columns=features.columns, errors="ignore")
    evaluation = rules.evaluate_frame(pd.concat([events, features], axis=1))
    base = np.array(
        [
            0.0 if a is None else RULE_ACTION_SCORES.get(RuleAction(a), 0.0)
            for a in evaluation.actions
        ]
    )
    return np.clip(base + evaluation.score_delta.to_numpy(dtype=float), 0.0, 1.0)


def baseline_scores(
    frame: pd.DataFrame, registry: ModelRegistry, settings: Settings
) -> dict[str, npt.NDArray[np.float64]]:
    """Scores of the rules and (if any) the promoted model for every row, in row order."""
    scores = {"rules": rules_only_scores(frame, settings)}
    try:
        promoted = registry.load_promoted()
        if promoted is not None:
            # its own reference files: refused (ModelError) when they changed since its fit
            scores["promoted"] = promoted.pipeline.predict_proba(frame)[:, 1]
    except FraudGuardError:
        pass  # a refused artifact cannot be a baseline; training goes on
    return scores
