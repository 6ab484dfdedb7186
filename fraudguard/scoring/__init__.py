"""Scoring: features -> rules -> model -> one decision per recharge order.

Typical use::

    scorer = build_scorer(get_settings())
    scored = scorer.score_one(event)          # ScoredEvent: decision, features, rules
    scored.decision.decision, scored.decision.reasons
"""

from fraudguard.scoring.schemas import RULES_ONLY_SCORES, ScoredEvent
from fraudguard.scoring.service import MAX_FUTURE, Scorer, build_scorer
from fraudguard.scoring.shadow import ShadowRun, ShadowTally

__all__ = [
    "MAX_FUTURE",
    "RULES_ONLY_SCORES",
    "ScoredEvent",
    "Scorer",
    "ShadowRun",
    "ShadowTally",
    "build_scorer",
]
