"""The decision writer's two statements per group, run on the database driver's cursor.

Every group of orders reads which ids are stored and inserts the new decisions. Through
SQLAlchemy's execution path (an execution context, a result object, the expanding ``IN``
rendered per call) the pair cost ~0.1 ms of Python per group, of ~1 ms per order in all;
on the driver's cursor the service served 1.1-1.2x the orders per second (issue 5,
``benchmarks/bench_service.py``). Nothing is written by hand: the SQL is SQLAlchemy's,
compiled once per dialect (and per group size for the ``IN`` list), and every value goes
through its column's own bind and result processors, so rows are stored and read exactly
as through SQLAlchemy. Driver errors are raised as SQLAlchemy's
(:class:`~sqlalchemy.exc.IntegrityError`, :class:`~sqlalchemy.exc.OperationalError`...),
without parameters in their text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, cast

from sqlalchemy import Connection, Dialect, Table, bindparam, insert, select
from sqlalchemy.exc import DBAPIError

from fraudguard.db import DecisionRow

__all__ = ["DriverStatements"]

_TABLE: Table = DecisionRow.__table__  # type: ignore[assignment]
_Processor = Callable[[Any], Any]


class DriverStatements:
    """``stored(connection, ids)`` and ``insert(connection, rows)`` for one dialect."""

    def __init__(self, dialect: Dialect) -> None:
        self._dialect = dialect
        compiled = insert(_TABLE).compile(dialect=dialect)
        self._insert_sql = str(compiled)
        self._insert_keys = list(compiled.positiontup or [])
        self._bind: dict[str, _Processor] = {}
        for column in _TABLE.columns:
            # The dialect's own type (SQLite's DATETIME under UtcDateTime, say) converts.
            processor = column.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                self._bind[column.key] = processor
        decision_type = _TABLE.c.decision.type.dialect_impl(dialect)
        self._read_decision = decision_type.result_processor(dialect, None)
        self._selects: dict[int, tuple[str, list[str]]] = {}

    def stored(
        self, connection: Connection, ids: Sequence[str]
    ) -> dict[str, tuple[str, dict[str, Any]]]:
        """``transaction_id -> (fingerprint, decision)`` of the ids already stored."""
        sql, keys = self._select(len(ids))
        params = self._params({f"id_{i}": tid for i, tid in enumerate(ids)}, keys)
        with self._cursor(connection, sql, params) as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        read = self._read_decision
        found: dict[str, tuple[str, dict[str, Any]]] = {}
        for tid, fingerprint, decision in rows:
            found[tid] = (fingerprint, cast(dict[str, Any], read(decision) if read else decision))
        return found

    def insert(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert decision rows (every column of ``decisions``, by column name)."""
        bind = self._bind
        converted = [
            self._params(
                {key: bind[key](value) if key in bind else value for key, value in row.items()},
                self._insert_keys,
            )
            for row in rows
        ]
        with self._cursor(connection, self._insert_sql, converted) as cursor:
            cursor.executemany(self._insert_sql, converted)

    def _select(self, size: int) -> tuple[str, list[str]]:
        found = self._selects.get(size)
        if found is None:
            statement = select(_TABLE.c.transaction_id, _TABLE.c.fingerprint, _TABLE.c.decision)
            statement = statement.where(
                _TABLE.c.transaction_id.in_([bindparam(f"id_{i}") for i in range(size)])
            )
            compiled = statement.compile(dialect=self._dialect)
            found = self._selects[size] = (str(compiled), list(compiled.positiontup or []))
        return found

    def _params(self, values: dict[str, Any], positions: list[str]) -> Any:
        """A tuple in the SQL's order for a positional driver (SQLite), else the dict."""
        return tuple(values[key] for key in positions) if positions else values

    @contextmanager
    def _cursor(self, connection: Connection, sql: str, params: Any) -> Iterator[Any]:
        dbapi = self._dialect.loaded_dbapi
        cursor = connection.connection.cursor()
        try:
            yield cursor
        except dbapi.Error as error:
            raise DBAPIError.instance(
                sql, params, error, dbapi.Error, hide_parameters=True, dialect=self._dialect
            ) from error
        finally:
            cursor.close()
