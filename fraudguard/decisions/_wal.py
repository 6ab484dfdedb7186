"""Checkpoints of a SQLite write-ahead log, off the commit path.

SQLite's automatic checkpoint runs inside the commit that takes the WAL past 1,000 pages:
it copies ~4 MB into the database file and fsyncs it (30-40 ms on the machines measured),
and every order in that commit's group waits for it - the scoring service's worst
latencies. With automatic checkpoints off on an engine's connections, a
:class:`WalCheckpointer` thread does them instead, ``PASSIVE`` (they never wait for, or
block, readers and writers), so no request pays for one. SQLite runs the copy and the
fsync without Python's GIL, so the other threads keep working meanwhile.
"""

from __future__ import annotations

import logging
import threading
from typing import Literal

from sqlalchemy import Engine

__all__ = ["WalCheckpointer"]

_log = logging.getLogger(__name__)


class WalCheckpointer:
    """A daemon thread checkpointing ``engine``'s WAL every ``interval_s`` seconds.

    The engine's connections must have ``PRAGMA wal_autocheckpoint=0``, or the commits
    keep checkpointing too. :meth:`close` stops the thread and empties the WAL file.
    """

    def __init__(self, engine: Engine, interval_s: float = 0.5) -> None:
        self.engine = engine
        self.interval_s = interval_s
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wal-checkpointer", daemon=True)
        self._thread.start()

    def checkpoint(self, mode: Literal["PASSIVE", "TRUNCATE"] = "PASSIVE") -> tuple[int, int, int]:
        """One checkpoint now: ``(busy, frames in the WAL, frames checkpointed)``."""
        with self.engine.connect() as connection:
            row = connection.exec_driver_sql(f"PRAGMA wal_checkpoint({mode})").one()
        busy, frames, done = (int(value) for value in row)
        return busy, frames, done

    def close(self, timeout: float = 10) -> None:
        self._stopped.set()
        self._thread.join(timeout)
        try:
            self.checkpoint("TRUNCATE")
        except Exception as error:  # the next connection to open the file replays the WAL
            _log.warning("final WAL checkpoint failed: %s", type(error).__name__)

    def _run(self) -> None:
        while not self._stopped.wait(self.interval_s):
            try:
                self.checkpoint()
            except Exception as error:  # a locked or vanished file: try again next time
                _log.warning("WAL checkpoint failed: %s", type(error).__name__)
