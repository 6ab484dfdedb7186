"""Issue 25: an operator's own history in, the contract's flat form out (`fraudguard import`)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from fraudguard.cli import app
from fraudguard.files import read_events
from fraudguard.history import (
    HistoryFileError,
    MappingError,
    import_history,
    load_mapping,
    stand_in_msisdn,
)
from fraudguard.schema import normalize_msisdn
from fraudguard.validation import SuiteName, validate
from tests.history.foreign import foreign_history

runner = CliRunner()
MAPPING = Path(__file__).parents[2] / "data" / "samples" / "foreign_mapping.yaml"


@pytest.fixture(scope="module")
def foreign_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("foreign") / "payments.csv"
    foreign_history(customers=120, terminals=60, days=45).to_csv(path, index=False)
    return path


def _one_line_error(result: object) -> str:
    output = result.output  # type: ignore[attr-defined]
    assert result.exit_code == 2, output  # type: ignore[attr-defined]
    lines = output.strip().splitlines()
    assert len(lines) == 1, output
    assert lines[0].startswith("error: "), output
    assert "Traceback" not in output
    return str(lines[0])


def test_the_documented_mapping_imports_and_the_output_is_valid_history(
    foreign_csv: Path, tmp_path: Path
) -> None:
    assert len(MAPPING.read_text(encoding="utf-8").splitlines()) <= 12
    out = tmp_path / "history.parquet"
    result = import_history(foreign_csv, MAPPING, out)
    raw = pd.read_csv(foreign_csv)
    assert result.rows == len(raw) == result.imported
    assert not result.bad
    flat = read_events(out)
    assert {"transaction_id", "event_time", "msisdn", "amount", "channel"} <= set(flat.columns)
    assert "network_ip" not in flat.columns  # nothing invented for what the file lacks
    assert int(flat["is_fraud"].sum()) == int(raw["TX_FRAUD"].sum())
    assert (flat["paid_amount"] == flat["amount"]).all()
    assert flat["event_time"].is_monotonic_increasing
    # Naive times are Asia/Shanghai: 2026-05-01 00:00 there is 2026-04-30 16:00 UTC.
    first = pd.Timestamp(raw["TX_DATETIME"].min()).tz_localize("Asia/Shanghai")
    assert flat["event_time"].min() == first
    fraud = flat[flat["is_fraud"]]
    assert ((fraud["label_time"] - fraud["event_time"]) == pd.Timedelta(days=7)).all()
    assert flat.loc[~flat["is_fraud"], "label_time"].isna().all()
    assert validate(flat, SuiteName.RAW_HISTORY).success


def test_rerunning_writes_the_same_file_and_never_doubles(
    foreign_csv: Path, tmp_path: Path
) -> None:
    out = tmp_path / "history.parquet"
    first = runner.invoke(
        app, ["import", str(foreign_csv), "--mapping", str(MAPPING), "--out", str(out)]
    )
    assert first.exit_code == 0, first.output
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    rows = len(read_events(out))
    again = runner.invoke(
        app, ["import", str(foreign_csv), "--mapping", str(MAPPING), "--out", str(out)]
    )
    assert again.exit_code == 0, again.output
    assert hashlib.sha256(out.read_bytes()).hexdigest() == digest
    assert len(read_events(out)) == rows
    assert first.output == again.output


def test_summary_names_the_feature_groups_the_data_feeds(foreign_csv: Path) -> None:
    result = import_history(foreign_csv, MAPPING)
    groups = {g.group: g for g in result.groups}
    assert groups["time_amount"].status == "fed"
    assert groups["ip"].status == "not fed"
    assert groups["ip"].missing == ["network_ip"]
    velocity = groups["velocity"]
    assert velocity.status == "partly fed"
    assert {"payment_payer_id", "device_id", "msisdn"} <= set(velocity.fed)
    text = result.to_text()
    assert "feature groups this data can feed:" in text
    assert "ip             not fed     lacks network_ip" in text


def test_bad_rows_are_named_by_line_and_good_rows_kept(tmp_path: Path) -> None:
    frame = foreign_history(customers=40, terminals=20, days=10)
    frame = frame.astype(object)
    frame.loc[2, "TX_DATETIME"] = "yesterday"  # line 4: the header is line 1
    frame.loc[5, "TX_AMOUNT"] = "12,50"
    frame.loc[7, "TX_FRAUD"] = "maybe"
    frame.loc[9, "TRANSACTION_ID"] = frame.loc[8, "TRANSACTION_ID"]
    frame.loc[11, "TX_AMOUNT"] = -3
    frame.loc[13, "TRANSACTION_ID"] = "bad id!"
    path = tmp_path / "payments.csv"
    frame.to_csv(path, index=False)
    bad_csv = tmp_path / "bad.csv"
    out = tmp_path / "h.parquet"
    args = ["--mapping", str(MAPPING), "--out", str(out), "--bad-lines", str(bad_csv)]
    result = runner.invoke(app, ["import", str(path), *args])
    assert result.exit_code == 0, result.output
    bad = pd.read_csv(bad_csv)
    named = set(zip(bad["line"], bad["field"], strict=True))
    assert set(bad["line"]) == {4, 7, 9, 11, 13, 15}
    assert {(4, "event_time"), (7, "amount"), (9, "TX_FRAUD"), (11, "transaction_id"),
            (13, "amount"), (15, "transaction_id")} <= named  # fmt: skip
    assert "line 4: event_time: not a time" in result.output
    assert "line 11: transaction_id: repeats line 10" in result.output
    assert "bad id" not in result.output  # reasons, never values
    assert f"{len(frame) - 6:,} imported" in result.output
    assert len(read_events(tmp_path / "h.parquet")) == len(frame) - 6


def test_a_bad_mapping_key_is_one_line_naming_the_key(foreign_csv: Path, tmp_path: Path) -> None:
    mapping = tmp_path / "mapping.yaml"
    text = MAPPING.read_text(encoding="utf-8")
    mapping.write_text(text.replace("TX_DATETIME: event_time", "TX_DATETIME: event_tim"), "utf-8")
    out = tmp_path / "h.parquet"
    args = ["import", str(foreign_csv), "--mapping", str(mapping), "--out", str(out)]
    line = _one_line_error(runner.invoke(app, args))
    assert "mapping.yaml:5: columns.TX_DATETIME" in line
    assert "did you mean event_time?" in line
    mapping.write_text(text + "timezone: UTC\n", "utf-8")
    line = _one_line_error(runner.invoke(app, args))
    assert ": timezone: unknown field" in line
    mapping.write_text(text.replace("  TX_AMOUNT: amount\n", ""), "utf-8")
    line = _one_line_error(runner.invoke(app, args))
    assert "columns: the contract requires amount" in line
    mapping.write_text(text.replace("channel: self_service_terminal", "channel: kiosk"), "utf-8")
    assert "constants: channel must be one of operator_app" in _one_line_error(
        runner.invoke(app, args)
    )
    mapping.write_text(text.replace(", delay_days: 7", ""), "utf-8")
    assert "give time_column" in _one_line_error(runner.invoke(app, args))
    assert not out.exists()
    with pytest.raises(MappingError):
        load_mapping(mapping)


def test_a_missing_column_is_one_line_naming_it(foreign_csv: Path, tmp_path: Path) -> None:
    path = tmp_path / "payments.csv"
    pd.read_csv(foreign_csv).drop(columns=["TERMINAL_ID"]).to_csv(path, index=False)
    args = ["import", str(path), "--mapping", str(MAPPING), "--out", str(tmp_path / "h.parquet")]
    line = _one_line_error(runner.invoke(app, args))
    assert "lacks the column(s) TERMINAL_ID the mapping names" in line
    with pytest.raises(HistoryFileError):
        import_history(path, MAPPING)


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=40))
def test_stand_in_numbers_are_stable_valid_mobile_numbers(customer: str) -> None:
    number = stand_in_msisdn(customer)
    assert normalize_msisdn(number) == number == stand_in_msisdn(customer)


@settings(max_examples=60, deadline=None)
@given(
    st.datetimes(min_value=pd.Timestamp("2001-01-01").to_pydatetime(),
                 max_value=pd.Timestamp("2099-01-01").to_pydatetime()),
    st.sampled_from(["UTC", "Asia/Shanghai", "Europe/Paris", "America/New_York"]),
    st.booleans(),
)  # fmt: skip
def test_times_with_an_offset_keep_it_and_naive_ones_are_local(
    tmp_path_factory: pytest.TempPathFactory, moment: object, zone: str, with_offset: bool
) -> None:
    local = pd.Timestamp(moment).floor("s")  # type: ignore[arg-type]
    try:
        expected = local.tz_localize(zone, ambiguous="raise", nonexistent="raise")
    except (ValueError, Exception):  # a clock change skips or repeats it: a bad row
        return
    text = expected.isoformat() if with_offset else local.isoformat(sep=" ")
    folder = tmp_path_factory.mktemp("times")
    path = folder / "one.csv"
    pd.DataFrame({"id": ["t1"], "at": [text], "amount": [10], "fraud": [0]}).to_csv(
        path, index=False
    )
    mapping = folder / "m.yaml"
    mapping.write_text(
        "columns: {id: transaction_id, at: event_time, amount: amount}\n"
        "constants: {channel: unknown, msisdn: '13800000000'}\n"
        f"time_zone: {'UTC' if with_offset else zone}\n"
        "label: {column: fraud, delay_days: 1}\n",
        "utf-8",
    )
    result = import_history(path, mapping)
    assert result.frame["event_time"].iloc[0] == expected


def test_a_parquet_file_with_native_types_imports_as_its_csv(
    foreign_csv: Path, tmp_path: Path
) -> None:
    raw = pd.read_csv(foreign_csv)
    raw["TX_DATETIME"] = pd.to_datetime(raw["TX_DATETIME"])  # naive datetimes, int ids
    parquet = tmp_path / "payments.parquet"
    raw.to_parquet(parquet)
    from_parquet = import_history(parquet, MAPPING).frame
    from_csv = import_history(foreign_csv, MAPPING).frame
    pd.testing.assert_frame_equal(from_parquet, from_csv, check_dtype=False)
