"""Requests and answers of change control, and the evidence a proposal carries.

Requests refuse unknown fields (422 naming them): a misspelt ``revison`` must not silently
skip the concurrency check.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, computed_field

from fraudguard.cases import AuditEntry
from fraudguard.changes.enums import ChangeKind, ChangeState

__all__ = [
    "MAX_CONTENT_CHARS",
    "Backtest",
    "ChangeDetail",
    "ChangeSummary",
    "ChangeVersion",
    "DayImpact",
    "DecisionMix",
    "DecisionRequest",
    "DiffRow",
    "DraftRequest",
    "EditRequest",
    "Evidence",
    "FamilyImpact",
    "FieldChange",
    "ModelEvaluation",
    "ModelProposalRequest",
    "ModelScores",
    "PendingRollback",
    "Problem",
    "ProposeRequest",
    "RuleDiff",
    "RuleImpact",
    "ShadowResults",
    "Validation",
    "VersionDiff",
]

#: Largest rule pack accepted as one text (the shipped pack is ~15 kB).
MAX_CONTENT_CHARS = 256 * 1024

Comment = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=4000)]
Rationale = Annotated[str, StringConstraints(strip_whitespace=True, min_length=10, max_length=4000)]
Content = Annotated[str, StringConstraints(min_length=1, max_length=MAX_CONTENT_CHARS)]
Revision = Annotated[int, Field(ge=1, le=2**31 - 1)]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DraftRequest(_Request):
    """A new rule pack version: the YAML of one rule file and why it is changed."""

    content: Content = Field(description="The whole pack as the YAML of one rule file.")
    rationale: Rationale = Field(description="Why the pack changes, for the approver and audit.")


class EditRequest(_Request):
    """A new text or rationale for a draft; ``revision`` is the one the editor read."""

    revision: Revision = Field(description="The draft's revision as read (ETag).")
    content: Content | None = None
    rationale: Rationale | None = None


class ProposeRequest(_Request):
    """Freeze a draft and run its evidence: validation, a backtest on the decision log, and
    optionally a shadow run on live traffic."""

    revision: Revision = Field(description="The draft's revision as read (ETag).")
    shadow: bool = Field(
        default=False, description="Also evaluate it beside the live pack on live traffic."
    )
    days: Annotated[int, Field(ge=1, le=366)] | None = Field(
        default=None,
        description="Backtest on this many days of the decision log; default "
        "FRAUDGUARD_CHANGE_BACKTEST_DAYS.",
    )


class DecisionRequest(_Request):
    """Approve, reject, activate or roll back: every decision says why."""

    revision: Revision = Field(description="The version's revision as read (ETag).")
    comment: Comment = Field(description="Why; goes into the audit trail.")


class ModelProposalRequest(_Request):
    """Put a registered model forward to become the one the service scores with."""

    model_version: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,64}$")] = Field(
        description="A version in the model registry (`fraudguard models list`)."
    )
    rationale: Rationale


# --- evidence ------------------------------------------------------------------------------


class Problem(BaseModel):
    location: str
    message: str


class Validation(BaseModel):
    """The rule compiler's verdict: problems by rule and line (none, or no proposal)."""

    ok: bool
    rules: int
    problems: list[Problem] = []
    ruleset_version: str | None = None


class DecisionMix(BaseModel):
    """Decisions over the backtest's orders under one rule pack."""

    orders: int
    allow: int
    review: int
    block: int
    flagged: int
    flagged_rate: float | None
    amount_flagged: float
    fraud_labelled: int
    fraud_caught: int
    fraud_missed: int
    fraud_amount_caught: float
    fraud_amount_missed: float
    genuine_labelled: int
    genuine_flagged: int


class RuleImpact(BaseModel):
    """One rule of either pack: how it changed, its hits before and after, and the orders
    whose decision changes because of it."""

    rule_id: str
    family: str
    change: str  # added / removed / changed / unchanged
    mode: str
    hits_before: int
    hits_after: int
    newly_flagged: int
    no_longer_flagged: int


class FamilyImpact(BaseModel):
    family: str
    newly_flagged: int
    no_longer_flagged: int


class DayImpact(BaseModel):
    """Orders of one day (UTC, by the order's event time) and how many each pack flags."""

    day: date
    orders: int
    flagged_before: int
    flagged_after: int


class Backtest(BaseModel):
    """The proposed pack against the active one on the same logged orders."""

    since: datetime
    until: datetime
    orders: int
    truncated: bool = Field(description="The window held more orders than were read.")
    labels: str = Field(description="Where the fraud labels came from.")
    labelled: int
    before: DecisionMix
    after: DecisionMix
    changed: int
    transitions: dict[str, int]
    rules: list[RuleImpact]
    families: list[FamilyImpact]
    days: list[DayImpact]
    examples: list[str] = Field(description="Transaction ids of changed orders, largest first.")
    unavailable_columns: list[str] = Field(
        description="Columns the rules read that the decision log does not keep (missing in "
        "both packs' evaluation)."
    )
    reproduced: float | None = Field(
        description="Share of orders whose logged decision the active pack reproduces."
    )
    seconds: float


class ModelScores(BaseModel):
    """One model on the held-out window."""

    version: str
    review_threshold: float
    block_threshold: float
    average_precision: float | None
    roc_auc: float | None
    recall_at_review: float | None
    precision_at_review: float | None
    legit_flagged_rate: float | None
    flagged: int
    fraud_money_caught: float
    registry_average_precision: float | None = Field(
        description="AP on the model's own test period, from its manifest."
    )


class ModelEvaluation(BaseModel):
    """The candidate and the active model scored on the same held-out window."""

    data: str
    window_start: datetime | None
    window_end: datetime | None
    rows: int
    fraud: int
    candidate: ModelScores
    active: ModelScores | None
    seconds: float


class Evidence(BaseModel):
    validation: Validation | None = None
    backtest: Backtest | None = None
    model: ModelEvaluation | None = None
    #: Why part of the evidence could not be computed (no log yet, no held-out data...).
    notes: list[str] = []


class ShadowResults(BaseModel):
    """A proposed pack run beside the live one on live traffic, summed over workers."""

    workers: int
    since: datetime | None
    updated_at: datetime | None
    orders: int
    changed: int
    flagged_before: int
    flagged_after: int
    amount_flagged_before: float
    amount_flagged_after: float
    transitions: dict[str, int]
    rules: dict[str, int]
    families: list[FamilyImpact]


# --- versions ------------------------------------------------------------------------------


class PendingRollback(BaseModel):
    requested_by: str
    requested_at: datetime
    comment: str


class ChangeSummary(BaseModel):
    """A version as listed."""

    kind: ChangeKind
    number: int
    state: ChangeState
    label: str
    content_hash: str
    author: str
    created_at: datetime
    revision: int
    seeded: bool
    decided_by: str | None
    activated_at: datetime | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def etag(self) -> str:
        """The value ``revision`` stands for: ``"<kind>-<number>-<revision>"``."""
        return f'"{self.kind}-{self.number}-{self.revision}"'


class ChangeVersion(ChangeSummary):
    """A version with its evidence and decisions."""

    author_role: str
    rationale: str
    shadow: bool
    based_on: int | None
    evidence: Evidence | None
    proposed_at: datetime | None
    decided_at: datetime | None
    decision_comment: str | None
    activated_by: str | None
    retired_at: datetime | None
    rollback: PendingRollback | None
    warnings: list[str] = Field(
        default=[],
        description="What a decider must know that the evidence does not say: a model "
        "fitted on other reference data than this deployment loads (checked when read).",
    )


class ChangeDetail(ChangeVersion):
    """One version as shown to its approver: content, running shadow results, history."""

    content: str
    shadow_results: ShadowResults | None
    history: list[AuditEntry]


# --- diffs ---------------------------------------------------------------------------------


class FieldChange(BaseModel):
    field: str
    before: Any
    after: Any


class RuleDiff(BaseModel):
    rule_id: str
    change: str  # added / removed / changed / unchanged
    title: str
    fields: list[FieldChange]


class DiffRow(BaseModel):
    """One line of a side-by-side diff: ``equal``, ``replace``, ``delete`` or ``insert``."""

    tag: str
    left_no: int | None
    left: str | None
    right_no: int | None
    right: str | None


class VersionDiff(BaseModel):
    kind: ChangeKind
    before: ChangeSummary
    after: ChangeSummary
    rules: list[RuleDiff]
    lines: list[DiffRow]
    extra: dict[str, Any] = {}
