"""Where a review case stands, what a reviewer concluded, and what is audited."""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "TRANSITIONS",
    "AuditAction",
    "CaseSort",
    "CaseStatus",
    "Disposition",
    "FraudTypology",
    "LinkKind",
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


class FraudTypology(StrEnum):
    """What kind of fraud a confirmed case was (the simulator's fraud typologies, plus
    ``other`` for what none of them describes)."""

    FAKE_DISCOUNT_SCAM = "fake_discount_scam"
    LAUNDERING = "laundering"
    ACCOUNT_TAKEOVER = "account_takeover"
    CARD_TESTING = "card_testing"
    PROMOTION_ABUSE = "promotion_abuse"
    OTHER = "other"


class AuditAction(StrEnum):
    VIEW = "view"
    ASSIGN = "assign"
    STATUS = "status"
    DISPOSITION = "disposition"
    EXPORT = "export"
    EXPORT_LABELS = "export_labels"


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
