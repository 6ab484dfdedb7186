"""What a label says and where it came from."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["LabelSource", "LabelValue", "OutcomeConflicts"]


class LabelValue(StrEnum):
    """What the label policy makes of an outcome kind."""

    FRAUD = "fraud"
    GENUINE = "genuine"
    #: Says nothing either way (a refund alone): no label, and it does not stop maturity.
    NONE = "none"


class LabelSource(StrEnum):
    """Which fact a label rests on."""

    #: A reviewer's disposition (``confirmed_fraud`` or ``false_positive``).
    DISPOSITION = "disposition"
    #: An outcome reported after the decision (its kind is the label's ``detail``).
    OUTCOME = "outcome"
    #: An order that reached its maturity window with nothing said against it.
    MATURITY = "maturity"
    #: A reviewer reopened the case whose disposition was the label, and nothing else
    #: labels the order: the label is withdrawn (only in the revision history).
    RETRACTED = "retracted"


class OutcomeConflicts(StrEnum):
    """How outcomes that disagree about one order are settled."""

    #: The latest reported wins (a chargeback reversed by a later ``confirmed_genuine``).
    LATEST = "latest"
    #: Any outcome that says fraud wins over those that say genuine.
    FRAUD_WINS = "fraud_wins"
