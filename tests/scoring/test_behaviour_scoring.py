"""Behaviour baselines on the scoring path: online equals bulk, and a state store that is
down gives missing baselines and a degraded decision, like velocity."""

from __future__ import annotations

import math

import pandas as pd

from fraudguard.features import FeatureState
from fraudguard.features.behaviour_redis import RedisDailyStore
from fraudguard.features.behaviour_store import InMemoryDailyStore
from fraudguard.schema import RechargeEvent, to_flat
from fraudguard.scoring import Scorer
from tests.features.redis_support import free_port
from tests.scoring.conftest import LATER, fresh, make_event


def _orders() -> list[RechargeEvent]:
    days = ["2026-11-01T10:00:00+08:00", "2026-11-03T10:00:00+08:00", "2026-11-04T12:00:00+08:00"]
    return [
        make_event(
            transaction_id=f"beh-{i}",
            event_time=when,
            amount=amount,
            payment={"method": "bank_card", "instrument_id": "tok-beh", "payer_id": "u-beh"},
        )
        for i, (when, amount) in enumerate(zip(days, [50, 50, 500], strict=True))
    ]


def test_online_baselines_equal_bulk_scoring(base_scorer: Scorer) -> None:
    scorer = fresh(base_scorer)
    assert isinstance(scorer.state.daily, InMemoryDailyStore)
    online = [scorer.score_one(event, now=LATER).features for event in _orders()]
    assert online[2]["beh_instrument_count_30d"] == 2
    assert online[2]["beh_instrument_amount_ratio_30d"] == 10.0
    frame = pd.DataFrame([to_flat(event) for event in _orders()])
    batch = scorer.extractor.extract_many(frame)
    for name in batch.columns:
        if name.startswith("beh_"):
            got = [row[name] for row in online]
            want = batch[name].tolist()
            assert all(
                (math.isnan(a) and math.isnan(b)) or a == b for a, b in zip(got, want, strict=True)
            ), name


def test_redis_down_gives_missing_baselines_and_a_degraded_decision(base_scorer: Scorer) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0?retry_after_s=30"
    scorer = Scorer(
        base_scorer.reference,
        base_scorer.extractor,
        FeatureState.from_url(base_scorer.extractor, url),
        base_scorer.rules,
        base_scorer.model,
        base_scorer.settings,
    )
    assert isinstance(scorer.state.daily, RedisDailyStore)
    scored = scorer.score_one(_orders()[0], now=LATER)
    assert scored.decision.degraded
    baselines = {k: v for k, v in scored.features.items() if k.startswith("beh_")}
    assert baselines
    assert all(math.isnan(v) for v in baselines.values())
    assert not scorer.state_available
