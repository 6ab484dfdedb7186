"""The decision log as a frame a rule pack can be evaluated on: the orders decided in a
window, their logged decision, the columns the log keeps, and only the features the packs
read (one JSON document per order holds ~110 of them; the packs read a few dozen).

A million logged orders are ~4 GB of JSON. The features are taken out of each document by
the database (SQLite ``json_extract`` with every path at once: one parse per order;
PostgreSQL ``jsonb``), so a short array per order crosses into Python, and the arrays of a
slice are parsed as one JSON document. On SQLite the log is read in slices of rowids by two
threads (:func:`fraudguard.decisions.rowid_slices`): the database's work (the parse) runs
without the GIL, beside the other slice's Python work.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

import numpy as np
import orjson
import pandas as pd
from sqlalchemy import Engine, text

from fraudguard.db import database_errors
from fraudguard.decisions import collector_paused, rowid_slices, sqlite_time, streamed_slices
from fraudguard.features.base import FeatureKind

__all__ = ["LOGGED_COLUMNS", "LoggedOrders", "read_logged_orders"]

#: Event columns the decision log keeps beside the features (no personal data).
LOGGED_COLUMNS = ("amount", "paid_amount", "channel", "event_time")
_BASE = (
    "transaction_id, created_at, outcome, score, model_version, ruleset_version, "
    "amount, paid_amount, channel, event_time"
)


@dataclass(frozen=True)
class LoggedOrders:
    """Logged orders in log order: ``frame`` holds the logged columns and the features
    asked for; ``logged`` the decision as answered (``outcome``, ``score``,
    ``model_version``, ``ruleset_version``, ``created_at``, ``transaction_id``)."""

    frame: pd.DataFrame
    logged: pd.DataFrame
    truncated: bool


def _extracted(dialect: str, features: Sequence[str]) -> str:
    if not features:
        return "'[]'"
    if dialect == "sqlite":
        # With two paths or more json_extract answers one JSON array (and parses once).
        paths = [f"'$.\"{name}\"'" for name in features]
        if len(paths) == 1:
            paths *= 2
        return f"json_extract(features, {', '.join(paths)})"
    items = ", ".join(f"f -> '{name}'" for name in features)
    return f"jsonb_build_array({items})::text"


def _typed(values: Sequence[Any], kind: FeatureKind | None) -> Any:
    """A feature column as the rules read it (JSON null: NaN, False or None)."""
    if kind in (FeatureKind.BOOL, FeatureKind.INT, FeatureKind.FLOAT):
        numbers = np.array(values, dtype=float)  # None becomes NaN, True 1.0
        return numbers == 1.0 if kind is FeatureKind.BOOL else numbers
    return np.array(values, dtype=object)


@dataclass
class _Slice:
    """One slice of the log, column by column."""

    base: list[tuple[Any, ...]]
    arrays: list[Any]

    @classmethod
    def parse(cls, rows: Sequence[Sequence[Any]], width: int) -> _Slice:
        if not rows:
            return cls([()] * 10, [[] for _ in range(width)])
        columns = list(zip(*rows, strict=True))
        texts = columns[10]
        # One parse for the slice's arrays; an order without a features document gets nulls.
        empty = "[" + ",".join(["null"] * width) + "]" if width else "[]"
        arrays = orjson.loads("[" + ",".join(t if t is not None else empty for t in texts) + "]")
        features = list(zip(*arrays, strict=True)) if width else []
        return cls(columns[:10], [list(f) for f in features])


def _sqlite_slices(
    engine: Engine, names: Sequence[str], since: datetime, until: datetime, limit: int
) -> Iterator[_Slice]:
    """The window's rows, slice by slice in rowid order, two slices in flight."""
    statement = (
        f"SELECT {_BASE}, {_extracted('sqlite', names)} FROM decisions "  # noqa: S608
        "WHERE rowid >= ? AND rowid < ? AND created_at >= ? AND created_at < ?"
    )
    window = (sqlite_time(since), sqlite_time(until))
    return rowid_slices(
        engine, statement, window, partial(_Slice.parse, width=len(names)), limit=limit
    )


def _other_slices(
    engine: Engine, names: Sequence[str], since: datetime, until: datetime, limit: int
) -> Iterator[_Slice]:
    source = "(SELECT *, features::jsonb AS f FROM decisions) AS d" if names else "decisions"
    statement = text(
        f"SELECT {_BASE}, {_extracted(engine.dialect.name, names)} FROM {source} "  # noqa: S608
        "WHERE created_at >= :since AND created_at < :until LIMIT :limit"
    )
    parameters = {"since": since, "until": until, "limit": limit + 1}
    return streamed_slices(engine, statement, parameters, partial(_Slice.parse, width=len(names)))


def _times(values: Sequence[Any]) -> pd.Series:
    """Times as stored: SQLite's ISO text (naive UTC), PostgreSQL's aware datetimes."""
    series = pd.Series(values, dtype=object)
    if any(isinstance(v, str) for v in values[:1000]):
        return pd.to_datetime(series, utc=True, format="ISO8601")
    return pd.to_datetime(series, utc=True)


def read_logged_orders(
    engine: Engine,
    since: datetime,
    until: datetime,
    features: Mapping[str, FeatureKind],
    *,
    limit: int,
) -> LoggedOrders:
    """The orders decided in ``[since, until)`` (at most ``limit``, in log order) with the
    ``features`` named (names of the feature registry only: they are written into SQL)."""
    names = sorted(features)
    for name in names:
        if not name.isidentifier() or not name.isascii():
            raise ValueError(f"not a feature name: {name!r}")
    with database_errors(), collector_paused():
        slices = _sqlite_slices if engine.dialect.name == "sqlite" else _other_slices
        parts = list(slices(engine, names, since, until, limit))
    base: list[list[Any]] = [[] for _ in range(10)]
    columns: list[list[Any]] = [[] for _ in names]
    for part in parts:
        for target, values in zip(base, part.base, strict=True):
            target.extend(values)
        for target, values in zip(columns, part.arrays, strict=True):
            target.extend(values)
    truncated = len(base[0]) > limit
    if truncated:
        base = [values[:limit] for values in base]
        columns = [values[:limit] for values in columns]
    (tid, created, outcome, score, model, ruleset, amount, paid, channel, event) = base
    frame: dict[str, Any] = {
        "amount": np.array(amount, dtype=float),
        "paid_amount": np.array(paid, dtype=float),
        "channel": np.array(channel, dtype=object),
        "event_time": _times(event),
    }
    for name, column in zip(names, columns, strict=True):
        frame[name] = _typed(column, features[name])
    logged = pd.DataFrame(
        {
            "transaction_id": np.array(tid, dtype=object),
            "created_at": _times(created),
            "outcome": np.array(outcome, dtype=object),
            "score": np.array(score, dtype=float),
            "model_version": np.array(model, dtype=object),
            "ruleset_version": np.array(ruleset, dtype=object),
        }
    )
    return LoggedOrders(pd.DataFrame(frame), logged, truncated)
