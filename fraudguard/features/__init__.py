"""Feature functions over payment metadata, one definition for one event and a DataFrame.

>>> from fraudguard.reference import load_reference
>>> extractor = FeatureExtractor(load_reference(), velocity=VelocityFeatures("doc-key"))
>>> store = extractor.velocity.new_store()
>>> row = {"transaction_id": "t1", "event_time": "2026-11-05T21:00:00+08:00",
...        "msisdn": "13812345678", "amount": 100.0, "paid_amount": 50.0,
...        "channel": "other_web", "network_type": "wifi", "network_wifi_security": "open"}
>>> features = extractor.extract_one(row, store)
>>> features["promo_discount_ratio"], features["net_wifi_open"], features["number_operator"]
(0.5, True, 'china_mobile')
>>> features["vel_msisdn_count_1h"], features["device_is_new"]
(0, False)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from fraudguard.features.base import (
    FeatureGroup,
    FeatureKind,
    FeatureSpec,
    Row,
    with_flat_columns,
)
from fraudguard.features.behaviour import BehaviourFeatures
from fraudguard.features.behaviour_store import DailyStore, daily_store_beside
from fraudguard.features.context import ListFeatures, TimeAmountFeatures
from fraudguard.features.feedback import FeedbackFeatures
from fraudguard.features.feedback_store import FeedbackStore
from fraudguard.features.network import ConnectionFeatures, IpFeatures, NumberFeatures
from fraudguard.features.platform import PlatformFeatures, PromotionUrlFeatures
from fraudguard.features.promotion import PromotionFeatures, PromotionStatus
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
    "FeedbackFeatures",
    "FeedbackStore",
    "InMemoryStateStore",
    "PromotionStatus",
    "StateStore",
    "VelocityFeatures",
    "daily_store_beside",
    "default_extractor",
    "extract_many",
    "feature_specs",
    "make_store",
    "with_flat_columns",
]

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

    def extract_one(
        self,
        row: Row,
        store: StateStore | None = None,
        daily: DailyStore | None = None,
        feedback_store: FeedbackStore | None = None,
    ) -> dict[str, Any]:
        """Features of one flat event row (see :func:`fraudguard.schema.to_flat`).

        With velocity configured, ``store`` is required and the event is recorded in it;
        with behaviour baselines, ``daily`` likewise; feedback features read
        ``feedback_store`` (required with them; nothing is recorded in it).
        """
        features = self.extract_stateless(row)
        if self.velocity is not None:
            if store is None:
                raise ValueError("velocity features need a state store: pass store=...")
            features.update(self.velocity.transform_one(row, store))
        if self.behaviour is not None:
            if daily is None:
                raise ValueError("behaviour baselines need a daily store: pass daily=...")
            features.update(self.behaviour.transform_one(row, daily))
        if self.feedback is not None:
            if feedback_store is None:
                raise ValueError("feedback features need a store: pass feedback_store=...")
            features.update(self.feedback.transform_one(row, features, feedback_store))
        return features

    def extract_stateless(self, row: Row) -> dict[str, Any]:
        """The stateless groups' features of one flat event row (no velocity)."""
        features: dict[str, Any] = {}
        for group in self.groups:
            features.update(group.transform_one(row))
        return features

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
