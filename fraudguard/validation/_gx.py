"""Great Expectations, loaded on first use: the one module that imports it at the top.

Only functions of this package import this module, so ``import fraudguard.validation`` (and
the scoring hot path) never pays the ~5 s import. It holds what must exist once per process:
the checks stock GE cannot express over raw files (a value's kind whatever the dtype, and
"later than" over timestamps given as text with mixed UTC offsets), and one ephemeral context.
"""

from __future__ import annotations

import os

# Set before GE is imported, which reads it when contexts are made: FraudGuard never calls home.
os.environ["GX_ANALYTICS_ENABLED"] = "False"

import threading
import warnings
from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import Any, ClassVar

import great_expectations as gx
import numpy as np
import pandas as pd
from great_expectations.core.batch_definition import BatchDefinition
from great_expectations.core.expectation_validation_result import (
    ExpectationSuiteValidationResult,
)
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.expectation import (
    ColumnMapExpectation,
    ColumnPairMapExpectation,
)
from great_expectations.expectations.metrics.map_metric_provider import (
    ColumnMapMetricProvider,
    ColumnPairMapMetricProvider,
    column_condition_partial,
    column_pair_condition_partial,
)

from fraudguard.validation.enums import ValueKind

__all__ = [
    "ExpectColumnPairValuesAToBeLaterThanB",
    "ExpectColumnValuesToBeOfKind",
    "run",
]

#: A UTC offset at the end of an ISO 8601 text: ``Z``, ``+08:00``, ``+0800`` or ``+08``.
_OFFSET = r"(?:Z|[+-]\d{2}(?::?\d{2})?)$"


def _each(values: pd.Series, test: Callable[[Any], bool]) -> pd.Series:
    return values.map(test).astype(bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | np.number) and not isinstance(value, bool | np.bool_)


def _is_aware(value: object) -> bool:
    return isinstance(value, datetime) and value.tzinfo is not None


def _kind_ok(values: pd.Series, kind: ValueKind) -> pd.Series:
    """True where a (non-null) value is of ``kind``; decided by dtype when the dtype settles it."""
    dtype = values.dtype
    is_object = pd.api.types.is_object_dtype(dtype)
    if kind is ValueKind.BOOLEAN:
        if pd.api.types.is_bool_dtype(dtype):
            return pd.Series(True, index=values.index)
        return _each(values, lambda v: isinstance(v, bool | np.bool_))
    if kind is ValueKind.NUMBER:
        if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
            return pd.Series(True, index=values.index)
        return _each(values, _is_number)
    if kind is ValueKind.STRING:
        if pd.api.types.is_string_dtype(dtype) and not is_object:
            return pd.Series(True, index=values.index)
        return _each(values, lambda v: isinstance(v, str))
    return _aware_timestamps(values)


def _aware_timestamps(values: pd.Series) -> pd.Series:
    """True for tz-aware datetimes and ISO 8601 texts that parse and carry a UTC offset."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return pd.Series(True, index=values.index)
    if pd.api.types.is_datetime64_dtype(values.dtype):
        return pd.Series(False, index=values.index)
    ok = _each(values, _is_aware)
    texts = _each(values, lambda v: isinstance(v, str))
    if texts.any():
        text = values[texts].astype(str)
        parsed = pd.to_datetime(text, utc=True, format="ISO8601", errors="coerce")
        ok[texts] = parsed.notna() & text.str.contains(_OFFSET, regex=True)
    return ok


def _utc(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, utc=True, format="ISO8601", errors="coerce")


class ColumnValuesOfKind(ColumnMapMetricProvider):
    condition_metric_name = "column_values.fraudguard_of_kind"
    condition_value_keys = ("kind",)

    # GE's decorator makes these class methods, hence `cls`.
    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column: pd.Series, kind: str, **kwargs: Any) -> pd.Series:  # noqa: N805
        return _kind_ok(column, ValueKind(kind))


class ExpectColumnValuesToBeOfKind(ColumnMapExpectation):
    """Every non-null value is a string, number, boolean or tz-aware timestamp.

    GE's own type expectations compare dtypes, which a CSV decides (and pandas 3's ``str``
    dtype defeats); this looks at the values, so the failing ones become the examples.
    """

    kind: ValueKind

    map_metric = "column_values.fraudguard_of_kind"
    success_keys: ClassVar[tuple[str, ...]] = ("kind", "mostly")
    args_keys: ClassVar[tuple[str, ...]] = ("column", "kind")


class ColumnPairValuesALaterThanB(ColumnPairMapMetricProvider):
    condition_metric_name = "column_pair_values.fraudguard_a_later_than_b"
    condition_domain_keys = (
        "batch_id",
        "table",
        "column_A",
        "column_B",
        "row_condition",
        "condition_parser",
        "ignore_row_if",
    )

    # GE passes the columns by these names.
    @column_pair_condition_partial(engine=PandasExecutionEngine)  # type: ignore[untyped-decorator]
    def _pandas(cls, column_A: pd.Series, column_B: pd.Series, **kwargs: Any) -> pd.Series:  # noqa: N805
        later, earlier = _utc(column_A), _utc(column_B)
        # A value that does not parse is the timestamp kind check's finding, not this one's.
        return (later > earlier) | later.isna() | earlier.isna()


class ExpectColumnPairValuesAToBeLaterThanB(ColumnPairMapExpectation):
    """``column_A`` is a later instant than ``column_B``, comparing in UTC.

    GE's ``A > B`` compares texts as texts, which is wrong for ISO times with different
    offsets; rows missing either value are skipped (an unlabelled row has no label time).
    """

    ignore_row_if: str = "either_value_is_missing"

    map_metric = "column_pair_values.fraudguard_a_later_than_b"
    success_keys: ClassVar[tuple[str, ...]] = ("ignore_row_if", "mostly")


@cache
def _batch_definition() -> BatchDefinition:  # type: ignore[type-arg]
    """Where frames are validated: the process's one in-memory context, made on first use."""
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    asset = context.data_sources.add_pandas("fraudguard").add_dataframe_asset("frame")
    return asset.add_batch_definition_whole_dataframe("whole frame")


# GE's context and validator keep state while they run: one validation at a time.
_LOCK = threading.Lock()


def run(
    frame: pd.DataFrame, suite: gx.ExpectationSuite, examples: int, *, locate: bool = False
) -> ExpectationSuiteValidationResult:
    """Validate ``frame`` against ``suite``, keeping ``examples`` failing values per check;
    ``locate``: also the index of every failing row (``unexpected_index_list``)."""
    result_format = {
        "result_format": "COMPLETE" if locate else "BASIC",
        "partial_unexpected_count": examples,
    }
    with _LOCK, warnings.catch_warnings():
        # GE reads tz-aware column pairs through Series.values, which pandas 3.1 deprecates;
        # harmless here (the examples come out in UTC) and not ours to fix.
        warnings.filterwarnings(
            "ignore", "Series.values returning an ndarray", category=DeprecationWarning
        )
        batch = _batch_definition().get_batch(batch_parameters={"dataframe": frame})
        return batch.validate(suite, result_format=result_format)
