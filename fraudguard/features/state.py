"""The online state of the feature groups that need history, as one object on one backend.

Three groups keep state between orders: velocity (:mod:`fraudguard.features.store`),
behaviour baselines (:mod:`fraudguard.features.behaviour_store`, daily buckets) and
feedback (:mod:`fraudguard.features.feedback_store`, fraud reports). A
:class:`FeatureState` holds the store of each group an extractor has, all on the backend
``FRAUDGUARD_STATE_URL`` names: in this process (``memory://``) or on one Redis (one
client and connection pool, one key prefix, one breaker interval). On Redis the state also
carries a :class:`~fraudguard.features.redis_round_trip.RedisRoundTrip`: an order asks all
three stores in one pipelined round trip.

>>> from fraudguard.features import FeatureExtractor, VelocityFeatures
>>> from fraudguard.reference import load_reference
>>> extractor = FeatureExtractor(load_reference(), velocity=VelocityFeatures("doc-key"))
>>> state = FeatureState.in_memory(extractor)
>>> type(state.velocity).__name__, state.daily, state.feedback, state.available
('InMemoryStateStore', None, None, True)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fraudguard.features.behaviour_store import DailyStore, InMemoryDailyStore
from fraudguard.features.feedback_store import FeedbackStore
from fraudguard.features.store import StateStore, make_store

if TYPE_CHECKING:
    from fraudguard.features import FeatureExtractor
    from fraudguard.features.redis_round_trip import RedisRoundTrip

__all__ = ["FeatureState"]


@dataclass(frozen=True, slots=True)
class FeatureState:
    """The stores of an extractor's stateful groups (``None``: the group is not there).

    ``velocity`` is read and recorded per order, ``daily`` too, ``feedback`` only read
    (reports are recorded by the API layer after an outcome or disposition commits).
    """

    velocity: StateStore | None = None
    daily: DailyStore | None = None
    feedback: FeedbackStore | None = None
    #: The stores asked in one round trip (all on one Redis); ``None``: one by one.
    round_trip: RedisRoundTrip | None = field(default=None, repr=False, compare=False)

    @classmethod
    def in_memory(cls, extractor: FeatureExtractor) -> FeatureState:
        """Empty stores in this process for ``extractor``'s stateful groups."""
        return cls.from_url(extractor, "memory://")

    @classmethod
    def from_url(cls, extractor: FeatureExtractor, state_url: str) -> FeatureState:
        """The stores for ``extractor``'s stateful groups on the backend ``state_url``
        names (``memory://`` or ``redis://...``, see :func:`~fraudguard.features.store.make_store`);
        on Redis every store uses the velocity store's client, key prefix and breaker
        interval. Nothing connects yet: a service starts while Redis is down."""
        velocity = extractor.velocity
        # The velocity store is the backend: the others are built beside it.
        backend = make_store(state_url) if velocity is None else velocity.new_store(state_url)
        from fraudguard.features.redis_store import RedisStateStore

        if not isinstance(backend, RedisStateStore):
            daily = None if extractor.behaviour is None else InMemoryDailyStore()
            feedback = None if extractor.feedback is None else extractor.feedback.new_store()
            return cls(backend if velocity is not None else None, daily, feedback)
        from fraudguard.features.behaviour_redis import RedisDailyStore
        from fraudguard.features.redis_round_trip import RedisRoundTrip

        redis = backend if velocity is not None else None
        redis_daily = None if extractor.behaviour is None else RedisDailyStore.beside(backend)
        redis_feedback = (
            None if extractor.feedback is None else extractor.feedback.new_store(backend)
        )
        stores = (redis, redis_daily, redis_feedback)
        trip = None if stores == (None, None, None) else RedisRoundTrip(*stores)
        return cls(redis, redis_daily, redis_feedback, trip)

    @property
    def available(self) -> bool:
        """Whether every store answers (in-process stores always do; a Redis store that
        failed re-checks with a ``PING`` once its breaker's interval has passed)."""
        return all(
            bool(getattr(store, "available", True))
            for store in (self.velocity, self.daily, self.feedback)
        )
