"""Importing an operator's own payment history into the contract's flat form.

An analyst's history rarely has FraudGuard's columns: ``fraudguard import`` (or
:func:`import_history`) takes their file and a small YAML mapping (:class:`HistoryMapping`:
their column -> contract field, constants, time zone, value maps, the label and when it
became known) and writes flat labelled history that ``fraudguard validate``, ``train``,
``backtest`` and ``score`` read. Good rows are kept, bad rows named by line; the summary says
which feature groups the data can feed.
"""

from __future__ import annotations

from fraudguard.history.exceptions import HistoryFileError, MappingError
from fraudguard.history.schemas import (
    BadRow,
    GroupFeed,
    HistoryMapping,
    ImportResult,
    LabelMapping,
)
from fraudguard.history.service import (
    LABEL_COLUMNS,
    feature_groups,
    import_history,
    load_mapping,
    stand_in_msisdn,
)

__all__ = [
    "LABEL_COLUMNS",
    "BadRow",
    "GroupFeed",
    "HistoryFileError",
    "HistoryMapping",
    "ImportResult",
    "LabelMapping",
    "MappingError",
    "feature_groups",
    "import_history",
    "load_mapping",
    "stand_in_msisdn",
]
