"""Exports of cases as CSV: the columns every role sees (phone numbers only masked: the
mask is all that is stored), the pseudonym columns only some roles may see, and cells a
spreadsheet will not run as formulas."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session, sessionmaker

from fraudguard.cases.schemas import case_label
from fraudguard.db import CaseRow, DecisionRow
from fraudguard.exceptions import FieldProblem, InputError

__all__ = ["EXPORT_COLUMNS", "MAX_EXPORT_DAYS", "PSEUDONYM_COLUMNS", "csv_lines", "export_window"]

#: Longest period one export may cover.
MAX_EXPORT_DAYS = 366

EXPORT_COLUMNS = (
    "case_id",
    "transaction_id",
    "opened_at",
    "status",
    "decision",
    "score",
    "amount",
    "paid_amount",
    "channel",
    "family",
    "rules",
    "platform",
    "msisdn",
    "assignee",
    "disposition",
    "typology",
    "disposed_at",
    "disposed_by",
)
#: Only for roles allowed to see them: keyed hashes that re-identify a subscriber, payer,
#: instrument or device for whoever holds the deployment's HMAC key.
PSEUDONYM_COLUMNS = ("msisdn_hash", "payer_key", "instrument_key", "device_key")

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def export_window(since: datetime, until: datetime) -> ColumnElement[bool]:
    """The cases opened in ``[since, until)``; a 422 naming the field for a bad period."""
    problems = []
    if since.tzinfo is None:
        problems.append(FieldProblem("since", "give a time zone offset"))
    if until.tzinfo is None:
        problems.append(FieldProblem("until", "give a time zone offset"))
    if not problems and until <= since:
        problems.append(FieldProblem("until", "must be after since"))
    if not problems and until - since > timedelta(days=MAX_EXPORT_DAYS):
        problems.append(FieldProblem("until", f"export at most {MAX_EXPORT_DAYS} days"))
    if problems:
        raise InputError("the export period is invalid", problems)
    return and_(CaseRow.created_at >= since, CaseRow.created_at < until)


def csv_lines(
    sessions: sessionmaker[Session], window: ColumnElement[bool], columns: Sequence[str]
) -> Iterator[str]:
    """The CSV text of the cases in ``window``, header first, a row at a time."""
    statement = (
        select(CaseRow, DecisionRow)
        .join(DecisionRow, DecisionRow.transaction_id == CaseRow.transaction_id)
        .where(window)
        .order_by(CaseRow.id)
        .execution_options(yield_per=1000)
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(columns)
    yield flush()
    with sessions() as session:
        for case, decision in session.execute(statement):
            values = {
                "case_id": case_label(case.id),
                "transaction_id": case.transaction_id,
                "opened_at": case.created_at.isoformat(),
                "status": case.status,
                "decision": case.outcome,
                "score": case.score,
                "amount": case.amount,
                "paid_amount": decision.paid_amount,
                "channel": decision.channel,
                "family": case.family,
                "rules": " ".join(case.rules or []),
                "platform": case.platform_label,
                "msisdn": decision.msisdn_masked,
                "assignee": case.assignee,
                "disposition": case.disposition,
                "typology": case.typology,
                "disposed_at": case.disposed_at.isoformat() if case.disposed_at else None,
                "disposed_by": case.disposed_by,
                "msisdn_hash": decision.msisdn_hash,
                "payer_key": case.payer_key,
                "instrument_key": case.instrument_key,
                "device_key": case.device_key,
            }
            writer.writerow([_cell(values[name]) for name in columns])
            yield flush()


def _cell(value: Any) -> Any:
    """A CSV cell that a spreadsheet will not run as a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return "" if value is None else value
