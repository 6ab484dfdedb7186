"""The decision log read in slices, for the readers that take a window of it whole (the rule
backtest, training sets): the caller's statement picks the columns, its parse function
turns a slice's rows into whatever it keeps, and the parts come back in log order.

On SQLite the log is read in slices of rowids by two threads through the driver's own
cursor: the database's work (``json_extract``, mostly) runs without the GIL beside the
other slice's parsing, and a million rows through SQLAlchemy's row objects would cost
seconds more. Elsewhere (PostgreSQL) the rows are streamed in slices of the same size.
"""

from __future__ import annotations

import gc
import sqlite3
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import islice
from typing import Any, TypeVar

from sqlalchemy import Engine, TextClause, text

from fraudguard.exceptions import UnavailableError

__all__ = [
    "READ_THREADS",
    "SLICE_ROWS",
    "collector_paused",
    "rowid_slices",
    "sqlite_time",
    "streamed_slices",
]

#: Rows per slice (rowids per slice on SQLite).
SLICE_ROWS = 100_000
#: Slices read at once on SQLite.
READ_THREADS = 2
_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"  # fraudguard.db.UtcDateTime: naive UTC text

Part = TypeVar("Part")
Rows = list[tuple[Any, ...]]


def sqlite_time(moment: datetime) -> str:
    """``moment`` as SQLite stores a time of the log (naive UTC text), to compare with."""
    return moment.astimezone(UTC).strftime(_SQLITE_TIME)


def rowid_slices(
    engine: Engine,
    statement: str,
    parameters: Sequence[Any],
    parse: Callable[[Rows], Part],
    *,
    limit: int | None = None,
) -> Iterator[Part]:
    """Each slice of a SQLite log parsed, in rowid order, two slices in flight.

    ``statement`` is the driver's SQL over ``decisions``; its first two ``?`` are the
    slice's rowid bounds (``rowid >= ? AND rowid < ?``), then ``parameters``. With
    ``limit``, no slice is read after the one that takes the rows read past ``limit``.
    A database error is :class:`UnavailableError` (the decision log away: 503).
    """
    with engine.connect() as connection:
        low, high = connection.execute(text("SELECT min(rowid), max(rowid) FROM decisions")).one()
    if low is None:
        return

    def read(start: int) -> tuple[int, Part]:
        try:
            with engine.connect() as connection:
                cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
                try:
                    bounds = (start, start + SLICE_ROWS, *parameters)
                    rows = cursor.execute(statement, bounds).fetchall()
                finally:
                    cursor.close()
        except sqlite3.Error as error:
            raise UnavailableError(
                f"the decision log could not be read: {type(error).__name__}"
            ) from None
        return len(rows), parse(rows)

    starts = iter(range(low, high + 1, SLICE_ROWS))
    taken = 0
    with ThreadPoolExecutor(READ_THREADS, thread_name_prefix="decision-log") as pool:
        pending: deque[Future[tuple[int, Part]]] = deque(
            pool.submit(read, start) for start in islice(starts, READ_THREADS)
        )
        try:
            while pending:
                count, part = pending.popleft().result()
                taken += count
                enough = limit is not None and taken > limit
                following = None if enough else next(starts, None)
                if following is not None:
                    pending.append(pool.submit(read, following))
                yield part
                if enough:
                    return
        finally:
            for future in pending:
                future.cancel()  # slices not started yet; a running one is waited for


def streamed_slices(
    engine: Engine,
    statement: TextClause,
    parameters: Mapping[str, Any],
    parse: Callable[[Rows], Part],
) -> Iterator[Part]:
    """The rows of ``statement`` streamed from the server (PostgreSQL), each slice of
    :data:`SLICE_ROWS` rows parsed, in the statement's order."""
    with engine.connect() as connection:
        result = connection.execution_options(stream_results=True, yield_per=SLICE_ROWS).execute(
            statement, parameters
        )
        for chunk in result.partitions(SLICE_ROWS):
            yield parse([tuple(row) for row in chunk])


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while a window of the log is read: the read makes tens
    of millions of objects that hold no cycles, and the collector's passes over the growing
    heap cost half as much again as the read itself (measured on a million orders). Only
    cyclic collection waits; memory is freed as ever."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
