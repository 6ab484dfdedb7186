"""Per-key rate limits (the ``limits`` library): over the limit is a 429 with Retry-After."""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import SlidingWindowCounterRateLimiter

from fraudguard.api.exceptions import KeyRateLimitedError
from fraudguard.exceptions import ConfigError, FieldProblem

__all__ = ["KeyRateLimiter"]

_NAMESPACE = "fraudguard-key"


class KeyRateLimiter:
    """Counts requests per API key against ``FRAUDGUARD_RATE_LIMIT`` (e.g. ``2000/second``
    or ``50/second;1000/minute``; empty = no limit) in a sliding window.

    The default ``memory://`` storage counts in each worker process; a shared ``limits``
    storage (``redis://...``) makes the limit hold across workers and nodes.
    """

    def __init__(self, spec: str, storage_uri: str = "memory://") -> None:
        try:
            self.limits: list[RateLimitItem] = parse_many(spec) if spec.strip() else []
        except ValueError:
            raise ConfigError(
                "invalid FRAUDGUARD_RATE_LIMIT",
                [
                    FieldProblem(
                        "FRAUDGUARD_RATE_LIMIT", "use e.g. 2000/second or 50/second;1000/minute"
                    )
                ],
            ) from None
        try:
            storage = storage_from_string(storage_uri)
        except Exception as error:  # limits raises several types for a bad URI
            raise ConfigError(
                "invalid FRAUDGUARD_RATE_LIMIT_STORAGE",
                [
                    FieldProblem(
                        "FRAUDGUARD_RATE_LIMIT_STORAGE",
                        f"not a usable storage ({type(error).__name__})",
                    )
                ],
            ) from None
        self._limiter = SlidingWindowCounterRateLimiter(storage)

    def hit(self, key_id: str, cost: int = 1) -> None:
        """Count ``cost`` requests for the key; :class:`KeyRateLimitedError` when over."""
        for limit in self.limits:
            if not self._limiter.hit(limit, _NAMESPACE, key_id, cost=cost):
                stats = self._limiter.get_window_stats(limit, _NAMESPACE, key_id)
                retry_after = max(1, math.ceil(stats.reset_time - time.time()))
                raise KeyRateLimitedError(str(limit), retry_after)
