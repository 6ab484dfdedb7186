"""The order as the decision log keeps it: an event built from a DataFrame row (its time a
pandas Timestamp) is stored exactly as the same event with a plain datetime."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from fraudguard.decisions.events import logged_row

KEYS = {"payer_key": "a" * 32, "instrument_key": "b" * 32, "device_key": "c" * 32}
HASH = "d" * 32

#: Aware times as orders carry them: offsets in whole minutes, microseconds.
times = st.builds(
    lambda moment, minutes: moment.replace(tzinfo=UTC).astimezone(
        timezone(timedelta(minutes=minutes))
    ),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
    st.integers(min_value=-12 * 60, max_value=14 * 60),
)


def _row(event_time: Any) -> dict[str, Any]:
    return {
        "transaction_id": "ord-1",
        "event_time": event_time,
        "msisdn": "13812345678",
        "amount": 100.0,
        "payment_payer_id": "u-1",
        "payment_instrument_id": "card-1",
        "device_id": "dev-1",
    }


@given(times, st.integers(min_value=0, max_value=999))
def test_a_timestamp_is_stored_as_its_datetime(moment: datetime, nanoseconds: int) -> None:
    stamp = pd.Timestamp(moment) + pd.Timedelta(nanoseconds=nanoseconds)
    stored = logged_row(_row(stamp), KEYS, HASH)
    assert stored == logged_row(_row(moment), KEYS, HASH)
    assert datetime.fromisoformat(orjson.loads(stored)["event_time"]) == moment
