"""Reading the review desk: the queue (filtered, sorted, paged), a case's summary and the
cases linked to it, the dashboard a team lead watches, and the audit trail. Functions over
a session: the caller (:class:`~fraudguard.cases.CaseService`) owns the transaction."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, Engine, and_, case, func, literal, or_, select
from sqlalchemy.orm import Session

from fraudguard.cases.enums import (
    AuditAction,
    CaseOrigin,
    CaseSort,
    CaseStatus,
    Disposition,
    LinkKind,
    ScoreSource,
)
from fraudguard.cases.schemas import (
    AuditEntry,
    BacklogSummary,
    CasePage,
    CaseQuery,
    CaseSummary,
    Dashboard,
    FamilyDay,
    LinkedCase,
    ReportedOutcome,
    RuleFalsePositives,
    case_label,
)
from fraudguard.cases.wording import decided_by, score_source
from fraudguard.db import AuditRow, CaseRow, DecisionRow, OutcomeRow
from fraudguard.exceptions import FieldProblem, InputError
from fraudguard.schema import Decision, FraudTypology, OutcomeKind

__all__ = [
    "SLA_HOURS",
    "audit_entry",
    "audit_trail",
    "case_history",
    "case_outcomes",
    "case_summary",
    "dashboard",
    "linked_cases",
    "list_cases",
]

#: Hours from opening until a case is overdue, by decision.
SLA_HOURS: dict[str, float] = {"block": 4.0, "review": 24.0}
#: Most linked cases shown on a case.
MAX_LINKED = 50

_SUMMARY_COLUMNS = (CaseRow, DecisionRow.msisdn_masked, DecisionRow.decision)


def list_cases(
    session: Session,
    query: CaseQuery,
    now: datetime,
    rule_actions: Mapping[str, str] | None = None,
) -> CasePage:
    """One page of the queue, filtered and sorted, with the total that matched;
    ``rule_actions`` (the live pack's ``{rule id: action}``) tell which rules decided."""
    conditions = _conditions(query)
    order: tuple[Any, ...] = {
        CaseSort.PRIORITY: (CaseRow.priority.desc(), CaseRow.id.desc()),
        CaseSort.OLDEST: (CaseRow.created_at.asc(), CaseRow.id.asc()),
        CaseSort.NEWEST: (CaseRow.created_at.desc(), CaseRow.id.desc()),
        CaseSort.SCORE: (CaseRow.score.desc(), CaseRow.id.desc()),
        CaseSort.AMOUNT: (CaseRow.amount.desc(), CaseRow.id.desc()),
    }[query.sort]
    # Page the ids on the cases table alone, then join the page: joining before the
    # sort would read a (large) decision row for every matching case.
    page_ids = (
        select(CaseRow.id)
        .where(*conditions)
        .order_by(*order)
        .offset((query.page - 1) * query.page_size)
        .limit(query.page_size)
    )
    total = session.scalar(select(func.count(CaseRow.id)).where(*conditions)) or 0
    ids = list(session.scalars(page_ids))
    rows = session.execute(
        select(*_SUMMARY_COLUMNS)
        .join(DecisionRow, DecisionRow.transaction_id == CaseRow.transaction_id)
        .where(CaseRow.id.in_(ids))
    ).all()
    position = {number: i for i, number in enumerate(ids)}
    rows = sorted(rows, key=lambda row: position[row[0].id])
    return CasePage(
        items=[
            case_summary(case, masked, now, Decision.model_validate(body), rule_actions)
            for case, masked, body in rows
        ],
        total=total,
        page=query.page,
        page_size=query.page_size,
    )


def _conditions(query: CaseQuery) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if query.status:
        conditions.append(CaseRow.status.in_([s.value for s in query.status]))
    if query.family is not None:
        conditions.append(CaseRow.family == query.family.value)
    if query.decision is not None:
        conditions.append(CaseRow.outcome == query.decision.value)
    if query.platform is not None:
        conditions.append(CaseRow.platform_label == query.platform)
    if query.assignee is not None:
        conditions.append(
            CaseRow.assignee.is_(None)
            if query.assignee == "none"
            else CaseRow.assignee == query.assignee
        )
    if query.created_from is not None:
        conditions.append(CaseRow.created_at >= query.created_from)
    if query.created_to is not None:
        conditions.append(CaseRow.created_at < query.created_to)
    if query.score_min is not None:
        conditions.append(CaseRow.score >= query.score_min)
    if query.score_max is not None:
        conditions.append(CaseRow.score <= query.score_max)
    if query.origin is not None:
        conditions.append(CaseRow.origin == query.origin.value)
    return conditions


def case_summary(
    case: CaseRow,
    masked: str | None,
    now: datetime,
    body: Decision | None = None,
    rule_actions: Mapping[str, str] | None = None,
) -> CaseSummary:
    """A case's queue row; with its decision ``body``, what decided it."""
    due = case.created_at + timedelta(hours=SLA_HOURS.get(case.outcome or "", 24.0))
    return CaseSummary(
        case_id=case_label(case.id),
        transaction_id=case.transaction_id,
        status=CaseStatus(case.status),
        decision=case.outcome,
        score=case.score,
        amount=case.amount,
        priority=case.priority,
        family=case.family,
        platform=case.platform_label,
        msisdn=masked,
        assignee=case.assignee,
        disposition=Disposition(case.disposition) if case.disposition else None,
        created_at=case.created_at,
        age_hours=round((now - case.created_at).total_seconds() / 3600, 2),
        sla_due=due,
        sla_breached=case.status != CaseStatus.RESOLVED and now > due,
        decided_by=decided_by(body, rule_actions) if body is not None else [],
        score_source=score_source(body) if body is not None else ScoreSource.MODEL,
        origin=CaseOrigin(case.origin or CaseOrigin.SCORING),
    )


def case_outcomes(session: Session, transaction_id: str) -> list[ReportedOutcome]:
    """The outcomes reported on an order, oldest report first."""
    rows = session.scalars(
        select(OutcomeRow)
        .where(OutcomeRow.transaction_id == transaction_id)
        .order_by(OutcomeRow.reported_at, OutcomeRow.id)
    ).all()
    return [
        ReportedOutcome(
            outcome_id=row.id,
            kind=OutcomeKind(row.kind),
            reported_at=row.reported_at,
            received_at=row.received_at,
            amount=row.amount,
            reference=row.reference or None,
            source=row.source,
            typology=FraudTypology(row.typology) if row.typology else None,
            note=row.note,
            reported_by=row.actor,
        )
        for row in rows
    ]


def linked_cases(session: Session, case: CaseRow) -> list[LinkedCase]:
    keys = {
        LinkKind.PAYER: (CaseRow.payer_key, case.payer_key),
        LinkKind.INSTRUMENT: (CaseRow.instrument_key, case.instrument_key),
        LinkKind.DEVICE: (CaseRow.device_key, case.device_key),
        LinkKind.PLATFORM: (CaseRow.platform_key, case.platform_key),
    }
    matches = [column == value for column, value in keys.values() if value is not None]
    if not matches:
        return []
    rows = session.scalars(
        select(CaseRow)
        .where(or_(*matches), CaseRow.id != case.id)
        .order_by(CaseRow.created_at.desc(), CaseRow.id.desc())
        .limit(MAX_LINKED)
    ).all()
    return [
        LinkedCase(
            case_id=case_label(other.id),
            transaction_id=other.transaction_id,
            status=CaseStatus(other.status),
            decision=other.outcome,
            score=other.score,
            amount=other.amount,
            family=other.family,
            disposition=Disposition(other.disposition) if other.disposition else None,
            created_at=other.created_at,
            shared=[
                kind
                for kind, (column, value) in keys.items()
                if value is not None and getattr(other, column.key) == value
            ],
        )
        for other in rows
    ]


def case_history(session: Session, number: int) -> list[AuditEntry]:
    rows = session.scalars(
        select(AuditRow).where(AuditRow.case_id == number).order_by(AuditRow.id)
    ).all()
    return [audit_entry(row) for row in rows]


def dashboard(
    session: Session, now: datetime, days: int = 14, zone: tzinfo | None = None
) -> Dashboard:
    """Flag volume by family per day over ``days``, the open backlog, and the
    false-positive rate of each rule over every disposed case. Days are calendar days in
    ``zone`` (default UTC): the console counts them in its configured time zone."""
    if not 1 <= days <= 366:
        raise InputError("the period is invalid", [FieldProblem("days", "use 1 to 366")])
    if zone is None or zone is UTC:
        start = (now - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
        day = _day(CaseRow.created_at, session)
    else:
        today = now.astimezone(zone).date()
        calendar = [today - timedelta(days=n) for n in range(days - 1, -1, -1)]
        start = _midnight(calendar[0], zone)
        day = _local_day(CaseRow.created_at, calendar, zone)
    volume = session.execute(
        select(day, CaseRow.family, func.count(CaseRow.id))
        .where(CaseRow.created_at >= start)
        .group_by(day, CaseRow.family)
        .order_by(day, CaseRow.family)
    ).all()
    open_statuses = [s.value for s in CaseStatus if s is not CaseStatus.RESOLVED]
    by_status = dict(
        session.execute(
            select(CaseRow.status, func.count(CaseRow.id)).group_by(CaseRow.status)
        ).all()
    )
    unassigned = session.scalar(
        select(func.count(CaseRow.id)).where(
            CaseRow.status.in_(open_statuses), CaseRow.assignee.is_(None)
        )
    )
    breached = session.scalar(
        select(func.count(CaseRow.id)).where(
            CaseRow.status.in_(open_statuses),
            or_(
                *(
                    and_(
                        CaseRow.outcome == outcome,
                        CaseRow.created_at < now - timedelta(hours=hours),
                    )
                    for outcome, hours in SLA_HOURS.items()
                )
            ),
        )
    )
    oldest = session.scalar(
        select(func.min(CaseRow.created_at)).where(CaseRow.status.in_(open_statuses))
    )
    disposed = session.execute(
        select(CaseRow.rules, CaseRow.disposition).where(
            CaseRow.disposition.in_(
                [Disposition.CONFIRMED_FRAUD.value, Disposition.FALSE_POSITIVE.value]
            )
        )
    ).all()
    if isinstance(oldest, datetime) and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    fraud: Counter[str] = Counter()
    genuine: Counter[str] = Counter()
    for rules, disposition in disposed:
        counter = fraud if disposition == Disposition.CONFIRMED_FRAUD else genuine
        counter.update(rules or ["(model only)"])
    rates = [
        RuleFalsePositives(
            rule=rule,
            confirmed_fraud=fraud[rule],
            false_positive=genuine[rule],
            false_positive_rate=round(genuine[rule] / (fraud[rule] + genuine[rule]), 4),
        )
        for rule in sorted(fraud.keys() | genuine.keys())
    ]
    rates.sort(key=lambda r: (-r.false_positive_rate, -r.false_positive, r.rule))
    return Dashboard(
        days=days,
        volume=[FamilyDay(day=str(d), family=f, cases=n) for d, f, n in volume],
        backlog=BacklogSummary(
            by_status={s.value: int(by_status.get(s.value, 0)) for s in CaseStatus},
            unassigned=int(unassigned or 0),
            sla_breached=int(breached or 0),
            oldest_age_hours=round((now - oldest).total_seconds() / 3600, 2)
            if isinstance(oldest, datetime)
            else None,
        ),
        rules=rates,
    )


def audit_entry(row: AuditRow) -> AuditEntry:
    return AuditEntry(
        id=row.id,
        case_id=case_label(row.case_id) if row.case_id is not None else None,
        at=row.at,
        actor=row.actor,
        role=row.role,
        action=AuditAction(row.action),
        details=row.details,
    )


def _midnight(day: date, zone: tzinfo) -> datetime:
    """When ``day`` starts in ``zone``, in UTC."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def _local_day(column: Any, calendar: list[date], zone: tzinfo) -> ColumnElement[str]:
    """The calendar day in ``zone`` of a timestamp at or after the first day's midnight, as
    ``YYYY-MM-DD``: one comparison per day with the UTC instant it starts (right across a
    daylight-saving change, on every backend)."""
    whens = [
        (column >= _midnight(day, zone), literal(day.isoformat())) for day in reversed(calendar[1:])
    ]
    first = literal(calendar[0].isoformat())
    return case(*whens, else_=first) if whens else first


def _day(column: Any, session: Session) -> ColumnElement[str]:
    """The UTC calendar day of a timestamp as ``YYYY-MM-DD``, per dialect."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")
    return func.strftime("%Y-%m-%d", column)


def audit_trail(
    engine: Engine, *, action: AuditAction | None = None, limit: int = 100, offset: int = 0
) -> list[AuditEntry]:
    """The newest audit entries first (every case, plus exports)."""
    statement = select(AuditRow).order_by(AuditRow.id.desc()).offset(offset).limit(limit)
    if action is not None:
        statement = statement.where(AuditRow.action == action.value)
    with Session(engine) as session:
        return [audit_entry(row) for row in session.scalars(statement)]
