"""State behind the velocity features: sliding-window counters per entity key.

A :class:`StateStore` answers a whole event in **one call**: :meth:`StateStore.observe`
takes every entity of the event (payer, device, phone number, ...) as an
:class:`Observation` and returns one :class:`WindowStats` each, so a Redis implementation
can run the batch as one pipelined script, in one round trip.

The contract every implementation keeps (the batch path in
:mod:`fraudguard.features.velocity` computes exactly the same):

* **Read, then record.** Each observation is answered from the state *before* it, then
  recorded; observations in one call are applied in order.
* **Window boundary.** For an event at time ``t`` the window of width ``w`` holds the
  key's earlier events with time ``> t - w`` (an event exactly ``w`` old has left it).
  Earlier means earlier *in arrival order*, so events with the same timestamp see the
  ones that arrived before them: a scripted burst in one second is still a burst.
* **Out-of-order events.** An event older than the newest event already recorded for its
  key is treated as happening at that newest time (its timestamp is clamped up, per key).
  Counts therefore never go backwards and back-dating an order cannot slip it out of the
  windows; per-key time stays monotone, so every structure is append-only. The result is
  deterministic for a given arrival order.
* **First seen.** A key is *new* when it has no event within the first-seen TTL (idle
  time: a key seen every day stays known, one silent for the TTL is forgotten). The age
  is measured from the first event since it was last new.
* **Expiry is a rule, on event time.** Store time is the newest event time recorded
  before the call. A key whose newest event is at least the longest window behind store
  time answers as if its log were empty, and one idle for the TTL behind the later of
  store time and the event's time is new - whenever memory is actually reclaimed.
* **Counterparts.** ``None`` (unknown) is not a counterpart: the event still counts, it
  just adds no distinct value.
* **Keys are pseudonymous.** Keys and counterparts are keyed hashes
  (:func:`fraudguard.privacy.hash_key`), never raw phone numbers or ids.
* **Time** is whole microseconds since the epoch and amounts whole fen, so sums are exact
  and a double (a Redis score) holds them without rounding.

>>> store = make_store("memory://", windows_s=(600, 3600))
>>> t0 = 1_795_483_800_000_000  # 2026-11-24 09:30 +08:00
>>> store.observe([Observation("payer:9f2c", t0, 10_000, ("a1",))])[0].age_us is None
True
>>> later = store.observe([Observation("payer:9f2c", t0 + 900_000_000, 5_000, ("b2",))])[0]
>>> later.counts, later.sums_fen, later.distinct, later.age_us
((0, 1), (0, 10000), ((0, 1),), 900000000)
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from itertools import pairwise
from typing import NamedTuple, Protocol

from fraudguard.exceptions import ConfigError, FieldProblem

__all__ = [
    "DEFAULT_FIRST_SEEN_TTL_S",
    "DEFAULT_MAX_KEYS",
    "DEFAULT_WINDOWS_S",
    "InMemoryStateStore",
    "Observation",
    "StateStore",
    "StoreSize",
    "WindowStats",
    "check_horizons",
    "make_store",
]

#: Window widths in seconds: 10 min, 1 h, 24 h.
DEFAULT_WINDOWS_S: tuple[int, ...] = (600, 3600, 86_400)
#: A key silent for this long is forgotten and looks new again (30 days).
DEFAULT_FIRST_SEEN_TTL_S = 30 * 86_400
#: Keys tracked at most; beyond it the least recently seen key is evicted.
DEFAULT_MAX_KEYS = 1_000_000
_US = 1_000_000
#: Dead log entries tolerated before compacting a key's log (amortises the list copy).
_COMPACT_AFTER = 32


class Observation(NamedTuple):
    """One entity of one event, as the store sees it."""

    #: ``entity:hash`` (``payer:3f9a...``); never a raw id.
    key: str
    #: Event time in microseconds since the epoch.
    ts_us: int
    #: Face value in fen (0.01 CNY).
    amount_fen: int = 0
    #: Hashed counterparts whose distinct values are counted (``None`` = unknown); the
    #: same positions for every observation of a key.
    counterparts: tuple[str | None, ...] = ()
    #: ``False`` tracks only first-seen: for keys too hot to keep an event log for.
    windowed: bool = True


class WindowStats(NamedTuple):
    """What a key looked like just before an observation. Empty tuples when not windowed."""

    #: Earlier events per window.
    counts: tuple[int, ...]
    #: Sum of their amounts per window, in fen.
    sums_fen: tuple[int, ...]
    #: ``distinct[c][w]``: distinct values of counterpart ``c`` among them in window ``w``.
    distinct: tuple[tuple[int, ...], ...]
    #: Microseconds since the key was first seen; ``None`` when it is new.
    age_us: int | None


class StateStore(Protocol):
    """Velocity state shared by the scoring workers (contract in the module docstring)."""

    @property
    def windows_s(self) -> tuple[int, ...]:
        """Window widths in seconds, increasing."""
        ...

    @property
    def first_seen_ttl_s(self) -> int:
        """Idle time after which a key is forgotten."""
        ...

    def observe(self, observations: Sequence[Observation]) -> list[WindowStats]:
        """Answer, then record, every observation of one event, atomically."""
        ...


class StoreSize(NamedTuple):
    #: Keys with a first-seen record (bounded by ``max_keys``).
    keys: int
    #: Keys that still have events inside the longest window.
    windowed_keys: int
    #: Events held in those keys' logs.
    events: int


def check_horizons(windows_s: Sequence[int], first_seen_ttl_s: int) -> tuple[int, ...]:
    """The windows as a tuple, or :class:`ConfigError` if they are not usable.

    >>> check_horizons([600, 3600], 86_400)
    (600, 3600)
    """
    windows = tuple(windows_s)
    if (
        not windows
        or any(not isinstance(w, int) or w <= 0 for w in windows)
        or any(a >= b for a, b in pairwise(windows))
    ):
        raise ConfigError(
            "invalid velocity windows",
            [FieldProblem("windows_s", "give positive whole seconds in increasing order")],
        )
    if first_seen_ttl_s < windows[-1]:
        raise ConfigError(
            "invalid first-seen TTL",
            [FieldProblem("first_seen_ttl_s", "must be at least the longest window")],
        )
    return windows


_UNWINDOWED_NEW = WindowStats((), (), (), None)
#: Builds WindowStats from a full tuple in C, skipping the generated ``__new__`` (hot path).
_stats = tuple.__new__

#: One event in a key's log: time, amount in fen, counterparts.
_Event = tuple[int, int, tuple[str | None, ...]]


class _Series:
    """Event log of one key with one incremental cursor per window.

    Events are numbered in arrival order (``seq``). ``counters`` holds, for ``W`` windows,
    the first seq still inside each window (``[w]``), the sum in each window
    (``[W + w]``) and the distinct count of each counterpart in each window
    (``[2W + c*W + w]``) in one flat list: with millions of keys, every extra container per
    key is work for the garbage collector. ``last[(c, value)]`` is the newest event
    carrying that counterpart value: the value is inside window ``w`` exactly when that
    event is, so distinct counts move by +1/-1 as events enter and leave (amortised O(1)
    per event).
    """

    __slots__ = ("base", "counters", "events", "last", "n_counterparts")

    def __init__(self, n_windows: int, n_counterparts: int) -> None:
        self.events: list[_Event] = []
        self.base = 0  # seq of events[0]
        self.n_counterparts = n_counterparts
        self.counters = [0] * (n_windows * (2 + n_counterparts))
        self.last: dict[tuple[int, str], int] = {}

    @property
    def newest(self) -> int:
        return self.events[-1][0]

    def held(self, n_windows: int) -> int:
        return len(self.events) - (self.counters[n_windows - 1] - self.base)

    def observe(
        self, ts: int, fen: int, counterparts: tuple[str | None, ...], windows_us: Sequence[int]
    ) -> tuple[tuple[int, ...], tuple[int, ...], tuple[tuple[int, ...], ...]]:
        if len(counterparts) != self.n_counterparts:
            raise ValueError(
                f"observation has {len(counterparts)} counterparts, "
                f"this key was recorded with {self.n_counterparts}"
            )
        events, base, last, counters = self.events, self.base, self.last, self.counters
        end = base + len(events)  # seq of this event
        n = len(windows_us)
        # Narrowest first: the widest window's pass also forgets values for good, after
        # the narrower windows have looked them up.
        for w, width in enumerate(windows_us):
            start, edge = counters[w], ts - width
            while start < end:
                t_j, fen_j, parts_j = events[start - base]
                if t_j > edge:
                    break
                counters[n + w] -= fen_j
                for c, value in enumerate(parts_j):
                    if value is not None and last[c, value] == start:
                        counters[(2 + c) * n + w] -= 1
                        if w == n - 1:
                            del last[c, value]
                start += 1
            counters[w] = start
        answer = (
            tuple([end - start for start in counters[:n]]),
            tuple(counters[n : 2 * n]),
            tuple([tuple(counters[i : i + n]) for i in range(2 * n, len(counters), n)]),
        )
        events.append((ts, fen, counterparts))
        for w in range(n):
            counters[n + w] += fen
        for c, value in enumerate(counterparts):
            if value is None:
                continue
            previous = last.get((c, value))
            for w in range(n):
                if previous is None or previous < counters[w]:
                    counters[(2 + c) * n + w] += 1
            last[c, value] = end
        dead = counters[n - 1] - base
        if dead > _COMPACT_AFTER and 2 * dead > len(events):
            del events[:dead]
            self.base += dead
        return answer


class InMemoryStateStore:
    """The embedded store: one process, thread-safe, bounded.

    Memory stays bounded three ways: a key's events older than the longest window are
    dropped as the key is observed, and a sweep after every call drops whole keys that
    went quiet (their events left the longest window, or they have been idle for the
    first-seen TTL); the number of keys is capped, evicting the least recently seen.
    Store time is the newest event time observed before the call, so replaying history
    behaves exactly like live traffic. Expiry is a rule, not a side effect of the sweep
    (the Redis store applies the same rule): a key whose newest event is at least the
    longest window behind store time is answered as if its log were empty, and one idle
    for the TTL behind store time (or behind the event) is new. So an event arriving more
    than the longest window late may see less than a batch computation would, and one
    event dated far in the future would expire every key: callers must refuse event times
    well ahead of the wall clock. Evicting under
    the cap is the one way this store forgets early (an evicted key looks new again):
    size ``max_keys`` above the keys active within the TTL. A single key's log grows with
    its events inside the longest window, which is why hot keys such as platforms are
    observed with ``windowed=False``.
    """

    def __init__(
        self,
        *,
        windows_s: Sequence[int] = DEFAULT_WINDOWS_S,
        first_seen_ttl_s: int = DEFAULT_FIRST_SEEN_TTL_S,
        max_keys: int = DEFAULT_MAX_KEYS,
    ) -> None:
        self._windows_s = check_horizons(windows_s, first_seen_ttl_s)
        if max_keys < 1:
            raise ConfigError(
                "invalid state store size", [FieldProblem("max_keys", "must be at least 1")]
            )
        self._first_seen_ttl_s = first_seen_ttl_s
        self._windows_us = tuple(w * _US for w in self._windows_s)
        self._widest_us = self._windows_us[-1]
        self._ttl_us = first_seen_ttl_s * _US
        self._max_keys = max_keys
        # Both in least-recently-seen order: the sweep and LRU eviction pop from the front.
        # Per key (first seen, newest) times; tuples of ints, which the garbage collector
        # stops tracking, where objects would cost it time on every collection.
        self._seen: OrderedDict[str, tuple[int, int]] = OrderedDict()
        self._series: OrderedDict[str, _Series | _Event] = OrderedDict()
        self._clock: int | None = None
        self._lock = threading.Lock()
        # Answers are immutable: a new key's all-zero answer is shared, not rebuilt.
        self._zeros = (0,) * len(self._windows_us)
        self._new_answers: dict[int, WindowStats] = {}

    @property
    def windows_s(self) -> tuple[int, ...]:
        return self._windows_s

    @property
    def first_seen_ttl_s(self) -> int:
        return self._first_seen_ttl_s

    def __len__(self) -> int:
        """Keys tracked (at most ``max_keys``)."""
        return len(self._seen)

    def size(self) -> StoreSize:
        with self._lock:
            n_windows = len(self._windows_us)
            events = sum(
                1 if isinstance(state, tuple) else state.held(n_windows)
                for state in self._series.values()
            )
            return StoreSize(len(self._seen), len(self._series), events)

    def observe(self, observations: Sequence[Observation]) -> list[WindowStats]:
        if not observations:
            return []
        with self._lock:
            observe = self._observe
            answers = [observe(obs) for obs in observations]
            # A clamped time never exceeds the clock, so the raw times move it as far.
            newest = max([obs.ts_us for obs in observations])
            self._clock = newest if self._clock is None else max(self._clock, newest)
            self._sweep()
            return answers

    def _observe(self, observation: Observation) -> WindowStats:
        key, ts, fen, parts, windowed = observation
        seen_keys = self._seen
        seen = seen_keys.get(key)
        clock = self._clock  # store time before this call
        horizon = ts if clock is None or ts > clock else clock
        if seen is not None and seen[1] <= horizon - self._ttl_us:
            # Idle past the TTL: forget now rather than wait for the sweep to reach it.
            self._drop(key)
            seen = None
        if seen is None:
            age = None
            seen_keys[key] = (ts, ts)
            if len(seen_keys) > self._max_keys:
                self._drop(next(iter(seen_keys)))
        else:
            first, newest = seen
            if ts < newest:
                ts = newest  # out of order: clamp up (module docstring)
            age = ts - first
            seen_keys[key] = (first, ts)
            seen_keys.move_to_end(key)
        if not windowed:
            return _UNWINDOWED_NEW if age is None else _stats(WindowStats, ((), (), (), age))
        logs = self._series
        state = logs.get(key)
        if (
            state is not None
            and clock is not None
            and (state[0] if isinstance(state, tuple) else state.newest) <= clock - self._widest_us
        ):
            # Out of every window at store time: gone, whether or not the sweep got to it.
            del logs[key]
            state = None
        if state is None:
            # Most keys have a single event in the window: keep it as a bare tuple (which
            # the garbage collector stops tracking) and build a log on the second event.
            logs[key] = (ts, fen, parts)
            if age is None:
                return self._empty(len(parts))
            return _stats(WindowStats, (*self._empty(len(parts))[:3], age))
        logs.move_to_end(key)
        if isinstance(state, tuple):
            series = logs[key] = _Series(len(self._windows_us), len(state[2]))
            series.observe(*state, self._windows_us)
        else:
            series = state
        return _stats(WindowStats, (*series.observe(ts, fen, parts, self._windows_us), age))

    def _empty(self, n_counterparts: int) -> WindowStats:
        answer = self._new_answers.get(n_counterparts)
        if answer is None:
            zeros = self._zeros
            answer = WindowStats(zeros, zeros, (zeros,) * n_counterparts, None)
            self._new_answers[n_counterparts] = answer
        return answer

    def _drop(self, key: str) -> None:
        self._seen.pop(key, None)
        self._series.pop(key, None)

    def _sweep(self) -> None:
        # Fronts are the least recently seen keys, so this stops at the first live one:
        # O(expired keys) per call, no background thread, deterministic.
        if self._clock is None:
            return
        window_edge = self._clock - self._windows_us[-1]
        expired: list[str] = []
        for key, state in self._series.items():
            if (state[0] if isinstance(state, tuple) else state.newest) > window_edge:
                break
            expired.append(key)
        for key in expired:
            del self._series[key]
        ttl_edge = self._clock - self._ttl_us
        expired.clear()
        for key, (_, newest) in self._seen.items():
            if newest > ttl_edge:
                break
            expired.append(key)
        for key in expired:
            self._drop(key)


def make_store(
    state_url: str,
    *,
    windows_s: Sequence[int] = DEFAULT_WINDOWS_S,
    first_seen_ttl_s: int = DEFAULT_FIRST_SEEN_TTL_S,
    max_keys: int = DEFAULT_MAX_KEYS,
) -> StateStore:
    """The store ``state_url`` names (``FRAUDGUARD_STATE_URL``): ``memory://`` (this
    process) or ``redis://host:port/db`` (shared; see :mod:`fraudguard.features.redis_store`;
    ``max_keys`` is the in-memory cap, Redis bounds memory by expiry). The URL is never
    echoed in errors, since a Redis URL may carry a password.

    >>> make_store("postgres://cache:5432/0")
    Traceback (most recent call last):
    ...
    fraudguard.exceptions.ConfigError: unsupported state store URL
      - FRAUDGUARD_STATE_URL: use memory:// or redis://host:port/db
    """
    scheme, separator, rest = state_url.strip().partition("://")
    scheme = scheme.lower()
    if scheme == "memory" and separator and not rest:
        return InMemoryStateStore(
            windows_s=windows_s, first_seen_ttl_s=first_seen_ttl_s, max_keys=max_keys
        )
    if scheme == "memory" and separator:
        problem = "memory:// takes no host, path or options"
        raise ConfigError(
            "invalid state store URL", [FieldProblem("FRAUDGUARD_STATE_URL", problem)]
        )
    if scheme in {"redis", "rediss", "unix"} and separator:
        from fraudguard.features.redis_store import redis_store_from_url

        return redis_store_from_url(
            state_url.strip(), windows_s=windows_s, first_seen_ttl_s=first_seen_ttl_s
        )
    problem = "use memory:// or redis://host:port/db"
    raise ConfigError(
        "unsupported state store URL", [FieldProblem("FRAUDGUARD_STATE_URL", problem)]
    )
