"""Storing outcomes: append-only, idempotent on (``transaction_id``, ``kind``,
``reference``), durable before the answer, and a missed-fraud case for fraud on an allowed
order.

* :meth:`OutcomeStore.report` (``POST /v1/outcomes``) stores a batch whole or not at all: a
  report with another body under a stored key is a 409, a ``reported_at`` in the future a
  422, and nothing of the batch is stored.
* :meth:`OutcomeStore.store` (file imports) stores what it can and answers each report's
  result or error.
* One transaction per call: the outcomes, the cases they open and their audit entries are
  committed together before the caller hears back.
* An outcome whose kind the label policy calls fraud, on an order FraudGuard **allowed** and
  that has no case yet, opens a case with ``origin = missed_fraud`` so reviewers see what got
  through. Every outcome on an order with a case is in that case's history (``outcome``).
  The outcomes table is its own audit trail: who reported what, when (the database refuses
  UPDATE and DELETE on it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Connection, Engine, String, any_, bindparam, insert, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError

from fraudguard.cases import Actor, AuditAction, CaseOrigin, CaseStatus, case_label
from fraudguard.db import AuditRow, CaseRow, DecisionRow, OutcomeRow, database_errors
from fraudguard.exceptions import FieldProblem, FraudGuardError, InputError, UnavailableError
from fraudguard.outcomes.exceptions import OutcomeConflictError
from fraudguard.outcomes.policy import LabelPolicy, load_label_policy
from fraudguard.outcomes.schemas import OutcomeResult
from fraudguard.schema import Decision, DecisionOutcome, OutcomeReport, ReasonFamily

__all__ = ["MAX_CLOCK_SKEW", "OutcomeStore", "StoredOutcome"]

#: How far ahead of FraudGuard's clock a ``reported_at`` may be (the reporter's clock runs
#: fast): further is refused, or the label would be "known" before it happened.
MAX_CLOCK_SKEW = timedelta(minutes=5)
#: Order ids per ``IN (...)`` look-up.
_CHUNK = 2000
#: Columns a missed-fraud case copies from its decision, as scoring cases do.
_LINK_COLUMNS = ("platform_label", "payer_key", "instrument_key", "device_key", "platform_key")

Key = tuple[str, str, str]

_INSERT_OUTCOMES = insert(OutcomeRow).returning(
    OutcomeRow.id, OutcomeRow.transaction_id, OutcomeRow.kind, OutcomeRow.reference
)


class StoredOutcome(NamedTuple):
    """What :meth:`OutcomeStore.store` answers for a stored report: the fields of
    :class:`~fraudguard.outcomes.OutcomeResult` (which the API answers), without a model's
    cost per row of a file."""

    transaction_id: str
    kind: str
    outcome_id: int
    created: bool
    matched: bool
    decision: str | None
    case_id: str | None
    missed_fraud: bool
    opened_case: bool


def _among(
    connection: Connection, column: Any, values: Sequence[str]
) -> Iterator[ColumnElement[bool]]:
    """``column`` among ``values``, as conditions of as few queries as the backend takes:
    one ``= ANY(array)`` on PostgreSQL (one parameter: psycopg parses a query with
    thousands of them slowly), ``IN (...)`` of :data:`_CHUNK` values on SQLite."""
    if not values:
        return
    if connection.dialect.name == "postgresql":
        yield column == any_(bindparam("ids", list(values), type_=ARRAY(String)))
        return
    for start in range(0, len(values), _CHUNK):
        yield column.in_(values[start : start + _CHUNK])


def _conflict(where: str) -> OutcomeConflictError:
    return OutcomeConflictError(
        "this outcome was already reported with a different body",
        [
            FieldProblem(
                where,
                "same transaction_id, kind and reference as a stored outcome: send the same "
                "body again, or give the new report its own reference",
            )
        ],
    )


class OutcomeStore:
    """Outcomes over one database. Thread-safe: one connection per call.

    ``policy`` says which kinds mean fraud (default the shipped label policy).
    """

    def __init__(
        self,
        engine: Engine,
        policy: LabelPolicy | None = None,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.engine = engine
        self.policy = policy or load_label_policy()
        self._clock = clock

    def report(self, reports: Sequence[OutcomeReport], actor: Actor) -> list[OutcomeResult]:
        """Store ``reports`` together or not at all (``POST /v1/outcomes``).

        Raises :class:`InputError` (422) naming ``outcomes.<i>.reported_at`` for a time in
        the future, :class:`OutcomeConflictError` (409) naming ``outcomes.<i>`` for a key
        stored with another body, :class:`UnavailableError` (503) if the database fails.
        """
        results = self._settle(reports, actor, atomic=True)
        problems = [
            p for r in results if isinstance(r, FraudGuardError) for p in r.problems
        ]  # only input errors reach here: conflicts raise inside the transaction
        if problems:
            raise InputError("the outcomes are invalid", problems)
        return [OutcomeResult(**r._asdict()) for r in results if isinstance(r, StoredOutcome)]

    def store(
        self, reports: Sequence[OutcomeReport], actor: Actor
    ) -> list[StoredOutcome | FraudGuardError]:
        """Store what can be stored (file imports): each report's result, or its error
        (:class:`InputError`, :class:`OutcomeConflictError`), in order."""
        return self._settle(reports, actor, atomic=False)

    # --- one transaction ----------------------------------------------------------------

    def _settle(
        self, reports: Sequence[OutcomeReport], actor: Actor, *, atomic: bool
    ) -> list[StoredOutcome | FraudGuardError]:
        now = self._clock()
        early: dict[int, FraudGuardError] = {}
        for i, report in enumerate(reports):
            if report.reported_at > now + MAX_CLOCK_SKEW:
                early[i] = InputError(
                    "the outcome is invalid",
                    [FieldProblem(f"outcomes.{i}.reported_at", "must not be in the future")],
                )
        if atomic and early:
            return list(early.values())
        for _attempt in range(2):
            try:
                with database_errors(), self.engine.begin() as connection:
                    return self._write(connection, reports, actor, now, early, atomic=atomic)
            except IntegrityError:
                continue  # another request stored one of these keys first: replay it
        raise UnavailableError("the outcome store refused the write; retry the same request")

    def _write(
        self,
        connection: Connection,
        reports: Sequence[OutcomeReport],
        actor: Actor,
        now: datetime,
        early: dict[int, FraudGuardError],
        *,
        atomic: bool,
    ) -> list[StoredOutcome | FraudGuardError]:
        fingerprints = [report.fingerprint() for report in reports]
        first: dict[Key, int] = {}
        for i, report in enumerate(reports):
            if i not in early:
                first.setdefault(report.key(), i)
        stored = self._stored(connection, list(first))
        errors: dict[int, FraudGuardError] = dict(early)
        for i, report in enumerate(reports):
            if i in early:
                continue
            key = report.key()
            known = stored.get(key)
            reference = known[1] if known is not None else fingerprints[first[key]]
            if fingerprints[i] != reference:
                errors[i] = _conflict(f"outcomes.{i}")
        if atomic and errors:
            raise OutcomeConflictError(
                "an outcome was already reported with a different body",
                [p for error in errors.values() for p in error.problems],
            )
        new = [i for key, i in first.items() if key not in stored and i not in errors]
        order_ids = list(dict.fromkeys(r.transaction_id for r in reports))
        decisions = self._decisions(connection, order_ids)
        cases = self._cases(connection, order_ids)
        opened = self._open_missed_fraud(connection, reports, new, decisions, cases, now)
        ids = {key: number for key, (number, _) in stored.items()}
        if new:
            rows = [self._values(reports[i], fingerprints[i], decisions, actor, now) for i in new]
            ids.update(self._insert(connection, rows))
            audit = [
                {
                    "case_id": cases[reports[i].transaction_id][0],
                    "at": now,
                    "actor": actor.id,
                    "role": actor.role,
                    "action": AuditAction.OUTCOME.value,
                    "details": {
                        "outcome_id": ids[reports[i].key()],
                        "kind": reports[i].kind.value,
                        "reported_at": reports[i].reported_at.isoformat(),
                        "amount": reports[i].amount,
                        **({"opened": CaseOrigin.MISSED_FRAUD.value} if i in opened else {}),
                    },
                }
                for i in new
                if reports[i].transaction_id in cases
            ]
            if audit:
                connection.execute(insert(AuditRow), audit)
        created = set(new)
        results: list[StoredOutcome | FraudGuardError] = []
        for i, report in enumerate(reports):
            if i in errors:
                results.append(errors[i])
                continue
            decision = decisions.get(report.transaction_id)
            case = cases.get(report.transaction_id)
            results.append(
                StoredOutcome(
                    transaction_id=report.transaction_id,
                    kind=report.kind,
                    outcome_id=ids[report.key()],
                    created=i in created,
                    matched=decision is not None,
                    decision=decision["outcome"] if decision else None,
                    case_id=case_label(case[0]) if case else None,
                    missed_fraud=bool(case and case[1] == CaseOrigin.MISSED_FRAUD.value),
                    opened_case=i in opened,
                )
            )
        return results

    # --- reads --------------------------------------------------------------------------

    @staticmethod
    def _stored(connection: Connection, keys: Sequence[Key]) -> dict[Key, tuple[int, str]]:
        """``key -> (outcome id, fingerprint)`` of the keys already stored."""
        wanted = set(keys)
        found: dict[Key, tuple[int, str]] = {}
        order_ids = list(dict.fromkeys(key[0] for key in keys))
        for among in _among(connection, OutcomeRow.transaction_id, order_ids):
            rows = connection.execute(
                select(
                    OutcomeRow.id,
                    OutcomeRow.transaction_id,
                    OutcomeRow.kind,
                    OutcomeRow.reference,
                    OutcomeRow.fingerprint,
                ).where(among)
            ).all()
            for number, transaction_id, kind, reference, fingerprint in rows:
                key = (transaction_id, kind, reference)
                if key in wanted:
                    found[key] = (number, fingerprint)
        return found

    @staticmethod
    def _decisions(connection: Connection, order_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for among in _among(connection, DecisionRow.transaction_id, order_ids):
            rows = connection.execute(
                select(DecisionRow.transaction_id, DecisionRow.outcome, DecisionRow.amount).where(
                    among
                )
            ).all()
            for transaction_id, outcome, amount in rows:
                found[transaction_id] = {"outcome": outcome, "amount": amount}
        return found

    @staticmethod
    def _cases(connection: Connection, order_ids: Sequence[str]) -> dict[str, tuple[int, str]]:
        """``transaction_id -> (case number, origin)`` of the orders with a case."""
        found: dict[str, tuple[int, str]] = {}
        for among in _among(connection, CaseRow.transaction_id, order_ids):
            rows = connection.execute(
                select(CaseRow.transaction_id, CaseRow.id, CaseRow.origin).where(among)
            ).all()
            for transaction_id, number, origin in rows:
                found[transaction_id] = (number, origin)
        return found

    # --- writes -------------------------------------------------------------------------

    def _insert(self, connection: Connection, rows: list[dict[str, Any]]) -> dict[Key, int]:
        """Insert outcome rows; their ids by key. Each backend's fastest way (measured by
        ``benchmarks/bench_outcomes.py``): SQLite returns the ids from a batched insert
        (asking for the parameters' order would make it insert row by row); psycopg pipelines
        a plain executemany, and one look-up of the keys costs less than its RETURNING."""
        if connection.dialect.name == "sqlite":
            added = connection.execute(_INSERT_OUTCOMES, rows).all()
            return {(tid, kind, ref): number for number, tid, kind, ref in added}
        connection.execute(insert(OutcomeRow), rows)
        keys = [(r["transaction_id"], r["kind"], r["reference"]) for r in rows]
        return {key: number for key, (number, _) in self._stored(connection, keys).items()}

    def _open_missed_fraud(
        self,
        connection: Connection,
        reports: Sequence[OutcomeReport],
        new: Sequence[int],
        decisions: dict[str, dict[str, Any]],
        cases: dict[str, tuple[int, str]],
        now: datetime,
    ) -> set[int]:
        """Open a missed-fraud case for each allowed order a new fraud outcome names (the
        first such outcome per order); ``cases`` gains them. Returns the outcomes' indexes."""
        opening: dict[str, int] = {}
        for i in new:
            report = reports[i]
            decision = decisions.get(report.transaction_id)
            if (
                report.kind in self.policy.fraud_kinds
                and decision is not None
                and decision["outcome"] == DecisionOutcome.ALLOW.value
                and report.transaction_id not in cases
            ):
                opening.setdefault(report.transaction_id, i)
        if not opening:
            return set()
        columns = (
            DecisionRow.transaction_id,
            DecisionRow.decision,
            DecisionRow.outcome,
            DecisionRow.score,
            DecisionRow.amount,
            *(getattr(DecisionRow, column) for column in _LINK_COLUMNS),
        )
        rows = [
            row
            for among in _among(connection, DecisionRow.transaction_id, list(opening))
            for row in connection.execute(select(*columns).where(among)).all()
        ]
        values = []
        for row in rows:
            report = reports[opening[row.transaction_id]]
            body = Decision.model_validate(row.decision)
            rules = list(
                dict.fromkeys(
                    r.source.removeprefix("rule:")
                    for r in body.reasons
                    if r.source.startswith("rule:")
                )
            )
            lost = report.amount if report.amount is not None else row.amount or 0.0
            values.append(
                {
                    "transaction_id": row.transaction_id,
                    "status": CaseStatus.OPEN.value,
                    # Realised loss, not expected loss: the money is gone.
                    "priority": round(lost, 2),
                    # The family of the strongest reason it had; the model let the rest through.
                    "family": body.reasons[0].family.value
                    if body.reasons
                    else ReasonFamily.MODEL.value,
                    "created_at": now,
                    "outcome": row.outcome,
                    "score": row.score,
                    "amount": row.amount,
                    "rules": rules,
                    "updated_at": now,
                    "origin": CaseOrigin.MISSED_FRAUD.value,
                    **{column: getattr(row, column) for column in _LINK_COLUMNS},
                }
            )
        connection.execute(insert(CaseRow), values)
        cases.update(self._cases(connection, list(opening)))
        return set(opening.values())

    @staticmethod
    def _values(
        report: OutcomeReport,
        fingerprint: str,
        decisions: dict[str, dict[str, Any]],
        actor: Actor,
        now: datetime,
    ) -> dict[str, Any]:
        decision = decisions.get(report.transaction_id)
        return {
            "transaction_id": report.transaction_id,
            "kind": report.kind.value,
            "reference": report.reference or "",
            "fingerprint": fingerprint,
            "reported_at": report.reported_at,
            "received_at": now,
            "amount": report.amount,
            "source": report.source,
            "typology": report.typology.value if report.typology else None,
            "note": report.note,
            "matched": decision is not None,
            "decision": decision["outcome"] if decision else None,
            "actor": actor.id,
            "role": actor.role,
        }
