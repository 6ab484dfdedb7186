"""The decision log read in slices (the rule backtest's and the training sets' reader): every
row of the window once, in log order, across slice boundaries and gaps in the rowids; a
limit stops the reading; a database error is the log being unavailable. On SQLite (two
threads, the driver's cursor) and PostgreSQL (streamed)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text

from fraudguard.decisions import rowid_slices, sqlite_time, streamed_slices
from fraudguard.exceptions import UnavailableError

START = datetime(2026, 12, 1, tzinfo=UTC)
SELECT = (
    "SELECT transaction_id FROM decisions WHERE rowid >= ? AND rowid < ? "
    "AND created_at >= ? AND created_at < ?"
)


def _ids(rows: list[tuple[Any, ...]]) -> list[str]:
    return [row[0] for row in rows]


@pytest.fixture
def small_slices(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr("fraudguard.decisions.slices.SLICE_ROWS", 4)
    return 4


@pytest.fixture
def sqlite_log(tmp_path: Path) -> Iterator[Engine]:
    """30 orders a minute apart (t00..t29), orders 9-16 deleted: two slices with gaps and
    one with no row at all."""
    engine = create_engine(f"sqlite:///{tmp_path / 'log.db'}")
    with engine.begin() as connection:
        connection.execute(
            text("CREATE TABLE decisions (transaction_id TEXT PRIMARY KEY, created_at TEXT)")
        )
        connection.execute(
            text("INSERT INTO decisions VALUES (:tid, :at)"),
            [
                {"tid": f"t{i:02d}", "at": sqlite_time(START + timedelta(minutes=i))}
                for i in range(30)
            ],
        )
        connection.execute(text("DELETE FROM decisions WHERE rowid BETWEEN 10 AND 17"))
    yield engine
    engine.dispose()


def _window(first: int, end: int) -> tuple[str, str]:
    return sqlite_time(START + timedelta(minutes=first)), sqlite_time(
        START + timedelta(minutes=end)
    )


def test_every_row_of_the_window_once_in_log_order(sqlite_log: Engine, small_slices: int) -> None:
    parts = list(rowid_slices(sqlite_log, SELECT, _window(3, 25), _ids))
    kept = [i for i in range(3, 25) if not 9 <= i <= 16]
    assert [tid for part in parts for tid in part] == [f"t{i:02d}" for i in kept]
    assert len(parts) == 8  # every slice of rowids 1..30, the empty ones too
    assert all(len(part) <= small_slices for part in parts)


def test_no_slice_is_read_after_the_one_that_passes_the_limit(
    sqlite_log: Engine, small_slices: int
) -> None:
    parsed: list[list[str]] = []

    def parse(rows: list[tuple[Any, ...]]) -> list[str]:
        parsed.append(_ids(rows))
        return parsed[-1]

    parts = list(rowid_slices(sqlite_log, SELECT, _window(0, 30), parse, limit=5))
    assert parts == [["t00", "t01", "t02", "t03"], ["t04", "t05", "t06", "t07"]]
    # The slice asked for while the second was read may have run; none after it.
    assert len(parsed) <= 3


def test_an_empty_log_gives_no_slice(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE decisions (transaction_id TEXT, created_at TEXT)"))
    try:
        assert list(rowid_slices(engine, SELECT, _window(0, 30), _ids)) == []
    finally:
        engine.dispose()


def test_a_database_error_is_the_decision_log_unavailable(sqlite_log: Engine) -> None:
    broken = SELECT.replace("transaction_id", "no_such_column", 1)
    with pytest.raises(UnavailableError) as raised:
        list(rowid_slices(sqlite_log, broken, _window(0, 30), _ids))
    assert str(raised.value) == "the decision log could not be read: OperationalError"


def test_a_time_compares_as_the_log_stores_it() -> None:
    china = timezone(timedelta(hours=8))
    assert sqlite_time(datetime(2026, 12, 1, 8, 0, 0, 5, tzinfo=china)) == (
        "2026-12-01 00:00:00.000005"
    )


@pytest.mark.integration
def test_postgresql_streams_the_rows_in_slices(small_slices: int) -> None:
    from tests.postgres import fresh_database

    with fresh_database() as url:
        engine = create_engine(url)
        try:
            with engine.begin() as connection:
                connection.execute(
                    text(
                        "CREATE TABLE decisions (transaction_id TEXT PRIMARY KEY, "
                        "created_at TIMESTAMPTZ)"
                    )
                )
                connection.execute(
                    text("INSERT INTO decisions VALUES (:tid, :at)"),
                    [{"tid": f"t{i:02d}", "at": START + timedelta(minutes=i)} for i in range(10)],
                )
            statement = text(
                "SELECT transaction_id FROM decisions WHERE created_at >= :since "
                "ORDER BY created_at"
            )
            since = {"since": START + timedelta(minutes=1)}
            parts = list(streamed_slices(engine, statement, since, _ids))
        finally:
            engine.dispose()
    assert parts == [[f"t{i:02d}" for i in range(s, min(s + 4, 10))] for s in (1, 5, 9)]
