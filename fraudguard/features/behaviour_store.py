"""State behind the behaviour baselines: per-entity daily buckets of the last 30 UTC days.

Why buckets and not an event log: a baseline looks back 30 days, and official platforms
carry millions of orders a month, so a log per key would be huge. A bucket per active UTC
day (count, sum of amounts in fen, sum of their squares) is at most ``horizon_days``
buckets per key whatever the traffic, keeps the sums exact integers, and gives the batch
path (:mod:`fraudguard.features.behaviour`) a definition it can reproduce bit for bit.

The contract every implementation keeps:

* **Read, then record.** :meth:`DailyStore.observe` answers each observation from the state
  *before* it, then records it; observations in one call are applied in order.
* **Answer.** The key's buckets of the ``horizon_days`` days ending on the event's day
  (that day's earlier events included), oldest first, as ``(age_days, count, sum_fen,
  sum_sq_fen)``: ``age_days`` 0 is the event's own day.
* **Out-of-order events.** An event on a day before the key's newest recorded day is
  treated as happening on that newest day (clamped up, per key), like the velocity store.
* **Only valid amounts are recorded.** An observation with ``amount_fen <= 0`` (missing or
  invalid face value) is answered but records nothing.
* **Expiry is a rule, on event days.** Buckets older than the horizon never count. Store
  day is the newest day recorded before the call: a key whose newest bucket is at least
  ``horizon_days`` behind it answers as if empty, whenever memory is actually reclaimed
  (by a sweep in memory, by key expiry on Redis). So an event arriving more than the
  horizon late may see less than the batch path would; in time order they agree.
* **Keys are pseudonymous** (``entity:hash``), as in the velocity store.

>>> store = make_daily_store("memory://")
>>> day = 20_416  # 2025-11-24, days since 1970-01-01 (UTC)
>>> store.observe([DayObservation("payer:9f2c", day, 10_000)])
[()]
>>> store.observe([DayObservation("payer:9f2c", day + 2, 5_000)])
[((2, 1, 10000, 100000000),)]
"""

from __future__ import annotations

import threading
from array import array
from collections import OrderedDict
from collections.abc import Sequence
from typing import NamedTuple, Protocol

from fraudguard.exceptions import ConfigError, FieldProblem
from fraudguard.features.store import DEFAULT_MAX_KEYS

__all__ = [
    "DEFAULT_HORIZON_DAYS",
    "Bucket",
    "DailyStore",
    "DayObservation",
    "InMemoryDailyStore",
    "make_daily_store",
]

#: Days a baseline looks back (the current day included).
DEFAULT_HORIZON_DAYS = 30
#: One day of one key: ``(age_days, count, sum_fen, sum_sq_fen)``.
Bucket = tuple[int, int, int, int]


class DayObservation(NamedTuple):
    """One entity of one event, as the daily store sees it."""

    #: ``entity:hash`` (``payer:3f9a...``); never a raw id.
    key: str
    #: UTC day of the event: whole days since 1970-01-01.
    day: int
    #: Face value in fen; ``<= 0`` answers without recording.
    amount_fen: int


class DailyStore(Protocol):
    """Daily buckets shared by the scoring workers (contract in the module docstring)."""

    @property
    def horizon_days(self) -> int:
        """Days an answer covers, the event's own day included."""
        ...

    def observe(self, observations: Sequence[DayObservation]) -> list[tuple[Bucket, ...]]:
        """Answer, then record, every observation of one event, atomically."""
        ...


def check_horizon(horizon_days: int) -> int:
    if not isinstance(horizon_days, int) or horizon_days < 1:
        raise ConfigError(
            "invalid behaviour baseline horizon",
            [FieldProblem("horizon_days", "give a positive whole number of days")],
        )
    return horizon_days


class InMemoryDailyStore:
    """The embedded daily store: one process, thread-safe, bounded.

    Per key a flat ``array('q')`` of ``[day, count, sum_fen, sum_sq_fen]`` per active day,
    oldest first: integers without a Python object each. Keys are kept in order of last
    record; after each call a sweep drops keys from the front whose newest day left the
    horizon behind store time (the newest day recorded), and past ``max_keys`` the least
    recently recorded key is evicted (it then looks like a key without history).
    """

    def __init__(
        self, *, horizon_days: int = DEFAULT_HORIZON_DAYS, max_keys: int = DEFAULT_MAX_KEYS
    ) -> None:
        self._horizon = check_horizon(horizon_days)
        if max_keys < 1:
            raise ConfigError(
                "invalid state store size", [FieldProblem("max_keys", "must be at least 1")]
            )
        self.max_keys = max_keys
        self._keys: OrderedDict[str, array[int]] = OrderedDict()
        self._clock: int | None = None
        self._lock = threading.Lock()

    @property
    def horizon_days(self) -> int:
        return self._horizon

    def __len__(self) -> int:
        """Keys held."""
        return len(self._keys)

    def observe(self, observations: Sequence[DayObservation]) -> list[tuple[Bucket, ...]]:
        with self._lock:
            clock = self._clock
            answers = [self._observe(*observation, clock) for observation in observations]
            self._sweep()
            return answers

    def _observe(self, key: str, day: int, fen: int, clock: int | None) -> tuple[Bucket, ...]:
        keys = self._keys
        held = keys.get(key)
        if held is not None and clock is not None and held[-4] <= clock - self._horizon:
            del keys[key]  # behind store day by the horizon: gone, swept or not
            held = None
        if held is None:
            if fen > 0:
                keys[key] = array("q", (day, 1, fen, fen * fen))
                self._tick(day)
                if len(keys) > self.max_keys:
                    keys.popitem(last=False)
            return ()
        day = max(day, held[-4])  # out of order: clamp up (module docstring)
        low = day - self._horizon + 1
        start = 0
        while start < len(held) and held[start] < low:
            start += 4
        if start:
            del held[:start]
        answer = tuple(
            (day - held[i], held[i + 1], held[i + 2], held[i + 3]) for i in range(0, len(held), 4)
        )
        if fen > 0:
            if held and held[-4] == day:
                held[-3] += 1
                held[-2] += fen
                held[-1] += fen * fen
            else:
                held.extend((day, 1, fen, fen * fen))
            keys.move_to_end(key)
            self._tick(day)
        elif not held:
            del keys[key]
        return answer

    def _tick(self, day: int) -> None:
        if self._clock is None or day > self._clock:
            self._clock = day

    def _sweep(self) -> None:
        # The front holds the least recently recorded keys: stop at the first live one.
        if self._clock is None:
            return
        low = self._clock - self._horizon + 1
        keys = self._keys
        while keys:
            key, held = next(iter(keys.items()))
            if held[-4] >= low:
                break
            del keys[key]


def make_daily_store(
    state_url: str,
    *,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    max_keys: int = DEFAULT_MAX_KEYS,
) -> DailyStore:
    """The daily store on the same backend as the velocity store (``FRAUDGUARD_STATE_URL``:
    ``memory://`` or ``redis://...``, see :mod:`fraudguard.features.behaviour_redis`)."""
    scheme, separator, rest = state_url.strip().partition("://")
    scheme = scheme.lower()
    if scheme == "memory" and separator and not rest:
        return InMemoryDailyStore(horizon_days=horizon_days, max_keys=max_keys)
    if scheme in {"redis", "rediss", "unix"} and separator:
        from fraudguard.features.behaviour_redis import daily_store_from_url

        return daily_store_from_url(state_url.strip(), horizon_days=horizon_days)
    problem = "use memory:// or redis://host:port/db"
    raise ConfigError(
        "unsupported state store URL", [FieldProblem("FRAUDGUARD_STATE_URL", problem)]
    )
