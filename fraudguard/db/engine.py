"""Engines for the one database FraudGuard keeps (SQLite file or PostgreSQL), and the
translation of an unreachable database into a 503 instead of a 500."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.pool import ConnectionPoolEntry

from fraudguard.exceptions import UnavailableError

__all__ = ["create_db_engine", "database_errors", "engine_for", "sqlite_file"]

_log = logging.getLogger(__name__)

#: Largest WAL file kept once its frames are all in the database file.
_WAL_SIZE_LIMIT = 64 * 1024 * 1024


def _sqlite_pragmas(
    synchronous: str, auto_checkpoint: bool
) -> Callable[[Any, ConnectionPoolEntry], None]:
    if synchronous not in ("NORMAL", "FULL"):
        raise ValueError("synchronous must be NORMAL or FULL")
    return lambda connection, _record: _set_pragmas(connection, synchronous, auto_checkpoint)


def _set_pragmas(dbapi_connection: Any, synchronous: str, auto_checkpoint: bool) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # WAL + NORMAL: a committed decision survives a crash of the process (SIGKILL); only a
    # power cut can lose the last commits. FRAUDGUARD_SQLITE_SYNCHRONOUS=FULL fsyncs every
    # commit (one per group of orders) for power-cut durability too.
    cursor.execute(f"PRAGMA synchronous={synchronous}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    if not auto_checkpoint:  # a checkpointer thread does them (fraudguard.decisions)
        cursor.execute("PRAGMA wal_autocheckpoint=0")
    cursor.execute(f"PRAGMA journal_size_limit={_WAL_SIZE_LIMIT}")
    cursor.close()


def sqlite_file(url: str) -> str | None:
    """The database file of a SQLite URL; ``None`` for another database or in memory."""
    if not url.startswith("sqlite"):
        return None
    path = url.split("///", 1)[-1]
    return path if path and path != ":memory:" and "///" in url else None


def create_db_engine(
    url: str, sqlite_synchronous: str = "NORMAL", *, sqlite_auto_checkpoint: bool = True
) -> Engine:
    """An engine for ``url``; SQLite files get WAL + ``synchronous=NORMAL`` (or ``FULL``).

    ``sqlite_auto_checkpoint=False`` leaves WAL checkpoints to a
    background checkpointer (see :class:`fraudguard.decisions.DecisionLog`).
    """
    if url.startswith("sqlite"):
        path = sqlite_file(url)
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 10},
            json_serializer=_json_text,
            json_deserializer=orjson.loads,
        )
        pragmas = _sqlite_pragmas(sqlite_synchronous, sqlite_auto_checkpoint)
        event.listen(engine, "connect", pragmas)
        return engine
    # Short connect timeout: an unreachable database answers 503 quickly, not after minutes.
    connect_args = {"connect_timeout": 3} if url.startswith("postgresql") else {}
    return create_engine(
        url,
        pool_pre_ping=True,
        connect_args=connect_args,
        json_serializer=_json_text,
        json_deserializer=orjson.loads,
    )


@contextmanager
def engine_for(database_url_or_engine: str | Engine) -> Iterator[Engine]:
    """An engine to read with: the one given, or one made for a URL and disposed of on
    leaving (a caller's engine keeps its pool)."""
    if not isinstance(database_url_or_engine, str):
        yield database_url_or_engine
        return
    engine = create_db_engine(database_url_or_engine)
    try:
        yield engine
    finally:
        engine.dispose()


def _json_text(value: Any) -> str:
    # NaN and infinities become null, numpy scalars numbers, anything else its str().
    return orjson.dumps(value, default=str, option=orjson.OPT_SERIALIZE_NUMPY).decode("utf-8")


@contextmanager
def database_errors() -> Iterator[None]:
    """A database that cannot be reached (or fails mid-transaction) is a 503, not a 500."""
    try:
        yield
    except IntegrityError:
        raise
    except DBAPIError as error:
        _log.error("decision log unavailable: %s", type(error.orig).__name__)
        raise UnavailableError(
            "the decision log is unavailable; nothing was stored: retry with the same "
            "transaction_id"
        ) from None
