"""Event files: recharge history and batch input as CSV or Parquet, one reader and writer;
and outcome files (chargebacks, complaints...) as processors send them.

Parquet keeps every type. CSV loses them, so the reader keeps identifier columns as text
(leading zeros of card BINs, ``+86`` prefixes) and parses ``event_time`` / ``label_time``.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import pandas as pd

from fraudguard.exceptions import DataFileError, FieldProblem, InputError

__all__ = [
    "OUTCOME_COLUMNS",
    "OUTCOME_NUMBER_COLUMNS",
    "TEXT_COLUMNS",
    "event_file_format",
    "identifiers_as_text",
    "read_events",
    "read_outcomes",
    "read_records",
    "write_events",
]

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
    return identifiers_as_text(frame)


def identifiers_as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its :data:`TEXT_COLUMNS` stored as integers (as a Parquet writer may
    have typed them) turned back into text, in place; returns the frame."""
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


#: Columns of an outcome file: the fields of ``POST /v1/outcomes``, the first three required.
OUTCOME_COLUMNS = (
    "transaction_id",
    "kind",
    "reported_at",
    "amount",
    "reference",
    "source",
    "typology",
    "note",
)
OUTCOME_NUMBER_COLUMNS = ("amount",)


def read_outcomes(path: Path | str) -> pd.DataFrame:
    """Read an outcome file (``.csv`` or ``.parquet``) without losing a value to parsing.

    As :func:`read_records`, with an ``amount`` that reads as a number read as one.
    """
    return read_records(path, OUTCOME_NUMBER_COLUMNS)


def read_records(path: Path | str, numbers: Sequence[str] = ()) -> pd.DataFrame:
    """Read a ``.csv`` or ``.parquet`` file someone else wrote, without losing a value.

    The frame's index is where each row is in the file: the line of a CSV file (the header
    is line 1; a quoted value over two lines counts both), the row of a Parquet file from 1.
    Every value stays text (Parquet numbers too: an id keeps its digits) except in the
    ``numbers`` columns, where a value that reads as a number is read as one; Parquet times
    and booleans keep their type; an empty cell is missing. A value that does not read as
    its column's kind is kept as it is, for a validation suite to name.
    """
    source = Path(path)
    try:
        kind = event_file_format(source)
    except InputError:
        raise DataFileError(
            f"cannot read {source.name}", [FieldProblem("file", "use a .csv or .parquet file")]
        ) from None
    try:
        if kind == "csv":
            frame = pd.read_csv(source, dtype=str, keep_default_na=False, na_values=[""])
            frame.index = pd.Index(_record_lines(source)[: len(frame)], name="line")
            for column in numbers:
                if column in frame:
                    frame[column] = _numbers_where_possible(frame[column])
            return frame
        frame = pd.read_parquet(source)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataFileError(f"cannot read {source.name}: {exc}") from None
    except (ValueError, UnicodeDecodeError, csv.Error) as exc:
        raise DataFileError(
            f"cannot read {source.name}: not a valid CSV or Parquet file ({type(exc).__name__})"
        ) from None
    frame.index = pd.RangeIndex(1, len(frame) + 1, name="row")
    for column in frame.columns:
        if (
            column not in numbers
            and pd.api.types.is_numeric_dtype(frame[column].dtype)
            and not pd.api.types.is_bool_dtype(frame[column].dtype)
        ):
            frame[column] = frame[column].map(lambda v: None if pd.isna(v) else str(v))
    return frame


def _record_lines(path: Path) -> list[int]:
    """The line each CSV record starts on (the header is line 1)."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        starts: list[int] = []
        start = 1
        for _ in reader:
            starts.append(start)
            start = reader.line_num + 1
    return starts[1:]


def _numbers_where_possible(values: pd.Series) -> pd.Series:
    numbers = pd.to_numeric(values, errors="coerce")
    unreadable = values.notna() & numbers.isna()
    if not unreadable.any():
        return numbers
    return numbers.astype(object).where(~unreadable, values)
