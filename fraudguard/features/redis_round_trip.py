"""One order's state on Redis in one round trip: the velocity script, the behaviour
baselines' script and the feedback counts, pipelined on the client the three stores share.

Each store still builds its own request and reads its own reply
(:meth:`RedisStateStore.request <fraudguard.features.redis_store.RedisStateStore.request>`
and ``answers``, likewise on the daily and the feedback store); only the sending is shared.
The pipeline is not a transaction: each script is atomic on its own, as when the stores
are called one by one.

Failures are all or nothing for the order: a connection error, a timeout or an error reply
to any of the calls raises :class:`~fraudguard.exceptions.StateStoreError` and opens every
store's breaker, so the three groups take their missing values together. A script the
server does not know (``NOSCRIPT``: Redis restarted and lost its script cache) did not
run, so it alone is loaded and sent again; nothing that may have run is ever resent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fraudguard.exceptions import StateStoreError
from fraudguard.features.behaviour_redis import RedisDailyStore
from fraudguard.features.behaviour_store import Bucket, DayObservation
from fraudguard.features.feedback_redis import RedisFeedbackStore
from fraudguard.features.redis_breaker import RedisBreaker
from fraudguard.features.redis_store import RedisStateStore
from fraudguard.features.store import Observation, WindowStats

__all__ = ["PendingOrder", "RedisRoundTrip"]

FeedbackCounts = list[tuple[int, ...] | None]


class RedisRoundTrip:
    """The Redis stores of a :class:`~fraudguard.features.state.FeatureState` (any may be
    ``None``), asked together. They must share one client."""

    def __init__(
        self,
        velocity: RedisStateStore | None,
        daily: RedisDailyStore | None,
        feedback: RedisFeedbackStore | None,
    ) -> None:
        stores = [s for s in (velocity, daily, feedback) if s is not None]
        if not stores or any(s.client is not stores[0].client for s in stores):
            raise ValueError("a round trip needs stores on one Redis client")
        self.client = stores[0].client
        self.velocity = velocity
        self.daily = daily
        self.feedback = feedback
        self._breakers: tuple[RedisBreaker, ...] = tuple(s.breaker for s in stores)

    def order(
        self, days: Sequence[DayObservation], keys: Sequence[str | None], ts_us: int
    ) -> PendingOrder:
        """One order's round trip, sent when its velocity observations are known
        (:meth:`PendingOrder.observe`): ``days`` for the daily store, ``keys`` and
        ``ts_us`` for the feedback counts."""
        return PendingOrder(self, days, keys, ts_us)

    def run(
        self,
        observations: Sequence[Observation],
        days: Sequence[DayObservation],
        keys: Sequence[str | None],
        ts_us: int,
    ) -> tuple[list[WindowStats], list[tuple[Bucket, ...]], FeedbackCounts]:
        """Every store's answer for one order, in one round trip (module docstring)."""
        for breaker in self._breakers:
            breaker.check()
        velocity, daily = self.velocity, self.daily
        scripts: list[tuple[Any, list[str], list[Any]]] = []
        if observations:
            if velocity is None:
                raise ValueError("velocity observations without a velocity store")
            scripts.append((velocity.script, *velocity.request(observations)))
        if days:
            if daily is None:
                raise ValueError("daily observations without a daily store")
            scripts.append((daily.script, *daily.request(days)))
        feedback = self.feedback
        if feedback is not None and all(key is None for key in keys):
            feedback = None  # nothing to count
        pipe = self.client.pipeline(transaction=False)
        for script, script_keys, args in scripts:
            pipe.evalsha(script.sha, len(script_keys), *script_keys, *args)
        if feedback is not None:
            for name, low, high in feedback.count_request(keys, ts_us):
                pipe.zcount(name, low, high)
        try:
            replies = pipe.execute(raise_on_error=False)
            for i, (script, script_keys, args) in enumerate(scripts):
                if _is_noscript(replies[i]):  # it did not run: load it and send it once
                    replies[i] = script(keys=script_keys, args=args)
            for reply in replies:
                if isinstance(reply, Exception):
                    raise reply
        except Exception as error:  # connection, timeout, error reply: all "store down"
            for breaker in self._breakers:
                breaker.failure(error)
            raise StateStoreError("the state store is unavailable") from None
        for breaker in self._breakers:
            breaker.success()
        at = 0
        stats: list[WindowStats] = []
        if observations and velocity is not None:
            stats = velocity.answers(replies[at], observations)
            at += 1
        buckets: list[tuple[Bucket, ...]] = []
        if days:
            buckets = RedisDailyStore.answers(replies[at])
            at += 1
        if feedback is None:
            return stats, buckets, [None] * len(keys)
        return stats, buckets, feedback.count_answers(replies[at:], keys)


class PendingOrder:
    """One order's round trip, standing in for the velocity store while the velocity
    group builds its observations: :meth:`observe` sends every store's request at once and
    keeps the daily and feedback answers for :attr:`buckets` and :attr:`counts`. One
    order, one thread; made by :meth:`RedisRoundTrip.order`."""

    __slots__ = ("_days", "_keys", "_trip", "_ts_us", "buckets", "counts", "sent")

    def __init__(
        self,
        trip: RedisRoundTrip,
        days: Sequence[DayObservation],
        keys: Sequence[str | None],
        ts_us: int,
    ) -> None:
        self._trip = trip
        self._days = days
        self._keys = keys
        self._ts_us = ts_us
        self.buckets: list[tuple[Bucket, ...]] = []
        self.counts: FeedbackCounts = []
        self.sent = False

    @property
    def windows_s(self) -> tuple[int, ...]:
        velocity = self._trip.velocity
        return () if velocity is None else velocity.windows_s

    @property
    def first_seen_ttl_s(self) -> int:
        velocity = self._trip.velocity
        return 0 if velocity is None else velocity.first_seen_ttl_s

    def observe(self, observations: Sequence[Observation]) -> list[WindowStats]:
        """Send the order's round trip with these velocity observations (once)."""
        if self.sent:
            raise RuntimeError("an order's round trip is sent once")
        self.sent = True
        stats, self.buckets, self.counts = self._trip.run(
            observations, self._days, self._keys, self._ts_us
        )
        return stats


def _is_noscript(reply: Any) -> bool:
    from redis.exceptions import NoScriptError

    return isinstance(reply, NoScriptError)
