"""The decision log and review cases: every scored order is stored once, flagged ones open a
case for an analyst. See :class:`DecisionLog`."""

from fraudguard.cases.enums import CaseStatus
from fraudguard.cases.models import CaseRow, DecisionRow, metadata
from fraudguard.cases.service import (
    Decide,
    DecisionLog,
    DecisionWriter,
    Recorded,
    case_label,
    create_db_engine,
)

__all__ = [
    "CaseRow",
    "CaseStatus",
    "Decide",
    "DecisionLog",
    "DecisionRow",
    "DecisionWriter",
    "Recorded",
    "case_label",
    "create_db_engine",
    "metadata",
]
