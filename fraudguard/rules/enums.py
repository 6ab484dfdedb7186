"""What a rule does when it fires, and whether its firing counts."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["RuleAction", "RuleMode"]


class RuleAction(StrEnum):
    """The effect of a rule that fires, strongest first.

    ``block``, ``review`` and ``tag`` compete: the strongest among the active hits is the
    rule set's verdict. ``score`` rules never decide; their ``score_delta`` values are summed
    and handed to scoring, which blends them with the model.

    >>> max([RuleAction.TAG, RuleAction.BLOCK, RuleAction.REVIEW], key=lambda a: a.rank)
    <RuleAction.BLOCK: 'block'>
    """

    BLOCK = "block"
    REVIEW = "review"
    TAG = "tag"
    SCORE = "score"

    @property
    def rank(self) -> int:
        """Strength of the action: block 3 > review 2 > tag 1 > score 0."""
        return _RANKS[self]


_RANKS = {RuleAction.BLOCK: 3, RuleAction.REVIEW: 2, RuleAction.TAG: 1, RuleAction.SCORE: 0}


class RuleMode(StrEnum):
    """``active`` rules decide; ``shadow`` rules are evaluated and recorded, never obeyed.

    Shadow mode is how a new rule earns trust: it runs on live traffic, its hits are logged
    and backtested next to the active set, and it is promoted by changing one word.
    """

    ACTIVE = "active"
    SHADOW = "shadow"
