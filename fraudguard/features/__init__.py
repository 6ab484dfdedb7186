"""Feature functions over payment metadata, one definition for one event and a DataFrame.

>>> from fraudguard.reference import load_reference
>>> extractor = FeatureExtractor(load_reference(), velocity=VelocityFeatures("doc-key"))
>>> state = FeatureState.in_memory(extractor)
>>> row = {"transaction_id": "t1", "event_time": "2026-11-05T21:00:00+08:00",
...        "msisdn": "13812345678", "amount": 100.0, "paid_amount": 50.0,
...        "channel": "other_web", "network_type": "wifi", "network_wifi_security": "open"}
>>> features = extractor.extract_one(row, state)
>>> features["promo_discount_ratio"], features["net_wifi_open"], features["number_operator"]
(0.5, True, 'china_mobile')
>>> features["vel_msisdn_count_1h"], features["device_is_new"]
(0, False)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from fraudguard.exceptions import StateStoreError
from fraudguard.features.base import (
    FeatureGroup,
    FeatureKind,
    FeatureSpec,
    Row,
    with_flat_columns,
)
from fraudguard.features.behaviour import BehaviourFeatures
from fraudguard.features.behaviour_store import DailyStore
from fraudguard.features.context import ListFeatures, TimeAmountFeatures
from fraudguard.features.feedback import FeedbackFeatures
from fraudguard.features.feedback_store import FeedbackStore
from fraudguard.features.network import ConnectionFeatures, IpFeatures, NumberFeatures
from fraudguard.features.platform import PlatformFeatures, PromotionUrlFeatures
from fraudguard.features.promotion import PromotionFeatures, PromotionStatus
from fraudguard.features.state import FeatureState

if TYPE_CHECKING:
    from fraudguard.features.redis_round_trip import RedisRoundTrip
from fraudguard.features.store import InMemoryStateStore, StateStore, make_store
from fraudguard.features.velocity import VelocityFeatures
from fraudguard.reference import ReferenceData, load_reference

__all__ = [
    "STATELESS_GROUPS",
    "BehaviourFeatures",
    "DailyStore",
    "FeatureExtractor",
    "FeatureGroup",
    "FeatureKind",
    "FeatureSpec",
    "FeatureState",
    "FeedbackFeatures",
    "FeedbackStore",
    "InMemoryStateStore",
    "PromotionStatus",
    "StateStore",
    "VelocityFeatures",
    "default_extractor",
    "extract_many",
    "feature_specs",
    "make_store",
    "with_flat_columns",
]

#: What makes a frame labelled (the training contract's label columns and the order id).
_LABEL_COLUMNS = ("transaction_id", "is_fraud", "label_time")

#: Every stateless feature group, in output order.
STATELESS_GROUPS: tuple[type[FeatureGroup], ...] = (
    NumberFeatures,
    PlatformFeatures,
    PromotionUrlFeatures,
    ConnectionFeatures,
    IpFeatures,
    PromotionFeatures,
    TimeAmountFeatures,
    ListFeatures,
)


class FeatureExtractor:
    """All features of an order: the stateless groups in a fixed order, then velocity.

    Velocity features need history: online they read and update a :class:`StateStore`,
    in batch they are computed over the frame's own events in time order.
    """

    def __init__(
        self,
        reference: ReferenceData,
        groups: Sequence[type[FeatureGroup]] = STATELESS_GROUPS,
        velocity: VelocityFeatures | None = None,
        behaviour: BehaviourFeatures | None = None,
        feedback: FeedbackFeatures | None = None,
    ) -> None:
        self.reference = reference
        self.groups = [group(reference) for group in groups]
        self.velocity = velocity
        self.behaviour = behaviour
        self.feedback = feedback

    @property
    def specs(self) -> dict[str, FeatureSpec]:
        specs = {spec.name: spec for group in self.groups for spec in group.specs}
        if self.velocity is not None:
            specs.update((spec.name, spec) for spec in self.velocity.specs)
        if self.behaviour is not None:
            specs.update((spec.name, spec) for spec in self.behaviour.specs)
        if self.feedback is not None:
            specs.update((spec.name, spec) for spec in self.feedback.specs)
        return specs

    def extract_one(self, row: Row, state: FeatureState) -> dict[str, Any]:
        """Features of one flat event row (see :func:`fraudguard.schema.to_flat`).

        The stateful groups use ``state`` (built for this extractor: :class:`FeatureState`):
        velocity and behaviour baselines record the event, feedback only reads; on Redis
        in one round trip. A store that fails raises
        :class:`~fraudguard.exceptions.StateStoreError`; :meth:`extract_one_or_missing`
        answers without it instead.
        """
        features = self.extract_stateless(row)
        if state.round_trip is not None:
            features.update(self._history_in_one_trip(row, features, state.round_trip))
            return features
        if self.velocity is not None:
            features.update(self.velocity.transform_one(row, _velocity_store(state)))
        if self.behaviour is not None:
            features.update(self.behaviour.transform_one(row, _daily_store(state)))
        if self.feedback is not None:
            features.update(self.feedback.transform_one(row, features, _feedback_store(state)))
        return features

    def extract_one_or_missing(self, row: Row, state: FeatureState) -> tuple[dict[str, Any], bool]:
        """:meth:`extract_one` as scoring needs it: when a store fails, every stateful
        group takes its missing values (NaN) instead of an error (their stores share one
        backend: the order does not wait on it twice). Returns the features and whether a
        store failed."""
        try:
            return self.extract_one(row, state), False
        except StateStoreError:
            features = self.extract_stateless(row)
            for group in (self.velocity, self.behaviour, self.feedback):
                if group is not None:
                    features.update(group.missing())
            return features, True

    def _history_in_one_trip(
        self, row: Row, stateless: dict[str, Any], trip: RedisRoundTrip
    ) -> dict[str, Any]:
        """The stateful groups' features of one order from one Redis round trip: the
        velocity group sends it (:class:`~fraudguard.features.redis_round_trip.PendingOrder`
        stands in for its store) with the daily observations and feedback keys built
        first."""
        velocity, behaviour, feedback = self.velocity, self.behaviour, self.feedback
        days = None if behaviour is None else behaviour.request_one(row)
        keys, ts_us = ((), 0) if feedback is None else feedback.request_one(row, stateless)
        order = trip.order(() if days is None else days.observations, keys, ts_us)
        out = {} if velocity is None else velocity.transform_one(row, order)
        if not order.sent:
            order.observe(())
        if behaviour is not None and days is not None:
            out.update(behaviour.answer_one(days, order.buckets))
        if feedback is not None:
            out.update(feedback.answer_one(order.counts))
        return out

    def extract_stateless(self, row: Row) -> dict[str, Any]:
        """The stateless groups' features of one flat event row (no velocity)."""
        features: dict[str, Any] = {}
        for group in self.groups:
            features.update(group.transform_one(row))
        return features

    def extract_labelled(self, frame: pd.DataFrame) -> pd.DataFrame:
        """:meth:`extract_many` of a labelled history (``transaction_id``, ``is_fraud``,
        ``label_time``): the feedback counts come from the frame's own fraud labels, each a
        report from its ``label_time`` (:meth:`FeedbackFeatures.reports_from_labels`), as
        the service would have counted it once reported. Without those columns no order
        has reports."""
        reports = None
        if self.feedback is not None and set(_LABEL_COLUMNS) <= set(frame.columns):
            reports = self.feedback.reports_from_labels(frame)
        return self.extract_many(frame, reports=reports)

    def extract_many(
        self,
        frame: pd.DataFrame,
        *,
        velocity: pd.DataFrame | None = None,
        reports: pd.DataFrame | None = None,
    ) -> pd.DataFrame:
        """Features of every row of a flat event frame, index preserved.

        ``velocity``: the history features of these rows (:meth:`history_many`: velocity,
        then behaviour baselines), already computed (row for row, in this order) over a
        longer ordered history, e.g. once for a whole file that a cluster scores partition
        by partition; otherwise they are computed over ``frame``. ``reports``: the fraud
        reports the feedback features count (:data:`~fraudguard.features.feedback.REPORT_COLUMNS`;
        none: every present entity counts 0).
        """
        frame = with_flat_columns(frame)  # a file may lack optional columns
        parts = [group.transform_many(frame) for group in self.groups]
        # The feedback platform key reads the platform group's verdicts (official, domain).
        platform = next((p for p in parts if "platform_official" in p), None)
        if velocity is None:
            parts.append(self.history_many(frame))
        else:
            if len(velocity) != len(frame) or list(velocity.columns) != self.history_names():
                raise ValueError("velocity features do not match the rows or the names")
            parts.append(velocity.set_axis(frame.index, axis=0))
        if self.feedback is not None:
            parts.append(self.feedback.transform_many(frame, platform, reports=reports))
        return pd.concat(parts, axis=1)

    def history_names(self) -> list[str]:
        """The features that need the events' history: velocity, then behaviour."""
        velocity = [] if self.velocity is None else list(self.velocity.names())
        return velocity + ([] if self.behaviour is None else list(self.behaviour.names()))

    def history_many(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The history features (:meth:`history_names`) of a frame's events in time order."""
        parts = [self.velocity.transform_many(frame)] if self.velocity is not None else []
        if self.behaviour is not None:
            parts.append(self.behaviour.transform_many(frame))
        if not parts:
            return pd.DataFrame(index=frame.index)
        return parts[0] if len(parts) == 1 else pd.concat(parts, axis=1)


def _velocity_store(state: FeatureState) -> StateStore:
    if state.velocity is None:
        raise ValueError("velocity features need a state store: build FeatureState for them")
    return state.velocity


def _daily_store(state: FeatureState) -> DailyStore:
    if state.daily is None:
        raise ValueError("behaviour baselines need a daily store: build FeatureState for them")
    return state.daily


def _feedback_store(state: FeatureState) -> FeedbackStore:
    if state.feedback is None:
        raise ValueError("feedback features need a feedback store: build FeatureState for them")
    return state.feedback


def default_extractor(reference: ReferenceData | None = None) -> FeatureExtractor:
    """Every feature, velocity and behaviour included, keyed with the configured HMAC key."""
    from fraudguard.config import get_settings

    key = get_settings().hmac_key
    return FeatureExtractor(
        reference or load_reference(),
        velocity=VelocityFeatures(key),
        behaviour=BehaviourFeatures(key),
        feedback=FeedbackFeatures(key),
    )


def feature_specs(reference: ReferenceData | None = None) -> dict[str, FeatureSpec]:
    """Every feature's name, kind, family and description."""
    return default_extractor(reference).specs


def extract_many(frame: pd.DataFrame, reference: ReferenceData | None = None) -> pd.DataFrame:
    """Every feature column for a flat event frame, velocity computed in time order."""
    return default_extractor(reference).extract_many(frame)
