"""The decision log: idempotent on ``transaction_id``, one case per flagged order.

* Same ``transaction_id`` and same body (sha256 of the canonical JSON): the stored decision
  is returned, no second case is opened.
* Same ``transaction_id``, different body: :class:`~fraudguard.exceptions.ConflictError` (409).
* Two requests with one id at once: the second insert hits the primary key, rolls back and
  re-reads the winner's row.
"""

from __future__ import annotations

import hashlib
import math
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import numpy as np
from pydantic import SecretStr
from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from fraudguard.cases.database import upgrade_database
from fraudguard.cases.enums import CaseStatus
from fraudguard.cases.models import CaseRow, DecisionRow
from fraudguard.exceptions import ConflictError, FieldProblem, UnavailableError
from fraudguard.privacy import hash_key, mask
from fraudguard.schema import Decision, DecisionOutcome, RechargeEvent

__all__ = ["DecisionLog", "case_label", "create_db_engine", "link_keys"]


def case_label(number: int) -> str:
    """``case-000042`` for case 42."""
    return f"case-{number:06d}"


def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def create_db_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite files get WAL + ``synchronous=NORMAL`` on connect."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            from pathlib import Path

            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _platform_label(event: RechargeEvent, features: dict[str, Any]) -> str | None:
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
    event: RechargeEvent, features: dict[str, Any], hmac_key: str | bytes | SecretStr
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


def _conflict() -> ConflictError:
    return ConflictError(
        "this transaction_id was already scored with a different body",
        [FieldProblem("transaction_id", "use a new transaction_id for a different order")],
    )


class DecisionLog:
    """Stores decisions and opens cases; thread-safe (one session per call)."""

    def __init__(self, url: str, hmac_key: str | bytes | SecretStr) -> None:
        self.url = url
        self.engine = create_db_engine(url)
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
        with self._sessions() as session:
            row = session.get(DecisionRow, event.transaction_id)
            if row is None:
                return None
            return self._replay(row, self.fingerprint(event))

    def record(
        self, event: RechargeEvent, decision: Decision, features: dict[str, Any]
    ) -> Decision:
        """Store ``decision`` (and its case when flagged) in one transaction; return it with
        ``case_id`` - or the decision stored earlier for the same order."""
        fingerprint = self.fingerprint(event)
        try:
            with self._sessions() as session, session.begin():
                existing = session.get(DecisionRow, event.transaction_id)
                if existing is not None:
                    return self._replay(existing, fingerprint)
                return self._insert(session, event, decision, features, fingerprint)
        except IntegrityError:
            # Lost the race: another request stored this transaction_id first.
            with self._sessions() as session:
                row = session.get(DecisionRow, event.transaction_id)
                if row is None:
                    raise UnavailableError("the decision log refused the write") from None
                return self._replay(row, fingerprint)

    def _insert(
        self,
        session: Session,
        event: RechargeEvent,
        decision: Decision,
        features: dict[str, Any],
        fingerprint: str,
    ) -> Decision:
        now = datetime.now(UTC)
        links = link_keys(event, features, self._hmac_key)
        row = DecisionRow(
            transaction_id=event.transaction_id,
            fingerprint=fingerprint,
            decision={},
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
        session.flush()  # the primary key decides the race here
        case_id: str | None = None
        if decision.decision is not DecisionOutcome.ALLOW:
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
        stored = decision.model_copy(update={"case_id": case_id})
        row.decision = stored.model_dump(mode="json")
        return stored

    @staticmethod
    def _replay(row: DecisionRow, fingerprint: str) -> Decision:
        if row.fingerprint != fingerprint:
            raise _conflict()
        return Decision.model_validate(row.decision)

    def count_cases(self) -> int:
        with self._sessions() as session:
            return len(session.scalars(select(CaseRow.id)).all())
