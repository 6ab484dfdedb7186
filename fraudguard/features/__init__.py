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

from fraudguard.features.base import FeatureGroup, FeatureKind, FeatureSpec, Row
from fraudguard.features.context import ListFeatures, TimeAmountFeatures
from fraudguard.features.network import ConnectionFeatures, IpFeatures, NumberFeatures
from fraudguard.features.platform import PlatformFeatures, PromotionUrlFeatures
from fraudguard.features.promotion import PromotionFeatures, PromotionStatus
from fraudguard.features.store import InMemoryStateStore, StateStore, make_store
from fraudguard.features.velocity import VelocityFeatures
from fraudguard.reference import ReferenceData, load_reference

__all__ = [
    "STATELESS_GROUPS",
    "FeatureExtractor",
    "FeatureGroup",
    "FeatureKind",
    "FeatureSpec",
    "InMemoryStateStore",
    "PromotionStatus",
    "StateStore",
    "VelocityFeatures",
    "default_extractor",
    "extract_many",
    "feature_specs",
    "make_store",
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
    ) -> None:
        self.reference = reference
        self.groups = [group(reference) for group in groups]
        self.velocity = velocity

    @property
    def specs(self) -> dict[str, FeatureSpec]:
        specs = {spec.name: spec for group in self.groups for spec in group.specs}
        if self.velocity is not None:
            specs.update((spec.name, spec) for spec in self.velocity.specs)
        return specs

    def extract_one(self, row: Row, store: StateStore | None = None) -> dict[str, Any]:
        """Features of one flat event row (see :func:`fraudguard.schema.to_flat`).

        With velocity configured, ``store`` is required and the event is recorded in it.
        """
        features = self.extract_stateless(row)
        if self.velocity is not None:
            if store is None:
                raise ValueError("velocity features need a state store: pass store=...")
            features.update(self.velocity.transform_one(row, store))
        return features

    def extract_stateless(self, row: Row) -> dict[str, Any]:
        """The stateless groups' features of one flat event row (no velocity)."""
        features: dict[str, Any] = {}
        for group in self.groups:
            features.update(group.transform_one(row))
        return features

    def extract_many(
        self, frame: pd.DataFrame, *, velocity: pd.DataFrame | None = None
    ) -> pd.DataFrame:
        """Features of every row of a flat event frame, index preserved.

        ``velocity``: the velocity features of these rows, already computed (row for row,
        in this order) over a longer ordered history, e.g. once for a whole file that a
        cluster scores partition by partition; otherwise they are computed over ``frame``.
        """
        parts = [group.transform_many(frame) for group in self.groups]
        if self.velocity is not None:
            if velocity is None:
                parts.append(self.velocity.transform_many(frame))
            else:
                names = list(self.velocity.names())
                if len(velocity) != len(frame) or list(velocity.columns) != names:
                    raise ValueError("velocity features do not match the rows or the names")
                parts.append(velocity.set_axis(frame.index, axis=0))
        return pd.concat(parts, axis=1)


def default_extractor(reference: ReferenceData | None = None) -> FeatureExtractor:
    """Every feature, velocity included, keyed with the configured HMAC key."""
    from fraudguard.config import get_settings

    return FeatureExtractor(
        reference or load_reference(), velocity=VelocityFeatures(get_settings().hmac_key)
    )


def feature_specs(reference: ReferenceData | None = None) -> dict[str, FeatureSpec]:
    """Every feature's name, kind, family and description."""
    return default_extractor(reference).specs


def extract_many(frame: pd.DataFrame, reference: ReferenceData | None = None) -> pd.DataFrame:
    """Every feature column for a flat event frame, velocity computed in time order."""
    return default_extractor(reference).extract_many(frame)
