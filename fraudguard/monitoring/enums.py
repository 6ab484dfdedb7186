"""Fixed vocabularies of drift monitoring."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["BinningKind", "DriftLevel"]


class DriftLevel(StrEnum):
    """How far a measure has moved, weakest first.

    >>> max([DriftLevel.WARN, DriftLevel.ALERT, DriftLevel.OK], key=lambda level: level.rank)
    <DriftLevel.ALERT: 'alert'>
    """

    OK = "ok"
    WARN = "warn"
    ALERT = "alert"

    @property
    def rank(self) -> int:
        """ok 0 < warn 1 < alert 2."""
        return _RANKS[self]


_RANKS = {DriftLevel.OK: 0, DriftLevel.WARN: 1, DriftLevel.ALERT: 2}


class BinningKind(StrEnum):
    """How a column is cut into bins for the population stability index."""

    #: Quantile edges of the reference window; missing values get their own bin.
    NUMERIC = "numeric"
    #: The reference's most frequent values, the rest in ``other``; missing is its own bin.
    CATEGORICAL = "categorical"
