"""FraudGuard's one exception tree.

Every error FraudGuard raises on purpose is a :class:`FraudGuardError`. Each class knows
its machine-readable ``code`` and the HTTP status the API answers with, so routes never
translate errors by hand::

    FraudGuardError                      500 internal
    ├── ConfigError                      500 config_error        bad settings or paths
    ├── InputError                       422 invalid_input       a caller sent bad data
    │   ├── DataFileError                422 invalid_data_file   a file a user handed us is bad
    │   │   ├── ReferenceDataError       422 invalid_reference   a reference data file is bad
    │   │   └── RuleError                422 invalid_rule        a rule file is bad
    │   └── DataValidationError          422 invalid_training_data  data failed a validation suite
    ├── ConflictError                    409 conflict            same transaction_id, other body
    ├── NotFoundError                    404 not_found
    ├── AuthenticationError              401 unauthenticated
    ├── PermissionDeniedError            403 forbidden
    ├── RateLimitedError                 429 rate_limited
    └── UnavailableError                 503 unavailable     a store or model cannot be reached
        └── ModelError                   503 model_error     an artifact is missing or refused
            └── ArtifactIntegrityError   503 artifact_tampered  sha256 differs from manifest

Messages never carry personal data (phone numbers, card data, payer ids): they name the
field and the fix, not the value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from fraudguard.validation.schemas import ValidationReport

__all__ = [
    "ArtifactIntegrityError",
    "AuthenticationError",
    "ConfigError",
    "ConflictError",
    "DataFileError",
    "DataValidationError",
    "FieldProblem",
    "FraudGuardError",
    "InputError",
    "ModelError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitedError",
    "ReferenceDataError",
    "RuleError",
    "StateStoreError",
    "UnavailableError",
]


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """One thing wrong with one field: where it is and what to do about it.

    ``location`` is a dotted path (``payment.card_bin``) or ``file:line: field`` for files.
    """

    location: str
    message: str
    kind: str = "invalid"
    extra: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


class FraudGuardError(Exception):
    """Base of every error FraudGuard raises on purpose."""

    code: ClassVar[str] = "internal"
    status_code: ClassVar[int] = 500

    def __init__(self, message: str, problems: Sequence[FieldProblem] = ()) -> None:
        self.message = message
        self.problems: tuple[FieldProblem, ...] = tuple(problems)
        super().__init__(self._render())

    def _render(self) -> str:
        if not self.problems:
            return self.message
        lines = "\n".join(f"  - {p}" for p in self.problems)
        return f"{self.message}\n{lines}"


class ConfigError(FraudGuardError):
    code = "config_error"


class InputError(FraudGuardError):
    code = "invalid_input"
    status_code = 422


class DataFileError(InputError):
    code = "invalid_data_file"


class DataValidationError(InputError):
    """Data failed a validation suite; ``report`` is the full
    :class:`~fraudguard.validation.ValidationReport` for the caller to print."""

    code = "invalid_training_data"

    def __init__(
        self, message: str, problems: Sequence[FieldProblem] = (), *, report: ValidationReport
    ) -> None:
        self.report = report
        super().__init__(message, problems)


class ReferenceDataError(DataFileError):
    code = "invalid_reference"


class RuleError(DataFileError):
    code = "invalid_rule"


class ConflictError(FraudGuardError):
    code = "conflict"
    status_code = 409


class NotFoundError(FraudGuardError):
    code = "not_found"
    status_code = 404


class AuthenticationError(FraudGuardError):
    code = "unauthenticated"
    status_code = 401


class PermissionDeniedError(FraudGuardError):
    code = "forbidden"
    status_code = 403


class RateLimitedError(FraudGuardError):
    code = "rate_limited"
    status_code = 429


class UnavailableError(FraudGuardError):
    code = "unavailable"
    status_code = 503


class ModelError(UnavailableError):
    code = "model_error"


class ArtifactIntegrityError(ModelError):
    code = "artifact_tampered"


class StateStoreError(UnavailableError):
    """The velocity state store (Redis) did not answer; scoring follows the failure policy."""

    code = "state_store_unavailable"
