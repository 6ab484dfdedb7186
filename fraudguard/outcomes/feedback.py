"""Fraud reports for the feedback features, from outcomes and dispositions in the log.

A report is an order known to be fraud (see :mod:`fraudguard.features.feedback`): a
stored outcome of a kind the label policy calls fraud, known from
``max(reported_at, received_at)``, or a reviewer's ``confirmed_fraud``, known from when it
was recorded. Its entity keys are the scored order's linking keys in the decision log; the
promotion key is derived from the logged order's promotion code. Orders FraudGuard never
scored give no report (nothing is known about their entities).

* :func:`outcome_reports` and :func:`disposition_reports`: the reports one request just
  made, for recording online.
* :func:`feedback_reports_as_of`: every report known at a moment, for a training set
  (``FeedbackFeatures.transform_many(frame, reports=...)``).

All answer a frame of :data:`~fraudguard.features.feedback.REPORT_COLUMNS`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
import pandas as pd
from sqlalchemy import Engine, select

from fraudguard.cases import AuditAction, Disposition
from fraudguard.db import AuditRow, CaseRow, DecisionRow, OutcomeRow
from fraudguard.features.feedback import REPORT_COLUMNS, FeedbackFeatures
from fraudguard.outcomes.labels import _utc
from fraudguard.outcomes.policy import LabelPolicy

__all__ = ["disposition_reports", "feedback_reports_as_of", "outcome_reports"]

_KEYS = (
    DecisionRow.transaction_id,
    DecisionRow.platform_key,
    DecisionRow.device_key,
    DecisionRow.instrument_key,
    DecisionRow.payer_key,
    DecisionRow.event,
)
_CHUNK = 2000


def _frame(
    rows: list[tuple[str, pd.Timestamp]], engine: Engine, fb: FeedbackFeatures
) -> pd.DataFrame:
    """Reports for ``(transaction_id, known_at)`` pairs: the decision log's keys joined in."""
    ids = list(dict.fromkeys(tid for tid, _ in rows))
    keys: dict[str, dict[str, Any]] = {}
    with engine.connect() as connection:
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            for tid, platform, device, instrument, payer, event in connection.execute(
                select(*_KEYS).where(DecisionRow.transaction_id.in_(chunk))
            ):
                code = orjson.loads(event).get("promotion_code") if event else None
                keys[tid] = {
                    "platform_key": platform,
                    "promotion_key": fb.promotion_key(code),
                    "device_key": device,
                    "instrument_key": instrument,
                    "payer_key": payer,
                }
    out = [{"report_id": tid, "known_at": known, **keys[tid]} for tid, known in rows if tid in keys]
    frame = pd.DataFrame(out, columns=list(REPORT_COLUMNS))
    frame["known_at"] = pd.to_datetime(frame["known_at"], utc=True)
    return frame.sort_values("known_at", kind="stable").reset_index(drop=True)


def _confirms_fraud(details: dict[str, Any] | None) -> bool:
    """Whether a disposition audit row's details record a ``confirmed_fraud``."""
    change = (details or {}).get("disposition")
    confirmed = Disposition.CONFIRMED_FRAUD.value
    return isinstance(change, list) and len(change) == 2 and change[1] == confirmed


def _known(reported_at: datetime, received_at: datetime) -> pd.Timestamp:
    return max(pd.Timestamp(reported_at), pd.Timestamp(received_at))


def outcome_reports(
    engine: Engine, outcome_ids: Sequence[int], policy: LabelPolicy, fb: FeedbackFeatures
) -> pd.DataFrame:
    """Reports of the stored outcomes ``outcome_ids`` whose kind ``policy`` calls fraud."""
    fraud = sorted(kind.value for kind in policy.fraud_kinds)
    rows: list[tuple[str, pd.Timestamp]] = []
    with engine.connect() as connection:
        for start in range(0, len(outcome_ids), _CHUNK):
            chunk = list(outcome_ids[start : start + _CHUNK])
            for tid, reported, received in connection.execute(
                select(OutcomeRow.transaction_id, OutcomeRow.reported_at, OutcomeRow.received_at)
                .where(OutcomeRow.id.in_(chunk), OutcomeRow.kind.in_(fraud))
                .order_by(OutcomeRow.id)
            ):
                rows.append((tid, _known(reported, received)))
    return _frame(rows, engine, fb)


def disposition_reports(
    engine: Engine, transaction_id: str, disposed_at: datetime, fb: FeedbackFeatures
) -> pd.DataFrame:
    """The report of a ``confirmed_fraud`` disposition on ``transaction_id``'s case."""
    return _frame([(transaction_id, pd.Timestamp(disposed_at))], engine, fb)


def feedback_reports_as_of(
    engine: Engine, as_of: datetime, policy: LabelPolicy, fb: FeedbackFeatures
) -> pd.DataFrame:
    """Every report known at ``as_of`` (known time ``<= as_of``), oldest first: what an
    online feedback store told about each of them holds. Feed it to
    ``FeedbackFeatures.transform_many(frame, reports=...)``."""
    moment = _utc(as_of, "as_of")
    fraud = sorted(kind.value for kind in policy.fraud_kinds)
    rows: list[tuple[str, pd.Timestamp]] = []
    with engine.connect() as connection:
        for tid, reported, received in connection.execute(
            select(OutcomeRow.transaction_id, OutcomeRow.reported_at, OutcomeRow.received_at)
            .where(
                OutcomeRow.kind.in_(fraud),
                OutcomeRow.reported_at <= moment.to_pydatetime(),
                OutcomeRow.received_at <= moment.to_pydatetime(),
            )
            .order_by(OutcomeRow.id)
        ):
            rows.append((tid, _known(reported, received)))
        for tid, at, details in connection.execute(
            select(CaseRow.transaction_id, AuditRow.at, AuditRow.details)
            .join(CaseRow, CaseRow.id == AuditRow.case_id)
            .where(
                AuditRow.action == AuditAction.DISPOSITION.value,
                AuditRow.at <= moment.to_pydatetime(),
            )
            .order_by(AuditRow.id)
        ):
            if _confirms_fraud(details):
                rows.append((tid, pd.Timestamp(at)))
    return _frame(rows, engine, fb)
