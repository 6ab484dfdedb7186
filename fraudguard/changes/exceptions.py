"""Change control's errors, in FraudGuard's one tree (each knows its code and status)."""

from __future__ import annotations

from fraudguard.exceptions import ConflictError, NotFoundError, PermissionDeniedError

__all__ = [
    "ActivationConflictError",
    "ChangeNotFoundError",
    "ChangeStateError",
    "FourEyesError",
    "ReferenceMismatchError",
    "StaleRevisionError",
]


class ChangeNotFoundError(NotFoundError):
    code = "change_not_found"


class StaleRevisionError(ConflictError):
    """The caller acted on an older revision of the version (someone changed it since)."""

    code = "stale_revision"


class ChangeStateError(ConflictError):
    """The workflow does not allow this action in the version's state."""

    code = "invalid_state"


class ActivationConflictError(ConflictError):
    """Another activation of the same slot committed first; nothing changed."""

    code = "activation_conflict"


class FourEyesError(PermissionDeniedError):
    """The actor may not decide on their own change."""

    code = "four_eyes"


class ReferenceMismatchError(ConflictError):
    """A model fitted on other reference data than this deployment loads, which its workers
    would refuse to serve (the operator has not allowed mismatches)."""

    code = "reference_mismatch"
