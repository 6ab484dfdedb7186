"""Outcome and label errors, in FraudGuard's one tree so the API maps them without
translation."""

from __future__ import annotations

from fraudguard.exceptions import ConflictError, DataFileError

__all__ = ["LabelPolicyError", "OutcomeConflictError", "OutcomeFileError"]


class OutcomeConflictError(ConflictError):
    """The same (transaction_id, kind, reference) was reported before with another body."""

    code = "outcome_conflict"


class OutcomeFileError(DataFileError):
    """A file of outcomes that cannot be imported at all (unreadable, columns wrong)."""

    code = "invalid_outcome_file"


class LabelPolicyError(DataFileError):
    """The label policy file is unreadable or breaks its schema."""

    code = "invalid_label_policy"
