"""Data validation with Great Expectations: training data, feature frames, bulk inputs.

Five suites (:class:`SuiteName`, defined as code in :mod:`fraudguard.validation.suites`)
check labelled history (a file, or a set rebuilt from the decision log: training picks
with :func:`history_suite`), the feature frame the model is fed, bulk scoring input and
outcome files. Each run gives a :class:`ValidationReport` that names every failed check
with its failing row count, share and a few examples, personal values masked. Training
calls :func:`ensure_valid`; the outcome importer calls :func:`locate_failures`, which also
names the failing rows.

Great Expectations is imported on the first validation, not with this package: it takes
seconds to import and the scoring path must never load it. It runs in an in-memory context
with analytics off and makes no network call.

>>> import pandas as pd
>>> frame = pd.DataFrame({"transaction_id": ["t1", "t2"],
...     "event_time": ["2026-11-24T09:30:00+08:00"] * 2, "msisdn": ["13812345678", "12345678901"],
...     "amount": [100.0, 50.0], "channel": ["operator_app", "operator_web"]})
>>> report = validate(frame, SuiteName.BATCH_INPUT)
>>> report.success, [(f.column, f.failing_rows, f.examples) for f in report.failures]
(False, [('msisdn', 1, ['****8901'])])
"""

from __future__ import annotations

from fraudguard.validation.enums import SuiteName
from fraudguard.validation.schemas import FailedCheck, Thresholds, ValidationReport
from fraudguard.validation.service import (
    DECISION_LOG_SOURCE,
    RowFailures,
    ensure_valid,
    history_suite,
    locate_failures,
    validate,
    validate_file,
)

__all__ = [
    "DECISION_LOG_SOURCE",
    "FailedCheck",
    "RowFailures",
    "SuiteName",
    "Thresholds",
    "ValidationReport",
    "ensure_valid",
    "history_suite",
    "locate_failures",
    "validate",
    "validate_file",
]
