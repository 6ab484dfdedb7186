"""Dispositions as training labels: the contract the training notebook reads.

``export_labels(url_or_engine, since=None, until=None)`` returns one row per case whose
current disposition is ``confirmed_fraud`` or ``false_positive`` (``needs_info`` is no label),
with exactly these columns:

=================  ==========================  ============================================
column             dtype                       meaning
=================  ==========================  ============================================
``transaction_id`` ``object`` (str)            the scored order, as in the decision log
``is_fraud``       ``bool``                    ``confirmed_fraud`` -> True, else False
``typology``       ``object`` (str or None)    fraud typology; None for false positives
``label_time``     ``datetime64[ns, UTC]``     when the disposition was recorded
``disposition``    ``object`` (str)            ``confirmed_fraud`` or ``false_positive``
``case_id``        ``object`` (str)            ``case-000042``
=================  ==========================  ============================================

``since`` / ``until`` select by ``label_time`` in ``[since, until)``; a model trained "as of"
a date must only see labels known by then (label delay). Rows come in label-time order.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from fraudguard.cases.enums import AuditAction, Disposition
from fraudguard.cases.schemas import case_label
from fraudguard.db import AuditRow, CaseRow, engine_for
from fraudguard.exceptions import FieldProblem, InputError

__all__ = ["LABEL_COLUMNS", "export_labels", "record_export"]

LABEL_COLUMNS = ("transaction_id", "is_fraud", "typology", "label_time", "disposition", "case_id")
_LABELLED = (Disposition.CONFIRMED_FRAUD.value, Disposition.FALSE_POSITIVE.value)


def _check(name: str, value: datetime | None) -> list[FieldProblem]:
    if value is not None and value.tzinfo is None:
        return [FieldProblem(name, "give a time zone offset, e.g. 2026-12-01T00:00:00+08:00")]
    return []


def export_labels(
    database_url_or_engine: str | Engine,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> pd.DataFrame:
    """Reviewer dispositions as labels (see the module docstring for the columns)."""
    problems = _check("since", since) + _check("until", until)
    if not problems and since is not None and until is not None and until <= since:
        problems.append(FieldProblem("until", "must be after since"))
    if problems:
        raise InputError("the label period is invalid", problems)
    statement = (
        select(
            CaseRow.id,
            CaseRow.transaction_id,
            CaseRow.disposition,
            CaseRow.typology,
            CaseRow.disposed_at,
        )
        .where(CaseRow.disposition.in_(_LABELLED), CaseRow.disposed_at.is_not(None))
        .order_by(CaseRow.disposed_at, CaseRow.id)
    )
    if since is not None:
        statement = statement.where(CaseRow.disposed_at >= since)
    if until is not None:
        statement = statement.where(CaseRow.disposed_at < until)
    with engine_for(database_url_or_engine) as engine, engine.connect() as connection:
        rows = connection.execute(statement).all()
    fraud = Disposition.CONFIRMED_FRAUD.value
    return pd.DataFrame(
        {
            "transaction_id": pd.Series([r.transaction_id for r in rows], dtype=object),
            "is_fraud": pd.Series([r.disposition == fraud for r in rows], dtype=bool),
            "typology": pd.Series(
                [r.typology if r.disposition == fraud else None for r in rows], dtype=object
            ),
            "label_time": pd.Series(
                pd.to_datetime([r.disposed_at for r in rows], utc=True), dtype="datetime64[ns, UTC]"
            ),
            "disposition": pd.Series([r.disposition for r in rows], dtype=object),
            "case_id": pd.Series([case_label(r.id) for r in rows], dtype=object),
        },
        columns=list(LABEL_COLUMNS),
    )


def record_export(
    engine: Engine, actor: str, rows: int, since: datetime | None, until: datetime | None
) -> None:
    """Write a label export to the audit trail (the CLI calls this after writing the file)."""
    with Session(engine) as session, session.begin():
        session.add(
            AuditRow(
                case_id=None,
                at=datetime.now(UTC),
                actor=actor,
                role="cli",
                action=AuditAction.EXPORT_LABELS.value,
                details={
                    "rows": rows,
                    "since": since.isoformat() if since else None,
                    "until": until.isoformat() if until else None,
                },
            )
        )
