"""What the case API reads and answers: queue filters, case views, workflow requests, the
audit trail, the dashboard. Every id and phone number here is masked or a keyed hash."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from fraudguard.cases.enums import (
    AuditAction,
    CaseOrigin,
    CaseSort,
    CaseStatus,
    DeciderKind,
    Disposition,
    FraudTypology,
    LinkKind,
    ScoreSource,
)
from fraudguard.exceptions import FieldProblem, InputError
from fraudguard.schema import Decision, DecisionOutcome, OutcomeKind, ReasonFamily

__all__ = [
    "MAX_PAGE_SIZE",
    "Actor",
    "AssignRequest",
    "AuditEntry",
    "BacklogSummary",
    "CaseDetail",
    "CasePage",
    "CaseQuery",
    "CaseSummary",
    "Dashboard",
    "Decider",
    "DispositionRequest",
    "FamilyDay",
    "LinkedCase",
    "ReportedOutcome",
    "RuleFalsePositives",
    "Signal",
    "SignalGroup",
    "TransitionRequest",
    "case_label",
    "parse_case_id",
]

_CASE_ID = re.compile(r"^case-(\d{1,12})$")


def case_label(number: int) -> str:
    """``case-000042`` for case 42."""
    return f"case-{number:06d}"


def parse_case_id(case_id: str) -> int:
    """``case-000042`` -> 42; anything else is a 422 naming ``case_id``."""
    match = _CASE_ID.fullmatch(case_id)
    if match is None:
        raise InputError(
            "the case id is invalid", [FieldProblem("case_id", "use the form case-000042")]
        )
    return int(match.group(1))


MAX_PAGE_SIZE = 200
_ASSIGNEE = re.compile(r"^[A-Za-z0-9._:@-]{1,64}$")


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Actor(BaseModel):
    """Who acts: ``id`` is ``role:key-id`` (a keyed hash of the API key, never the key)."""

    model_config = ConfigDict(frozen=True)

    id: Annotated[str, Field(min_length=1, max_length=64)]
    role: Annotated[str, Field(min_length=1, max_length=16)]


class CaseQuery(_Request):
    """Queue filters; every one is optional and they combine with AND."""

    status: list[CaseStatus] | None = Field(
        default=None, description="One or more statuses; default every status."
    )
    family: ReasonFamily | None = Field(default=None, description="Family of the top reason.")
    decision: DecisionOutcome | None = Field(default=None, description="review or block.")
    origin: CaseOrigin | None = Field(
        default=None,
        description="`missed_fraud`: cases an outcome (a chargeback, a complaint...) opened on "
        "an order FraudGuard allowed; `scoring`: orders flagged when scored.",
    )
    platform: Annotated[str, Field(min_length=1, max_length=255)] | None = Field(
        default=None, description="Exact platform label (domain, app package, account)."
    )
    assignee: Annotated[str, Field(min_length=1, max_length=64)] | None = Field(
        default=None, description="Assigned reviewer; `none` for unassigned cases."
    )
    created_from: AwareDatetime | None = Field(
        default=None, description="Opened at or after (ISO 8601 with offset)."
    )
    created_to: AwareDatetime | None = Field(
        default=None, description="Opened before (ISO 8601 with offset)."
    )
    score_min: Annotated[float, Field(ge=0, le=1)] | None = None
    score_max: Annotated[float, Field(ge=0, le=1)] | None = None
    sort: CaseSort = CaseSort.PRIORITY
    page: Annotated[int, Field(ge=1, le=100_000)] = 1
    page_size: Annotated[int, Field(ge=1, le=MAX_PAGE_SIZE)] = 50

    @field_validator("status", mode="before")
    @classmethod
    def _split_statuses(cls, value: Any) -> Any:
        # ``?status=open,in_review`` as well as ``?status=open&status=in_review``.
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list):
            return [part for item in value for part in str(item).split(",") if part] or None
        return value

    @field_validator("decision")
    @classmethod
    def _flagged(cls, value: DecisionOutcome | None) -> DecisionOutcome | None:
        if value is DecisionOutcome.ALLOW:
            raise ValueError(
                "scoring opens cases for review or block; for allowed orders that turned out "
                "fraud use origin=missed_fraud"
            )
        return value

    @field_validator("score_max")
    @classmethod
    def _score_range(cls, value: float | None, info: ValidationInfo) -> float | None:
        low = info.data.get("score_min")
        if value is not None and low is not None and low > value:
            raise ValueError("must not be below score_min")
        return value

    @field_validator("created_to")
    @classmethod
    def _time_range(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        start = info.data.get("created_from")
        if value is not None and start is not None and start >= value:
            raise ValueError("must be after created_from")
        return value


class Decider(BaseModel):
    """One thing that made the decision ``review`` or ``block``."""

    kind: DeciderKind
    id: str | None = Field(
        default=None,
        description="The rule id, the model version, or the failure policy's reason code "
        "(`MODEL.UNAVAILABLE`, `STATE.UNAVAILABLE`).",
    )
    outcome: DecisionOutcome | None = Field(
        default=None,
        description="What it asked for (`review` or `block`); null for a rule the live rule "
        "pack no longer has.",
    )


class CaseSummary(BaseModel):
    """One row of the queue."""

    case_id: str
    transaction_id: str
    status: CaseStatus
    decision: str | None
    score: float | None
    amount: float | None
    priority: float
    family: str
    platform: str | None
    msisdn: str | None = Field(description="Masked, e.g. 189****5678.")
    assignee: str | None
    disposition: Disposition | None
    created_at: datetime
    age_hours: float
    sla_due: datetime
    sla_breached: bool
    origin: CaseOrigin = Field(
        default=CaseOrigin.SCORING,
        description="`scoring`: flagged (review or block) when scored; `missed_fraud`: "
        "FraudGuard allowed the order and an outcome later reported it as fraud.",
    )
    decided_by: list[Decider] = Field(
        default_factory=list,
        description="What made the decision review or block: the rule(s), the model, or "
        "the fail-closed failure policy. `score` alone does not say: a rule can block an "
        "order the model scores low.",
    )
    score_source: ScoreSource = Field(
        default=ScoreSource.MODEL,
        description="`model`: `score` is the model's fraud probability (plus any score "
        "rules' deltas); `rules_only`: no model answered (degraded) and `score` is a fixed "
        "score from the strongest rule's severity.",
    )


class CasePage(BaseModel):
    items: list[CaseSummary]
    total: int
    page: int
    page_size: int


class LinkedCase(BaseModel):
    """Another case that shares a payer, instrument, device or (unverified) platform."""

    case_id: str
    transaction_id: str
    status: CaseStatus
    decision: str | None
    score: float | None
    amount: float | None
    family: str
    disposition: Disposition | None
    created_at: datetime
    shared: list[LinkKind]


class Signal(BaseModel):
    """One feature that mattered, in words."""

    name: str
    value: Any
    description: str
    description_zh: str


class SignalGroup(BaseModel):
    """Why a case was flagged, one side at a time (platform, promotion, network, velocity)."""

    group: str
    title: str
    title_zh: str
    summary: str | None = None
    summary_zh: str | None = None
    signals: list[Signal]


class ReportedOutcome(BaseModel):
    """An outcome reported on the case's order (``POST /v1/outcomes`` or a file import)."""

    outcome_id: int
    kind: OutcomeKind
    reported_at: datetime
    received_at: datetime
    amount: float | None
    reference: str | None
    source: str | None
    typology: FraudTypology | None
    note: str | None
    reported_by: str = Field(description="`role:key-id` of the API key, or `cli:<user>`.")


class AuditEntry(BaseModel):
    id: int
    case_id: str | None
    at: datetime
    actor: str
    role: str
    action: AuditAction
    details: dict[str, Any]


class CaseDetail(CaseSummary):
    decision_body: Decision = Field(description="The decision exactly as answered.")
    event_time: datetime | None
    paid_amount: float | None
    channel: str | None
    typology: FraudTypology | None
    disposition_comment: str | None
    disposed_at: datetime | None
    disposed_by: str | None
    rules: list[str]
    signals: list[SignalGroup]
    linked: list[LinkedCase]
    history: list[AuditEntry]
    outcomes: list[ReportedOutcome] = Field(
        default_factory=list,
        description="What was reported after the decision: chargebacks, complaints, reports.",
    )
    allowed_transitions: list[CaseStatus]


class AssignRequest(_Request):
    assignee: str | None = Field(
        description="Reviewer to assign (letters, digits and . _ : @ -), or null to unassign."
    )

    @field_validator("assignee")
    @classmethod
    def _check(cls, value: str | None) -> str | None:
        if value is not None and not _ASSIGNEE.fullmatch(value):
            raise ValueError("use 1-64 letters, digits or . _ : @ -")
        return value


class TransitionRequest(_Request):
    status: CaseStatus
    comment: Annotated[str, Field(max_length=2000)] | None = None


class DispositionRequest(_Request):
    disposition: Disposition
    comment: Annotated[str, Field(min_length=1, max_length=2000)] = Field(
        description="Why: mandatory, shown in the history."
    )

    @field_validator("comment")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("write why (the comment cannot be blank)")
        return value

    typology: FraudTypology | None = Field(
        default=None,
        validate_default=True,
        description="Required for confirmed_fraud; refused otherwise.",
    )

    @field_validator("typology")
    @classmethod
    def _typology(cls, value: FraudTypology | None, info: ValidationInfo) -> FraudTypology | None:
        disposition = info.data.get("disposition")
        if disposition is Disposition.CONFIRMED_FRAUD and value is None:
            raise ValueError(f"required for confirmed_fraud: one of {', '.join(FraudTypology)}")
        if disposition is not None and disposition is not Disposition.CONFIRMED_FRAUD and value:
            raise ValueError("only for confirmed_fraud; leave it out")
        return value


class FamilyDay(BaseModel):
    day: str
    family: str
    cases: int


class BacklogSummary(BaseModel):
    by_status: dict[str, int]
    unassigned: int
    sla_breached: int
    oldest_age_hours: float | None


class RuleFalsePositives(BaseModel):
    rule: str
    confirmed_fraud: int
    false_positive: int
    false_positive_rate: float


class Dashboard(BaseModel):
    days: int
    volume: list[FamilyDay]
    backlog: BacklogSummary
    rules: list[RuleFalsePositives]
