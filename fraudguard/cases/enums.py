"""Where a review case stands, what a reviewer concluded, and what is audited."""

from __future__ import annotations

from enum import StrEnum

# Defined with the wire contract, which outcomes report it in too; re-exported here.
from fraudguard.schema import FraudTypology

__all__ = [
    "TRANSITIONS",
    "AuditAction",
    "CaseOrigin",
    "CaseSort",
    "CaseStatus",
    "DeciderKind",
    "Disposition",
    "FraudTypology",
    "LinkKind",
    "ScoreSource",
]


class CaseStatus(StrEnum):
    OPEN = "open"
    IN_REVIEW = "in_review"
    ESCALATED = "escalated"
    RESOLVED = "resolved"


#: Moves the transition endpoint accepts. ``resolved`` is reached only by recording a
#: ``confirmed_fraud`` or ``false_positive`` disposition (a resolved case always says why);
#: reopening a resolved case (back to ``in_review``) clears its current disposition.
TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.OPEN: frozenset({CaseStatus.IN_REVIEW, CaseStatus.ESCALATED}),
    CaseStatus.IN_REVIEW: frozenset({CaseStatus.OPEN, CaseStatus.ESCALATED}),
    CaseStatus.ESCALATED: frozenset({CaseStatus.IN_REVIEW, CaseStatus.OPEN}),
    CaseStatus.RESOLVED: frozenset({CaseStatus.IN_REVIEW}),
}


class Disposition(StrEnum):
    #: Fraud: becomes a positive training label with its typology.
    CONFIRMED_FRAUD = "confirmed_fraud"
    #: Genuine order flagged by mistake: a negative training label.
    FALSE_POSITIVE = "false_positive"
    #: The reviewer cannot decide yet: the case stays in review, no label.
    NEEDS_INFO = "needs_info"


class AuditAction(StrEnum):
    VIEW = "view"
    ASSIGN = "assign"
    STATUS = "status"
    DISPOSITION = "disposition"
    EXPORT = "export"
    EXPORT_LABELS = "export_labels"
    #: An outcome reported on the case's order (a missed-fraud case opens with one).
    OUTCOME = "outcome"
    #: A file of outcomes imported with ``fraudguard outcomes import``.
    OUTCOME_IMPORT = "outcome_import"
    #: Change control (:mod:`fraudguard.changes`): a version of a rule pack or a model
    #: drafted, proposed, approved, rejected, activated, rolled back, or seeded at first start.
    CHANGE_DRAFT = "change_draft"
    CHANGE_PROPOSE = "change_propose"
    CHANGE_APPROVE = "change_approve"
    CHANGE_REJECT = "change_reject"
    CHANGE_ACTIVATE = "change_activate"
    CHANGE_ROLLBACK = "change_rollback"
    CHANGE_SEED = "change_seed"


class CaseOrigin(StrEnum):
    """Why a case exists."""

    #: FraudGuard flagged the order (review or block) when it was scored.
    SCORING = "scoring"
    #: FraudGuard allowed the order, and an outcome later reported it as fraud.
    MISSED_FRAUD = "missed_fraud"


class LinkKind(StrEnum):
    """What two linked cases share."""

    PAYER = "payer"
    INSTRUMENT = "instrument"
    DEVICE = "device"
    PLATFORM = "platform"


class CaseSort(StrEnum):
    PRIORITY = "priority"  # highest expected loss first (the default)
    OLDEST = "oldest"
    NEWEST = "newest"
    SCORE = "score"
    AMOUNT = "amount"


class DeciderKind(StrEnum):
    """What made a decision review or block (the scoring policy,
    :mod:`fraudguard.scoring.service`)."""

    #: A ``review`` or ``block`` rule of the rule pack.
    RULE = "rule"
    #: The model: its score (plus any ``score`` rules' deltas) reached a threshold.
    MODEL = "model"
    #: The ``fail_closed`` failure policy: the model or the velocity store was unavailable.
    FAILURE_POLICY = "failure_policy"


class ScoreSource(StrEnum):
    """What a decision's ``score`` is."""

    #: The model's calibrated fraud probability (plus any ``score`` rules' deltas).
    MODEL = "model"
    #: No model answered (degraded): a fixed score from the strongest rule's severity.
    RULES_ONLY = "rules_only"
