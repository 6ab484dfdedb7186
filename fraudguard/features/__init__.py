"""Feature functions over payment metadata, one definition for one event and a DataFrame.

>>> from fraudguard.reference import load_reference
>>> extractor = FeatureExtractor(load_reference())
>>> row = {"transaction_id": "t1", "event_time": "2026-11-05T21:00:00+08:00",
...        "msisdn": "13812345678", "amount": 100.0, "paid_amount": 50.0,
...        "channel": "other_web", "network_type": "wifi", "network_wifi_security": "open"}
>>> features = extractor.extract_one(row)
>>> features["promo_discount_ratio"], features["net_wifi_open"], features["number_operator"]
(0.5, True, 'china_mobile')
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
from fraudguard.reference import ReferenceData, load_reference

__all__ = [
    "STATELESS_GROUPS",
    "FeatureExtractor",
    "FeatureGroup",
    "FeatureKind",
    "FeatureSpec",
    "PromotionStatus",
    "extract_many",
    "feature_specs",
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
    """All features of an order: the stateless groups, in a fixed order."""

    def __init__(
        self,
        reference: ReferenceData,
        groups: Sequence[type[FeatureGroup]] = STATELESS_GROUPS,
    ) -> None:
        self.reference = reference
        self.groups = [group(reference) for group in groups]

    @property
    def specs(self) -> dict[str, FeatureSpec]:
        return {spec.name: spec for group in self.groups for spec in group.specs}

    def extract_one(self, row: Row) -> dict[str, Any]:
        """Features of one flat event row (see :func:`fraudguard.schema.to_flat`)."""
        features: dict[str, Any] = {}
        for group in self.groups:
            features.update(group.transform_one(row))
        return features

    def extract_many(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Features of every row of a flat event frame, index preserved."""
        parts = [group.transform_many(frame) for group in self.groups]
        return pd.concat(parts, axis=1)


def feature_specs(reference: ReferenceData | None = None) -> dict[str, FeatureSpec]:
    """Every feature's name, kind, family and description."""
    return FeatureExtractor(reference or load_reference()).specs


def extract_many(frame: pd.DataFrame, reference: ReferenceData | None = None) -> pd.DataFrame:
    """Feature columns for a flat event frame, with the shipped or given reference data."""
    return FeatureExtractor(reference or load_reference()).extract_many(frame)
