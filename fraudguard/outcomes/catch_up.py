"""Keeping a scorer's feedback store in step with the log: every fraud report stored, by
whichever path stored it (``POST /v1/outcomes``, a reviewer's disposition, ``fraudguard
outcomes import``, another worker), reaches the store.

:class:`FeedbackCatchUp` is stepped by each worker: its first step **warms** the store
from the log (the reports known within the stores' retention plus one longest window, so
the one-count-per-order rule holds at the retention's edge); every later step **catches
up** with the fraud outcomes and disposition audit rows stored since (ids above the last
seen, plus any row stamped within :data:`LOOKBACK` not seen yet: on PostgreSQL a
transaction that took a lower id can commit after a higher one). Recording is idempotent
per reported order, so the request path and a step recording the same report count it
once.

A store or database that fails during a step is logged (no personal data) and the step's
cursors stay where they were: the next step retries. Scoring never waits on a step.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pandas as pd
from sqlalchemy import ColumnElement, Connection, Engine, func, or_, select
from sqlalchemy.exc import SQLAlchemyError

from fraudguard.cases import AuditAction
from fraudguard.db import AuditRow, CaseRow, OutcomeRow
from fraudguard.exceptions import StateStoreError
from fraudguard.features.feedback import FeedbackFeatures
from fraudguard.features.feedback_store import RETAIN_MARGIN_S, FeedbackStore
from fraudguard.outcomes.feedback import _confirms_fraud, _frame, _known
from fraudguard.outcomes.policy import LabelPolicy

__all__ = ["LOOKBACK", "FeedbackCatchUp"]

_log = logging.getLogger(__name__)

#: How far back a step looks again for rows committed out of id order (a long import chunk,
#: another worker's clock): longer than any one write transaction.
LOOKBACK = timedelta(minutes=5)

#: One row read: its id, the reported order, when the report became known, the time the
#: lookback compares (when FraudGuard stored the row), and whether it reports fraud (a
#: disposition may say otherwise: read, so the cursor passes it, but not recorded).
_Row = tuple[int, str, pd.Timestamp, datetime, bool]


@dataclass
class _Cursor:
    """How far one table has been read: the highest id, and the ids read recently (so a
    lookback does not record them again)."""

    last_id: int = 0
    recent: dict[int, datetime] = field(default_factory=dict)

    def advanced(self, rows: list[_Row], top: int, since: datetime) -> _Cursor:
        recent = {i: at for i, at in self.recent.items() if at >= since}
        recent.update((row[0], row[3]) for row in rows if row[3] >= since)
        return _Cursor(max(self.last_id, top, *(row[0] for row in rows)), recent)


class FeedbackCatchUp:
    """Warms and then catches up ``store`` from the log (module docstring).

    ``clock`` gives the current time (tz-aware); ``policy`` says which outcome kinds are
    fraud (the service's label policy, as the request path uses).
    """

    def __init__(
        self,
        engine: Engine,
        policy: LabelPolicy,
        feedback: FeedbackFeatures,
        store: FeedbackStore,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        lookback: timedelta = LOOKBACK,
    ) -> None:
        self.engine = engine
        self.feedback = feedback
        self.store = store
        self._fraud = sorted(kind.value for kind in policy.fraud_kinds)
        self._clock = clock
        self._lookback = lookback
        longest = max(feedback.windows_s)
        self._warm_span = timedelta(seconds=2 * longest + RETAIN_MARGIN_S)
        self._outcomes = _Cursor()
        self._audit = _Cursor()
        #: When the last step succeeded (``None``: the store is not warmed yet).
        self.caught_up_at: datetime | None = None
        # The reload loop and a test (or a start-up warm) may step at once: one at a time.
        self._lock = threading.Lock()

    @property
    def warmed(self) -> bool:
        return self.caught_up_at is not None

    def step(self) -> int:
        """Warm the store (first successful step) or record what was stored since the last
        one; returns how many reports counted (the rest were already counted)."""
        with self._lock:
            now = self._clock()
            try:
                with self.engine.connect() as connection:
                    if self.warmed:
                        read = self._since_last(connection, now - self._lookback)
                    else:
                        read = self._warm(connection, now - self._warm_span)
                outcomes, audit, (outcome_top, audit_top) = read
                rows = [(row[1], row[2]) for row in outcomes + audit if row[4]]
                reports = _frame(rows, self.engine, self.feedback) if rows else None
                counted = 0 if reports is None else self.feedback.record(self.store, reports)
            except StateStoreError:
                _log.error("feedback store unavailable: catch-up with the log retried next round")
                return 0
            except SQLAlchemyError as error:
                _log.error(
                    "decision log unavailable: feedback catch-up retried next round (%s)",
                    type(error).__name__,
                )
                return 0
            since = now - self._lookback
            self._outcomes = self._outcomes.advanced(outcomes, outcome_top, since)
            self._audit = self._audit.advanced(audit, audit_top, since)
            self.caught_up_at = now
            return counted

    # --- reads ---------------------------------------------------------------------------

    def _warm(
        self, connection: Connection, floor: datetime
    ) -> tuple[list[_Row], list[_Row], tuple[int, int]]:
        """Reports known after ``floor`` up to each table's highest id now."""
        outcome_top = connection.scalar(select(func.max(OutcomeRow.id))) or 0
        audit_top = connection.scalar(select(func.max(AuditRow.id))) or 0
        outcomes = self._outcome_rows(
            connection,
            OutcomeRow.id <= outcome_top,
            or_(OutcomeRow.reported_at > floor, OutcomeRow.received_at > floor),
        )
        audit = self._disposition_rows(connection, AuditRow.id <= audit_top, AuditRow.at > floor)
        return outcomes, audit, (outcome_top, audit_top)

    def _since_last(
        self, connection: Connection, since: datetime
    ) -> tuple[list[_Row], list[_Row], tuple[int, int]]:
        """Rows above the cursors, and rows stamped since ``since`` not read yet."""
        outcomes = [
            row
            for row in self._outcome_rows(
                connection,
                or_(OutcomeRow.id > self._outcomes.last_id, OutcomeRow.received_at >= since),
            )
            if row[0] not in self._outcomes.recent
        ]
        audit = [
            row
            for row in self._disposition_rows(
                connection, or_(AuditRow.id > self._audit.last_id, AuditRow.at >= since)
            )
            if row[0] not in self._audit.recent
        ]
        return outcomes, audit, (0, 0)

    def _outcome_rows(self, connection: Connection, *where: ColumnElement[bool]) -> list[_Row]:
        query = (
            select(
                OutcomeRow.id,
                OutcomeRow.transaction_id,
                OutcomeRow.reported_at,
                OutcomeRow.received_at,
            )
            .where(OutcomeRow.kind.in_(self._fraud), *where)
            .order_by(OutcomeRow.id)
        )
        return [
            (number, tid, _known(reported, received), received, True)
            for number, tid, reported, received in connection.execute(query)
        ]

    @staticmethod
    def _disposition_rows(connection: Connection, *where: ColumnElement[bool]) -> list[_Row]:
        query = (
            select(AuditRow.id, CaseRow.transaction_id, AuditRow.at, AuditRow.details)
            .join(CaseRow, CaseRow.id == AuditRow.case_id)
            .where(AuditRow.action == AuditAction.DISPOSITION.value, *where)
            .order_by(AuditRow.id)
        )
        return [
            (number, tid, pd.Timestamp(at), at, _confirms_fraud(details))
            for number, tid, at, details in connection.execute(query)
        ]
