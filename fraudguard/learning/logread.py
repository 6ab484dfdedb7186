"""The decision log's rebuildable events, read fast: the log holds one compact JSON event
per order and one features document of ~110 values, of which only the list verdicts are
read. The database takes the fields out of both documents (SQLite ``json_extract`` with
every path at once, PostgreSQL ``->``), so one short array per document crosses into
Python, in column order, and the arrays of a slice are parsed as one JSON document and
cut into columns at once: a slice's parsed rows are freed before the next is read, and the
frame is made once from the columns.

On SQLite the log is read in slices of rowids by two threads, as the rule backtest reads
it (:func:`fraudguard.decisions.rowid_slices`): the database's work runs without the GIL,
beside the other slice's parsing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import orjson
import pandas as pd
from sqlalchemy import Engine, inspect, text

from fraudguard.db import database_errors
from fraudguard.decisions import collector_paused, rowid_slices, sqlite_time, streamed_slices
from fraudguard.exceptions import FieldProblem, InputError
from fraudguard.schema import FLAT_COLUMNS

__all__ = ["EVENT_COLUMNS", "LIST_FEATURES", "LoggedEvents", "read_logged_events"]

#: The event's fields, in the order the log's arrays hold them.
EVENT_COLUMNS = FLAT_COLUMNS[1:]

#: Features that read raw ids against the operator's lists: taken from the log, as they
#: were when the order was scored (the ids are keyed in the event, and today's lists would
#: leak what was learnt later, such as a card block-listed after its chargeback).
LIST_FEATURES = (
    "list_instrument_blocked",
    "list_device_blocked",
    "list_payer_blocked",
    "list_allowlisted",
)
#: Event fields held as floats (the rest keep their JSON values; ``event_time`` parsed).
_NUMBERS = ("amount", "paid_amount", "promotion_discount")


#: One slice of the log, or the whole read: a column name's values (numbers as floats,
#: times as naive UTC datetime64, the rest as their JSON values).
Columns = dict[str, np.ndarray[Any, Any]]


@dataclass
class LoggedEvents:
    """The orders in log order: ``frame``, one row each: ``transaction_id``, the event's
    fields (:data:`EVENT_COLUMNS`, ``msisdn`` pseudonymous, ids keyed) and ``decided_at``;
    ``lists``: the logged list verdicts (:data:`LIST_FEATURES`, bool), row for row;
    ``without_event``: orders in the window logged before the log kept events."""

    frame: pd.DataFrame
    lists: pd.DataFrame
    without_event: int = 0


def _shared(values: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """``values`` with equal values one object: most columns hold a few distinct strings
    (channel, platform, OS), each parsed afresh per order; sharing them keeps the slices
    held until the frame is made to their distinct values."""
    codes, uniques = pd.factorize(values)
    if len(uniques) * 2 > len(values):
        return values
    table = np.empty(len(uniques) + 1, dtype=object)  # the last: missing (code -1)
    table[:-1] = uniques
    shared: np.ndarray[Any, Any] = table[codes]
    return shared


def _times(values: Any) -> np.ndarray[Any, Any]:
    instants: np.ndarray[Any, Any] = (
        pd.to_datetime(values, utc=True, format="ISO8601").tz_convert(None).to_numpy()
    )
    return instants


def _parse(rows: Sequence[Sequence[Any]]) -> Columns:
    """One slice of rows (id, decision time, event array, list verdicts array) as columns:
    the slice's arrays parsed as one JSON document into a 2-D array and cut by column, so
    no value is handled one by one in Python and the parsed rows are freed per slice."""
    n = len(rows)
    tids, created, events, lists = zip(*rows, strict=True) if n else ((), (), (), ())
    nulls = "[" + ",".join(["null"] * len(LIST_FEATURES)) + "]"
    block = np.empty((n, len(EVENT_COLUMNS)), dtype=object)
    verdicts = np.empty((n, len(LIST_FEATURES)), dtype=object)
    if n:
        block[:] = orjson.loads("[" + ",".join(events) + "]")
        verdicts[:] = orjson.loads(
            "[" + ",".join(t if t is not None else nulls for t in lists) + "]"
        )
    columns: Columns = {"transaction_id": np.array(tids, dtype=object)}
    for index, column in enumerate(EVENT_COLUMNS):
        values = block[:, index]
        if column in _NUMBERS:
            columns[column] = values.astype(float)
        elif column == "event_time":
            columns[column] = _times(values)
        else:
            columns[column] = _shared(values)
    columns["decided_at"] = _times(list(created))
    for index, name in enumerate(LIST_FEATURES):
        columns[name] = pd.Series(verdicts[:, index]).fillna(False).astype(bool).to_numpy()
    return columns


def _events(parts: list[Columns]) -> LoggedEvents:
    """The slices as one frame, made once (so each column's type is inferred over the
    whole read, as for any frame of these values)."""
    if not parts:
        parts = [_parse([])]
    data: dict[str, Any] = {}
    for name in ("transaction_id", *EVENT_COLUMNS, "decided_at"):
        values = np.concatenate([part[name] for part in parts])
        if name in ("event_time", "decided_at"):
            data[name] = pd.DatetimeIndex(values).tz_localize(UTC)
        else:
            data[name] = values
    lists = {name: np.concatenate([part[name] for part in parts]) for name in LIST_FEATURES}
    parts.clear()  # the slices' objects go as the frame takes them
    return LoggedEvents(pd.DataFrame(data), pd.DataFrame(lists))


def _sqlite_select() -> str:
    fields = ", ".join(f"'$.\"{name}\"'" for name in EVENT_COLUMNS)
    paths = ", ".join(f"'$.\"{name}\"'" for name in LIST_FEATURES)
    return (
        f"SELECT transaction_id, created_at, json_extract(event, {fields}), "  # noqa: S608
        f"json_extract(features, {paths}) "
        "FROM decisions WHERE rowid >= ? AND rowid < ? AND created_at >= ? "
        "AND created_at <= ? AND event IS NOT NULL"
    )


def _sqlite(engine: Engine, since: datetime, until: datetime) -> Iterator[Columns]:
    window = (sqlite_time(since), sqlite_time(until))
    return rowid_slices(engine, _sqlite_select(), window, _parse)


def _other(engine: Engine, since: datetime, until: datetime) -> Iterator[Columns]:
    fields = ", ".join(f"e -> '{name}'" for name in EVENT_COLUMNS)
    items = ", ".join(f"features -> '{name}'" for name in LIST_FEATURES)
    statement = text(
        f"SELECT transaction_id, created_at, json_build_array({fields})::text, "  # noqa: S608
        f"json_build_array({items})::text FROM (SELECT *, event::json AS e FROM decisions "
        "WHERE created_at >= :since AND created_at <= :until AND event IS NOT NULL) AS d "
        "ORDER BY created_at, transaction_id"
    )
    return streamed_slices(engine, statement, {"since": since, "until": until}, _parse)


def _check_schema(engine: Engine) -> None:
    columns = {column["name"] for column in inspect(engine).get_columns("decisions")}
    if "event" not in columns:
        raise InputError(
            "the decision log keeps no events yet",
            [FieldProblem("database", "upgrade it first: fraudguard db upgrade")],
        )


def read_logged_events(
    engine: Engine, since: datetime, until: datetime, *, count_since: datetime
) -> LoggedEvents:
    """The orders decided in ``[since, until]`` that the log kept an event for, in log
    order, and how many decided in ``[count_since, until]`` it kept none for."""
    with database_errors():
        _check_schema(engine)
        with collector_paused():
            slices = _sqlite if engine.dialect.name == "sqlite" else _other
            read = _events(list(slices(engine, since, until)))
        with engine.connect() as connection:
            read.without_event = connection.execute(
                text(
                    "SELECT count(*) FROM decisions WHERE event IS NULL "
                    "AND created_at >= :since AND created_at <= :until"
                ),
                {"since": _bound(engine, count_since), "until": _bound(engine, until)},
            ).scalar_one()
    return read


def _bound(engine: Engine, moment: datetime) -> Any:
    return sqlite_time(moment) if engine.dialect.name == "sqlite" else moment
