"""Event files: recharge history and batch input as CSV or Parquet, one reader and writer.

Parquet keeps every type. CSV loses them, so the reader keeps identifier columns as text
(leading zeros of card BINs, ``+86`` prefixes) and parses ``event_time`` / ``label_time``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pandas as pd

from fraudguard.exceptions import DataFileError, FieldProblem, InputError

__all__ = ["TEXT_COLUMNS", "event_file_format", "read_events", "write_events"]

#: Columns that are text even when every value looks like a number.
TEXT_COLUMNS = (
    "transaction_id",
    "msisdn",
    "payment_card_bin",
    "payment_instrument_id",
    "payment_payer_id",
    "device_id",
    "platform_id",
    "promotion_code",
    "network_ssid",
)
_TIME_COLUMNS = ("event_time", "label_time")


def event_file_format(path: Path) -> Literal["csv", "parquet"]:
    """The file format ``path`` asks for, by suffix; anything else is refused.

    >>> event_file_format(Path("out/recharges.parquet"))
    'parquet'
    >>> event_file_format(Path("events.json"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    fraudguard.exceptions.InputError: events.json: use a path ending in .csv or .parquet
    """
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".parquet", ".pq"):
        return "parquet"
    raise InputError(f"{path.name}: use a path ending in .csv or .parquet")


def read_events(path: Path | str) -> pd.DataFrame:
    """Read flat events (and labels, if present) from a ``.csv`` or ``.parquet`` file."""
    source = Path(path)
    try:
        kind = event_file_format(source)
    except InputError:
        raise DataFileError(
            f"cannot read {source}", [FieldProblem("data", "use a .csv or .parquet file")]
        ) from None
    try:
        if kind == "csv":
            frame = pd.read_csv(source, dtype=dict.fromkeys(TEXT_COLUMNS, "str"))
            for column in _TIME_COLUMNS:
                if column in frame:
                    frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601")
            return frame
        frame = pd.read_parquet(source)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        # These messages name the file and a position, never a value.
        raise DataFileError(f"cannot read {source}: {exc}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise DataFileError(
            f"cannot read {source}: not a valid CSV or Parquet event file ({type(exc).__name__})"
        ) from None
    for column in TEXT_COLUMNS:
        if column in frame and pd.api.types.is_integer_dtype(frame[column].dtype):
            frame[column] = frame[column].astype("str")
    return frame


def write_events(frame: pd.DataFrame, path: Path | str) -> Path:
    """Write events to ``path`` as CSV or Parquet (by suffix); returns the path."""
    target = Path(path)
    kind = event_file_format(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    if kind == "csv":
        frame.to_csv(target, index=False)
    else:
        frame.to_parquet(target, index=False, compression="zstd")
    return target
