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

import sys
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


# The embedded store is compiled (fraudguard/features/_memory_store.pyx): it is the largest
# stage of the online path. Its answer types, defaults and window check are this module's,
# defined once, here.
from fraudguard.features import _memory_store  # noqa: E402

_memory_store._bind(sys.modules[__name__])
InMemoryStateStore = _memory_store.InMemoryStateStore


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
