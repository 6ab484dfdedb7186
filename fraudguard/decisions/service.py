"""The decision log: idempotent on ``transaction_id``, one case per flagged order.

* Same ``transaction_id`` and same body (sha256 of the canonical JSON): the stored decision
  is returned, no second case is opened.
* Same ``transaction_id``, different body: :class:`~fraudguard.exceptions.ConflictError` (409).
* Two requests with one id at once: the second insert hits the primary key, rolls back and
  re-reads the winner's row.
* :meth:`DecisionLog.settle` decides and stores a group of orders in one transaction (one
  commit for many concurrent requests); the writers in :mod:`fraudguard.decisions.writer`
  settle each group, so every answer waits for its own commit and no longer.
* A database that cannot be reached is :class:`~fraudguard.exceptions.UnavailableError`
  (503, "retry with the same transaction_id"), never a 500; the pool reconnects by itself.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, cast
from urllib.parse import urlsplit

from pydantic import SecretStr
from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from fraudguard.cases import CaseStatus, case_label
from fraudguard.db import (
    CaseRow,
    DecisionRow,
    create_db_engine,
    database_errors,
    sqlite_file,
    upgrade_database,
)
from fraudguard.decisions._driver import DriverStatements
from fraudguard.decisions._wal import WalCheckpointer
from fraudguard.decisions.events import logged_event
from fraudguard.exceptions import ConflictError, FieldProblem, FraudGuardError, UnavailableError
from fraudguard.privacy import hash_key, mask
from fraudguard.schema import Decision, DecisionOutcome, RechargeEvent

__all__ = ["Decide", "DecisionLog", "Recorded", "link_keys"]


# Built once: statements are cheap to run, not to build. The two statements of every group
# (stored ids, new decisions) run on the driver's cursor: fraudguard.decisions._driver.
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
        background = background_checkpoints and sqlite_file(url) is not None
        self.engine = create_db_engine(
            url, sqlite_synchronous, sqlite_auto_checkpoint=not background
        )
        self._checkpointer = WalCheckpointer(self.engine) if background else None
        #: No commit waits on fsync: SQLite with ``synchronous=NORMAL`` whose WAL
        #: checkpoints (which do fsync) run in their own thread, or in memory.
        self.commits_without_fsync = (
            url.startswith("sqlite")
            and sqlite_synchronous == "NORMAL"
            and (background or sqlite_file(url) is None)
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
        with database_errors(), self.engine.connect() as connection:
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
        with database_errors(), self._transaction(held) as connection:
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
        keys = link_keys(event, features, self._hmac_key)
        msisdn_hash = hash_key(event.msisdn, self._hmac_key)
        return {
            "transaction_id": event.transaction_id,
            "fingerprint": fingerprint,
            "decision": decision.model_dump(mode="json"),
            "outcome": decision.decision.value,
            "score": decision.score,
            "model_version": decision.model_version,
            "ruleset_version": decision.ruleset_version,
            "msisdn_hash": msisdn_hash,
            # NaN, numpy scalars and enums are made JSON by the engine's serializer.
            "features": features,
            "created_at": datetime.now(UTC),
            "event_time": event.event_time,
            "amount": event.amount,
            "paid_amount": event.paid_amount,
            "channel": event.channel.value,
            "msisdn_masked": mask(event.msisdn),
            **keys,
            # What rebuilds a training set (fraudguard.learning); ids keyed, see events.py.
            "event": logged_event(event, keys, msisdn_hash),
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
