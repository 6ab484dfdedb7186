"""Importing a processor's outcome file (CSV or Parquet): good rows stored, bad rows named by
line with the reason, nothing silently dropped, a second run of the same file adding nothing.

Columns (the fields of ``POST /v1/outcomes``): ``transaction_id``, ``kind``, ``reported_at``
(required); ``amount``, ``reference``, ``source``, ``typology``, ``note`` (optional; an empty
cell is missing). Any other column makes the file bad: a processor's extract with card
numbers in it is refused whole, not half read.

A file that cannot be read, lacks a required column, has another column or no row is an
:class:`~fraudguard.outcomes.OutcomeFileError` (one line: the CLI exits 2). Otherwise every
row is checked by the ``outcomes`` Great Expectations suite
(:func:`~fraudguard.validation.locate_failures`) and then as ``POST /v1/outcomes`` checks
it; the good rows are stored in transactions of :data:`CHUNK` rows; a row whose key was
stored with another body is bad (conflict), one stored with the same body is "already known".
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pydantic
from sqlalchemy.orm import Session

from fraudguard.cases import Actor, AuditAction
from fraudguard.db import AuditRow
from fraudguard.exceptions import DataFileError, FraudGuardError
from fraudguard.files import OUTCOME_COLUMNS, read_outcomes
from fraudguard.outcomes.exceptions import OutcomeConflictError, OutcomeFileError
from fraudguard.outcomes.schemas import BadLine, ImportSummary
from fraudguard.outcomes.service import OutcomeStore, StoredOutcome
from fraudguard.privacy import redact
from fraudguard.schema import OutcomeReport, field_problems

__all__ = ["CHUNK", "REQUIRED_COLUMNS", "import_outcomes"]

#: Rows stored per transaction: a crash mid-file loses nothing committed, and a re-run
#: stores only the rest.
CHUNK = 5000
REQUIRED_COLUMNS = OUTCOME_COLUMNS[:3]
_KEY_FIELDS = "transaction_id, kind, reference"


def _file_error(name: str, what: str) -> OutcomeFileError:
    return OutcomeFileError(f"{redact(name)}: {what}")


def import_outcomes(store: OutcomeStore, path: Path | str, actor: Actor) -> ImportSummary:
    """Validate and store the outcomes in ``path``; the import is written to the audit
    trail (``outcome_import``). Raises :class:`OutcomeFileError` for a file that cannot be
    imported at all."""
    source = Path(path)
    try:
        frame = read_outcomes(source)
    except DataFileError as error:
        detail = error.message.removeprefix(f"cannot read {source.name}").lstrip(": ")
        reasons = [detail] if detail else [p.message for p in error.problems]
        raise _file_error(source.name, f"cannot read: {'; '.join(reasons)}") from None
    unknown = [str(c) for c in frame.columns if c not in OUTCOME_COLUMNS]
    if unknown:
        raise _file_error(
            source.name,
            f"unknown column(s) {', '.join(redact(c) for c in unknown)}; an outcome file has "
            f"only {', '.join(OUTCOME_COLUMNS)}",
        )
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise _file_error(
            source.name,
            f"missing column(s) {', '.join(missing)}; required: {', '.join(REQUIRED_COLUMNS)}",
        )
    if frame.empty:
        raise _file_error(source.name, "has no rows")

    from fraudguard.validation import SuiteName, locate_failures

    _, failures = locate_failures(frame, SuiteName.OUTCOMES)
    bad: list[BadLine] = []
    reports: list[OutcomeReport] = []
    lines: list[int] = []
    for label, row in zip(frame.index, frame.to_dict("records"), strict=True):
        line = int(label)
        if label in failures:
            bad.extend(BadLine(line=line, field=f, reason=r) for f, r in failures[label])
            continue
        parsed = _parse(row)
        if isinstance(parsed, OutcomeReport):
            reports.append(parsed)
            lines.append(line)
        else:
            bad.extend(BadLine(line=line, field=f, reason=r) for f, r in parsed)
    summary = ImportSummary(
        file=redact(source.name),
        rows=len(frame),
        stored=0,
        already_known=0,
        matched=0,
        missed_fraud_cases=0,
    )
    for start in range(0, len(reports), CHUNK):
        results = store.store(reports[start : start + CHUNK], actor)
        _count(summary, bad, results, lines[start : start + CHUNK])
    summary.bad = sorted(bad, key=lambda b: b.line)
    _audit(store, summary, actor)
    return summary


def _parse(row: dict[Hashable, Any]) -> OutcomeReport | list[tuple[str, str]]:
    data = {str(k): v for k, v in row.items() if not _missing(v)}
    try:
        return OutcomeReport.model_validate(data)
    except pydantic.ValidationError as exc:
        return [(redact(p.location), redact(p.message)) for p in field_problems(exc)]


def _missing(value: Any) -> bool:
    """An empty cell: None, NaN, or NaT (a Parquet time column with gaps)."""
    return value is None or (not isinstance(value, str | list | dict) and bool(pd.isna(value)))


def _count(
    summary: ImportSummary,
    bad: list[BadLine],
    results: Sequence[StoredOutcome | FraudGuardError],
    lines: Sequence[int],
) -> None:
    for line, result in zip(lines, results, strict=True):
        if isinstance(result, StoredOutcome):
            if result.created:
                summary.stored += 1
                summary.matched += result.matched
                summary.missed_fraud_cases += result.opened_case
            else:
                summary.already_known += 1
            continue
        for problem in result.problems:
            field = _KEY_FIELDS if isinstance(result, OutcomeConflictError) else problem.location
            bad.append(
                BadLine(
                    line=line,
                    field=field.rsplit(".", 1)[-1] if "." in field else field,
                    reason=redact(problem.message),
                )
            )


def _audit(store: OutcomeStore, summary: ImportSummary, actor: Actor) -> None:
    with Session(store.engine) as session, session.begin():
        session.add(
            AuditRow(
                case_id=None,
                at=datetime.now(UTC),
                actor=actor.id,
                role=actor.role,
                action=AuditAction.OUTCOME_IMPORT.value,
                details={
                    "file": summary.file,
                    "rows": summary.rows,
                    "stored": summary.stored,
                    "already_known": summary.already_known,
                    "bad_lines": summary.bad_lines,
                    "missed_fraud_cases": summary.missed_fraud_cases,
                },
            )
        )
