"""What scoring hands back: the decision plus what it was based on (kept for case records)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fraudguard.rules import RuleEvaluation
from fraudguard.schema import Decision, Severity

__all__ = ["RULES_ONLY_SCORES", "ScoredEvent"]

#: Score of a rules-only decision (no model loadable, ``fail_open``): the top severity among
#: the active rules that fired, plus the score rules' deltas, clipped to [0, 1]. No hit: 0.02.
RULES_ONLY_SCORES: dict[Severity | None, float] = {
    Severity.CRITICAL: 0.95,
    Severity.HIGH: 0.8,
    Severity.MEDIUM: 0.5,
    Severity.LOW: 0.2,
    None: 0.02,
}


@dataclass(frozen=True, slots=True)
class ScoredEvent:
    """One scored order: the wire decision, its features and the rule evaluation."""

    decision: Decision
    features: dict[str, Any]
    rules: RuleEvaluation
    #: Calibrated model probability before rule deltas; ``None`` without a model.
    model_score: float | None
    allowlisted: bool
