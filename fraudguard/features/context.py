"""Order context: when it happens in the payer's day, whether the face value is a real
top-up denomination, and whether an id is on a block or allow list.

>>> from fraudguard.reference import load_reference
>>> TimeAmountFeatures(load_reference()).transform_one(
...     {"amount": 37.0, "event_time": "2026-11-24T03:10:00+08:00"})
{'amount_standard': False, 'local_hour': 3.0, 'local_weekday': 1.0, 'night_time': True}
"""

from __future__ import annotations

from functools import cached_property
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
)
from fraudguard.schema import ReasonFamily

__all__ = ["STANDARD_DENOMINATIONS", "TIMEZONE", "ListFeatures", "TimeAmountFeatures"]

#: Face values operators sell; anything else is unusual for a top-up.
STANDARD_DENOMINATIONS = frozenset({10.0, 20.0, 30.0, 50.0, 100.0, 200.0, 300.0, 500.0})
#: Mainland China keeps one time zone; hours are the payer's local hours.
TIMEZONE = "Asia/Shanghai"
_UTC_OFFSET_S = 8 * 3600
_NIGHT_END_HOUR = 6  # midnight to 6 a.m. is "night"

_B, _F = FeatureKind.BOOL, FeatureKind.FLOAT
_PAY = ReasonFamily.PAYMENT_RISK


class TimeAmountFeatures(FeatureGroup):
    specs = (
        FeatureSpec(
            "amount_standard",
            _B,
            None,
            "Face value is a standard top-up denomination (10/20/30/50/100/200/300/500)",
            "面值为标准充值面额",
        ),
        FeatureSpec("local_hour", _F, None, "Hour of day in China (0-23)", "北京时间小时"),
        FeatureSpec(
            "local_weekday", _F, None, "Day of week in China, Monday = 0", "北京时间星期(周一为0)"
        ),
        FeatureSpec(
            "night_time",
            _B,
            _PAY,
            "Paid between midnight and 6 a.m. China time",
            "在北京时间凌晨0点至6点之间支付",
        ),
    )
    inputs = ("amount", "event_time")

    def transform_one(self, row: Row) -> dict[str, Any]:
        amount = row.get("amount")
        nanos = epoch_ns(row.get("event_time"))
        standard = not is_missing(amount) and float(amount) in STANDARD_DENOMINATIONS
        if nanos is None:
            return {
                "amount_standard": standard,
                "local_hour": np.nan,
                "local_weekday": np.nan,
                "night_time": False,
            }
        hour, weekday = _local_hour_weekday(nanos)
        return {
            "amount_standard": standard,
            "local_hour": float(hour),
            "local_weekday": float(weekday),
            "night_time": hour < _NIGHT_END_HOUR,
        }

    def transform_many(self, frame: pd.DataFrame) -> pd.DataFrame:
        times = pd.to_datetime(frame["event_time"], utc=True, errors="coerce")
        nanos = times.to_numpy("datetime64[ns]").astype(np.int64)
        hour, weekday = _local_hour_weekday(nanos)
        known = times.notna().to_numpy()
        return pd.DataFrame(
            {
                "amount_standard": frame["amount"].isin(STANDARD_DENOMINATIONS).to_numpy(),
                "local_hour": np.where(known, hour, np.nan),
                "local_weekday": np.where(known, weekday, np.nan),
                "night_time": known & (hour < _NIGHT_END_HOUR),
            },
            index=frame.index,
        )


def _local_hour_weekday(nanos: Any) -> tuple[Any, Any]:
    """Hour and weekday (Monday = 0) in China Standard Time, for ints or int arrays.

    China has kept UTC+8 without daylight saving since 1991, so plain arithmetic is exact
    and the online and batch paths share it.
    """
    seconds = nanos // 1_000_000_000 + _UTC_OFFSET_S
    return (seconds // 3600) % 24, (seconds // 86_400 + 3) % 7  # 1970-01-01 was a Thursday


class ListFeatures(FeatureGroup):
    """Membership of the payer, instrument and device in the operator's block/allow lists."""

    specs = (
        FeatureSpec(
            "list_instrument_blocked",
            _B,
            _PAY,
            "Payment instrument is block-listed",
            "支付工具在黑名单中",
        ),
        FeatureSpec("list_device_blocked", _B, _PAY, "Device is block-listed", "设备在黑名单中"),
        FeatureSpec("list_payer_blocked", _B, _PAY, "Payer is block-listed", "付款人在黑名单中"),
        FeatureSpec(
            "list_allowlisted",
            _B,
            None,
            "Payer, instrument or device is allow-listed (wins over rules)",
            "付款人、支付工具或设备在白名单中(优先于规则)",
        ),
    )
    inputs = ("payment_instrument_id", "device_id", "payment_payer_id")
    _LISTS = (
        ("list_instrument_blocked", "instruments", "payment_instrument_id"),
        ("list_device_blocked", "devices", "device_id"),
        ("list_payer_blocked", "payer_ids", "payment_payer_id"),
    )

    @cached_property
    def _sets(self) -> dict[str, tuple[frozenset[str], frozenset[str]]]:
        lists = self.reference.lists
        return {
            column: (
                frozenset(e.value for e in getattr(lists.block, name)),
                frozenset(e.value for e in getattr(lists.allow, name)),
            )
            for _, name, column in self._LISTS
        }

    def transform_one(self, row: Row) -> dict[str, Any]:
        out: dict[str, Any] = {}
        allowlisted = False
        for feature, _, column in self._LISTS:
            value = row.get(column)
            blocked, allowed = self._sets[column]
            present = not is_missing(value)
            out[feature] = present and value in blocked
            allowlisted |= present and value in allowed
        out["list_allowlisted"] = allowlisted
        return out

    def transform_many(self, frame: pd.DataFrame) -> pd.DataFrame:
        out: dict[str, Any] = {"list_allowlisted": np.zeros(len(frame), dtype=bool)}
        for feature, _, column in self._LISTS:
            blocked, allowed = self._sets[column]
            out[feature] = frame[column].isin(blocked).to_numpy()
            out["list_allowlisted"] |= frame[column].isin(allowed).to_numpy()
        return pd.DataFrame(out, index=frame.index)[list(self.names())]
