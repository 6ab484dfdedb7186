"""Online == batch on the committed sample: streaming every event through the online path
(with a fresh state store) gives exactly the features the batch path computes."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from fraudguard.features import (
    BehaviourFeatures,
    FeatureExtractor,
    FeatureState,
    VelocityFeatures,
)
from fraudguard.reference import ReferenceData
from fraudguard.schema import from_flat, to_flat

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "samples" / "recharges.parquet"


@pytest.mark.slow
def test_every_feature_of_every_sample_event_is_the_same_online_and_in_batch(
    reference: ReferenceData,
) -> None:
    frame = pd.read_parquet(SAMPLE)
    extractor = FeatureExtractor(
        reference,
        velocity=VelocityFeatures("parity-key"),
        behaviour=BehaviourFeatures("parity-key"),
    )
    batch = extractor.extract_many(frame)
    state = FeatureState.in_memory(extractor)
    mismatches: list[tuple[int, str, object, object]] = []
    # The online path sees what the API sees: the validated event in flat form.
    for position, record in enumerate(frame.to_dict("records")):
        online = extractor.extract_one(to_flat(from_flat(record)), state)
        expected = batch.iloc[position]
        for name, value in online.items():
            other = expected[name]
            other = other.item() if hasattr(other, "item") else other
            equal = (isinstance(value, float) and math.isnan(value) and math.isnan(other)) or (
                value == other
            )
            if not equal:
                mismatches.append((position, name, value, other))
    assert mismatches == []
    assert len(batch) == len(frame) > 40_000
