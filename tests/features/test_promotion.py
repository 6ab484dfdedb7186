"""Fake-discount verdicts against the official catalogue (``reference/data/promotions.yaml``):
what an analyst reads in ``promo_status``, and the same answer however many orders the
group has cached before."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fraudguard.features import PromotionFeatures
from tests.features.strategies import REFERENCE

GUANGDONG_TELECOM = "18925001234"  # segment 1892500: guangdong, china_telecom
GUANGXI_TELECOM = "18901001234"  # segment 1890100: guangxi
SHANDONG_MOBILE = "13800001234"  # segment 1380000: shandong, china_mobile
SUMMER = "2026-08-10T12:00:00+08:00"  # GD-DX-SUMMER: guangdong telecom, 100 -> +15 bonus
DOUBLE11 = "2026-11-05T20:00:00+08:00"


def claim(
    msisdn: str,
    when: str,
    *,
    amount: float = 100.0,
    paid: float | None = None,
    code: str | None = None,
    discount: float | None = None,
    channel: str = "operator_app",
) -> dict[str, Any]:
    return {
        "msisdn": msisdn,
        "event_time": when,
        "amount": amount,
        "paid_amount": amount if paid is None else paid,
        "promotion_code": code,
        "promotion_discount": discount,
        "channel": channel,
    }


CASES = [
    # (order, expected status, registered)
    (claim(GUANGDONG_TELECOM, SUMMER, code="GD-DX-SUMMER", discount=15), "genuine", True),
    (claim(GUANGDONG_TELECOM, SUMMER, code="GD-DX-SUMMER", discount=40), "excessive", False),
    (claim(GUANGXI_TELECOM, SUMMER, code="GD-DX-SUMMER", discount=15), "wrong_province", False),
    (claim(SHANDONG_MOBILE, SUMMER, code="GD-DX-SUMMER", discount=15), "wrong_operator", False),
    (
        claim(GUANGDONG_TELECOM, SUMMER, code="GD-DX-SUMMER", discount=15, channel="other_web"),
        "wrong_channel",
        False,
    ),
    (
        claim(GUANGDONG_TELECOM, SUMMER, amount=50, code="GD-DX-SUMMER", discount=7.5),
        "wrong_denomination",
        False,
    ),
    (claim(GUANGDONG_TELECOM, DOUBLE11, code="GD-DX-SUMMER", discount=15), "out_of_window", False),
    (claim(SHANDONG_MOBILE, DOUBLE11, paid=95, code="YD-DOUBLE11"), "genuine", True),
    (claim(SHANDONG_MOBILE, DOUBLE11, paid=50, code="VIP-HALF"), "unknown_code", False),
    (claim(SHANDONG_MOBILE, DOUBLE11, paid=95), "genuine", False),  # the catalogue's 95% deal
    (claim(SHANDONG_MOBILE, DOUBLE11, paid=50), "uncoded_discount", False),
    (claim(SHANDONG_MOBILE, DOUBLE11), "none", False),
]


@pytest.mark.parametrize(("order", "status", "registered"), CASES)
def test_each_claim_gets_the_catalogue_verdict(
    order: dict[str, Any], status: str, registered: bool
) -> None:
    features = PromotionFeatures(REFERENCE).transform_one(order)
    assert features["promo_status"] == status
    assert features["promo_registered"] is registered


def test_the_excess_is_measured_against_the_best_genuine_offer() -> None:
    group = PromotionFeatures(REFERENCE)
    fake = group.transform_one(claim(SHANDONG_MOBILE, DOUBLE11, paid=50))
    assert fake["promo_best_genuine_ratio"] == pytest.approx(0.05)
    assert fake["promo_excess_ratio"] == pytest.approx(0.45)
    assert group.transform_one(claim(SHANDONG_MOBILE, DOUBLE11))["promo_claimed"] is False


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a.keys() == b.keys() and all(
        (isinstance(a[k], float) and math.isnan(a[k]) and math.isnan(b[k])) or a[k] == b[k]
        for k in a
    )


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from([order for order, _, _ in CASES]), min_size=2, max_size=30))
def test_a_shared_group_answers_like_a_fresh_one_whatever_came_before(
    orders: list[dict[str, Any]],
) -> None:
    # The group caches whole claims and, apart, what the catalogue offers in a situation
    # (period, operator, province, channel, face value): neither may leak between orders.
    shared = PromotionFeatures(REFERENCE)
    for order in orders:
        assert _same(shared.transform_one(order), PromotionFeatures(REFERENCE).transform_one(order))
