"""The order as received, as the decision log keeps it: every flat field
(:data:`fraudguard.schema.FLAT_COLUMNS`) except those that identify a person, which are
kept only as what the features read of them.

* ``payment_payer_id``, ``payment_instrument_id``, ``device_id``: the keyed HMACs that
  link cases (:func:`fraudguard.decisions.link_keys`). The features read these ids only
  for equality (velocity counts per id, distinct ids per counterpart): equal ids give
  equal keys, so velocity replays exactly on the keys.
* ``msisdn``: its number segment (the first 7 digits, which give the operator and the
  home province), ``#``, and the keyed hash of the whole number (the velocity identity):
  ``1891234#3f2a...``. Never the number itself.
* ``transaction_id`` is the row's key; ``attributes`` (the caller's free-form data, no
  fixed columns, read by no feature) are not kept.

The block and allow lists read the raw ids; their verdicts are taken from the logged
features of the same order (the lists as they were when it was scored).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson

from fraudguard.schema import RechargeEvent, to_flat

__all__ = [
    "KEYED_COLUMNS",
    "MSISDN_SEGMENT",
    "logged_event",
    "logged_row",
    "pseudonymous_msisdn",
]

#: Flat id columns stored as the link key of the same name (``link_keys``).
KEYED_COLUMNS: dict[str, str] = {
    "payment_payer_id": "payer_key",
    "payment_instrument_id": "instrument_key",
    "device_id": "device_key",
}
#: Leading digits of a number kept: its segment (号段), which fixes operator and province.
MSISDN_SEGMENT = 7


def pseudonymous_msisdn(msisdn: str, msisdn_hash: str) -> str:
    """The number segment and the keyed hash of the whole number: ``1891234#<hash>``."""
    return f"{msisdn[:MSISDN_SEGMENT]}#{msisdn_hash}"


def logged_event(event: RechargeEvent, keys: Mapping[str, Any], msisdn_hash: str) -> str:
    """The compact JSON the log keeps for ``event`` (missing fields left out).

    ``keys``: the event's :func:`~fraudguard.decisions.link_keys`; ``msisdn_hash``: the
    keyed hash of its number, as stored in ``decisions.msisdn_hash``.
    """
    return logged_row(to_flat(event), keys, msisdn_hash)


def logged_row(row: dict[str, Any], keys: Mapping[str, Any], msisdn_hash: str) -> str:
    """:func:`logged_event` of a validated event's flat row (missing values ``None``);
    changes ``row``."""
    del row["transaction_id"]
    row["msisdn"] = pseudonymous_msisdn(row["msisdn"], msisdn_hash)
    for column, key in KEYED_COLUMNS.items():
        row[column] = keys[key]
    kept = {name: value for name, value in row.items() if value is not None}
    return orjson.dumps(kept, default=_time_text).decode()


def _time_text(value: Any) -> str:
    # An event made from a DataFrame row may carry a pandas Timestamp (a datetime subclass
    # orjson leaves to us): the text of the same datetime, to the microsecond as the log's
    # event_time column and the request fingerprint keep it (the Timestamp's own isoformat
    # would add its nanoseconds).
    if isinstance(value, datetime):
        return datetime.isoformat(value)
    raise TypeError(f"cannot store a {type(value).__name__} in the event")
