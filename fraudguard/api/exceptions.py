"""HTTP-only errors, in FraudGuard's tree so the one handler maps them."""

from __future__ import annotations

from fraudguard.exceptions import FieldProblem, InputError, RateLimitedError

__all__ = ["KeyRateLimitedError", "PayloadTooLargeError", "UnsupportedMediaTypeError"]


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
