"""The decision log: idempotent on ``transaction_id``, one case per flagged order.

* Same ``transaction_id`` and same body (sha256 of the canonical JSON): the stored decision
  is returned, no second case is opened.
* Same ``transaction_id``, different body: :class:`~fraudguard.exceptions.ConflictError` (409).
* Two requests with one id at once: the second insert hits the primary key, rolls back and
  re-reads the winner's row.
* :meth:`DecisionLog.settle` decides and stores a group of orders in one transaction (one
  commit for many concurrent requests); :class:`DecisionWriter` is the one thread of a
  process that settles each group, so every answer waits for its own commit and no longer.
* A database that cannot be reached is :class:`~fraudguard.exceptions.UnavailableError`
  (503, "retry with the same transaction_id"), never a 500; the pool reconnects by itself.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import queue
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast
from urllib.parse import urlsplit

import orjson
from pydantic import SecretStr
from sqlalchemy import Connection, Engine, bindparam, create_engine, event, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from fraudguard.cases._driver import DriverStatements
from fraudguard.cases._wal import WalCheckpointer
from fraudguard.cases.database import upgrade_database
from fraudguard.cases.enums import CaseStatus
from fraudguard.cases.models import CaseRow, DecisionRow
from fraudguard.exceptions import ConflictError, FieldProblem, FraudGuardError, UnavailableError
from fraudguard.privacy import hash_key, mask
from fraudguard.schema import Decision, DecisionOutcome, RechargeEvent

__all__ = [
    "Decide",
    "DecisionLog",
    "DecisionWriter",
    "LoopDecisionWriter",
    "Recorded",
    "case_label",
    "create_db_engine",
    "decision_writer",
    "link_keys",
]

_log = logging.getLogger(__name__)

# Built once: statements are cheap to run, not to build. The two statements of every group
# (stored ids, new decisions) run on the driver's cursor: fraudguard.cases._driver.
_INSERT_CASES = insert(CaseRow).returning(CaseRow.id, sort_by_parameter_order=True)
_SET_CASE_ID = (
    update(DecisionRow)
    .where(DecisionRow.transaction_id == bindparam("tid"))
    .values(decision=bindparam("stored"))
)
#: Columns a case copies from its decision to link cases into rings.
_LINK_COLUMNS = ("platform_label", "payer_key", "instrument_key", "device_key", "platform_key")

#: What storing one order gives: its decision (with ``case_id``) or the error to answer with.
Recorded = Decision | FraudGuardError


def case_label(number: int) -> str:
    """``case-000042`` for case 42."""
    return f"case-{number:06d}"


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
    if not auto_checkpoint:  # a WalCheckpointer thread does them (fraudguard.cases._wal)
        cursor.execute("PRAGMA wal_autocheckpoint=0")
    cursor.execute(f"PRAGMA journal_size_limit={_WAL_SIZE_LIMIT}")
    cursor.close()


def _sqlite_file(url: str) -> str | None:
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
    :class:`~fraudguard.cases._wal.WalCheckpointer` (see :class:`DecisionLog`).
    """
    if url.startswith("sqlite"):
        path = _sqlite_file(url)
        if path is not None:
            from pathlib import Path

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


def _json_text(value: Any) -> str:
    # NaN and infinities become null, numpy scalars numbers, anything else its str().
    return orjson.dumps(value, default=str, option=orjson.OPT_SERIALIZE_NUMPY).decode("utf-8")


def _platform_label(event: RechargeEvent, features: Mapping[str, Any]) -> str | None:
    """How reviewers name the platform: its registrable domain, else the URL's host, the app
    package, the WeChat account, the name or the id the caller sent."""
    domain = features.get("platform_registrable_domain")
    if isinstance(domain, str) and domain not in ("", "unknown"):
        return domain[:255]
    platform = event.platform
    if platform.url:
        host = urlsplit(platform.url).hostname
        if host:
            return host[:255]
    for value in (platform.app_package, platform.wechat_account, platform.name, platform.id):
        if value:
            return value[:255]
    return None


def link_keys(
    event: RechargeEvent, features: Mapping[str, Any], hmac_key: str | bytes | SecretStr
) -> dict[str, Any]:
    """Keyed HMACs of the payer, instrument, device and platform that link cases into rings
    (a ``kind:`` prefix keeps a payer id from meeting an equal device id), plus the platform
    label. Operator and partner platforms get no key: sharing Alipay is no ring."""
    payment, device = event.payment, event.device
    label = _platform_label(event, features)
    trusted = bool(features.get("platform_official")) or bool(features.get("platform_authorised"))

    def key(kind: str, value: str | None) -> str | None:
        return None if not value else hash_key(f"{kind}:{value}", hmac_key)

    return {
        "platform_label": label,
        "payer_key": key("payer", payment.payer_id),
        "instrument_key": key("instrument", payment.instrument_id),
        "device_key": key("device", device.id),
        "platform_key": None if trusted else key("platform", label.lower() if label else None),
    }


def _rule_ids(decision: Decision) -> list[str]:
    """Ids of the rules behind a decision's reasons, in order, once each."""
    seen: dict[str, None] = {}
    for reason in decision.reasons:
        if reason.source.startswith("rule:"):
            seen.setdefault(reason.source.removeprefix("rule:"), None)
    return list(seen)


@contextmanager
def _database_errors() -> Iterator[None]:
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


def _replay(row: tuple[str, dict[str, Any]], event: RechargeEvent, fingerprint: str) -> Recorded:
    """The stored decision of a retry, or a 409 when the body differs."""
    stored_fingerprint, decision = row
    if stored_fingerprint != fingerprint and stored_fingerprint != _fingerprint_v1(event):
        return _conflict()
    return Decision.model_validate(decision)


def _fingerprint_v1(event: RechargeEvent) -> str:
    """The fingerprint rows stored before 2026-12-04 hold (sorted-key ``json.dumps``; now
    pydantic's serialisation, 4x cheaper): a retry across the upgrade still replays."""
    canonical = json.dumps(event.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _conflict() -> ConflictError:
    return ConflictError(
        "this transaction_id was already scored with a different body",
        [FieldProblem("transaction_id", "use a new transaction_id for a different order")],
    )


class DecisionLog:
    """Stores decisions and opens cases; thread-safe (one session per call).

    ``background_checkpoints``: on a SQLite file, WAL checkpoints run in their own thread
    rather than inside whichever commit crosses the threshold (the service's setting: a
    checkpoint's copy and fsync would otherwise stall that commit's group of requests).
    """

    def __init__(
        self,
        url: str,
        hmac_key: str | bytes | SecretStr,
        sqlite_synchronous: str = "NORMAL",
        *,
        background_checkpoints: bool = False,
    ) -> None:
        self.url = url
        background = background_checkpoints and _sqlite_file(url) is not None
        self.engine = create_db_engine(
            url, sqlite_synchronous, sqlite_auto_checkpoint=not background
        )
        self._checkpointer = WalCheckpointer(self.engine) if background else None
        #: No commit waits on fsync: SQLite with ``synchronous=NORMAL`` whose WAL
        #: checkpoints (which do fsync) run in their own thread, or in memory.
        self.commits_without_fsync = (
            url.startswith("sqlite")
            and sqlite_synchronous == "NORMAL"
            and (background or _sqlite_file(url) is None)
        )
        self._hmac_key = hmac_key
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._driver = DriverStatements(self.engine.dialect)

    def create_tables(self) -> None:
        """Create or upgrade the schema to the newest Alembic revision (idempotent)."""
        upgrade_database(self.engine)

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.close()
        self.engine.dispose()

    def ping(self) -> bool:
        """True when the database answers."""
        try:
            with self._sessions() as session:
                session.execute(select(1))
        except Exception:
            return False
        return True

    def find(self, event: RechargeEvent) -> Decision | None:
        """The stored decision of a retry; ``None`` for a new order; 409 for another body."""
        [found] = self.find_many([event])
        if isinstance(found, FraudGuardError):
            raise found
        return found

    def find_many(self, events: Sequence[RechargeEvent]) -> list[Recorded | None]:
        """:meth:`find` for many orders in one query: each a stored decision, ``None`` (new)
        or a :class:`ConflictError`."""
        if not events:
            return []
        with _database_errors(), self.engine.connect() as connection:
            stored = self._stored(connection, [e.transaction_id for e in events])
        return [
            None
            if (row := stored.get(e.transaction_id)) is None
            else _replay(row, e, e.fingerprint())
            for e in events
        ]

    def _stored(
        self, connection: Connection, ids: Sequence[str]
    ) -> dict[str, tuple[str, dict[str, Any]]]:
        """``transaction_id -> (fingerprint, decision)`` of the ids already stored."""
        return self._driver.stored(connection, list(dict.fromkeys(ids)))

    def record(
        self, event: RechargeEvent, decision: Decision, features: Mapping[str, Any]
    ) -> Decision:
        """Store ``decision`` (and its case when flagged) in one transaction; return it with
        ``case_id`` - or the decision stored earlier for the same order (409 if its body
        differs)."""
        [result] = self.record_many([(event, decision, features)])
        if isinstance(result, FraudGuardError):
            raise result
        return result

    def record_many(
        self, items: Sequence[tuple[RechargeEvent, Decision, Mapping[str, Any]]]
    ) -> list[Recorded]:
        """:meth:`record` for a group of orders with distinct ids, in ONE transaction: one
        commit for the group. Each result is what :meth:`record` would return or raise for
        that order. Raises :class:`UnavailableError` (nothing stored) if the database fails.
        """
        decided = {id(event): (decision, features) for event, decision, features in items}
        results = self.settle([event for event, _, _ in items], lambda e: decided[id(e)])
        # Decided in advance, so every result is a decision or a ConflictError.
        return cast(list[Recorded], results)

    def settle(
        self,
        events: Sequence[RechargeEvent],
        decide: Decide,
        *,
        connection: Connection | None = None,
    ) -> list[Recorded | Exception]:
        """Settle a group of orders with distinct ids in ONE transaction: replay the ones
        already stored (or 409), ``decide`` the new ones - each at most once, so a retry
        never counts twice in the velocity state - and store them with their cases.

        Each result is the decision (with ``case_id``), a :class:`ConflictError`, or what
        ``decide`` raised for that order. Raises :class:`UnavailableError` (nothing
        stored) if the database fails. ``connection``: one the caller holds (not in a
        transaction), instead of one from the pool for this group.
        """
        if len({event.transaction_id for event in events}) != len(events):
            raise ValueError("settle needs distinct transaction ids")
        fingerprints = [event.fingerprint() for event in events]
        decided: dict[int, tuple[Decision, Mapping[str, Any]] | Exception] = {}

        def decide_once(i: int) -> tuple[Decision, Mapping[str, Any]] | Exception:
            if i not in decided:
                try:
                    decided[i] = decide(events[i])
                except Exception as error:  # answered to that order alone
                    decided[i] = error
            return decided[i]

        positions = list(range(len(events)))
        try:
            return self._settle(events, fingerprints, positions, decide_once, connection)
        except IntegrityError:
            pass
        # Another process stored one of these ids between our read and our insert: settle
        # each order on its own (the rare path), reusing the decisions already made.
        results: list[Recorded | Exception] = []
        for i in positions:
            for _attempt in range(2):
                try:
                    [result] = self._settle(events, fingerprints, [i], decide_once, connection)
                except IntegrityError:
                    continue  # the winner committed: the next read replays it
                results.append(result)
                break
            else:
                raise UnavailableError("the decision log refused the write")
        return results

    def _settle(
        self,
        events: Sequence[RechargeEvent],
        fingerprints: Sequence[str],
        positions: Sequence[int],
        decide: Callable[[int], tuple[Decision, Mapping[str, Any]] | Exception],
        held: Connection | None,
    ) -> list[Recorded | Exception]:
        # Core statements, not ORM objects: a group is one SELECT, one multi-row INSERT of
        # decisions and, when some are flagged, one INSERT of cases and one UPDATE.
        results: dict[int, Recorded | Exception] = {}
        with _database_errors(), self._transaction(held) as connection:
            stored = self._stored(connection, [events[i].transaction_id for i in positions])
            new: list[tuple[int, Decision, dict[str, Any]]] = []
            for i in positions:
                row = stored.get(events[i].transaction_id)
                if row is not None:
                    results[i] = _replay(row, events[i], fingerprints[i])
                    continue
                outcome = decide(i)
                if isinstance(outcome, Exception):
                    results[i] = outcome
                    continue
                decision, features = outcome
                values = self._decision_values(events[i], decision, features, fingerprints[i])
                new.append((i, decision, values))
            if new:
                self._driver.insert(connection, [values for _, _, values in new])
            flagged = [item for item in new if item[1].decision is not DecisionOutcome.ALLOW]
            case_ids = self._open_cases(connection, flagged) if flagged else {}
            for i, decision, _ in new:
                results[i] = decision.model_copy(update={"case_id": case_ids.get(i)})
        return [results[i] for i in positions]

    @contextmanager
    def _transaction(self, held: Connection | None) -> Iterator[Connection]:
        """A transaction on ``held``, or on a connection from the pool."""
        if held is None:
            with self.engine.begin() as connection:
                yield connection
        else:
            with held.begin():
                yield held

    def _decision_values(
        self,
        event: RechargeEvent,
        decision: Decision,
        features: Mapping[str, Any],
        fingerprint: str,
    ) -> dict[str, Any]:
        return {
            "transaction_id": event.transaction_id,
            "fingerprint": fingerprint,
            "decision": decision.model_dump(mode="json"),
            "outcome": decision.decision.value,
            "score": decision.score,
            "model_version": decision.model_version,
            "ruleset_version": decision.ruleset_version,
            "msisdn_hash": hash_key(event.msisdn, self._hmac_key),
            # NaN, numpy scalars and enums are made JSON by the engine's serializer.
            "features": features,
            "created_at": datetime.now(UTC),
            "event_time": event.event_time,
            "amount": event.amount,
            "paid_amount": event.paid_amount,
            "channel": event.channel.value,
            "msisdn_masked": mask(event.msisdn),
            **link_keys(event, features, self._hmac_key),
        }

    @staticmethod
    def _open_cases(
        connection: Connection, flagged: Sequence[tuple[int, Decision, dict[str, Any]]]
    ) -> dict[int, str]:
        """One case per flagged decision; the stored decisions get their ``case_id``."""
        cases = [
            {
                "transaction_id": values["transaction_id"],
                "status": CaseStatus.OPEN.value,
                "priority": round(decision.score * (values["amount"] or 0.0), 2),
                "family": decision.reasons[0].family.value,
                "created_at": values["created_at"],
                "outcome": decision.decision.value,
                "score": decision.score,
                "amount": values["amount"],
                "rules": _rule_ids(decision),
                "updated_at": values["created_at"],
                **{key: values[key] for key in _LINK_COLUMNS},
            }
            for _, decision, values in flagged
        ]
        numbers = connection.execute(_INSERT_CASES, cases).scalars()
        labels = [case_label(number) for number in numbers]
        connection.execute(
            _SET_CASE_ID,
            [
                {
                    "tid": values["transaction_id"],
                    "stored": {**values["decision"], "case_id": label},
                }
                for (_, _, values), label in zip(flagged, labels, strict=True)
            ],
        )
        return {i: label for (i, _, _), label in zip(flagged, labels, strict=True)}

    def count_cases(self) -> int:
        with self._sessions() as session:
            return len(session.scalars(select(CaseRow.id)).all())


#: Scores one new order: its decision and the features to store with it.
Decide = Callable[[RechargeEvent], tuple[Decision, Mapping[str, Any]]]


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
                with _database_errors():
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
