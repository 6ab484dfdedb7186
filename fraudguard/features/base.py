"""The feature contract: each feature is defined once and serves one event and a DataFrame.

A :class:`FeatureGroup` computes a few related features from a few flat input columns
(see :data:`fraudguard.schema.FLAT_COLUMNS`). Its scalar :meth:`~FeatureGroup.transform_one`
is the definition. The batch :meth:`~FeatureGroup.transform_many` reuses it per *distinct*
combination of inputs, which is fast because platform, network and promotion inputs repeat
heavily; groups whose inputs are all numeric override it with numpy and must agree with
``transform_one`` exactly (the parity tests run over every registered group).

Conventions, so rules and models see the same values:

* ``bool`` features are never missing: unknown is ``False``.
* ``float`` / ``int`` features use ``NaN`` for unknown (the model handles NaN natively, and
  a rule comparison with NaN is false).
* ``category`` features are strings; unknown is ``"unknown"``.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, ClassVar, Generic, TypeVar

import numpy as np
import pandas as pd
from typing_extensions import TypeIs

from fraudguard.reference import ReferenceData
from fraudguard.schema import FLAT_COLUMNS, ReasonFamily

__all__ = [
    "FeatureGroup",
    "FeatureKind",
    "FeatureSpec",
    "PerReference",
    "Row",
    "epoch_ns",
    "is_missing",
    "map_distinct",
    "with_flat_columns",
]

Row = Mapping[str, Any]
T = TypeVar("T")


class FeatureKind(StrEnum):
    BOOL = "bool"
    FLOAT = "float"
    INT = "int"
    CATEGORY = "category"


@dataclass(frozen=True, slots=True)
class FeatureSpec:
    """What a feature is called, its type, the risk family it speaks to, and what it means."""

    name: str
    kind: FeatureKind
    family: ReasonFamily | None
    description: str
    description_zh: str = ""

    @property
    def missing(self) -> Any:
        """The value this feature takes when its inputs are unknown."""
        if self.kind is FeatureKind.BOOL:
            return False
        if self.kind is FeatureKind.CATEGORY:
            return "unknown"
        return math.nan


def is_missing(value: Any) -> TypeIs[None]:
    """True for ``None``, ``NaN`` and pandas' missing markers (what a flat row may carry)."""
    if value is None:
        return True
    kind = type(value)
    if kind is str or kind is bool or kind is int or kind is datetime:
        return False  # the online path's common cases, without pandas' generic check
    if isinstance(value, float):
        return math.isnan(value)
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def epoch_ns(value: Any) -> int | None:
    """Nanoseconds since 1970 of a tz-aware time (datetime, Timestamp or ISO text);
    ``None`` for a missing, unparsable or naive time. Cheap for datetimes (the online path).

    >>> from datetime import timezone
    >>> epoch_ns(datetime(1970, 1, 1, 8, tzinfo=timezone(timedelta(hours=8))))
    0
    """
    if isinstance(value, pd.Timestamp):
        return None if value.tzinfo is None or value is pd.NaT else int(value.value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return None
        return (value - _EPOCH) // _MICROSECOND * 1000
    if isinstance(value, str):
        try:
            return epoch_ns(pd.Timestamp(value))
        except ValueError:
            return None
    return None


def with_flat_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every flat event column: an absent one is all missing, as a missing
    optional field is "unknown" in the wire contract; an absent ``paid_amount`` is the face
    value, its contract default. ``frame`` itself when it has them all.

    >>> filled = with_flat_columns(pd.DataFrame({"amount": [50.0]}))
    >>> filled["paid_amount"].tolist(), filled["network_ip"].isna().tolist()
    ([50.0], [True])
    """
    absent = [column for column in FLAT_COLUMNS if column not in frame.columns]
    if not absent:
        return frame
    filled = {column: pd.Series(None, index=frame.index, dtype=object) for column in absent}
    if "paid_amount" in filled and "amount" in frame.columns:
        filled["paid_amount"] = frame["amount"]
    return frame.assign(**filled)


class FeatureGroup(ABC):
    """Features computed together from the same inputs. Stateless after ``__init__``."""

    #: The features this group produces, in output order.
    specs: ClassVar[tuple[FeatureSpec, ...]]
    #: The flat input columns :meth:`transform_one` reads.
    inputs: ClassVar[tuple[str, ...]]

    def __init__(self, reference: ReferenceData) -> None:
        self.reference = reference

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(spec.name for spec in cls.specs)

    @abstractmethod
    def transform_one(self, row: Row) -> dict[str, Any]:
        """Features of one flat event row (missing inputs may be ``None`` or ``NaN``)."""

    def transform_many(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Features of every row, computing :meth:`transform_one` once per distinct input."""
        inputs = self.inputs

        def one(*values: Any) -> dict[str, Any]:
            return self.transform_one(dict(zip(inputs, values, strict=True)))

        return map_distinct(frame.loc[:, list(inputs)], one, self.specs)


class PerReference(Generic[T]):
    """``build(reference)`` made once per reference data object and shared by every group
    built on it (building one precomputes tables, e.g. every official skeleton).

    Reference data is swapped on reload, not accumulated: a few are kept at most.
    """

    _KEPT = 4

    def __init__(self, build: Callable[[ReferenceData], T]) -> None:
        self._build = build
        # By id, with the object itself: an id may be reused once a reference is collected.
        self._built: dict[int, tuple[ReferenceData, T]] = {}

    def __call__(self, reference: ReferenceData) -> T:
        found = self._built.get(id(reference))
        if found is None or found[0] is not reference:
            if len(self._built) >= self._KEPT:
                self._built.clear()
            found = self._built[id(reference)] = (reference, self._build(reference))
        return found[1]


def map_distinct(
    keys: pd.DataFrame, compute: Callable[..., dict[str, Any]], specs: tuple[FeatureSpec, ...]
) -> pd.DataFrame:
    """Apply a scalar ``compute(*key)`` once per distinct row of ``keys`` and spread the result.

    Missing key values reach ``compute`` as ``NaN``; use :func:`is_missing` on them.
    """
    if keys.empty:
        return pd.DataFrame(
            {s.name: np.array([], dtype=_DTYPES[s.kind]) for s in specs}, index=keys.index
        )
    codes, first = _distinct_rows(keys)
    uniques = keys.iloc[first].astype(object).to_numpy(copy=True)
    uniques[pd.isna(uniques)] = math.nan
    computed = [compute(*values) for values in uniques]
    columns = {}
    for spec in specs:
        values = np.array([c[spec.name] for c in computed], dtype=_DTYPES[spec.kind])
        columns[spec.name] = values[codes]
    return pd.DataFrame(columns, index=keys.index)


def _distinct_rows(keys: pd.DataFrame) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Each row's distinct-row code (in order of first appearance) and each code's first
    row: one integer key per row, folded in column by column (missing values equal), so no
    tuple of values is made per row."""
    combined = np.zeros(len(keys), dtype=np.int64)
    for column in range(keys.shape[1]):
        codes, uniques = pd.factorize(keys.iloc[:, column])
        combined, _ = pd.factorize(combined * (len(uniques) + 1) + (codes + 1))
    first: np.ndarray[Any, Any] = np.unique(combined, return_index=True)[1]
    return combined, first


_DTYPES: dict[FeatureKind, Any] = {
    FeatureKind.BOOL: bool,
    FeatureKind.FLOAT: float,
    FeatureKind.INT: float,  # NaN for unknown forces float storage
    FeatureKind.CATEGORY: object,
}
