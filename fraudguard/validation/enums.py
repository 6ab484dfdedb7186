"""Names the validation package dispatches on: the suites and the kinds of value a column holds."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["SuiteName", "ValueKind"]


class SuiteName(StrEnum):
    """Which data a suite is for; the value is what the CLI's ``--suite`` takes."""

    #: Labelled history: training data and backtests (flat event columns plus labels).
    RAW_HISTORY = "raw_history"
    #: Feature columns as the model sees them (one column per :func:`feature_specs` entry).
    FEATURE_FRAME = "feature_frame"
    #: Flat events sent for bulk scoring: like ``raw_history`` without the labels.
    BATCH_INPUT = "batch_input"
    #: Outcomes reported after decisions (``fraudguard outcomes import``): chargebacks,
    #: refunds, complaints, fraud reports, confirmations.
    OUTCOMES = "outcomes"
    #: Labelled history rebuilt from the decision log (``build_training_set``): like
    #: ``raw_history``, with identifiers as the log keeps them (keyed, no ``msisdn``).
    LOG_HISTORY = "log_history"


class ValueKind(StrEnum):
    """What every non-null value of a column must be, whatever dtype the file gave it."""

    STRING = "string"
    NUMBER = "number"
    BOOLEAN = "boolean"
    #: An instant with a UTC offset: a tz-aware datetime or an ISO 8601 text with an offset.
    TIMESTAMP = "timestamp"
