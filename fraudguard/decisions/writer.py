"""Group commit: the writers that settle every order waiting as one group in one
transaction, so each answer waits for its own commit and no longer.

:class:`DecisionWriter` is a thread of its own (for databases or stores whose commits wait
on I/O); :class:`LoopDecisionWriter` settles on the event loop (embedded defaults: no commit
waits on fsync). :func:`decision_writer` picks the one that fits the log and the state store.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Connection

from fraudguard.db import database_errors
from fraudguard.decisions.service import Decide, DecisionLog, Recorded
from fraudguard.exceptions import UnavailableError
from fraudguard.schema import RechargeEvent

__all__ = ["DecisionWriter", "LoopDecisionWriter", "decision_writer"]

_log = logging.getLogger(__name__)


@dataclass
class _Job:
    events: Sequence[RechargeEvent]
    #: A ``concurrent.futures.Future`` (thread writer) or an ``asyncio.Future`` (loop writer).
    future: Any


class _GroupCommit:
    """What both writers do with the jobs waiting: settle them as one group in one
    transaction (an id twice in one group is settled in a second round, as a retry) and
    hand each job its results, or every job the error when the database fails."""

    def __init__(self, log: DecisionLog, decide: Decide, max_group: int) -> None:
        self.log = log
        self._decide = decide
        self._max_group = max_group

    def _process(self, jobs: list[_Job]) -> None:
        events = [event for job in jobs for event in job.events]
        try:
            results = self._settle(events)
        except Exception as error:  # the database is down: every waiting request hears it
            for job in jobs:
                if not job.future.done():
                    job.future.set_exception(error)
            return
        start = 0
        for job in jobs:
            # A request cancelled meanwhile (shutdown) hears nothing; its order is stored
            # all the same, and a retry replays it.
            if not job.future.done():
                job.future.set_result(results[start : start + len(job.events)])
            start += len(job.events)

    def _settle(self, events: list[RechargeEvent]) -> list[Recorded | Exception]:
        results: list[Recorded | Exception | None] = [None] * len(events)
        pending = list(range(len(events)))
        while pending:
            seen: set[str] = set()
            this_round: list[int] = []
            later: list[int] = []
            for i in pending:
                tid = events[i].transaction_id
                (later if tid in seen else this_round).append(i)
                seen.add(tid)
            settled = self._settle_round([events[i] for i in this_round])
            for i, result in zip(this_round, settled, strict=True):
                results[i] = result
            pending = later
        return [r if r is not None else UnavailableError("not settled") for r in results]

    def _settle_round(self, events: list[RechargeEvent]) -> list[Recorded | Exception]:
        return self.log.settle(events, self._decide)


class DecisionWriter(_GroupCommit):
    """Group commit in a thread of its own: the one thread of a process that decides and
    stores orders, for databases whose commits wait on the network or on fsync.

    Requests :meth:`submit` their orders and wait on the future; the thread takes every job
    waiting (up to ``max_group`` orders) and settles them with :meth:`DecisionLog.settle`
    in one transaction: stored ids are replayed, only the new ones are scored with
    ``decide`` - so a retry never counts twice in the velocity state - and stored. Each
    future resolves after that commit: an order is never answered before it is on disk.
    """

    def __init__(self, log: DecisionLog, decide: Decide, max_group: int = 64) -> None:
        super().__init__(log, decide, max_group)
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="decision-writer", daemon=True)
        self._thread.start()

    def submit(self, events: Sequence[RechargeEvent]) -> Future[list[Recorded | Exception]]:
        """Decide and store ``events``; the future holds one result per event, in order:
        the decision, or the error to answer with for that event."""
        job = _Job(events, Future())
        if not self._thread.is_alive():
            job.future.set_exception(UnavailableError("the service is shutting down"))
        else:
            self._jobs.put(job)
        return cast(Future[list[Recorded | Exception]], job.future)

    async def settle(self, events: Sequence[RechargeEvent]) -> list[Recorded | Exception]:
        """:meth:`submit` for a coroutine on an event loop."""
        return await asyncio.wrap_future(self.submit(events))

    def close(self, timeout: float = 10) -> None:
        """Finish the jobs already submitted, then stop the thread."""
        self._jobs.put(None)
        self._thread.join(timeout)

    async def aclose(self) -> None:
        """:meth:`close` for a coroutine on an event loop (without blocking it)."""
        await asyncio.to_thread(self.close)

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._jobs.get()
            if first is None:
                return
            jobs, size = [first], len(first.events)
            while size < self._max_group:
                try:
                    job = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    stopping = True
                    break
                jobs.append(job)
                size += len(job.events)
            self._process(jobs)


class LoopDecisionWriter(_GroupCommit):
    """Group commit on the event loop's own thread, for a SQLite file whose commits do not
    fsync (``synchronous=NORMAL``) and in-process velocity state: nothing in a group waits
    on I/O, so a group costs the loop what it would cost a writer thread.

    Orders that arrive in one turn of the loop are settled together, by a callback the
    first of them schedules to run once that turn's other callbacks have run. No thread:
    a writer thread hands Python's GIL back and forth with the loop around every SQLite
    call, and under load each hand-back could wait for the loop's 5 ms switch interval -
    at 650 orders/s the steady p99 was 28 ms with a thread and 12 ms without
    (``benchmarks/bench_service.py``, issue 5).
    """

    def __init__(self, log: DecisionLog, decide: Decide, max_group: int = 64) -> None:
        super().__init__(log, decide, max_group)
        self._waiting: list[_Job] = []
        self._closed = False
        #: Held from the first group to :meth:`close`: a pool checkout and return per
        #: group cost 24-29 us against 3-5 for a transaction on a held one (in isolation).
        self._connection: Connection | None = None

    async def settle(self, events: Sequence[RechargeEvent]) -> list[Recorded | Exception]:
        """Decide and store ``events``; one result per event, in order, after the commit."""
        if self._closed:
            raise UnavailableError("the service is shutting down")
        loop = asyncio.get_running_loop()
        job = _Job(events, loop.create_future())
        self._waiting.append(job)
        if len(self._waiting) == 1:
            loop.call_soon(self._flush)
        result: list[Recorded | Exception] = await job.future
        return result

    def close(self, timeout: float = 10) -> None:
        """Refuse new orders; the ones waiting are settled by the callback already due,
        which then gives the connection back. Call it on the loop's thread (or with no
        loop running), as :meth:`aclose` does."""
        self._closed = True
        if not self._waiting:
            self._release()

    async def aclose(self) -> None:
        """:meth:`close`, on the loop's thread (what the service's shutdown calls)."""
        self.close()

    def _settle_round(self, events: list[RechargeEvent]) -> list[Recorded | Exception]:
        try:
            if self._connection is None:
                with database_errors():
                    self._connection = self.log.engine.connect()
            return self.log.settle(events, self._decide, connection=self._connection)
        except Exception:
            self._release()  # it may be broken: the next group takes a fresh one
            raise

    def _release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.close()
            except Exception as error:  # a broken connection: the pool discards it
                _log.warning("decision log connection not closed: %s", type(error).__name__)

    def _flush(self) -> None:
        jobs, self._waiting = self._waiting, []
        group: list[_Job] = []
        size = 0
        for job in jobs:
            if group and size + len(job.events) > self._max_group:
                self._process(group)
                group, size = [], 0
            group.append(job)
            size += len(job.events)
        self._process(group)
        if self._closed:
            self._release()


def decision_writer(
    log: DecisionLog, decide: Decide, *, in_process_state: bool
) -> DecisionWriter | LoopDecisionWriter:
    """The writer that suits ``log``: on the event loop when a group waits on no I/O (a
    SQLite file without fsync per commit, and velocity state in this process), else a
    thread of its own."""
    if log.commits_without_fsync and in_process_state:
        return LoopDecisionWriter(log, decide)
    return DecisionWriter(log, decide)
