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

import csv
import io
import math
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Engine, and_, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from fraudguard.cases.enums import (
    TRANSITIONS,
    AuditAction,
    CaseSort,
    CaseStatus,
    Disposition,
    FraudTypology,
    LinkKind,
)
from fraudguard.cases.exceptions import CaseNotFoundError, InvalidTransitionError
from fraudguard.cases.models import AuditRow, CaseRow, DecisionRow
from fraudguard.cases.schemas import (
    Actor,
    AuditEntry,
    BacklogSummary,
    CaseDetail,
    CasePage,
    CaseQuery,
    CaseSummary,
    Dashboard,
    DispositionRequest,
    FamilyDay,
    LinkedCase,
    RuleFalsePositives,
    Signal,
    SignalGroup,
    TransitionRequest,
)
from fraudguard.cases.service import case_label
from fraudguard.exceptions import FieldProblem, InputError, PermissionDeniedError
from fraudguard.features import FeatureSpec
from fraudguard.reference import ReferenceData
from fraudguard.schema import Decision

__all__ = [
    "EXPORT_COLUMNS",
    "PSEUDONYM_COLUMNS",
    "REOPEN_ROLES",
    "SLA_HOURS",
    "CaseService",
    "audit_trail",
    "parse_case_id",
]

#: Hours from opening until a case is overdue, by decision.
SLA_HOURS: dict[str, float] = {"block": 4.0, "review": 24.0}
#: Roles that may reopen a resolved case (it changes a training label).
REOPEN_ROLES = frozenset({"admin"})
#: Most linked cases shown on a case.
MAX_LINKED = 50
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

_CASE_ID = re.compile(r"^case-(\d{1,12})$")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def parse_case_id(case_id: str) -> int:
    """``case-000042`` -> 42; anything else is a 422 naming ``case_id``."""
    match = _CASE_ID.fullmatch(case_id)
    if match is None:
        raise InputError(
            "the case id is invalid", [FieldProblem("case_id", "use the form case-000042")]
        )
    return int(match.group(1))


@dataclass(frozen=True, slots=True)
class _Official:
    name: str
    name_en: str
    identifiers: tuple[str, ...]


def _officials(reference: ReferenceData | None) -> dict[str, _Official]:
    if reference is None:
        return {}
    found: dict[str, _Official] = {}
    for operator in reference.channels.operators:
        ids = (
            *operator.domains[:2],
            *(a.id for a in operator.app_packages[:1]),
            *(w.name for w in operator.wechat_accounts[:1]),
        )
        found[operator.id] = _Official(operator.name, operator.name_en, tuple(ids))
    for partner in reference.channels.partners:
        ids = (*partner.domains[:2], *(a.id for a in partner.app_packages[:1]))
        found[partner.id] = _Official(partner.name, partner.id, tuple(ids))
    return found


def _notable(value: Any) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, int | float):
        return math.isfinite(value) and value != 0
    return str(value) not in ("", "unknown", "none", "clean")


_PLATFORM_SIGNALS = (
    "platform_lookalike",
    "platform_lookalike_kind",
    "platform_lookalike_score",
    "platform_imitated_operator",
    "platform_unverified",
    "platform_registrable_domain",
    "platform_suspicious_tld",
    "platform_domain_blocklisted",
    "platform_ip_host",
    "platform_channel_mismatch",
    "platform_is_new",
    "promotion_url_unofficial",
    "promotion_url_lookalike",
    "promotion_url_imitated_operator",
    "promotion_url_registrable_domain",
    "promotion_url_blocklisted",
)
_PROMOTION_SIGNALS = (
    "promo_status",
    "promo_discount_ratio",
    "promo_benefit_ratio",
    "promo_best_genuine_ratio",
    "promo_excess_ratio",
    "promo_code_known",
    "promo_registered",
    "promo_new_user_only",
)
_NETWORK_SIGNALS = (
    "net_wifi_open",
    "net_wifi_weak",
    "net_public_hotspot",
    "net_no_tls",
    "net_proxy",
    "net_vpn",
    "net_ip_category",
    "net_ip_anonymiser",
    "net_ip_datacenter",
    "net_ip_tor",
    "net_ip_blocklisted",
    "net_ip_province_mismatch",
    "dev_rooted",
    "dev_emulator",
    "night_time",
)
_SUMMARY_COLUMNS = (CaseRow, DecisionRow.msisdn_masked)


class CaseService:
    """The review desk over one database. Thread-safe: one session per call.

    ``specs`` (feature descriptions) and ``reference`` (official channels) turn stored
    features into words; without them the raw feature names are shown.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        specs: Mapping[str, FeatureSpec] | None = None,
        reference: ReferenceData | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._specs = dict(specs or {})
        self._officials = _officials(reference)
        self._clock = clock

    # --- the queue ------------------------------------------------------------------------

    def list_cases(self, query: CaseQuery) -> CasePage:
        """One page of the queue, filtered and sorted, with the total that matched."""
        conditions = self._conditions(query)
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
        now = self._clock()
        with self._sessions() as session:
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
            items=[self._summary(case, masked, now) for case, masked in rows],
            total=total,
            page=query.page,
            page_size=query.page_size,
        )

    @staticmethod
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
        return conditions

    def _summary(self, case: CaseRow, masked: str | None, now: datetime) -> CaseSummary:
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
        )

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
            return self._history(session, number)

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
        :data:`PSEUDONYM_COLUMNS` are added only with ``include_pseudonyms``. The export is
        audited before the first line is produced."""
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
        window = and_(CaseRow.created_at >= since, CaseRow.created_at < until)
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
        return self._csv_lines(window, columns)

    def _csv_lines(self, window: ColumnElement[bool], columns: Sequence[str]) -> Iterator[str]:
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
        with self._sessions() as session:
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

    def dashboard(self, days: int = 14) -> Dashboard:
        """Flag volume by family per day (UTC) over ``days``, the open backlog, and the
        false-positive rate of each rule over every disposed case."""
        if not 1 <= days <= 366:
            raise InputError("the period is invalid", [FieldProblem("days", "use 1 to 366")])
        now = self._clock()
        start = (now - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
        with self._sessions() as session:
            day = _day(CaseRow.created_at, session)
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

    def _history(self, session: Session, number: int) -> list[AuditEntry]:
        rows = session.scalars(
            select(AuditRow).where(AuditRow.case_id == number).order_by(AuditRow.id)
        ).all()
        return [_entry(row) for row in rows]

    def _detail(self, session: Session, case: CaseRow, decision: DecisionRow) -> CaseDetail:
        now = self._clock()
        summary = self._summary(case, decision.msisdn_masked, now)
        body = Decision.model_validate(decision.decision)
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
            signals=self._signals(decision, body),
            linked=self._linked(session, case),
            history=self._history(session, case.id),
            allowed_transitions=allowed,
        )

    def _linked(self, session: Session, case: CaseRow) -> list[LinkedCase]:
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

    # --- why it was flagged, in words -------------------------------------------------

    def _signal(self, name: str, value: Any) -> Signal:
        spec = self._specs.get(name)
        description = spec.description if spec else name
        return Signal(
            name=name,
            value=round(value, 4) if isinstance(value, float) else value,
            description=description,
            description_zh=(spec.description_zh or description) if spec else name,
        )

    def _signals(self, decision: DecisionRow, body: Decision) -> list[SignalGroup]:
        features = decision.features or {}
        groups: list[SignalGroup] = []

        def picked(names: Sequence[str]) -> list[Signal]:
            return [self._signal(n, features[n]) for n in names if _notable(features.get(n))]

        platform = picked(_PLATFORM_SIGNALS)
        if platform:
            en, zh = self._platform_summary(decision, features)
            groups.append(
                SignalGroup(
                    group="platform",
                    title="Platform",
                    title_zh="支付平台",
                    summary=en,
                    summary_zh=zh,
                    signals=platform,
                )
            )
        promotion = picked(_PROMOTION_SIGNALS) if features.get("promo_claimed") else []
        if promotion:
            en, zh = _promotion_summary(decision, features)
            groups.append(
                SignalGroup(
                    group="promotion",
                    title="Discount vs the catalogue",
                    title_zh="优惠与官方活动对比",
                    summary=en,
                    summary_zh=zh,
                    signals=promotion,
                )
            )
        network = picked(_NETWORK_SIGNALS)
        if network:
            count = features.get("net_unsafe_signals")
            en = zh = None
            if isinstance(count, int | float) and count:
                en = f"{int(count)} unsafe network or device signal(s)"
                zh = f"{int(count)} 个不安全网络或设备信号"
            groups.append(
                SignalGroup(
                    group="network",
                    title="Network and device",
                    title_zh="网络与设备",
                    summary=en,
                    summary_zh=zh,
                    signals=network,
                )
            )
        velocity = picked([n for n in features if n.startswith("vel_") and not n.endswith("_10m")])
        if velocity:
            groups.append(
                SignalGroup(group="velocity", title="Velocity", title_zh="频次", signals=velocity)
            )
        model = [
            self._signal(feature, features[feature])
            for reason in body.reasons
            if reason.code.startswith("MODEL.")
            and (feature := reason.code.removeprefix("MODEL.").lower()) in features
        ]
        if model:
            groups.append(SignalGroup(group="model", title="Model", title_zh="模型", signals=model))
        return groups

    def _platform_summary(
        self, decision: DecisionRow, features: Mapping[str, Any]
    ) -> tuple[str | None, str | None]:
        label = decision.platform_label or "the platform"
        imitated = features.get("platform_imitated_operator")
        official = self._officials.get(str(imitated)) if _notable(imitated) else None
        if features.get("platform_lookalike"):
            if official is not None:
                where = ", ".join(official.identifiers)
                return (
                    f"{label} imitates {official.name_en} ({official.name}); "
                    f"the official platform is {where}",
                    f"{label} 仿冒{official.name};官方平台为 {where}",
                )
            return f"{label} imitates an official platform", f"{label} 仿冒官方平台"
        if features.get("platform_official"):
            return f"{label} is an official operator platform", f"{label} 是运营商官方平台"
        if features.get("platform_authorised"):
            return f"{label} is an authorised partner", f"{label} 是授权合作平台"
        if features.get("platform_unverified"):
            return (
                f"{label} is neither an operator's nor an authorised partner's platform",
                f"{label} 既不是运营商官方平台,也不是授权合作方",
            )
        return None, None


def _promotion_summary(
    decision: DecisionRow, features: Mapping[str, Any]
) -> tuple[str | None, str | None]:
    claimed = features.get("promo_benefit_ratio")
    best = features.get("promo_best_genuine_ratio")
    status = features.get("promo_status")
    if not isinstance(claimed, int | float) or not isinstance(best, int | float):
        return None, None
    paid = ""
    paid_zh = ""
    if decision.amount is not None and decision.paid_amount is not None:
        paid = f"paid {decision.paid_amount:g} CNY for {decision.amount:g} CNY of credit; "
        paid_zh = f"面值 {decision.amount:g} 元实付 {decision.paid_amount:g} 元;"
    return (
        f"{paid}claimed benefit {claimed:.0%} vs the best official offer {best:.0%} "
        f"(catalogue check: {status})",
        f"{paid_zh}声称优惠 {claimed:.0%},官方活动最多 {best:.0%}(核验结果:{status})",
    )


def _cell(value: Any) -> Any:
    """A CSV cell that a spreadsheet will not run as a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return "" if value is None else value


def _entry(row: AuditRow) -> AuditEntry:
    return AuditEntry(
        id=row.id,
        case_id=case_label(row.case_id) if row.case_id is not None else None,
        at=row.at,
        actor=row.actor,
        role=row.role,
        action=AuditAction(row.action),
        details=row.details,
    )


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
        return [_entry(row) for row in session.scalars(statement)]
