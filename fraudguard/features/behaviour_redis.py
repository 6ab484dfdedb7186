"""The behaviour baselines' daily store on Redis, beside the velocity store.

Same contract and integers as the in-memory daily store
(:mod:`fraudguard.features.behaviour_store`). One event is **one round trip**: a Lua
script reads, trims and records every observation atomically. It is a script of its own
(folding it into the velocity script would change that script's keys and arguments for
every deployment); scoring sends both in one pipelined round trip
(:mod:`fraudguard.features.redis_round_trip`).

Keys, under the velocity store's prefix (``fraudguard:vel:`` by default): ``<prefix>dclock``,
the store day (newest day recorded), and ``<prefix>d:<key>``,
a hash with ``n`` (newest day) and ``c<day>``, ``s<day>``, ``q<day>`` (count, sum of fen,
sum of squared fen) per active day, counted with ``HINCRBY`` so the sums stay exact
64-bit integers (Lua numbers are doubles). Buckets past the horizon are deleted as the key
is observed; the key expires after the horizon plus a margin.

Failures are the velocity store's: a connection error, a timeout or an error reply raises
:class:`~fraudguard.exceptions.StateStoreError` and opens the store's circuit breaker
(:class:`~fraudguard.features.redis_breaker.RedisBreaker`) for ``retry_after_s``; a call is
never retried (it may have run).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from fraudguard.features.behaviour_store import (
    DEFAULT_HORIZON_DAYS,
    Bucket,
    DayObservation,
    check_horizon,
)
from fraudguard.features.redis_breaker import DEFAULT_RETRY_AFTER_S, RedisBreaker
from fraudguard.features.redis_store import (
    DEFAULT_KEY_PREFIX,
    RedisStateStore,
    redis_store_from_url,
)

if TYPE_CHECKING:
    import redis

__all__ = ["RedisDailyStore", "daily_store_from_url"]

_log = logging.getLogger(__name__)
#: Extra life of a key beyond the horizon (wall clock), for late events.
_EXPIRY_MARGIN_S = 86_400

# ARGV: horizon (days), expiry (ms), then per observation: day, fen, fen squared (strings).
# KEYS: store day, then one hash per observation. Returns per observation
# {day used, field, value, ...}.
_SCRIPT = """
local horizon = tonumber(ARGV[1]); local expiry = tonumber(ARGV[2])
local clock = tonumber(redis.call('GET', KEYS[1]))
local newest_clock = clock
local out = {}
for i = 1, #KEYS - 1 do
  local key = KEYS[i + 1]
  local a = 3 * i
  local day = tonumber(ARGV[a]); local fen = ARGV[a + 1]; local sq = ARGV[a + 2]
  local all = redis.call('HGETALL', key)
  local newest = nil
  for j = 1, #all, 2 do
    if all[j] == 'n' then newest = tonumber(all[j + 1]) end
  end
  if newest ~= nil and clock ~= nil and newest <= clock - horizon then
    redis.call('DEL', key); all = {}; newest = nil
  end
  if newest ~= nil and day < newest then day = newest end
  local low = day - horizon + 1
  local answer, dead = {day}, {}
  for j = 1, #all, 2 do
    local f = all[j]
    if f ~= 'n' then
      if tonumber(string.sub(f, 2)) < low then
        dead[#dead + 1] = f
      else
        answer[#answer + 1] = f; answer[#answer + 1] = all[j + 1]
      end
    end
  end
  if #dead > 0 then redis.call('HDEL', key, unpack(dead)) end
  -- Every bucket gone and nothing to record: forget the key, newest day too (as in memory).
  if fen == '0' and newest ~= nil and #answer == 1 then redis.call('DEL', key) end
  if fen ~= '0' then
    local d = string.format('%d', day)
    redis.call('HINCRBY', key, 'c' .. d, 1)
    redis.call('HINCRBY', key, 's' .. d, fen)
    redis.call('HINCRBY', key, 'q' .. d, sq)
    redis.call('HSET', key, 'n', d)
    redis.call('PEXPIRE', key, expiry)
    if newest_clock == nil or day > newest_clock then newest_clock = day end
  end
  out[i] = answer
end
if newest_clock ~= nil and newest_clock ~= clock then
  redis.call('SET', KEYS[1], string.format('%d', newest_clock), 'PX', expiry)
end
return out
"""


class RedisDailyStore:
    """Daily buckets in Redis; see the module docstring for keys, expiry and failures."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        key_prefix: str = DEFAULT_KEY_PREFIX,
        horizon_days: int = DEFAULT_HORIZON_DAYS,
        retry_after_s: float = DEFAULT_RETRY_AFTER_S,
    ) -> None:
        self._horizon = check_horizon(horizon_days)
        self.client = client
        self.key_prefix = key_prefix
        self.breaker = RedisBreaker(
            client, "behaviour state store", _log, retry_after_s=retry_after_s
        )
        #: The Lua script one event runs (:meth:`request` gives its keys and arguments).
        self.script = client.register_script(_SCRIPT)
        self._clock_key = key_prefix + "dclock"
        self._header = [horizon_days, (horizon_days * 86_400 + _EXPIRY_MARGIN_S) * 1000]

    @classmethod
    def beside(
        cls, store: RedisStateStore, *, horizon_days: int = DEFAULT_HORIZON_DAYS
    ) -> RedisDailyStore:
        """A daily store on the velocity store's client (one connection pool), prefix and
        breaker interval."""
        return cls(
            store.client,
            key_prefix=store.key_prefix,
            horizon_days=horizon_days,
            retry_after_s=store.retry_after_s,
        )

    @property
    def horizon_days(self) -> int:
        return self._horizon

    @property
    def retry_after_s(self) -> float:
        return self.breaker.retry_after_s

    @property
    def available(self) -> bool:
        """Whether the store answers (:attr:`RedisBreaker.available`)."""
        return self.breaker.available

    def observe(self, observations: Sequence[DayObservation]) -> list[tuple[Bucket, ...]]:
        if not observations:
            return []
        self.breaker.check()
        keys, args = self.request(observations)
        return self.answers(self.breaker.call(self.script, keys=keys, args=args))

    def request(self, observations: Sequence[DayObservation]) -> tuple[list[str], list[Any]]:
        """The :attr:`script`'s keys and arguments for ``observations`` (one event):
        :meth:`observe` sends them, a pipeline may send them with other calls."""
        keys = [self._clock_key, *(f"{self.key_prefix}d:{obs.key}" for obs in observations)]
        args: list[Any] = list(self._header)
        for obs in observations:
            fen = obs.amount_fen if obs.amount_fen > 0 else 0
            args += (obs.day, str(fen), str(fen * fen))
        return keys, args

    @staticmethod
    def answers(reply: list[Any]) -> list[tuple[Bucket, ...]]:
        """The script's ``reply`` to :meth:`request`, one answer per observation."""
        return [_buckets(answer) for answer in reply]


def _buckets(answer: list[Any]) -> tuple[Bucket, ...]:
    """``[day, field, value, ...]`` (fields ``c<day>``, ``s<day>``, ``q<day>``) as buckets,
    oldest first."""
    day = int(answer[0])
    days: dict[int, list[int]] = {}
    for i in range(1, len(answer), 2):
        raw = answer[i]
        field = raw.decode() if isinstance(raw, bytes) else str(raw)  # decode_responses
        days.setdefault(int(field[1:]), [0, 0, 0])["csq".index(field[0])] = int(answer[i + 1])
    return tuple((day - d, c, s, q) for d, (c, s, q) in sorted(days.items()))


def daily_store_from_url(url: str, *, horizon_days: int = DEFAULT_HORIZON_DAYS) -> RedisDailyStore:
    """A daily store for the velocity store's URL (same options, same validation)."""
    return RedisDailyStore.beside(redis_store_from_url(url), horizon_days=horizon_days)
