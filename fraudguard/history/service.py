"""Importing an operator's own history: their file plus a mapping -> the contract's flat form.

The file is read as text (:func:`fraudguard.files.read_records`, each row numbered by its
line), renamed and converted as the mapping says, then checked by the ``raw_history`` Great
Expectations suite (:func:`~fraudguard.validation.locate_failures`; optional fields absent
are fine) and by the contract itself (:func:`~fraudguard.schema.from_flat`). Good rows are
kept, each bad row is named by line with the reason (never the value). The output is ordered
by time and id and written whole, so importing the same file again writes the same file.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pydantic

from fraudguard.exceptions import DataFileError
from fraudguard.features import STATELESS_GROUPS, FeatureGroup, VelocityFeatures
from fraudguard.files import event_file_format, read_records, write_events
from fraudguard.history.exceptions import HistoryFileError, MappingError
from fraudguard.history.schemas import BadRow, GroupFeed, HistoryMapping, ImportResult
from fraudguard.privacy import redact
from fraudguard.reference.files import read_yaml_model
from fraudguard.schema import FLAT_COLUMNS, field_problems, from_flat, normalize_msisdn

__all__ = ["LABEL_COLUMNS", "feature_groups", "import_history", "load_mapping", "stand_in_msisdn"]

#: The label columns an import adds to the flat columns.
LABEL_COLUMNS = ("is_fraud", "label_time")
_TIMES = ("event_time",)
_NUMBERS = ("amount", "paid_amount", "promotion_discount")
_BOOLEANS = ("device_rooted", "device_emulator", "network_tls", "network_proxy", "network_vpn")
_TRUE, _FALSE = {"true", "1", "yes", "y", "t"}, {"false", "0", "no", "n", "f"}
_UTC = "datetime64[ns, UTC]"
_OFFSET = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")
#: Stand-in numbers: China Telecom's 170 virtual-operator range, digits from the id's hash.
_STAND_IN_PREFIX = "170"

#: Bad rows: line -> [(field, reason)].
Problems = dict[int, list[tuple[str, str]]]


def load_mapping(path: Path | str) -> HistoryMapping:
    """Read a mapping file; every problem names ``file:line: key`` and the fix."""
    return read_yaml_model(Path(path), HistoryMapping, MappingError)


def stand_in_msisdn(value: str) -> str:
    """A stable mainland-format number standing in for an id (a customer) in files without
    phone numbers: the same id, the same number, in every import.

    >>> stand_in_msisdn("4211"), stand_in_msisdn("4211") == stand_in_msisdn("4212")
    ('17041014957', False)
    """
    digest = int.from_bytes(hashlib.sha256(value.encode("utf-8")).digest()[:8], "big")
    return f"{_STAND_IN_PREFIX}{digest % 10**8:08d}"


def import_history(
    path: Path | str, mapping: HistoryMapping | Path | str, out: Path | str | None = None
) -> ImportResult:
    """Convert an operator's history file (``.csv`` / ``.parquet``) to the contract's flat
    form with labels; with ``out`` (``.parquet`` or ``.csv``), write it there, replacing
    what was there. Raises :class:`MappingError` / :class:`HistoryFileError` for a mapping
    or a file that cannot be imported at all."""
    source = Path(path)
    rules = mapping if isinstance(mapping, HistoryMapping) else load_mapping(mapping)
    target = None if out is None else Path(out)
    if target is not None:
        event_file_format(target)  # a bad suffix before any work
    raw = _read(source, rules)
    problems: Problems = {}
    flat = _convert(raw, rules, problems)
    _duplicates(flat, problems)
    checked = flat.drop(index=list(problems))
    notes = _suite(checked, problems)
    _contract(flat.drop(index=list(problems)), problems)
    good = flat.drop(index=list(problems))
    if good.empty:
        first = min(problems)
        field, reason = problems[first][0]
        raise HistoryFileError(
            f"{redact(source.name)}: no row could be imported; line {first}: {field}: {reason}"
        )
    good = good.sort_values(["event_time", "transaction_id"], kind="stable")
    good = good.reset_index(drop=True)
    bad = [
        BadRow(line=line, field=field, reason=reason)
        for line in sorted(problems)
        for field, reason in problems[line]
    ]
    result = ImportResult(
        file=redact(source.name),
        rows=len(raw),
        frame=good,
        bad=bad,
        groups=feature_groups(good.columns),
        notes=notes,
    )
    if target is not None:
        result.out = write_events(good, target)
    return result


def feature_groups(columns: pd.Index | list[str]) -> list[GroupFeed]:
    """For each feature group, which of its inputs ``columns`` holds and which it lacks."""
    present = set(columns)
    feeds = []
    groups: tuple[type[FeatureGroup] | type[VelocityFeatures], ...] = (
        *STATELESS_GROUPS,
        VelocityFeatures,
    )
    for group in groups:
        inputs = list(dict.fromkeys(group.inputs))
        name = re.sub(r"(?<!^)(?=[A-Z])", "_", group.__name__.removesuffix("Features")).lower()
        feeds.append(
            GroupFeed(
                group=name,
                fed=[c for c in inputs if c in present],
                missing=[c for c in inputs if c not in present],
            )
        )
    return feeds


def _read(source: Path, rules: HistoryMapping) -> pd.DataFrame:
    try:
        raw = read_records(source)
    except DataFileError as error:
        raise HistoryFileError(f"{redact(source.name)}: {error.message}") from None
    absent = [c for c in rules.source_columns() if c not in raw.columns]
    if absent:
        found = ", ".join(redact(str(c)) for c in raw.columns[:20])
        raise HistoryFileError(
            f"{redact(source.name)}: lacks the column(s) {', '.join(absent)} the mapping "
            f"names: fix the mapping's names (the file has {found})"
        )
    if raw.empty:
        raise HistoryFileError(f"{redact(source.name)}: has no rows")
    return raw


def _convert(raw: pd.DataFrame, rules: HistoryMapping, problems: Problems) -> pd.DataFrame:
    zone = ZoneInfo(rules.time_zone)
    out: dict[str, pd.Series] = {}
    for column, name in rules.columns.items():
        values = raw[column]
        if name in rules.values:
            values = values.map(lambda v, m=rules.values[name]: m.get(str(v), v))
        out[name] = values
    for name, constant in rules.constants.items():
        out[name] = pd.Series(constant, index=raw.index, dtype=object)
    if rules.stand_in_msisdn is not None:
        ids = raw[rules.stand_in_msisdn]
        out["msisdn"] = ids.map(lambda v: None if _missing(v) else stand_in_msisdn(str(v)))
    for name in list(out):
        if name in _TIMES:
            out[name] = _times(out[name], zone, name, problems)
        elif name in _NUMBERS:
            out[name] = _numbers(out[name], name, problems)
        elif name in _BOOLEANS:
            out[name] = _booleans(out[name], name, problems)
        else:
            out[name] = out[name].map(_clean_text)
    if "msisdn" in out and rules.stand_in_msisdn is None:
        out["msisdn"] = out["msisdn"].map(_national)
    out.setdefault("paid_amount", out["amount"])
    out.setdefault("currency", pd.Series("CNY", index=raw.index, dtype=object))
    frame = pd.DataFrame({c: out[c] for c in FLAT_COLUMNS if c in out}, index=raw.index)
    frame["is_fraud"], frame["label_time"] = _labels(raw, rules, frame, zone, problems)
    return frame


def _labels(
    raw: pd.DataFrame,
    rules: HistoryMapping,
    frame: pd.DataFrame,
    zone: ZoneInfo,
    problems: Problems,
) -> tuple[pd.Series, pd.Series]:
    label = rules.label
    text = raw[label.column].map(_label_text)
    fraud = text.isin(label.fraud_values)
    unknown = ~fraud & ~text.isin(label.genuine_values)
    _flag(problems, unknown, label.column, "neither a fraud nor a genuine value: list it "
          "under label.fraud_values or label.genuine_values")  # fmt: skip
    if label.time_column is not None:
        known = _times(raw[label.time_column], zone, label.time_column, problems)
        _flag(problems, fraud & known.isna(), label.time_column,
              "a fraud row needs the time its label became known")  # fmt: skip
    else:
        delay = pd.Timedelta(days=label.delay_days or 0.0)
        known = (frame["event_time"] + delay).where(fraud)
    return fraud.astype(bool), known


def _times(values: pd.Series, zone: ZoneInfo, name: str, problems: Problems) -> pd.Series:
    """Instants in UTC: a time with an offset keeps it, one without is in ``zone``."""
    result: pd.Series
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        result = values.dt.tz_convert("UTC").astype(_UTC)
        return result
    if pd.api.types.is_datetime64_dtype(values.dtype):
        parsed = values.dt.tz_localize(zone, ambiguous="NaT", nonexistent="NaT")
        result = parsed.dt.tz_convert("UTC").astype(_UTC)  # one unit, whatever the file's
    else:
        text = values.map(_clean_text)
        aware = text.map(lambda v: isinstance(v, str) and _OFFSET.search(v) is not None)
        result = pd.Series(pd.NaT, index=values.index, dtype=_UTC)
        if aware.any():
            result[aware] = pd.to_datetime(text[aware], utc=True, format="ISO8601", errors="coerce")
        naive = ~aware & text.notna()
        if naive.any():
            local = pd.to_datetime(text[naive], format="ISO8601", errors="coerce")
            local = local.dt.tz_localize(zone, ambiguous="NaT", nonexistent="NaT")
            result[naive] = local.dt.tz_convert("UTC")
    _flag(problems, values.notna() & result.isna(), name,
          "not a time: use ISO 8601 (2026-11-24 09:30:00, an offset optional; without one "
          "it is local time), and no local time a clock change skips or repeats")  # fmt: skip
    return result


def _numbers(values: pd.Series, name: str, problems: Problems) -> pd.Series:
    numbers = pd.to_numeric(values.map(_clean_text), errors="coerce").astype(float)
    _flag(problems, values.notna() & ~np.isfinite(numbers), name, "not a number")
    return numbers


def _booleans(values: pd.Series, name: str, problems: Problems) -> pd.Series:
    def read(value: Any) -> bool | None:
        if _missing(value) or isinstance(value, bool):
            return None if _missing(value) else bool(value)
        text = str(value).strip().lower()
        return True if text in _TRUE else False if text in _FALSE else None

    flags = values.map(read).astype(object)
    _flag(problems, values.notna() & flags.isna(), name, "not true or false")
    return flags


def _duplicates(frame: pd.DataFrame, problems: Problems) -> None:
    ids = frame["transaction_id"]
    repeated = ids.duplicated(keep="first") & ids.notna()
    first = {value: label for label, value in ids[~repeated].items()}
    for label in ids.index[repeated]:
        problems.setdefault(int(label), []).append(
            ("transaction_id", f"repeats line {first[ids[label]]}: an order is imported once")
        )


def _suite(frame: pd.DataFrame, problems: Problems) -> list[str]:
    """The ``raw_history`` suite: row checks name bad rows; whole-file checks become notes."""
    from fraudguard.validation import SuiteName, locate_failures
    from fraudguard.validation.schemas import DEFAULT_MIN_PRESENT

    if frame.empty:
        return []
    # Shares of rows with a value are about the file, not a row: reported, never a bad row.
    report, failures = locate_failures(
        frame, SuiteName.RAW_HISTORY, min_present=dict.fromkeys(DEFAULT_MIN_PRESENT, 0.0)
    )
    for label, failed in failures.items():
        problems.setdefault(int(str(label)), []).extend(failed)
    notes = [f.message for f in report.failures if f.failing_rows is None]
    for name, share in DEFAULT_MIN_PRESENT.items():
        if name in frame.columns and frame[name].notna().mean() < share:
            notes.append(
                f"{name} is set in fewer than {share:.0%} of rows: training's validation will "
                "refuse the file (leave the column out, or train with --allow-invalid-data)"
            )
    return notes


def _contract(frame: pd.DataFrame, problems: Problems) -> None:
    """What the suite does not check (an id's characters, an IP), as ``POST /v1/score``."""
    columns = [c for c in FLAT_COLUMNS if c in frame.columns]
    for label, row in zip(frame.index, frame[columns].to_dict("records"), strict=True):
        try:
            from_flat({str(name): value for name, value in row.items()})
        except pydantic.ValidationError as exc:
            problems.setdefault(int(label), []).extend(
                (redact(p.location.replace(".", "_")), redact(p.message))
                for p in field_problems(exc)
            )


def _flag(problems: Problems, mask: pd.Series, field: str, reason: str) -> None:
    for label in mask.index[mask.to_numpy(dtype=bool)]:
        problems.setdefault(int(label), []).append((field, reason))


def _missing(value: Any) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def _clean_text(value: Any) -> Any:
    if _missing(value):
        return None
    text = str(value).strip()
    return text or None


def _label_text(value: Any) -> str | None:
    if _missing(value):
        return None
    text = str(value).strip().lower()
    try:  # a Parquet float 1.0 is the label 1
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if number.is_integer() else text


def _national(value: Any) -> Any:
    if value is None:
        return None
    try:
        return normalize_msisdn(value)
    except ValueError:
        return value  # left for the suite to name
