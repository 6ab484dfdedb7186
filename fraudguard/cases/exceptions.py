"""Case errors, in FraudGuard's one tree so the API maps them without translation."""

from __future__ import annotations

from fraudguard.exceptions import ConflictError, NotFoundError

__all__ = ["CaseNotFoundError", "InvalidTransitionError"]


class CaseNotFoundError(NotFoundError):
    code = "case_not_found"


class InvalidTransitionError(ConflictError):
    """The case is not in a state that allows the move (409: re-read it and retry)."""

    code = "invalid_transition"
