"""The decision log: idempotent on ``transaction_id``, one case per flagged order.

* Same ``transaction_id`` and same body (sha256 of the canonical JSON): the stored decision
  is returned, no second case is opened.
* Same ``transaction_id``, different body: :class:`~fraudguard.exceptions.ConflictError` (409).
* Two requests with one id at once: the second insert hits the primary key, rolls back and
  re-reads the winner's row.
* :meth:`DecisionLog.record_many` stores a group of decisions in one transaction (one commit
  for many concurrent requests); :class:`DecisionWriter` is the one thread of a process that
  decides and stores each group, so every answer waits for its own commit and no longer.
* A database that cannot be reached is :class:`~fraudguard.exceptions.UnavailableError`
  (503, "retry with the same transaction_id"), never a 500; the pool reconnects by itself.
"""

from __future__ import annotations

import hashlib
import logging
import math
import queue
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import orjson
from pydantic import SecretStr
from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

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
    "Recorded",
    "case_label",
    "create_db_engine",
    "link_keys",
]

_log = logging.getLogger(__name__)

#: What storing one order gives: its decision (with ``case_id``) or the error to answer with.
Recorded = Decision | FraudGuardError


def case_label(number: int) -> str:
    """``case-000042`` for case 42."""
    return f"case-{number:06d}"


def _sqlite_pragmas(synchronous: str) -> Callable[[Any, ConnectionPoolEntry], None]:
    if synchronous not in ("NORMAL", "FULL"):
        raise ValueError("synchronous must be NORMAL or FULL")
    return lambda connection, _record: _set_pragmas(connection, synchronous)


def _set_pragmas(dbapi_connection: Any, synchronous: str) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # WAL + NORMAL: a committed decision survives a crash of the process (SIGKILL); only a
    # power cut can lose the last commits. FRAUDGUARD_SQLITE_SYNCHRONOUS=FULL fsyncs every
    # commit (one per group of orders) for power-cut durability too.
    cursor.execute(f"PRAGMA synchronous={synchronous}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def create_db_engine(url: str, sqlite_synchronous: str = "NORMAL") -> Engine:
    """An engine for ``url``; SQLite files get WAL + ``synchronous=NORMAL`` (or ``FULL``)."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            from pathlib import Path

            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 10},
            json_serializer=_json_text,
            json_deserializer=orjson.loads,
        )
        event.listen(engine, "connect", _sqlite_pragmas(sqlite_synchronous))
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
    return orjson.dumps(value).decode("utf-8")


_PLAIN = frozenset({bool, int, str, type(None)})


def _jsonable(value: Any) -> Any:
    kind = type(value)
    if kind is float:
        return value if math.isfinite(value) else None
    if kind in _PLAIN:
        return value
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


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


def _conflict() -> ConflictError:
    return ConflictError(
        "this transaction_id was already scored with a different body",
        [FieldProblem("transaction_id", "use a new transaction_id for a different order")],
    )


class DecisionLog:
    """Stores decisions and opens cases; thread-safe (one session per call)."""

    def __init__(
        self, url: str, hmac_key: str | bytes | SecretStr, sqlite_synchronous: str = "NORMAL"
    ) -> None:
        self.url = url
        self.engine = create_db_engine(url, sqlite_synchronous)
        self._hmac_key = hmac_key
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def create_tables(self) -> None:
        """Create or upgrade the schema to the newest Alembic revision (idempotent)."""
        upgrade_database(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def ping(self) -> bool:
        """True when the database answers."""
        try:
            with self._sessions() as session:
                session.execute(select(1))
        except Exception:
            return False
        return True

    @staticmethod
    def fingerprint(event: RechargeEvent) -> str:
        return hashlib.sha256(event.fingerprint().encode("utf-8")).hexdigest()

    def find(self, event: RechargeEvent) -> Decision | None:
        """The stored decision of a retry; ``None`` for a new order; 409 for another body."""
        with _database_errors(), self._sessions() as session:
            row = session.get(DecisionRow, event.transaction_id)
            if row is None:
                return None
            return self._replay(row, self.fingerprint(event))

    def find_many(self, events: Sequence[RechargeEvent]) -> list[Recorded | None]:
        """:meth:`find` for many orders in one query: each a stored decision, ``None`` (new)
        or a :class:`ConflictError`."""
        if not events:
            return []
        with _database_errors(), self._sessions() as session:
            stored = self._stored(session, [e.transaction_id for e in events])
        return [
            None
            if (row := stored.get(e.transaction_id)) is None
            else self._replay_or_error(row, self.fingerprint(e))
            for e in events
        ]

    @staticmethod
    def _stored(session: Session, ids: Sequence[str]) -> dict[str, tuple[str, dict[str, Any]]]:
        """``transaction_id -> (fingerprint, decision)`` of the ids already stored."""
        query = select(
            DecisionRow.transaction_id, DecisionRow.fingerprint, DecisionRow.decision
        ).where(DecisionRow.transaction_id.in_(set(ids)))
        return {tid: (fp, decision) for tid, fp, decision in session.execute(query)}

    def record(
        self, event: RechargeEvent, decision: Decision, features: Mapping[str, Any]
    ) -> Decision:
        """Store ``decision`` (and its case when flagged) in one transaction; return it with
        ``case_id`` - or the decision stored earlier for the same order."""
        fingerprint = self.fingerprint(event)
        try:
            with _database_errors(), self._sessions() as session, session.begin():
                existing = session.get(DecisionRow, event.transaction_id)
                if existing is not None:
                    return self._replay(existing, fingerprint)
                return self._insert(session, event, decision, features, fingerprint)
        except IntegrityError:
            # Lost the race: another request stored this transaction_id first.
            with _database_errors(), self._sessions() as session:
                row = session.get(DecisionRow, event.transaction_id)
                if row is None:
                    raise UnavailableError("the decision log refused the write") from None
                return self._replay(row, fingerprint)

    def record_many(
        self, items: Sequence[tuple[RechargeEvent, Decision, Mapping[str, Any]]]
    ) -> list[Recorded]:
        """:meth:`record` for a group of orders with distinct ids, in ONE transaction: one
        commit for the group. Each result is what :meth:`record` would return or raise for
        that order. Raises :class:`UnavailableError` (nothing stored) if the database fails.
        """
        if len({event.transaction_id for event, _, _ in items}) != len(items):
            raise ValueError("record_many needs distinct transaction ids")
        fingerprints = [self.fingerprint(event) for event, _, _ in items]
        try:
            with _database_errors(), self._sessions() as session, session.begin():
                stored = self._stored(session, [event.transaction_id for event, _, _ in items])
                results: list[Recorded] = []
                for (event, decision, features), fingerprint in zip(
                    items, fingerprints, strict=True
                ):
                    row = stored.get(event.transaction_id)
                    if row is not None:
                        results.append(self._replay_or_error(row, fingerprint))
                    else:
                        results.append(
                            self._insert(session, event, decision, features, fingerprint)
                        )
                return results
        except IntegrityError:
            # Another process stored one of these ids between our read and our insert:
            # settle each order on its own (the rare path; the race is then per row).
            return [self._record_or_error(event, d, f) for event, d, f in items]

    def _record_or_error(
        self, event: RechargeEvent, decision: Decision, features: Mapping[str, Any]
    ) -> Recorded:
        try:
            return self.record(event, decision, features)
        except ConflictError as error:
            return error

    def _insert(
        self,
        session: Session,
        event: RechargeEvent,
        decision: Decision,
        features: Mapping[str, Any],
        fingerprint: str,
    ) -> Decision:
        now = datetime.now(UTC)
        links = link_keys(event, features, self._hmac_key)
        row = DecisionRow(
            transaction_id=event.transaction_id,
            fingerprint=fingerprint,
            decision=decision.model_dump(mode="json"),
            outcome=decision.decision.value,
            score=decision.score,
            model_version=decision.model_version,
            ruleset_version=decision.ruleset_version,
            msisdn_hash=hash_key(event.msisdn, self._hmac_key),
            features={name: _jsonable(value) for name, value in features.items()},
            created_at=now,
            event_time=event.event_time,
            amount=event.amount,
            paid_amount=event.paid_amount,
            channel=event.channel.value,
            msisdn_masked=mask(event.msisdn),
            **links,
        )
        session.add(row)
        # The primary key decides the race at the flush: here for a flagged order (its case
        # needs the row), at the commit for an allow (so a group's allows are one INSERT).
        case_id: str | None = None
        if decision.decision is not DecisionOutcome.ALLOW:
            session.flush()  # the case's foreign key needs the row first
            case = CaseRow(
                transaction_id=event.transaction_id,
                status=CaseStatus.OPEN.value,
                priority=round(decision.score * event.amount, 2),
                family=decision.reasons[0].family.value,
                created_at=now,
                outcome=decision.decision.value,
                score=decision.score,
                amount=event.amount,
                rules=_rule_ids(decision),
                updated_at=now,
                **links,
            )
            session.add(case)
            session.flush()
            case_id = case_label(case.id)
            # Only a flagged row is updated with its case id: an allow is one INSERT.
            row.decision = decision.model_copy(update={"case_id": case_id}).model_dump(mode="json")
        return decision.model_copy(update={"case_id": case_id})

    @staticmethod
    def _replay(row: DecisionRow, fingerprint: str) -> Decision:
        if row.fingerprint != fingerprint:
            raise _conflict()
        return Decision.model_validate(row.decision)

    @staticmethod
    def _replay_or_error(row: tuple[str, dict[str, Any]], fingerprint: str) -> Recorded:
        stored_fingerprint, decision = row
        if stored_fingerprint != fingerprint:
            return _conflict()
        return Decision.model_validate(decision)

    def count_cases(self) -> int:
        with self._sessions() as session:
            return len(session.scalars(select(CaseRow.id)).all())


#: Scores one new order: its decision and the features to store with it.
Decide = Callable[[RechargeEvent], tuple[Decision, Mapping[str, Any]]]


@dataclass
class _Job:
    events: Sequence[RechargeEvent]
    future: Future[list[Recorded | BaseException]] = field(default_factory=Future)


class DecisionWriter:
    """Group commit: the one thread of a process that decides and stores orders.

    Requests :meth:`submit` their orders and wait on the future; the thread takes every job
    waiting (up to ``max_group`` orders), reads which ids are already stored (one query),
    scores only the new ones with ``decide`` - so a retry never counts twice in the
    velocity state - and stores them with :meth:`DecisionLog.record_many` in one
    transaction. Each future resolves after that commit: an order is never answered before
    it is on disk. An id twice in one group is settled in a second round, as a retry.
    """

    def __init__(self, log: DecisionLog, decide: Decide, max_group: int = 64) -> None:
        self.log = log
        self._decide = decide
        self._max_group = max_group
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="decision-writer", daemon=True)
        self._thread.start()

    def submit(self, events: Sequence[RechargeEvent]) -> Future[list[Recorded | BaseException]]:
        """Decide and store ``events``; the future holds one result per event, in order:
        the decision, or the error to answer with for that event."""
        job = _Job(events)
        if not self._thread.is_alive():
            job.future.set_exception(UnavailableError("the service is shutting down"))
        else:
            self._jobs.put(job)
        return job.future

    def close(self, timeout: float = 10) -> None:
        """Finish the jobs already submitted, then stop the thread."""
        self._jobs.put(None)
        self._thread.join(timeout)

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

    def _process(self, jobs: list[_Job]) -> None:
        events = [event for job in jobs for event in job.events]
        try:
            results = self._settle(events)
        except BaseException as error:  # the database is down: every waiting request hears it
            for job in jobs:
                job.future.set_exception(error)
            return
        start = 0
        for job in jobs:
            job.future.set_result(results[start : start + len(job.events)])
            start += len(job.events)

    def _settle(self, events: list[RechargeEvent]) -> list[Recorded | BaseException]:
        results: list[Recorded | BaseException | None] = [None] * len(events)
        pending = list(range(len(events)))
        while pending:
            seen: set[str] = set()
            this_round: list[int] = []
            later: list[int] = []
            for i in pending:
                tid = events[i].transaction_id
                (later if tid in seen else this_round).append(i)
                seen.add(tid)
            self._round(events, this_round, results)
            pending = later
        return [r if r is not None else UnavailableError("not settled") for r in results]

    def _round(
        self,
        events: list[RechargeEvent],
        indices: list[int],
        results: list[Recorded | BaseException | None],
    ) -> None:
        prior = self.log.find_many([events[i] for i in indices])
        new: list[int] = []
        items: list[tuple[RechargeEvent, Decision, Mapping[str, Any]]] = []
        for i, stored in zip(indices, prior, strict=True):
            if stored is not None:
                results[i] = stored
                continue
            try:
                decision, features = self._decide(events[i])
            except Exception as error:  # answered to that request alone (4xx, 503 or 500)
                results[i] = error
                continue
            new.append(i)
            items.append((events[i], decision, features))
        for i, recorded in zip(new, self.log.record_many(items), strict=True):
            results[i] = recorded
