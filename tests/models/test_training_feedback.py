"""Feedback features in training from a labelled file: each fraud label is a report against its
order's entities from the moment it became known, as the service counts them online; no order
ever sees its own label."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd

from fraudguard.baselines import RULE_ACTION_SCORES, rules_only_scores
from fraudguard.config import get_settings
from fraudguard.models import TrainingResult
from fraudguard.models.training import _with_features
from fraudguard.reference import ReferencePaths
from fraudguard.rules import RuleAction


def _shop_orders(label_delay: timedelta) -> pd.DataFrame:
    """Three fraud orders an hour apart at one look-alike shop, labelled ``label_delay`` after."""
    times = pd.date_range("2026-11-20 10:00", periods=3, freq="1h", tz="Asia/Shanghai")
    return pd.DataFrame(
        {
            "transaction_id": ["o-1", "o-2", "o-3"],
            "event_time": times,
            "msisdn": ["13812345678", "13812345679", "13812345670"],
            "amount": [100.0, 100.0, 100.0],
            "paid_amount": [50.0, 50.0, 50.0],
            "channel": ["other_web"] * 3,
            "platform_url": ["https://l0086-pay.cn/top"] * 3,
            "is_fraud": [True, True, True],
            "label_time": times + label_delay,
        }
    )


def test_a_label_counts_for_later_orders_from_when_it_was_known() -> None:
    orders = _shop_orders(timedelta(minutes=30))
    counts = _with_features(orders, ReferencePaths())["fb_platform_fraud_1d"].tolist()
    # o-1's label is known at 10:30: o-2 (11:00) sees 1; o-3 (12:00) sees o-1's and o-2's.
    assert counts == [0, 1, 2]


def test_a_label_known_later_than_the_next_order_does_not_count_for_it() -> None:
    orders = _shop_orders(timedelta(hours=5))
    assert _with_features(orders, ReferencePaths())["fb_platform_fraud_1d"].tolist() == [0, 0, 0]


def test_no_order_sees_its_own_label_even_when_known_at_once() -> None:
    orders = _shop_orders(timedelta(0))
    assert _with_features(orders, ReferencePaths())["fb_platform_fraud_1d"].tolist() == [0, 1, 2]


def test_a_model_trained_on_a_labelled_file_learns_from_fraud_reports(
    trained: TrainingResult,
) -> None:
    """The simulator's look-alike shops draw repeated fraud: the model keeps the counts."""
    assert [n for n in trained.numeric if n.startswith("fb_")]


def test_the_rules_baseline_fires_feedback_rules_on_the_files_own_reports() -> None:
    """The rules column of a training report reads the same reports the model does: the
    third order of a shop reported twice is reviewed by SP-006 (2 reports in a day)."""
    orders = _shop_orders(timedelta(minutes=30)).assign(
        platform_url="https://cheap-topup.shop/pay", paid_amount=100.0
    )
    first, second, third = rules_only_scores(orders, get_settings())
    # o-2 sees one report (not enough); o-3 sees o-1's and o-2's.
    assert third >= RULE_ACTION_SCORES[RuleAction.REVIEW] > max(first, second)
