"""The decision log as a frame a rule pack can be evaluated on: the orders decided in a
window, their logged decision, the columns the log keeps, and only the features the packs
read (one JSON document per order holds ~110 of them; the packs read a few dozen).

The features are taken out of each order's JSON by the database (SQLite ``json_extract``
with every path at once, one parse per row; PostgreSQL ``jsonb``), so the service reads a
short array per order, not the whole document: the difference between a minute and a few
seconds at a million orders.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import orjson
import pandas as pd
from sqlalchemy import Engine, text

from fraudguard.db import database_errors
from fraudguard.features.base import FeatureKind

__all__ = ["LOGGED_COLUMNS", "LoggedOrders", "read_logged_orders"]

#: Event columns the decision log keeps beside the features (no personal data).
LOGGED_COLUMNS = ("amount", "paid_amount", "channel", "event_time")
_CHUNK = 100_000


@dataclass(frozen=True)
class LoggedOrders:
    """Logged orders in decision order: ``frame`` holds the logged columns and the features
    asked for; ``logged`` the decision as answered (``outcome``, ``score``,
    ``model_version``, ``ruleset_version``, ``created_at``, ``transaction_id``)."""

    frame: pd.DataFrame
    logged: pd.DataFrame
    truncated: bool


def _sql(dialect: str, features: Sequence[str]) -> str:
    base = (
        "transaction_id, created_at, outcome, score, model_version, ruleset_version, "
        "amount, paid_amount, channel, event_time"
    )
    if not features:
        extracted = "NULL"
    elif dialect == "sqlite":
        # With two paths or more json_extract answers one JSON array (and parses once).
        paths = [f"'$.\"{name}\"'" for name in features]
        if len(paths) == 1:
            paths *= 2
        extracted = f"json_extract(features, {', '.join(paths)})"
    else:
        items = ", ".join(f"f -> '{name}'" for name in features)
        extracted = f"jsonb_build_array({items})::text"
    source = (
        "decisions"
        if dialect == "sqlite" or not features
        else "(SELECT *, features::jsonb AS f FROM decisions) AS d"
    )
    return (
        f"SELECT {base}, {extracted} AS extracted FROM {source} "  # noqa: S608 - names checked
        "WHERE created_at >= :since AND created_at < :until "
        "ORDER BY created_at, transaction_id LIMIT :limit"
    )


def _typed(values: Sequence[Any], kind: FeatureKind | None) -> Any:
    if kind is FeatureKind.BOOL:
        return np.fromiter((v is True for v in values), dtype=bool, count=len(values))
    if kind in (FeatureKind.INT, FeatureKind.FLOAT):
        return np.array([np.nan if v is None else v for v in values], dtype=float)
    return np.array(values, dtype=object)


def read_logged_orders(
    engine: Engine,
    since: datetime,
    until: datetime,
    features: Mapping[str, FeatureKind],
    *,
    limit: int,
) -> LoggedOrders:
    """The orders decided in ``[since, until)`` (at most ``limit``, oldest first) with the
    ``features`` named (names of the feature registry only: they are written into SQL)."""
    names = sorted(features)
    for name in names:
        if not name.isidentifier() or not name.isascii():
            raise ValueError(f"not a feature name: {name!r}")
    bound = {"since": _bind_time(engine, since), "until": _bind_time(engine, until)}
    statement = text(_sql(engine.dialect.name, names))
    rows: list[Sequence[Any]] = []
    with database_errors(), engine.connect() as connection:
        result = connection.execution_options(stream_results=True, yield_per=_CHUNK).execute(
            statement, {**bound, "limit": limit + 1}
        )
        for chunk in result.partitions(_CHUNK):
            rows.extend(chunk)
    truncated = len(rows) > limit
    rows = rows[:limit]
    columns = list(zip(*rows, strict=True)) if rows else [()] * 11
    (tid, created, outcome, score, model, ruleset, amount, paid, channel, event, extracted) = (
        columns
    )
    frame: dict[str, Any] = {
        "amount": np.array([np.nan if v is None else v for v in amount], dtype=float),
        "paid_amount": np.array([np.nan if v is None else v for v in paid], dtype=float),
        "channel": np.array(channel, dtype=object),
        "event_time": pd.to_datetime(pd.Series(event, dtype=object), utc=True, format="mixed"),
    }
    if names:
        parsed = [orjson.loads(item) if item is not None else None for item in extracted]
        width = len(names)
        empty = [None] * width
        values = list(zip(*[p if p is not None else empty for p in parsed], strict=True))
        values = values or [()] * width
        for name, column in zip(names, values[:width], strict=True):
            frame[name] = _typed(column, features[name])
    logged = pd.DataFrame(
        {
            "transaction_id": np.array(tid, dtype=object),
            "created_at": pd.to_datetime(pd.Series(created, dtype=object), utc=True),
            "outcome": np.array(outcome, dtype=object),
            "score": np.array(score, dtype=float),
            "model_version": np.array(model, dtype=object),
            "ruleset_version": np.array(ruleset, dtype=object),
        }
    )
    return LoggedOrders(pd.DataFrame(frame), logged, truncated)


def _bind_time(engine: Engine, moment: datetime) -> Any:
    """SQLite keeps naive UTC text (``fraudguard.db.UtcDateTime``): compare like with like."""
    if engine.dialect.name == "sqlite":
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return moment
