"""The feedback store on Redis, shared by every scoring worker: the same contract and the
same integers as :class:`~fraudguard.features.feedback_store.InMemoryFeedbackStore`.

Keys, under the velocity store's prefix plus ``fb:`` (``fraudguard:vel:fb:`` by default):

* ``<prefix>z:<key>``: sorted set of an entity key's reports, scored by known time
  (microseconds), member ``<report hash>:<known time>``;
* ``<prefix>r:<report hash>``: when the order was last counted (the one-count-per-order
  rule); the order id is stored as a keyed hash.

Recording a batch is one Lua script (atomic, one round trip); reading an order's counts is
one pipelined round trip of ``ZCOUNT`` commands. Failures raise
:class:`~fraudguard.exceptions.StateStoreError` and open a breaker for ``retry_after_s``,
as the velocity store does; a call is never retried on its own.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from fraudguard.exceptions import StateStoreError
from fraudguard.features.feedback_store import (
    DEFAULT_FEEDBACK_WINDOWS_S,
    RETAIN_MARGIN_S,
    FraudReport,
    check_feedback_windows,
)
from fraudguard.privacy import hash_key

if TYPE_CHECKING:
    import redis

__all__ = ["RedisFeedbackStore"]

_log = logging.getLogger(__name__)
_US = 1_000_000
_DEFAULT_RETRY_AFTER_S = 1.0

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
        retry_after_s: float = _DEFAULT_RETRY_AFTER_S,
    ) -> None:
        self._windows_s = check_feedback_windows(windows_s)
        self.client = client
        self.key_prefix = key_prefix
        self.retry_after_s = retry_after_s
        self._hmac_key = hmac_key
        self._widths_us = tuple(w * _US for w in self._windows_s)
        longest = self._widths_us[-1]
        retain = longest + RETAIN_MARGIN_S * _US
        # Redis expires on its wall clock; the margin only bounds memory.
        self._header = [longest, retain, retain // 1000 + 86_400_000]
        self._script = client.register_script(_RECORD)
        self._lock = threading.Lock()
        self._down_until = 0.0
        self._failed = False

    @property
    def windows_s(self) -> tuple[int, ...]:
        return self._windows_s

    @property
    def available(self) -> bool:
        return not self._failed or time.monotonic() >= self._down_until

    def record(self, reports: Sequence[FraudReport]) -> int:
        if not reports:
            return 0
        self._check_breaker()
        prefix = self.key_prefix
        keys: list[str] = []
        args: list[Any] = [*self._header, len(reports)]
        for report in reports:
            member = hash_key(report.report_id, self._hmac_key)
            present = [key for key in report.keys if key is not None]
            keys.append(f"{prefix}r:{member}")
            keys += [f"{prefix}z:{key}" for key in present]
            args += (report.known_us, member, len(present))
        try:
            counted = int(self._script(keys=keys, args=args))
        except Exception as error:  # connection, timeout, error reply: all "store down"
            self._failure(error)
            raise StateStoreError("the feedback store is unavailable") from None
        self._success()
        return counted

    def counts(self, keys: Sequence[str | None], ts_us: int) -> list[tuple[int, ...] | None]:
        present = [key for key in keys if key is not None]
        if not present:
            return [None] * len(keys)
        self._check_breaker()
        pipe = self.client.pipeline(transaction=False)
        upper = str(ts_us)
        for key in present:
            name = f"{self.key_prefix}z:{key}"
            for width in self._widths_us:
                pipe.zcount(name, f"({ts_us - width}", upper)
        try:
            reply = pipe.execute()
        except Exception as error:  # connection, timeout, error reply: all "store down"
            self._failure(error)
            raise StateStoreError("the feedback store is unavailable") from None
        self._success()
        n = len(self._widths_us)
        found = iter(tuple(int(v) for v in reply[i : i + n]) for i in range(0, len(reply), n))
        return [None if key is None else next(found) for key in keys]

    def _check_breaker(self) -> None:
        if self._failed and time.monotonic() < self._down_until:
            raise StateStoreError("the feedback store is unavailable (retrying shortly)")

    def _failure(self, error: Exception) -> None:
        with self._lock:
            if not self._failed:
                _log.error("feedback store unavailable: %s", type(error).__name__)
            self._failed = True
            self._down_until = time.monotonic() + self.retry_after_s

    def _success(self) -> None:
        if self._failed:
            with self._lock:
                if self._failed:
                    _log.warning("feedback store available again")
                self._failed = False
