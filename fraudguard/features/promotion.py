"""Fake-discount features: how deep the claimed deal is, whether the official catalogue
offers it to this number on this channel today, and how far it exceeds the best genuine deal.

The *benefit* of an order is what the payer gets for free: the price cut (face value minus
what was paid) or the claimed bonus (``promotion.discount``), whichever is larger. Ratios
are benefit over face value, so "100元话费只要50元" is 0.5 and "充50送50" is 1.0.

>>> from fraudguard.reference import load_reference
>>> group = PromotionFeatures(load_reference())
>>> fake = group.transform_one({"amount": 100.0, "paid_amount": 50.0,
...     "promotion_code": "VIP-HALF", "channel": "other_web", "msisdn": "13812345678",
...     "event_time": "2026-11-05T20:00:00+08:00"})
>>> fake["promo_status"], fake["promo_benefit_ratio"], fake["promo_excess_ratio"]
('unknown_code', 0.5, 0.5)
>>> real = group.transform_one({"amount": 100.0, "paid_amount": 95.0,
...     "promotion_code": "YD-DOUBLE11", "promotion_discount": 5.0, "channel": "operator_app",
...     "msisdn": "13812345678", "event_time": "2026-11-05T20:00:00+08:00"})
>>> real["promo_status"], real["promo_registered"], real["promo_excess_ratio"]
('genuine', True, 0.0)
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from datetime import datetime
from functools import cached_property, lru_cache
from typing import Any

import numpy as np
import pandas as pd

from fraudguard.features.base import (
    FeatureGroup,
    FeatureKind,
    FeatureSpec,
    Row,
    epoch_ns,
    is_missing,
    map_distinct,
)
from fraudguard.features.network import ReferenceLookups, lookups_for
from fraudguard.reference import OfficialPromotion
from fraudguard.schema import Channel, ReasonFamily

__all__ = ["PromotionFeatures", "PromotionStatus"]

_FD = ReasonFamily.FAKE_DISCOUNT
_B, _F, _C = FeatureKind.BOOL, FeatureKind.FLOAT, FeatureKind.CATEGORY
_TOLERANCE = 0.005  # rounding of prices (9.8折 of 50 is 49.0, some apps show 49.01)
_CHANNELS = frozenset(Channel)
#: Distinct (period, operator, province, channel, face value) situations remembered.
_SITUATIONS = 16_384


class PromotionStatus:
    """Values of ``promo_status``: why a claimed deal is or is not in the catalogue."""

    NONE = "none"  # no promotion and no discount claimed
    GENUINE = "genuine"  # matches an official offer for this number, channel, value and date
    EXCESSIVE = "excessive"  # a real code, but the claimed benefit beats its offer
    UNKNOWN_CODE = "unknown_code"  # no official promotion has this code
    OUT_OF_WINDOW = "out_of_window"  # real code outside its valid dates
    WRONG_OPERATOR = "wrong_operator"
    WRONG_PROVINCE = "wrong_province"
    WRONG_CHANNEL = "wrong_channel"
    WRONG_DENOMINATION = "wrong_denomination"
    UNCODED_DISCOUNT = "uncoded_discount"  # a discount with no code, deeper than any offer


class PromotionFeatures(FeatureGroup):
    """The claimed deal against the official promotion catalogue."""

    specs = (
        FeatureSpec(
            "promo_claimed",
            _B,
            _FD,
            "A promotion code or a discount is claimed",
            "订单声称使用了优惠码或折扣",
        ),
        FeatureSpec(
            "promo_discount_ratio",
            _F,
            _FD,
            "Price cut as a share of face value (1 - paid / amount)",
            "实付折扣比例(1 - 实付/面值)",
        ),
        FeatureSpec(
            "promo_benefit_ratio",
            _F,
            _FD,
            "Claimed benefit (price cut or bonus) as a share of face value",
            "声称的优惠(减价或赠送)占面值比例",
        ),
        FeatureSpec(
            "promo_best_genuine_ratio",
            _F,
            _FD,
            "Best benefit any official offer gives this number here today",
            "当前官方活动对该号码可给出的最大优惠比例",
        ),
        FeatureSpec(
            "promo_excess_ratio",
            _F,
            _FD,
            "How far the claimed benefit exceeds the best official offer",
            "声称优惠超出官方最大优惠的幅度",
        ),
        FeatureSpec(
            "promo_registered",
            _B,
            _FD,
            "The claimed promotion is in the official catalogue for this situation",
            "所称优惠活动在官方活动目录中且适用",
        ),
        FeatureSpec(
            "promo_code_known",
            _B,
            _FD,
            "The promotion code exists in the catalogue",
            "优惠码存在于官方活动目录",
        ),
        FeatureSpec(
            "promo_status",
            _C,
            _FD,
            "Why the claim matches or not: genuine, excessive, unknown_code, "
            "out_of_window, wrong_operator/province/channel/denomination, "
            "uncoded_discount, none",
            "优惠核验结果",
        ),
        FeatureSpec(
            "promo_new_user_only",
            _B,
            ReasonFamily.PROMOTION_ABUSE,
            "The matched promotion is for new subscribers only",
            "所用活动仅限新用户",
        ),
    )
    inputs = (
        "amount",
        "paid_amount",
        "promotion_code",
        "promotion_discount",
        "channel",
        "msisdn",
        "event_time",
    )

    # --- time: the catalogue only changes at its own boundaries -------------------------

    @cached_property
    def _boundaries(self) -> list[int]:
        """Every valid_from / valid_to instant, as epoch nanoseconds, sorted."""
        edges = {
            pd.Timestamp(t).value
            for p in self.reference.promotions.promotions
            for t in (p.valid_from, p.valid_to)
        }
        return sorted(edges)

    @cached_property
    def _lookups(self) -> ReferenceLookups:
        return lookups_for(self.reference)

    def _epoch(self, when: Any) -> int:
        """Index of the catalogue period holding ``when``: same index, same active set."""
        nanos = epoch_ns(when)  # a naive time matches nothing: the contract wants offsets
        return -1 if nanos is None else bisect_right(self._boundaries, nanos)

    def _period_start(self, epoch: int) -> datetime | None:
        if epoch <= 0:
            return None  # before the first campaign (or unknown): nothing is active
        return pd.Timestamp(self._boundaries[epoch - 1], tz="UTC").to_pydatetime()

    # --- the definition -----------------------------------------------------------------

    def transform_one(self, row: Row) -> dict[str, Any]:
        msisdn = row.get("msisdn")
        number = "" if is_missing(msisdn) else str(msisdn)
        operator, province = self._lookups.number(number) if number else (None, None)
        return self._compute(
            row.get("amount"),
            row.get("paid_amount"),
            row.get("promotion_code"),
            row.get("promotion_discount"),
            row.get("channel"),
            operator,
            province,
            self._epoch(row.get("event_time")),
        )

    def transform_many(self, frame: pd.DataFrame) -> pd.DataFrame:
        times = pd.to_datetime(frame["event_time"], utc=True, errors="coerce")
        nanos = times.to_numpy("datetime64[ns]").astype(np.int64)
        epochs = np.searchsorted(np.asarray(self._boundaries, dtype=np.int64), nanos, "right")
        keys = pd.DataFrame(
            {
                "amount": frame["amount"],
                "paid_amount": frame["paid_amount"],
                "promotion_code": frame["promotion_code"],
                "promotion_discount": frame["promotion_discount"],
                "channel": frame["channel"].astype(object),
                "operator": self.reference.operators_of(frame["msisdn"]),
                "province": self.reference.provinces_of(frame["msisdn"]),
                "epoch": np.where(times.isna().to_numpy(), -1, epochs),
            },
            index=frame.index,
        )
        return map_distinct(keys, self._compute, self.specs)

    def _compute(
        self,
        amount: Any,
        paid: Any,
        code: Any,
        discount: Any,
        channel: Any,
        operator: Any,
        province: Any,
        epoch: Any,
    ) -> dict[str, Any]:
        known = [
            None if is_missing(v) else v
            for v in (amount, paid, code, discount, channel, operator, province)
        ]
        # A copy: the cached dict is shared between calls.
        return dict(_compute_cached(self, *known, int(epoch)))

    def _evaluate(
        self,
        amount: float | None,
        paid: float | None,
        code: str | None,
        discount: float | None,
        channel: str | None,
        operator: str | None,
        province: str | None,
        epoch: int,
    ) -> dict[str, Any]:
        if amount is None or amount <= 0:
            return {s.name: s.missing for s in self.specs}
        paid = amount if paid is None else float(paid)
        cut = max(0.0, amount - paid)
        benefit = max(cut, float(discount or 0.0))
        claimed = bool(code) or benefit > _TOLERANCE
        when, candidates, best = self._situation(epoch, operator, province, channel, amount)
        status, matched = self._status(
            code, claimed, benefit, amount, candidates, best, when, operator, province, channel
        )
        best_ratio = best / amount
        benefit_ratio = benefit / amount
        return {
            "promo_claimed": claimed,
            "promo_discount_ratio": cut / amount,
            "promo_benefit_ratio": benefit_ratio,
            "promo_best_genuine_ratio": best_ratio,
            "promo_excess_ratio": max(0.0, benefit_ratio - best_ratio),
            "promo_registered": status == PromotionStatus.GENUINE and code is not None,
            "promo_code_known": code is not None and code in self.reference.promotions_by_code,
            "promo_status": status,
            "promo_new_user_only": matched is not None and matched.new_users_only,
        }

    @cached_property
    def _situation(
        self,
    ) -> Callable[
        [int, str | None, str | None, str | None, float],
        tuple[datetime | None, tuple[OfficialPromotion, ...], float],
    ]:
        # What the catalogue offers this number here and now, whatever the order claims:
        # the costly part of a miss of the whole-order cache, shared by every paid amount,
        # code and discount claimed in the same situation.
        @lru_cache(maxsize=_SITUATIONS)
        def situation(
            epoch: int,
            operator: str | None,
            province: str | None,
            channel: str | None,
            amount: float,
        ) -> tuple[datetime | None, tuple[OfficialPromotion, ...], float]:
            when = self._period_start(epoch)
            # A tuple: the cached answer is shared by every later order in the situation.
            candidates = tuple(self._candidates(when, operator, province, channel, amount))
            return when, candidates, max((_benefit(p, amount) for p in candidates), default=0.0)

        return situation

    def _candidates(
        self,
        when: datetime | None,
        operator: str | None,
        province: str | None,
        channel: str | None,
        amount: float,
    ) -> list[OfficialPromotion]:
        if when is None or operator is None or channel not in _CHANNELS:
            return []  # an unknown channel is matched by no catalogue entry
        return self.reference.active_promotions(
            when,
            operator=operator,
            province=province or "",
            channel=Channel(channel),
            face_value=amount,
        )

    def _status(
        self,
        code: str | None,
        claimed: bool,
        benefit: float,
        amount: float,
        candidates: tuple[OfficialPromotion, ...],
        best: float,
        when: datetime | None,
        operator: str | None,
        province: str | None,
        channel: str | None,
    ) -> tuple[str, OfficialPromotion | None]:
        if not claimed:
            return PromotionStatus.NONE, None
        if code is None:
            if benefit <= best + _TOLERANCE * amount:
                matched = max(candidates, key=lambda p: _benefit(p, amount), default=None)
                return PromotionStatus.GENUINE, matched
            return PromotionStatus.UNCODED_DISCOUNT, None
        promo = self.reference.promotions_by_code.get(code)
        if promo is None:
            return PromotionStatus.UNKNOWN_CODE, None
        if promo in candidates:
            if benefit <= _benefit(promo, amount) + _TOLERANCE * amount:
                return PromotionStatus.GENUINE, promo
            return PromotionStatus.EXCESSIVE, promo
        return _mismatch(promo, when, operator, province, channel, amount), promo


@lru_cache(maxsize=65_536)
def _compute_cached(
    group: PromotionFeatures,
    amount: float | None,
    paid: float | None,
    code: str | None,
    discount: float | None,
    channel: str | None,
    operator: str | None,
    province: str | None,
    epoch: int,
) -> dict[str, Any]:
    # Online orders repeat the same few (value, code, channel, operator, province) combos.
    return group._evaluate(amount, paid, code, discount, channel, operator, province, epoch)


def _benefit(promo: OfficialPromotion, face_value: float) -> float:
    return max(
        (o.face_value - o.price + o.bonus for o in promo.offers if o.face_value == face_value),
        default=0.0,
    )


def _mismatch(
    promo: OfficialPromotion,
    when: datetime | None,
    operator: str | None,
    province: str | None,
    channel: str | None,
    amount: float,
) -> str:
    if when is None or not promo.valid_from <= when < promo.valid_to:
        return PromotionStatus.OUT_OF_WINDOW
    if operator not in promo.operators:
        return PromotionStatus.WRONG_OPERATOR
    if "*" not in promo.provinces and province not in promo.provinces:
        return PromotionStatus.WRONG_PROVINCE
    if channel not in promo.channels:
        return PromotionStatus.WRONG_CHANNEL
    if all(o.face_value != amount for o in promo.offers):
        return PromotionStatus.WRONG_DENOMINATION
    return PromotionStatus.OUT_OF_WINDOW  # pragma: no cover - candidates cover the rest
