"""The batch compiler: the same conditions as numpy operations over a frame.

:meth:`fraudguard.rules.ruleset.RuleSet.evaluate_frame` goes one step further than the
per-event closures on a DataFrame: supported conditions are evaluated as numpy array
operations, and the rest row by row with the same closures as online.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd
from rule_engine import DataType
from rule_engine import ast as re_ast

from fraudguard.exceptions import DataFileError
from fraudguard.rules.symbols import (
    Symbols,
    UnsupportedError,
    collection,
    describe_type,
    exact_float,
    float_members,
    known_families,
    python_value,
)

__all__ = ["BatchCompiler", "BoolArray", "Frame", "column_values", "map_values", "truthy"]

BoolArray = npt.NDArray[np.bool_]

_FLOAT, _BOOLEAN = DataType.FLOAT, DataType.BOOLEAN


@dataclass(frozen=True, slots=True)
class Frame:
    columns: Mapping[str, np.ndarray[Any, Any]]
    length: int


_BatchFn = Callable[[Frame], Any]


def truthy(value: Any, length: int) -> BoolArray:
    """Python truthiness of every element (a scalar is broadcast)."""
    if not isinstance(value, np.ndarray):
        return np.full(length, bool(value))
    if value.dtype == np.bool_:
        return value
    if value.dtype.kind == "f":
        return np.not_equal(value, 0.0)  # NaN is truthy, as bool(nan) is
    return np.fromiter(map(bool, value), dtype=bool, count=length)


def map_values(values: Any, test: Callable[[Any], bool], length: int) -> BoolArray:
    """``test`` of every element, computed once per distinct value (inputs repeat a lot)."""
    if not isinstance(values, np.ndarray):
        return np.full(length, bool(test(values)))
    codes, uniques = pd.factorize(values)
    out = np.zeros(length, dtype=bool)
    if len(uniques):
        out = np.fromiter((test(u) for u in uniques), dtype=bool, count=len(uniques))[codes]
    for i in np.flatnonzero(codes < 0):  # None and NaN: test the value itself
        out[i] = test(values[i])
    return out


class BatchCompiler:
    """Vectorised twins of the online closures, for the nodes where numpy agrees exactly."""

    def __init__(self, symbols: Symbols) -> None:
        self.symbols = symbols

    def compile(self, node: Any) -> _BatchFn:
        handler = self._handlers.get(type(node))
        if handler is None:
            raise UnsupportedError(type(node).__name__)
        return handler(self, node)

    def literal(self, node: Any) -> _BatchFn:
        value = node.value
        if isinstance(node, re_ast.FloatExpression):
            value = exact_float(value)
            if value is None:
                raise UnsupportedError("literal only Decimal represents")
        return lambda _f: value

    def symbol(self, node: Any) -> _BatchFn:
        if node.scope is not None or node.name in self.symbols.constants:
            raise UnsupportedError("built-in or list symbol outside `in`")
        name = node.name
        return lambda f: f.columns[name]

    def logic(self, node: Any) -> _BatchFn:
        left, right = self.compile(node.left), self.compile(node.right)
        combine = np.logical_and if node.type == "and" else np.logical_or
        return lambda f: combine(truthy(left(f), f.length), truthy(right(f), f.length))

    def negation(self, node: Any) -> _BatchFn:
        if node.type != "not":
            raise UnsupportedError("unary minus")
        operand = self.compile(node.right)
        return lambda f: ~truthy(operand(f), f.length)

    def coalesce(self, node: Any) -> _BatchFn:
        left, right = self.compile(node.left), self.compile(node.right)
        dtype = {_FLOAT: float, _BOOLEAN: bool}.get(node.result_type, object)

        def run(f: Frame) -> Any:
            first = left(f)
            if not isinstance(first, np.ndarray) or first.dtype != object:
                return first if first is not None else right(f)
            missing = np.fromiter((v is None for v in first), dtype=bool, count=len(first))
            if not missing.any():
                return first.astype(dtype)
            second = right(f)
            out = first.copy()
            out[missing] = second[missing] if isinstance(second, np.ndarray) else second
            return out.astype(dtype)

        return run

    def comparison(self, node: Any) -> _BatchFn:
        families = known_families(node.left, node.right)
        if not families <= {"FLOAT", "STRING", "BOOLEAN", None}:
            raise UnsupportedError("comparison of compound or time values")
        ufunc = {
            "eq": np.equal,
            "ne": np.not_equal,
            "lt": np.less,
            "le": np.less_equal,
            "gt": np.greater,
            "ge": np.greater_equal,
        }[node.type]
        left, right = self.compile(node.left), self.compile(node.right)
        return lambda f: np.asarray(ufunc(left(f), right(f)), dtype=bool)

    def regex(self, node: Any) -> _BatchFn:
        if not isinstance(node.right, re_ast.StringExpression):
            raise UnsupportedError("regular expression computed per row")
        pattern = re.compile(node.right.value, flags=node.context.regex_flags)
        find = pattern.match if node.type.endswith("fzm") else pattern.search
        text = self.compile(node.left)
        if node.type.startswith("eq"):
            return lambda f: map_values(
                text(f), lambda v: v is not None and find(v) is not None, f.length
            )
        return lambda f: map_values(text(f), lambda v: v is None or find(v) is None, f.length)

    def contains(self, node: Any) -> _BatchFn:
        values = collection(node.container, self.symbols)
        if values is None:
            raise UnsupportedError("membership in a computed collection")
        members = float_members(values)
        numbers = np.array([v for v in members if isinstance(v, float | bool)], dtype=float)
        member = self.compile(node.member)

        def run(f: Frame) -> Any:
            value = member(f)
            if isinstance(value, np.ndarray) and value.dtype.kind == "f":
                return np.isin(value, numbers)
            return map_values(value, lambda v: v in members, f.length)

        return run

    _handlers: ClassVar[dict[type, Callable[[BatchCompiler, Any], _BatchFn]]] = {
        re_ast.BooleanExpression: literal,
        re_ast.FloatExpression: literal,
        re_ast.StringExpression: literal,
        re_ast.NullExpression: literal,
        re_ast.SymbolExpression: symbol,
        re_ast.LogicExpression: logic,
        re_ast.UnaryExpression: negation,
        re_ast.CoalesceExpression: coalesce,
        re_ast.ComparisonExpression: comparison,
        re_ast.ArithmeticComparisonExpression: comparison,
        re_ast.FuzzyComparisonExpression: regex,
        re_ast.ContainsExpression: contains,
    }


#: What ``pandas.api.types.infer_dtype`` may call the present values of each type.
_INFERRED = {
    "STRING": {"string", "empty"},
    "BOOLEAN": {"boolean", "empty"},
    "FLOAT": {"floating", "integer", "mixed-integer-float", "empty"},
    "DATETIME": {"datetime", "empty"},
}


def column_values(series: pd.Series[Any], data_type: Any, missing: Any) -> np.ndarray[Any, Any]:
    """One frame column as the online path sees it: Python values, ``missing`` for gaps.

    Non-nullable numbers become a float array, non-nullable booleans a bool array, the
    rest object arrays; a column holding values of another type is a DataFileError.
    """
    name = str(series.name)
    inner = DataType.NULLABLE.unwrap(data_type)
    if inner == _FLOAT:
        try:
            series = pd.to_numeric(series)
        except (ValueError, TypeError):
            raise DataFileError(f"column {name} must hold numbers") from None
        if data_type == _FLOAT:
            return series.to_numpy(dtype=float, na_value=math.nan)
    elif inner == DataType.DATETIME and not isinstance(series.dtype, pd.DatetimeTZDtype):
        try:
            series = pd.to_datetime(series, utc=True, format="ISO8601")
        except (ValueError, TypeError):
            raise DataFileError(f"column {name} must hold ISO 8601 date-times") from None
    absent = series.isna().to_numpy(dtype=bool)
    values = series.to_numpy(dtype=object, copy=True)  # numpy scalars become Python ones
    if pd.api.types.infer_dtype(values[~absent], skipna=False) not in _INFERRED[inner.name]:
        raise DataFileError(f"column {name} must hold {describe_type(inner)} values")
    if inner == DataType.DATETIME:
        values[~absent] = [python_value(v) for v in values[~absent]]
    values[absent] = missing
    return values.astype(bool) if data_type == _BOOLEAN else values
