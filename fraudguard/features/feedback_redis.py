"""The feedback store on Redis, shared by every scoring worker: the same contract and the
same integers as :class:`~fraudguard.features.feedback_store.InMemoryFeedbackStore`.

Keys, under the velocity store's prefix plus ``fb:`` (``fraudguard:vel:fb:`` by default):

* ``<prefix>z:<key>``: sorted set of an entity key's reports, scored by known time
  (microseconds), member ``<report hash>:<known time>``;
* ``<prefix>r:<report hash>``: when the order was last counted (the one-count-per-order
  rule); the order id is stored as a keyed hash.

Recording a batch is one Lua script (atomic, one round trip); reading an order's counts is
one pipelined round trip of ``ZCOUNT`` commands. Failures raise
:class:`~fraudguard.exceptions.StateStoreError` and open the store's circuit breaker
(:class:`~fraudguard.features.redis_breaker.RedisBreaker`) for ``retry_after_s``, as the
velocity store does; a call is never retried on its own.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from fraudguard.features.feedback_store import (
    DEFAULT_FEEDBACK_WINDOWS_S,
    RETAIN_MARGIN_S,
    FraudReport,
    check_feedback_windows,
)
from fraudguard.features.redis_breaker import DEFAULT_RETRY_AFTER_S, RedisBreaker
from fraudguard.privacy import hash_key

if TYPE_CHECKING:
    import redis

__all__ = ["RedisFeedbackStore"]

_log = logging.getLogger(__name__)
_US = 1_000_000

# KEYS: per report its "r:" key then its entity keys; ARGV: longest (us), retain (us),
# expiry (ms), report count, then per report: known (us), member, entity-key count.
_RECORD = """
local longest = tonumber(ARGV[1]); local retain = tonumber(ARGV[2])
local expiry = tonumber(ARGV[3]); local n = tonumber(ARGV[4])
local a, k, counted = 5, 1, 0
for i = 1, n do
  local known = tonumber(ARGV[a]); local member = ARGV[a + 1]; local nk = tonumber(ARGV[a + 2])
  a = a + 3
  local rkey = KEYS[k]; k = k + 1
  local before = tonumber(redis.call('GET', rkey))
  if before == nil or known - before >= longest then
    local stamp = string.format('%.0f', known)
    redis.call('SET', rkey, stamp, 'PX', expiry)
    for j = 1, nk do
      local z = KEYS[k + j - 1]
      redis.call('ZADD', z, stamp, member .. ':' .. stamp)
      redis.call('ZREMRANGEBYSCORE', z, '-inf', string.format('%.0f', known - retain))
      redis.call('PEXPIRE', z, expiry)
    end
    counted = counted + 1
  end
  k = k + nk
end
return counted
"""


class RedisFeedbackStore:
    """Feedback state in Redis (module docstring). ``client`` is usually the velocity
    store's, so both share one connection pool."""

    def __init__(
        self,
        client: redis.Redis,
        hmac_key: str | bytes,
        *,
        key_prefix: str,
        windows_s: Sequence[int] = DEFAULT_FEEDBACK_WINDOWS_S,
        retry_after_s: float = DEFAULT_RETRY_AFTER_S,
    ) -> None:
        self._windows_s = check_feedback_windows(windows_s)
        self.client = client
        self.key_prefix = key_prefix
        self.breaker = RedisBreaker(client, "feedback store", _log, retry_after_s=retry_after_s)
        self._hmac_key = hmac_key
        self._widths_us = tuple(w * _US for w in self._windows_s)
        longest = self._widths_us[-1]
        retain = longest + RETAIN_MARGIN_S * _US
        # Redis expires on its wall clock; the margin only bounds memory.
        self._header = [longest, retain, retain // 1000 + 86_400_000]
        self._script = client.register_script(_RECORD)

    @property
    def windows_s(self) -> tuple[int, ...]:
        return self._windows_s

    @property
    def retry_after_s(self) -> float:
        return self.breaker.retry_after_s

    @property
    def available(self) -> bool:
        """Whether the store answers (:attr:`RedisBreaker.available`)."""
        return self.breaker.available

    def record(self, reports: Sequence[FraudReport]) -> int:
        if not reports:
            return 0
        self.breaker.check()
        prefix = self.key_prefix
        keys: list[str] = []
        args: list[Any] = [*self._header, len(reports)]
        for report in reports:
            member = hash_key(report.report_id, self._hmac_key)
            present = [key for key in report.keys if key is not None]
            keys.append(f"{prefix}r:{member}")
            keys += [f"{prefix}z:{key}" for key in present]
            args += (report.known_us, member, len(present))
        return int(self.breaker.call(self._script, keys=keys, args=args))

    def counts(self, keys: Sequence[str | None], ts_us: int) -> list[tuple[int, ...] | None]:
        if all(key is None for key in keys):
            return [None] * len(keys)
        self.breaker.check()
        pipe = self.client.pipeline(transaction=False)
        for name, low, high in self.count_request(keys, ts_us):
            pipe.zcount(name, low, high)
        return self.count_answers(self.breaker.call(pipe.execute), keys)

    def count_request(self, keys: Sequence[str | None], ts_us: int) -> list[tuple[str, str, str]]:
        """The ``ZCOUNT`` commands (key, min, max) :meth:`counts` sends for ``keys``."""
        upper = str(ts_us)
        lows = [f"({ts_us - width}" for width in self._widths_us]
        return [
            (f"{self.key_prefix}z:{key}", low, upper)
            for key in keys
            if key is not None
            for low in lows
        ]

    def count_answers(
        self, reply: Sequence[Any], keys: Sequence[str | None]
    ) -> list[tuple[int, ...] | None]:
        """The replies to :meth:`count_request` ``(keys, ...)``, per key (``None`` for
        ``None``)."""
        n = len(self._widths_us)
        found = iter(tuple(int(v) for v in reply[i : i + n]) for i in range(0, len(reply), n))
        return [None if key is None else next(found) for key in keys]
