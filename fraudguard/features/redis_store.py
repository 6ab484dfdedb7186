"""The velocity state store on Redis, shared by every scoring worker on every node.

Same contract as the in-memory store (:mod:`fraudguard.features.store`), the same
algorithm and the same integers (microseconds, fen), so both answer exactly alike on
the same ordered observations. One event is **one round trip**: a Lua script reads and
records all of its observations atomically, so workers interleave whole events, never
halves of them.

Keys, under the configured prefix (``fraudguard:vel:`` by default; Redis Cluster is not
supported, run one primary with replicas):

* ``<prefix>clock``: store time, the newest event time recorded;
* ``<prefix>s:<key>``: hash ``f`` (first seen), ``n`` (newest) of an entity key, expiring
  after the first-seen TTL plus a margin;
* ``<prefix>k:<key>`` and ``<prefix>l:<key>``: the window counters and the event log of a
  windowed key, expiring after the longest window plus a margin. Expiry runs on Redis's
  wall clock and only bounds memory; which events count is decided on event time.

Failures: a connection error, a timeout or an error reply raises
:class:`~fraudguard.exceptions.StateStoreError` and opens the store's circuit breaker
(:class:`~fraudguard.features.redis_breaker.RedisBreaker`), so for ``retry_after_s`` every
call fails at once instead of waiting on a dead server; the first call after that tries
again. A call is never retried on its own: a timed-out script may have run, and running it
twice would count the event twice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from fraudguard.exceptions import ConfigError, FieldProblem
from fraudguard.features.redis_breaker import DEFAULT_RETRY_AFTER_S, RedisBreaker
from fraudguard.features.store import (
    DEFAULT_FIRST_SEEN_TTL_S,
    DEFAULT_WINDOWS_S,
    Observation,
    WindowStats,
    check_horizons,
)

if TYPE_CHECKING:
    import redis

__all__ = ["DEFAULT_KEY_PREFIX", "DEFAULT_RETRY_AFTER_S", "RedisStateStore", "redis_store_from_url"]

_log = logging.getLogger(__name__)

DEFAULT_KEY_PREFIX = "fraudguard:vel:"
#: Socket timeouts (seconds) unless the URL sets ``socket_timeout`` / ``socket_connect_timeout``:
#: a scoring request must not wait long on a dead store.
DEFAULT_TIMEOUT_S = 0.25
#: Extra life of Redis keys beyond their horizon (wall clock), for late events.
_EXPIRY_MARGIN_S = 3600
_US = 1_000_000

# ARGV: windows count, widths (us), ttl (us), seen expiry (ms), log expiry (ms), observations;
# then per observation: ts, fen, windowed (1/0), counterpart count, counterparts ("v"+value or
# "-" for none). KEYS: clock, then per observation its seen, counters and log keys.
# Counters per key, 1-based: [w] first seq still in window w, [W+w] sum of window w,
# [(1+c)*W+w] distinct values of counterpart c in window w (as _Series in
# fraudguard/features/_memory_store.pyx).
_SCRIPT = """
local function fmt(x) return string.format('%.0f', x) end
local a = 1
local nw = tonumber(ARGV[a]); a = a + 1
local widths = {}
for w = 1, nw do widths[w] = tonumber(ARGV[a]); a = a + 1 end
local ttl = tonumber(ARGV[a]); local seen_ms = tonumber(ARGV[a + 1])
local log_ms = tonumber(ARGV[a + 2]); local nobs = tonumber(ARGV[a + 3]); a = a + 4
local widest = widths[nw]
local clock = tonumber(redis.call('GET', KEYS[1]))
local newest_clock = clock
local out = {}
for i = 1, nobs do
  local kseen, kstate, klog = KEYS[3 * i - 1], KEYS[3 * i], KEYS[3 * i + 1]
  local ts = tonumber(ARGV[a]); local fen = tonumber(ARGV[a + 1])
  local windowed = ARGV[a + 2] == '1'; local ncp = tonumber(ARGV[a + 3]); a = a + 4
  local parts = {}
  for c = 1, ncp do
    local v = ARGV[a]; a = a + 1
    if v == '-' then parts[c] = false else parts[c] = string.sub(v, 2) end
  end
  if newest_clock == nil or ts > newest_clock then newest_clock = ts end
  local rec = redis.call('HMGET', kseen, 'f', 'n')
  local first, newest = tonumber(rec[1]), tonumber(rec[2])
  local horizon = ts
  if clock ~= nil and clock > horizon then horizon = clock end
  if first ~= nil and newest <= horizon - ttl then first = nil end
  local age = -1
  if first == nil then
    first = ts
    redis.call('DEL', kstate, klog)
  else
    if ts < newest then ts = newest end
    age = ts - first
    if clock ~= nil and newest <= clock - widest then redis.call('DEL', kstate, klog) end
  end
  redis.call('HSET', kseen, 'f', fmt(first), 'n', fmt(ts))
  redis.call('PEXPIRE', kseen, seen_ms)
  local answer = {age}
  if windowed then
    local st = redis.call('HMGET', kstate, 'b', 'k')
    local base, k = 0, {}
    if st[1] then
      base = tonumber(st[1]); k = cjson.decode(st[2])
    else
      for j = 1, nw * (2 + ncp) do k[j] = 0 end
    end
    local stop = base + redis.call('LLEN', klog)
    local events, last = {}, {}
    local function event(seq)
      local e = events[seq]
      if e == nil then
        e = cjson.decode(redis.call('LINDEX', klog, seq - base)); events[seq] = e
      end
      return e
    end
    local function last_of(f)
      local l = last[f]
      if l == nil then
        local r = redis.call('HGET', kstate, f)
        if r then l = tonumber(r) else l = false end
        last[f] = l
      end
      return l
    end
    -- Narrowest first: the widest window's pass also forgets values for good.
    for w = 1, nw do
      local start, edge = k[w], ts - widths[w]
      while start < stop do
        local e = event(start)
        if tonumber(e[1]) > edge then break end
        k[nw + w] = k[nw + w] - tonumber(e[2])
        for c = 1, ncp do
          local v = e[2 + c]
          if v then
            local f = 'l' .. c .. ':' .. v
            if last_of(f) == start then
              k[(1 + c) * nw + w] = k[(1 + c) * nw + w] - 1
              if w == nw then redis.call('HDEL', kstate, f); last[f] = false end
            end
          end
        end
        start = start + 1
      end
      k[w] = start
    end
    for w = 1, nw do answer[#answer + 1] = stop - k[w] end
    for w = 1, nw do answer[#answer + 1] = k[nw + w] end
    for c = 1, ncp do
      for w = 1, nw do answer[#answer + 1] = k[(1 + c) * nw + w] end
    end
    local record = {fmt(ts), fmt(fen)}
    for c = 1, ncp do record[2 + c] = parts[c] end
    redis.call('RPUSH', klog, cjson.encode(record))
    for w = 1, nw do k[nw + w] = k[nw + w] + fen end
    for c = 1, ncp do
      local v = parts[c]
      if v then
        local f = 'l' .. c .. ':' .. v
        local previous = last_of(f)
        for w = 1, nw do
          if (not previous) or previous < k[w] then
            k[(1 + c) * nw + w] = k[(1 + c) * nw + w] + 1
          end
        end
        redis.call('HSET', kstate, f, fmt(stop)); last[f] = stop
      end
    end
    local dead = k[nw] - base
    if dead > 0 then redis.call('LTRIM', klog, dead, -1); base = base + dead end
    redis.call('HSET', kstate, 'b', fmt(base), 'k', cjson.encode(k))
    redis.call('PEXPIRE', kstate, log_ms)
    redis.call('PEXPIRE', klog, log_ms)
  end
  out[i] = answer
end
if newest_clock ~= nil then redis.call('SET', KEYS[1], fmt(newest_clock), 'PX', seen_ms) end
return out
"""


class RedisStateStore:
    """Velocity state in Redis; see the module docstring for keys, expiry and failures."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        key_prefix: str = DEFAULT_KEY_PREFIX,
        windows_s: Sequence[int] = DEFAULT_WINDOWS_S,
        first_seen_ttl_s: int = DEFAULT_FIRST_SEEN_TTL_S,
        retry_after_s: float = DEFAULT_RETRY_AFTER_S,
    ) -> None:
        self._windows_s = check_horizons(windows_s, first_seen_ttl_s)
        self._first_seen_ttl_s = first_seen_ttl_s
        self.client = client
        self.key_prefix = key_prefix
        self.breaker = RedisBreaker(
            client, "velocity state store", _log, retry_after_s=retry_after_s
        )
        #: The Lua script one event runs (:meth:`request` gives its keys and arguments).
        self.script = client.register_script(_SCRIPT)
        self._clock_key = key_prefix + "clock"
        self._header: list[int] = [
            len(self._windows_s),
            *(w * _US for w in self._windows_s),
            first_seen_ttl_s * _US,
            (first_seen_ttl_s + _EXPIRY_MARGIN_S) * 1000,
            (self._windows_s[-1] + _EXPIRY_MARGIN_S) * 1000,
        ]

    @property
    def windows_s(self) -> tuple[int, ...]:
        return self._windows_s

    @property
    def first_seen_ttl_s(self) -> int:
        return self._first_seen_ttl_s

    @property
    def retry_after_s(self) -> float:
        return self.breaker.retry_after_s

    @property
    def available(self) -> bool:
        """Whether the store answers (:attr:`RedisBreaker.available`)."""
        return self.breaker.available

    def observe(self, observations: Sequence[Observation]) -> list[WindowStats]:
        if not observations:
            return []
        self.breaker.check()
        keys, args = self.request(observations)
        reply = self.breaker.call(self.script, keys=keys, args=args)
        return self.answers(reply, observations)

    def request(self, observations: Sequence[Observation]) -> tuple[list[str], list[Any]]:
        """The :attr:`script`'s keys and arguments for ``observations`` (one event):
        :meth:`observe` sends them, a pipeline may send them with other calls."""
        prefix = self.key_prefix
        keys = [self._clock_key]
        args: list[Any] = [*self._header, len(observations)]
        for obs in observations:
            key = obs.key
            keys += (f"{prefix}s:{key}", f"{prefix}k:{key}", f"{prefix}l:{key}")
            parts = obs.counterparts
            args += (obs.ts_us, obs.amount_fen, 1 if obs.windowed else 0, len(parts))
            args += ["-" if part is None else "v" + part for part in parts]
        return keys, args

    def answers(self, reply: list[Any], observations: Sequence[Observation]) -> list[WindowStats]:
        """The script's ``reply`` to :meth:`request` ``(observations)``, one answer each."""
        n_windows = len(self._windows_s)
        return [
            _stats(answer, obs, n_windows) for answer, obs in zip(reply, observations, strict=True)
        ]

    def delete_all(self) -> int:
        """Delete every key under this store's prefix (tests, a fresh replay). Returns how
        many were deleted. Never touches other prefixes."""
        deleted = 0
        batch: list[str] = []
        for key in self.client.scan_iter(match=_glob_escape(self.key_prefix) + "*", count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                deleted += int(self.client.unlink(*batch))
                batch.clear()
        if batch:
            deleted += int(self.client.unlink(*batch))
        return deleted


def _stats(answer: list[int], obs: Observation, n_windows: int) -> WindowStats:
    age = None if answer[0] < 0 else int(answer[0])
    if not obs.windowed:
        return WindowStats((), (), (), age)
    values = [int(v) for v in answer[1:]]
    counts = tuple(values[:n_windows])
    sums = tuple(values[n_windows : 2 * n_windows])
    distinct = tuple(
        tuple(values[i : i + n_windows]) for i in range(2 * n_windows, len(values), n_windows)
    )
    return WindowStats(counts, sums, distinct, age)


def _glob_escape(text: str) -> str:
    return "".join("\\" + ch if ch in "*?[]\\" else ch for ch in text)


def redis_store_from_url(
    url: str,
    *,
    windows_s: Sequence[int] = DEFAULT_WINDOWS_S,
    first_seen_ttl_s: int = DEFAULT_FIRST_SEEN_TTL_S,
) -> RedisStateStore:
    """A store for ``redis://[:password@]host:port/db[?key_prefix=...&retry_after_s=...]``.

    Other query options go to the Redis client (``socket_timeout=0.1``, ...); timeouts
    default to 0.25 s. Nothing connects yet: the service starts while Redis is down, and
    scores degraded until it is back.
    """
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    key_prefix = query.pop("key_prefix", DEFAULT_KEY_PREFIX)
    try:
        retry_after_s = float(query.pop("retry_after_s", DEFAULT_RETRY_AFTER_S))
    except ValueError:
        retry_after_s = -1.0
    database = parts.path.strip("/")
    if parts.scheme != "unix" and database and not database.isdigit():
        retry_after_s = -1.0  # reported below with the other URL problems
    if not key_prefix or retry_after_s < 0:
        problem = (
            "use redis://host:port/db with a numeric db, a non-empty key_prefix and "
            "retry_after_s >= 0"
        )
        raise ConfigError(
            "invalid state store URL", [FieldProblem("FRAUDGUARD_STATE_URL", problem)]
        )
    query.setdefault("socket_timeout", str(DEFAULT_TIMEOUT_S))
    query.setdefault("socket_connect_timeout", str(DEFAULT_TIMEOUT_S))
    clean = urlunsplit(parts._replace(query=urlencode(query)))
    try:
        # No retries: never resend a script that may have run (module docstring).
        client = redis.Redis.from_url(clean, retry=Retry(NoBackoff(), 0))
    except (ValueError, TypeError):
        raise ConfigError(
            "invalid state store URL",
            [FieldProblem("FRAUDGUARD_STATE_URL", "use redis://host:port/db")],
        ) from None
    return RedisStateStore(
        client,
        key_prefix=key_prefix,
        windows_s=windows_s,
        first_seen_ttl_s=first_seen_ttl_s,
        retry_after_s=retry_after_s,
    )
