"""Checks every stateless feature group must pass (river style): the names it promises, the
types its specs declare, no exception on any valid event, and online == batch."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fraudguard.features import (
    STATELESS_GROUPS,
    FeatureExtractor,
    FeatureGroup,
    FeatureKind,
    FeatureState,
)
from fraudguard.reference import ReferenceData
from fraudguard.schema import RechargeEvent, to_flat
from tests.features.strategies import REFERENCE, events, frame_of

GROUPS = pytest.mark.parametrize("group_type", STATELESS_GROUPS, ids=lambda g: g.__name__)


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-12)
    return bool(a == b)


def check_kind(kind: FeatureKind, value: Any) -> bool:
    if kind is FeatureKind.BOOL:
        return isinstance(value, bool)
    if kind is FeatureKind.CATEGORY:
        return isinstance(value, str) and value != ""
    return isinstance(value, float)


@GROUPS
def test_specs_are_complete_and_unique(group_type: type[FeatureGroup]) -> None:
    names = group_type.names()
    assert len(names) == len(set(names))
    for spec in group_type.specs:
        assert spec.description, spec.name
        assert spec.description_zh, spec.name


def test_feature_names_are_unique_across_groups() -> None:
    names = [n for g in STATELESS_GROUPS for n in g.names()]
    assert len(names) == len(set(names))


@GROUPS
@settings(max_examples=60)
@given(event=events())
def test_online_output_has_every_feature_with_its_declared_type(
    group_type: type[FeatureGroup], event: RechargeEvent
) -> None:
    out = group_type(REFERENCE).transform_one(to_flat(event))
    assert list(out) == list(group_type.names())
    for spec in group_type.specs:
        assert check_kind(spec.kind, out[spec.name]), (spec.name, out[spec.name])


@GROUPS
def test_an_event_with_nothing_known_gives_missing_values(
    group_type: type[FeatureGroup], reference: ReferenceData
) -> None:
    out = group_type(reference).transform_one({})
    for spec in group_type.specs:
        if spec.kind is FeatureKind.BOOL:
            assert out[spec.name] is False, spec.name
        elif spec.kind is FeatureKind.CATEGORY:
            assert out[spec.name] == "unknown", spec.name


@GROUPS
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items=st.lists(events(), min_size=1, max_size=25))
def test_batch_equals_online_row_by_row(
    group_type: type[FeatureGroup], items: list[RechargeEvent]
) -> None:
    group = group_type(REFERENCE)
    frame = frame_of(items)
    frame.index = frame.index * 7 + 3  # an arbitrary index must be preserved
    batch = group.transform_many(frame)
    assert list(batch.columns) == list(group_type.names())
    assert list(batch.index) == list(frame.index)
    for position, event in enumerate(items):
        online = group.transform_one(to_flat(event))
        row = batch.iloc[position]
        for name in group_type.names():
            assert same(online[name], _py(row[name])), (name, online[name], row[name])


def _py(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def test_extractor_combines_every_group_online_and_in_batch() -> None:
    extractor = FeatureExtractor(REFERENCE)
    items = [
        RechargeEvent.model_validate(
            {
                "transaction_id": f"t{i}",
                "event_time": "2026-11-05T12:00:00+08:00",
                "msisdn": "18912345678",
                "amount": 100,
                "paid_amount": 100 - 10 * i,
                "channel": "operator_app",
            }
        )
        for i in range(5)
    ]
    batch = extractor.extract_many(frame_of(items))
    assert list(batch.columns) == list(extractor.specs)
    assert batch["promo_discount_ratio"].tolist() == pytest.approx([0, 0.1, 0.2, 0.3, 0.4])
    online = pd.DataFrame([extractor.extract_one(to_flat(e), FeatureState()) for e in items])
    pd.testing.assert_frame_equal(online, batch.reset_index(drop=True), check_dtype=False)
