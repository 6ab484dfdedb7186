"""HTTP-only errors, in FraudGuard's tree so the one handler maps them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from starlette.responses import JSONResponse

from fraudguard.exceptions import FieldProblem, FraudGuardError, InputError, RateLimitedError
from fraudguard.privacy import redact

__all__ = [
    "KeyRateLimitedError",
    "PayloadTooLargeError",
    "UnsupportedMediaTypeError",
    "error_response",
    "fraudguard_error_response",
    "public_problems",
]


class PayloadTooLargeError(InputError):
    code = "payload_too_large"
    status_code = 413


class UnsupportedMediaTypeError(InputError):
    code = "unsupported_media_type"
    status_code = 415


class KeyRateLimitedError(RateLimitedError):
    """429: the API key is over its limit; answered with ``Retry-After``."""

    def __init__(self, limit: str, retry_after_s: int) -> None:
        self.limit = limit
        self.retry_after_s = retry_after_s
        super().__init__(
            f"this API key is over its rate limit of {limit}; retry after {retry_after_s} s",
            [FieldProblem("Authorization", f"rate limit {limit} (FRAUDGUARD_RATE_LIMIT)")],
        )


def error_response(
    status: int,
    code: str,
    message: str,
    problems: list[dict[str, str]],
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """Every error's body (``ErrorBody``): a machine code, a message, the fields at fault."""
    return JSONResponse(
        {"error": code, "message": message, "problems": problems},
        status_code=status,
        headers=headers,
    )


def public_problems(problems: Sequence[FieldProblem]) -> list[dict[str, str]]:
    """Problems as answered: a field name is whatever key the caller sent (a phone number
    sent as a key is a field name too), so anything that looks like personal data is
    masked wherever it appears."""
    return [{"field": redact(p.location), "message": redact(p.message)} for p in problems]


def fraudguard_error_response(exc: FraudGuardError) -> JSONResponse:
    """The answer to one of FraudGuard's errors (429 with ``Retry-After``)."""
    headers = (
        {"Retry-After": str(exc.retry_after_s)} if isinstance(exc, KeyRateLimitedError) else None
    )
    return error_response(
        exc.status_code, exc.code, redact(exc.message), public_problems(exc.problems), headers
    )
