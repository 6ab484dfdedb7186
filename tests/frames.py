"""Simulated frames as events: a frame's row validated into the event it stands for."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from fraudguard.schema import RechargeEvent, from_flat


def event_from_row(row: Mapping[Any, Any]) -> RechargeEvent:
    """The event of one ``frame.to_dict("records")`` row: NaN is missing, a timestamp is
    written as ISO text (as a caller would send it)."""
    return from_flat({str(name): _jsonable(value) for name, value in row.items()})


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value
