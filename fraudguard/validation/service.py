"""Run a suite over a frame or a file and turn Great Expectations' result into a report."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pydantic

from fraudguard.exceptions import DataValidationError, FieldProblem, InputError
from fraudguard.files import read_events, read_outcomes
from fraudguard.privacy import mask
from fraudguard.schema import field_problems
from fraudguard.validation.enums import SuiteName
from fraudguard.validation.schemas import FailedCheck, Thresholds, ValidationReport

if TYPE_CHECKING:
    from great_expectations.core.expectation_validation_result import (
        ExpectationValidationResult,
    )
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

__all__ = [
    "DECISION_LOG_SOURCE",
    "PERSONAL_COLUMNS",
    "RowFailures",
    "ensure_valid",
    "history_suite",
    "locate_failures",
    "validate",
    "validate_file",
]

#: ``frame.attrs["source"]`` of a training set rebuilt from the decision log
#: (:func:`fraudguard.learning.build_training_set`): :func:`history_suite` reads it.
DECISION_LOG_SOURCE = "decision_log"
#: Failing rows of a frame: ``index label -> [(column, the rule it broke)]``.
RowFailures = dict[Hashable, list[tuple[str, str]]]

#: Columns whose values are personal data: their failing examples are always masked.
PERSONAL_COLUMNS = frozenset(
    {
        "msisdn",
        "payment_payer_id",
        "payment_instrument_id",
        "payment_card_bin",
        "device_id",
        "network_ip",
        "network_ssid",
        # Free text of outcome files: refused when it holds personal data, masked if shown.
        "reference",
        "note",
    }
)
#: Identifier columns read as text, so ``0123`` keeps its zero and a number is not a float.
#: Checks over a whole column whose observed value is a share, shown as a percentage.
_SHARE_CHECKS = frozenset(
    {
        "expect_column_mean_to_be_between",
        "expect_column_proportion_of_non_null_values_to_be_between",
    }
)
_LONGEST_EXAMPLE = 60


def history_suite(frame: pd.DataFrame) -> SuiteName:
    """The suite labelled history is checked with: ``log_history`` for a set rebuilt from
    the decision log (marked ``frame.attrs["source"] = "decision_log"``; pandas keeps the
    mark through row filters, ``drop``, ``assign`` and Parquet, not through a ``merge``
    or ``join``), else ``raw_history``.

    >>> import pandas as pd
    >>> frame = pd.DataFrame({"amount": [100.0]})
    >>> str(history_suite(frame))
    'raw_history'
    >>> frame.attrs["source"] = DECISION_LOG_SOURCE
    >>> str(history_suite(frame[frame["amount"] > 0]))
    'log_history'
    """
    if frame.attrs.get("source") == DECISION_LOG_SOURCE:
        return SuiteName.LOG_HISTORY
    return SuiteName.RAW_HISTORY


def validate(
    frame: pd.DataFrame, suite: SuiteName | str = SuiteName.RAW_HISTORY, **thresholds: Any
) -> ValidationReport:
    """Check ``frame`` against ``suite``; ``thresholds`` are :class:`Thresholds` fields.

    Raises :class:`InputError` for an unknown suite or threshold, never for bad data: bad
    data is what the report describes.
    """
    report, _ = _run(frame, suite, thresholds, locate=False)
    return report


def locate_failures(
    frame: pd.DataFrame, suite: SuiteName | str = SuiteName.OUTCOMES, **thresholds: Any
) -> tuple[ValidationReport, RowFailures]:
    """Like :func:`validate`, and also which rows failed which check: ``{index label:
    [(column, rule)]}`` (the rule is the check's description, never the value).

    >>> import pandas as pd
    >>> frame = pd.DataFrame({"transaction_id": ["t1", "t 2"], "kind": ["refund", "refnd"],
    ...     "reported_at": ["2026-12-01T00:00:00+08:00"] * 2}, index=[2, 3])
    >>> report, rows = locate_failures(frame, SuiteName.OUTCOMES)
    >>> report.success, list(rows), [column for column, _ in rows[3]]
    (False, [3], ['transaction_id', 'kind'])
    >>> rows[3][0][1]
    'transaction_id must be 1-128 of A-Z a-z 0-9 . _ : -'
    """
    return _run(frame, suite, thresholds, locate=True)


def _run(
    frame: pd.DataFrame, suite: SuiteName | str, thresholds: Mapping[str, Any], *, locate: bool
) -> tuple[ValidationReport, RowFailures]:
    name = _suite_name(suite)
    try:
        limits = Thresholds.model_validate(thresholds)
    except pydantic.ValidationError as exc:
        raise InputError("invalid validation thresholds", field_problems(exc)) from None

    from fraudguard.validation import _gx
    from fraudguard.validation.suites import build_suite

    expectation_suite = build_suite(name, frame.columns, limits)
    # Positions, not labels: GE answers a named index's labels as dicts with the row's values.
    checked = frame.reset_index(drop=True) if locate else frame
    result = _gx.run(checked, expectation_suite, limits.examples, locate=locate)
    # GE attaches its configuration to every result of a suite run.
    failed = [
        (r.expectation_config, r) for r in result.results if r.expectation_config and not r.success
    ]
    failed.sort(key=lambda pair: (pair[0].meta or {}).get("order", 0))
    rows: RowFailures = {}
    if locate:
        labels = frame.index.tolist()  # plain Python values, not numpy scalars
        for config, r in failed:
            column = str(config.kwargs.get("column", "table"))
            for position in (r.result or {}).get("unexpected_index_list") or []:
                label = labels[int(position)]
                rows.setdefault(label, []).append((column, config.description or config.type))
    report = ValidationReport(
        suite=name,
        success=bool(result.success),
        rows=len(frame),
        checks=len(result.results),
        failures=[_failure(config, r, limits.examples) for config, r in failed],
    )
    return report, rows


def validate_file(
    path: str | Path, suite: SuiteName | str = SuiteName.RAW_HISTORY, **thresholds: Any
) -> ValidationReport:
    """Read a CSV or Parquet file (identifiers such as ``msisdn`` as text) and validate it."""
    name = _suite_name(suite)
    read = read_outcomes if name is SuiteName.OUTCOMES else read_events
    return validate(read(Path(path)), name, **thresholds)


def ensure_valid(
    frame: pd.DataFrame, suite: SuiteName | str = SuiteName.RAW_HISTORY, **thresholds: Any
) -> ValidationReport:
    """Like :func:`validate`, but raise :class:`DataValidationError` (carrying the report)
    when a check fails, so training can refuse bad data in one line."""
    report = validate(frame, suite, **thresholds)
    if not report.success:
        problems = [
            FieldProblem(location=f.column or "table", message=f.message, kind=f.expectation)
            for f in report.failures
        ]
        message = f"the data failed {len(report.failures)} of {report.checks} {report.suite} checks"
        raise DataValidationError(message, problems, report=report)
    return report


def _suite_name(suite: SuiteName | str) -> SuiteName:
    try:
        return SuiteName(suite)
    except ValueError:
        choices = ", ".join(SuiteName)
        raise InputError(
            "unknown validation suite", [FieldProblem("suite", f"must be one of {choices}")]
        ) from None


def _failure(
    config: ExpectationConfiguration, result: ExpectationValidationResult, examples: int
) -> FailedCheck:
    kwargs: Mapping[str, Any] = config.kwargs
    columns = [kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs]
    outcome: Mapping[str, Any] = result.result or {}
    failing = outcome.get("unexpected_count")
    total = outcome.get("element_count") or 0
    share = None if failing is None else (failing / total if total else 0.0)
    found = _finding(config.type, result, outcome, failing, total, share)
    return FailedCheck(
        expectation=config.type,
        column=", ".join(columns) or None,
        failing_rows=failing,
        failing_share=share,
        examples=_examples(outcome.get("partial_unexpected_list") or [], columns, examples),
        message=f"{config.description or config.type}: {found}",
    )


def _finding(
    kind: str,
    result: ExpectationValidationResult,
    outcome: Mapping[str, Any],
    failing: int | None,
    total: int,
    share: float | None,
) -> str:
    if _raised(result.exception_info or {}):
        # GE's message may quote a value (a phone number), so it is not repeated here.
        return "could not be checked on these values (see the kind checks)"
    if kind == "expect_column_to_exist":
        return "the column is missing"
    if failing is not None and share is not None:
        return f"{failing:,} of {total:,} rows ({share:.2%}) fail"
    observed = outcome.get("observed_value")
    if observed is None:
        return "no value to check"
    if kind in _SHARE_CHECKS:
        return f"observed {float(observed):.2%}"
    return f"observed {observed:,}" if isinstance(observed, int) else f"observed {observed}"


def _raised(info: Mapping[str, Any]) -> bool:
    # Flat for the expectation itself, keyed by metric when a metric it needs failed.
    nested = (value for value in info.values() if isinstance(value, Mapping))
    return bool(info.get("raised_exception")) or any(v.get("raised_exception") for v in nested)


def _examples(values: Iterable[Any], columns: list[str], limit: int) -> list[str]:
    shown: list[str] = []
    for value in values:
        if len(shown) >= limit:
            break
        parts = value if isinstance(value, tuple) else (value,)
        text = ", ".join(
            _show(part, columns[i] if i < len(columns) else "") for i, part in enumerate(parts)
        )
        text = f"({text})" if isinstance(value, tuple) else text
        if value is not None and text not in shown:
            shown.append(text)
    return shown


def _show(value: Any, column: str) -> str:
    # GE hands tz-aware column pairs over as numpy datetimes: UTC with the zone dropped.
    text = f"{pd.Timestamp(value)} UTC" if isinstance(value, np.datetime64) else str(value)
    if column in PERSONAL_COLUMNS:
        return mask(text)
    return text if len(text) <= _LONGEST_EXAMPLE else text[: _LONGEST_EXAMPLE - 3] + "..."
