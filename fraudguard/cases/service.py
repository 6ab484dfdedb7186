"""Working the case queue: list and filter, read a case with why it was flagged and the ring
around it, assign, move it through the workflow, record a disposition, export a period, and
the numbers a team lead watches. Every view and change is written to the audit trail in the
same transaction as the change itself.

Workflow (``enums.TRANSITIONS``)::

    open ──assign──▶ in_review ──confirmed_fraud / false_positive──▶ resolved
      │  ◀──────────── │   ▲  needs_info: stays in review             │
      └──▶ escalated ◀─┘   └──────────── reopen (admin) ◀─────────────┘

SLA: a ``block`` case is due 4 hours after it opened, a ``review`` case 24 hours.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from fraudguard.cases import queries
from fraudguard.cases.enums import TRANSITIONS, AuditAction, CaseStatus, Disposition, FraudTypology
from fraudguard.cases.exceptions import CaseNotFoundError, InvalidTransitionError
from fraudguard.cases.exports import EXPORT_COLUMNS, PSEUDONYM_COLUMNS, csv_lines, export_window
from fraudguard.cases.schemas import (
    Actor,
    AuditEntry,
    CaseDetail,
    CasePage,
    CaseQuery,
    Dashboard,
    DispositionRequest,
    TransitionRequest,
    parse_case_id,
)
from fraudguard.cases.wording import CaseWording
from fraudguard.db import AuditRow, CaseRow, DecisionRow
from fraudguard.exceptions import FieldProblem, InputError, PermissionDeniedError
from fraudguard.features import FeatureSpec
from fraudguard.reference import ReferenceData
from fraudguard.schema import Decision

if TYPE_CHECKING:
    from fraudguard.rules import RuleRegistry

__all__ = ["REOPEN_ROLES", "CaseService"]

#: Roles that may reopen a resolved case (it changes a training label).
REOPEN_ROLES = frozenset({"admin"})


class CaseService:
    """The review desk over one database. Thread-safe: one session per call.

    ``specs`` (feature descriptions) and ``reference`` (official channels) turn stored
    features into words; without them the raw feature names are shown. ``rules`` (the live
    rule pack) tells a deciding ``review``/``block`` rule from a ``tag`` or ``score`` rule
    among a decision's reasons (``decided_by``); without it every rule reason counts.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        specs: Mapping[str, FeatureSpec] | None = None,
        reference: ReferenceData | None = None,
        rules: RuleRegistry | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._wording = CaseWording(specs, reference)
        self._rules = rules
        self._actions: tuple[str, dict[str, str]] = ("", {})
        self._clock = clock

    def _rule_actions(self) -> dict[str, str]:
        """``{rule id: action}`` of the live pack (rebuilt when the pack is reloaded)."""
        if self._rules is None:
            return {}
        pack = self._rules.current
        version, actions = self._actions
        if version != pack.version:
            actions = {r.id: r.rule.action.value for r in pack.rules}
            self._actions = (pack.version, actions)
        return actions

    # --- the queue ------------------------------------------------------------------------

    def list_cases(self, query: CaseQuery) -> CasePage:
        """One page of the queue, filtered and sorted, with the total that matched."""
        with self._sessions() as session:
            return queries.list_cases(session, query, self._clock(), self._rule_actions())

    # --- one case -------------------------------------------------------------------------

    def get_case(self, case_id: str, actor: Actor, *, record_view: bool = True) -> CaseDetail:
        """The case with its decision, signals, linked cases and history; the view is
        audited (``record_view=False`` only right after an audited change)."""
        number = parse_case_id(case_id)
        with self._sessions() as session, session.begin():
            case, decision = self._load(session, number)
            if record_view:
                self._audit(session, number, actor, AuditAction.VIEW, {})
            return self._detail(session, case, decision)

    def assign(self, case_id: str, assignee: str | None, actor: Actor) -> CaseDetail:
        """Give the case to ``assignee`` (``None`` to unassign); an open case assigned to
        someone moves to ``in_review``."""
        number = parse_case_id(case_id)
        with self._sessions() as session, session.begin():
            case, decision = self._load(session, number, lock=True)
            if case.status == CaseStatus.RESOLVED:
                raise InvalidTransitionError(
                    "a resolved case cannot be assigned",
                    [FieldProblem("assignee", "reopen the case first")],
                )
            changes: dict[str, Any] = {"assignee": [case.assignee, assignee]}
            case.assignee = assignee
            if assignee is not None and case.status == CaseStatus.OPEN:
                changes["status"] = [case.status, CaseStatus.IN_REVIEW.value]
                case.status = CaseStatus.IN_REVIEW.value
            case.updated_at = self._clock()
            self._audit(session, number, actor, AuditAction.ASSIGN, changes)
            return self._detail(session, case, decision)

    def transition(self, case_id: str, request: TransitionRequest, actor: Actor) -> CaseDetail:
        """Move the case along the workflow; only the moves of ``TRANSITIONS``."""
        number = parse_case_id(case_id)
        target = request.status
        if target is CaseStatus.RESOLVED:
            raise InputError(
                "a case is resolved by its disposition",
                [FieldProblem("status", "record confirmed_fraud or false_positive instead")],
            )
        with self._sessions() as session, session.begin():
            case, decision = self._load(session, number, lock=True)
            current = CaseStatus(case.status)
            allowed = TRANSITIONS[current]
            if target not in allowed:
                raise InvalidTransitionError(
                    f"a case in {current} cannot move to {target}",
                    [FieldProblem("status", f"use one of: {', '.join(sorted(allowed))}")],
                )
            changes: dict[str, Any] = {"status": [current.value, target.value]}
            if current is CaseStatus.RESOLVED:
                if actor.role not in REOPEN_ROLES:
                    raise PermissionDeniedError(
                        f"reopening a resolved case needs the role {', '.join(REOPEN_ROLES)}"
                    )
                changes["disposition"] = [case.disposition, None]
                case.disposition = case.typology = case.disposition_comment = None
                case.disposed_at = None
                case.disposed_by = None
            if request.comment:
                changes["comment"] = request.comment
            case.status = target.value
            case.updated_at = self._clock()
            self._audit(session, number, actor, AuditAction.STATUS, changes)
            return self._detail(session, case, decision)

    def dispose(self, case_id: str, request: DispositionRequest, actor: Actor) -> CaseDetail:
        """Record what the reviewer concluded. ``confirmed_fraud`` and ``false_positive``
        resolve the case and become training labels; ``needs_info`` keeps it in review."""
        number = parse_case_id(case_id)
        with self._sessions() as session, session.begin():
            case, decision = self._load(session, number, lock=True)
            current = CaseStatus(case.status)
            if current is CaseStatus.RESOLVED:
                raise InvalidTransitionError(
                    "the case is already resolved",
                    [FieldProblem("disposition", "reopen the case to change its disposition")],
                )
            if request.disposition is Disposition.NEEDS_INFO:
                target = (
                    CaseStatus.ESCALATED
                    if current is CaseStatus.ESCALATED
                    else (CaseStatus.IN_REVIEW)
                )
            else:
                target = CaseStatus.RESOLVED
            now = self._clock()
            changes: dict[str, Any] = {
                "disposition": [case.disposition, request.disposition.value],
                "typology": request.typology.value if request.typology else None,
                "comment": request.comment,
            }
            if target is not current:
                changes["status"] = [current.value, target.value]
            case.status = target.value
            case.disposition = request.disposition.value
            case.typology = request.typology.value if request.typology else None
            case.disposition_comment = request.comment
            case.disposed_at = now
            case.disposed_by = actor.id
            case.updated_at = now
            self._audit(session, number, actor, AuditAction.DISPOSITION, changes)
            return self._detail(session, case, decision)

    def history(self, case_id: str) -> list[AuditEntry]:
        number = parse_case_id(case_id)
        with self._sessions() as session:
            self._load(session, number)
            return queries.case_history(session, number)

    # --- exports and the dashboard ----------------------------------------------------

    def export_csv(
        self,
        since: datetime,
        until: datetime,
        actor: Actor,
        *,
        include_pseudonyms: bool = False,
    ) -> Iterator[str]:
        """CSV lines (header first) of the cases opened in ``[since, until)``. Phone numbers
        are always masked (only their mask is stored); the keyed hashes of
        :data:`~fraudguard.cases.exports.PSEUDONYM_COLUMNS` are added only with
        ``include_pseudonyms``. The export is audited before the first line is produced."""
        window = export_window(since, until)
        columns = EXPORT_COLUMNS + (PSEUDONYM_COLUMNS if include_pseudonyms else ())
        with self._sessions() as session, session.begin():
            rows = session.scalar(select(func.count(CaseRow.id)).where(window)) or 0
            self._audit(
                session,
                None,
                actor,
                AuditAction.EXPORT,
                {
                    "since": since.isoformat(),
                    "until": until.isoformat(),
                    "rows": rows,
                    "pseudonyms": include_pseudonyms,
                },
            )
        return csv_lines(self._sessions, window, columns)

    def dashboard(self, days: int = 14, zone: tzinfo | None = None) -> Dashboard:
        """Flag volume by family per day (calendar days in ``zone``, default UTC) over
        ``days``, the open backlog, and the false-positive rate of each rule over every
        disposed case."""
        with self._sessions() as session:
            return queries.dashboard(session, self._clock(), days, zone)

    # --- helpers ----------------------------------------------------------------------

    def _load(
        self, session: Session, number: int, *, lock: bool = False
    ) -> tuple[CaseRow, DecisionRow]:
        statement = (
            select(CaseRow, DecisionRow)
            .join(DecisionRow, DecisionRow.transaction_id == CaseRow.transaction_id)
            .where(CaseRow.id == number)
        )
        if lock:  # PostgreSQL: concurrent changes to one case queue up; SQLite locks anyway
            statement = statement.with_for_update(of=CaseRow)
        row = session.execute(statement).first()
        if row is None:
            raise CaseNotFoundError(
                "no such case", [FieldProblem("case_id", "list the cases at /v1/cases")]
            )
        return row[0], row[1]

    def _audit(
        self,
        session: Session,
        number: int | None,
        actor: Actor,
        action: AuditAction,
        details: dict[str, Any],
    ) -> None:
        session.add(
            AuditRow(
                case_id=number,
                at=self._clock(),
                actor=actor.id,
                role=actor.role,
                action=action.value,
                details=details,
            )
        )
        session.flush()

    def _detail(self, session: Session, case: CaseRow, decision: DecisionRow) -> CaseDetail:
        now = self._clock()
        body = Decision.model_validate(decision.decision)
        summary = queries.case_summary(
            case, decision.msisdn_masked, now, body, self._rule_actions()
        )
        allowed = sorted(TRANSITIONS[CaseStatus(case.status)])
        return CaseDetail(
            **summary.model_dump(),
            decision_body=body,
            event_time=decision.event_time,
            paid_amount=decision.paid_amount,
            channel=decision.channel,
            typology=FraudTypology(case.typology) if case.typology else None,
            disposition_comment=case.disposition_comment,
            disposed_at=case.disposed_at,
            disposed_by=case.disposed_by,
            rules=list(case.rules or []),
            signals=self._wording.signals(decision, body),
            linked=queries.linked_cases(session, case),
            history=queries.case_history(session, case.id),
            outcomes=queries.case_outcomes(session, case.transaction_id),
            allowed_transitions=allowed,
        )
