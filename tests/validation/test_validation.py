"""The three suites: clean data passes; each defect fails with the right check, the right
row count and masked examples; the API refuses bad arguments and unreadable files."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from fraudguard.exceptions import DataFileError, DataValidationError, InputError
from fraudguard.features import FeatureKind, feature_specs
from fraudguard.validation import (
    FailedCheck,
    SuiteName,
    ValidationReport,
    ensure_valid,
    validate,
    validate_file,
)
from tests.validation import frames

PHONE = "13912345678"


def only_failure(report: ValidationReport) -> FailedCheck:
    assert not report.success
    assert len(report.failures) == 1, report.to_text()
    return report.failures[0]


def assert_no_raw(report: ValidationReport, *raw: str) -> None:
    rendered = report.to_text() + json.dumps(report.to_dict(), ensure_ascii=False)
    for value in raw:
        assert value not in rendered


@pytest.mark.parametrize(
    ("suite", "make"),
    [
        (SuiteName.RAW_HISTORY, frames.history),
        (SuiteName.BATCH_INPUT, frames.batch),
        (SuiteName.FEATURE_FRAME, frames.features),
    ],
)
def test_clean_frames_pass(suite: SuiteName, make: Callable[[], pd.DataFrame]) -> None:
    report = validate(make(), suite)
    assert report.success, report.to_text()
    assert report.failures == []
    assert report.rows == frames.ROWS
    assert report.checks > 10
    assert report.to_text().startswith(f"{suite}: OK")


def test_extracted_features_pass(reference: object) -> None:
    from fraudguard.features import extract_many

    report = validate(extract_many(frames.history()), SuiteName.FEATURE_FRAME)
    assert report.success, report.to_text()


def test_duplicate_transaction_id() -> None:
    frame = frames.history()
    frame.loc[1, "transaction_id"] = "ord-00000"
    failure = only_failure(validate(frame))
    assert failure.expectation == "expect_column_values_to_be_unique"
    assert failure.column == "transaction_id"
    assert failure.failing_rows == 2
    assert failure.failing_share == pytest.approx(2 / frames.ROWS)
    assert failure.examples == ["ord-00000"]
    assert failure.message.startswith("transaction_id must be unique: 2 of 40 rows (5.00%)")


def test_bad_msisdn_is_reported_masked() -> None:
    frame = frames.history()
    frame.loc[[3, 4], "msisdn"] = ["12912345678", "1391234567"]
    frame.loc[5, "msisdn"] = PHONE  # a valid one: must not be reported
    report = validate(frame)
    failure = only_failure(report)
    assert failure.expectation == "expect_column_values_to_match_regex"
    assert (failure.column, failure.failing_rows) == ("msisdn", 2)
    assert failure.examples == ["****5678", "****4567"]
    assert_no_raw(report, "12912345678", "1391234567", PHONE)


def test_invalid_but_phone_shaped_values_never_leak() -> None:
    """A column of the wrong kind is reported by its kind check, masked as well."""
    frame = frames.history()
    frame["msisdn"] = frame["msisdn"].astype(object)
    frame.loc[0, "msisdn"] = 13912345678  # a number, not text: looks fine, is not
    frame["payment_payer_id"] = frame["payment_payer_id"].astype(object)
    frame.loc[1, "payment_payer_id"] = 778899001
    report = validate(frame)
    by_column = {f.column: f for f in report.failures}
    assert by_column["msisdn"].expectation == "expect_column_values_to_be_of_kind"
    assert by_column["msisdn"].examples == ["139****5678"]
    assert by_column["payment_payer_id"].examples == ["****9001"]
    assert_no_raw(report, PHONE, "778899001")


def test_paid_amount_above_amount() -> None:
    frame = frames.history()
    frame.loc[7, "paid_amount"] = 120.0
    failure = only_failure(validate(frame))
    assert failure.expectation == "expect_column_pair_values_a_to_be_greater_than_b"
    assert (failure.column, failure.failing_rows) == ("amount, paid_amount", 1)
    assert failure.examples == ["(100.0, 120.0)"]


@pytest.mark.parametrize(
    ("column", "value", "expectation"),
    [
        ("amount", 0.0, "expect_column_values_to_be_between"),
        ("amount", 60_000.0, "expect_column_values_to_be_between"),
        ("paid_amount", -1.0, "expect_column_values_to_be_between"),
        ("channel", "kiosk", "expect_column_values_to_be_in_set"),
        ("network_wifi_security", "wpa9", "expect_column_values_to_be_in_set"),
        ("currency", "USD", "expect_column_values_to_be_in_set"),
        ("event_time", "2026-11-01 08:00:00", "expect_column_values_to_be_of_kind"),
        ("event_time", "yesterday", "expect_column_values_to_be_of_kind"),
    ],
)
def test_value_out_of_contract(column: str, value: str | float, expectation: str) -> None:
    frame = frames.history()
    frame[column] = frame[column].astype(object)
    frame.loc[2, column] = value
    if column == "amount":
        frame.loc[2, "paid_amount"] = 0.0  # keep paid_amount <= amount out of the picture
    failure = only_failure(validate(frame))
    assert (failure.expectation, failure.column, failure.failing_rows) == (
        expectation,
        column,
        1,
    )
    assert failure.examples == [str(value)]


def test_checks_that_cannot_run_on_wrong_kinds_say_so() -> None:
    frame = frames.history()
    frame["amount"] = frame["amount"].astype(object)
    frame.loc[0, "amount"] = "100元"
    report = validate(frame)
    failed = {f.expectation: f for f in report.failures}
    assert failed["expect_column_values_to_be_of_kind"].examples == ["100元"]
    assert failed["expect_column_values_to_be_between"].message.endswith(
        "could not be checked on these values (see the kind checks)"
    )
    assert failed["expect_column_values_to_be_between"].failing_rows is None


def test_event_times_with_mixed_offsets_are_fine() -> None:
    frame = frames.history()
    utc = frame["event_time"].dt.tz_convert("UTC").dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    local = frame["event_time"].dt.strftime("%Y-%m-%dT%H:%M:%S+08:00")
    frame["event_time"] = utc.where(frame.index % 2 == 0, local)
    frame["label_time"] = frame["label_time"].dt.strftime("%Y-%m-%dT%H:%M:%S+0800")
    assert validate(frame).success


def test_label_time_before_event_time() -> None:
    frame = frames.history()
    row = frames.FRAUD_ROW  # event at 09:25 China time
    frame.loc[row, "label_time"] = frame["event_time"][row] - pd.Timedelta(hours=1)
    failure = only_failure(validate(frame))
    assert failure.expectation == "expect_column_pair_values_a_to_be_later_than_b"
    assert (failure.column, failure.failing_rows) == ("label_time, event_time", 1)
    assert failure.examples == ["(2026-11-01 00:25:00 UTC, 2026-11-01 01:25:00 UTC)"]


@pytest.mark.parametrize("fraud_rows", [0, 20])
def test_fraud_rate_out_of_band(fraud_rows: int) -> None:
    frame = frames.history()
    fraud = frame.index < fraud_rows
    frame["is_fraud"] = fraud
    frame["typology"] = ["card_testing" if f else "legit" for f in fraud]
    frame["label_time"] = frame["event_time"].where(fraud) + pd.Timedelta(days=1)
    failure = only_failure(validate(frame))
    assert (failure.expectation, failure.column) == ("expect_column_mean_to_be_between", "is_fraud")
    assert failure.failing_rows is None
    assert f"observed {fraud_rows / frames.ROWS:.2%}" in failure.message
    assert validate(frame, fraud_rate_min=0.0, fraud_rate_max=0.6).success


def test_typology_must_agree_with_label() -> None:
    frame = frames.history()
    frame.loc[frames.FRAUD_ROW, "typology"] = "legit"
    frame.loc[0, "typology"] = "laundering"
    report = validate(frame)
    failed = {(f.expectation, f.failing_rows, tuple(f.examples)) for f in report.failures}
    assert failed == {
        ("expect_column_values_to_not_match_regex", 1, ("legit",)),
        ("expect_column_values_to_match_regex", 1, ("laundering",)),
    }


def test_missing_column() -> None:
    report = validate(frames.history().drop(columns=["msisdn"]))
    failure = only_failure(report)
    assert (failure.expectation, failure.column) == ("expect_column_to_exist", "msisdn")
    assert failure.message == "msisdn is a required column: the column is missing"
    labels = only_failure(validate(frames.history().drop(columns=["label_time"])))
    assert (labels.expectation, labels.column) == ("expect_column_to_exist", "label_time")


def test_history_needs_only_what_the_contract_requires() -> None:
    """Issue 25: optional means optional in history too; present, it is still checked."""
    history = frames.history()
    optional = [c for c in history.columns if c.startswith(("network_", "device_", "platform_",
                                                            "promotion_", "payment_"))]  # fmt: skip
    assert "network_ip" in optional
    assert "device_id" in optional
    assert validate(history.drop(columns=[*optional, "paid_amount", "currency"])).success
    history.loc[0, "network_type"] = "carrier-pigeon"
    failure = only_failure(validate(history.drop(columns=["network_ip", "device_id"])))
    assert (failure.column, failure.failing_rows) == ("network_type", 1)


def test_batch_input_needs_only_the_contracts_required_columns() -> None:
    frame = frames.batch()[["transaction_id", "event_time", "msisdn", "amount", "channel"]]
    assert validate(frame, SuiteName.BATCH_INPUT).success
    failure = only_failure(validate(frame.drop(columns=["msisdn"]), SuiteName.BATCH_INPUT))
    assert (failure.expectation, failure.column) == ("expect_column_to_exist", "msisdn")


def test_null_rate_breach_and_its_threshold() -> None:
    frame = frames.history()
    frame.loc[:11, "network_ip"] = None  # 12 of 40 = 30% missing, 80% must be set
    failure = only_failure(validate(frame))
    assert failure.expectation == "expect_column_values_to_not_be_null"
    assert (failure.column, failure.failing_rows) == ("network_ip", 12)
    assert failure.failing_share == pytest.approx(0.3)
    assert "at least 80% of rows" in failure.message
    assert validate(frame, min_present={"network_ip": 0.5}).success


def test_required_field_must_be_set() -> None:
    frame = frames.history()
    frame.loc[0, "channel"] = None
    failure = only_failure(validate(frame))
    assert (failure.expectation, failure.column) == (
        "expect_column_values_to_not_be_null",
        "channel",
    )


def ratio_feature() -> str:
    exempt = {"promo_benefit_ratio", "promo_excess_ratio"}
    return next(n for n in feature_specs() if n.endswith("_ratio") and n not in exempt)


def test_feature_ratio_outside_unit_interval() -> None:
    frame = frames.features()
    name = ratio_feature()
    frame.loc[[3, 4], name] = [1.5, -0.1]
    failure = only_failure(validate(frame, SuiteName.FEATURE_FRAME))
    assert failure.expectation == "expect_column_values_to_be_between"
    assert (failure.column, failure.failing_rows) == (name, 2)
    assert failure.examples == ["1.5", "-0.1"]
    assert failure.message.startswith(f"{name} must be within [0, 1]: 2 of 40 rows")
    assert validate(frame, SuiteName.FEATURE_FRAME, feature_ranges={name: (None, None)}).success


def test_feature_frame_defects() -> None:
    specs = feature_specs()
    flag = next(n for n, s in specs.items() if s.kind is FeatureKind.BOOL)
    number = next(n for n, s in specs.items() if s.kind is FeatureKind.FLOAT)
    category = next(n for n, s in specs.items() if s.kind is FeatureKind.CATEGORY)
    missing = list(specs)[-1]
    frame = frames.features().drop(columns=[missing])
    frame[flag] = frame[flag].astype(object)
    frame.loc[0, flag] = "yes"
    frame[number] = float("nan")
    frame.loc[1, category] = None
    report = validate(frame, SuiteName.FEATURE_FRAME)
    failed = {(f.column, f.expectation) for f in report.failures}
    assert failed == {
        (missing, "expect_column_to_exist"),
        (flag, "expect_column_values_to_be_of_kind"),
        (number, "expect_column_proportion_of_non_null_values_to_be_between"),
        (category, "expect_column_values_to_not_be_null"),
    }


def test_ensure_valid_raises_with_the_report() -> None:
    assert ensure_valid(frames.history()).success
    frame = frames.history()
    frame.loc[0, "msisdn"] = "12345"
    with pytest.raises(DataValidationError) as caught:
        ensure_valid(frame, SuiteName.RAW_HISTORY)
    error = caught.value
    assert isinstance(error, InputError)
    assert (error.code, error.status_code) == ("invalid_training_data", 422)
    assert error.report.failures[0].column == "msisdn"
    assert "msisdn: msisdn must be a mainland mobile number" in str(error)
    assert "12345" not in str(error)


def test_bad_arguments_are_input_errors() -> None:
    with pytest.raises(InputError, match="unknown validation suite"):
        validate(frames.history(), "training")
    with pytest.raises(InputError, match="invalid validation thresholds"):
        validate(frames.history(), fraud_rate_maximum=0.5)
    with pytest.raises(InputError, match="invalid validation thresholds"):
        validate(frames.history(), fraud_rate_min=0.5, fraud_rate_max=0.1)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_validate_file_reads_identifiers_as_text(tmp_path: Path, suffix: str) -> None:
    frame = frames.history()
    path = tmp_path / f"history{suffix}"
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame["msisdn"] = frame["msisdn"].astype("int64")  # some exports store numbers
        frame.to_parquet(path)
    report = validate_file(path, SuiteName.RAW_HISTORY)
    assert report.success, report.to_text()


def test_unreadable_files_are_data_file_errors(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match="cannot read"):
        validate_file(tmp_path / "absent.csv")
    (tmp_path / "history.xlsx").write_text("x")
    with pytest.raises(DataFileError, match="cannot read"):
        validate_file(tmp_path / "history.xlsx")
    (tmp_path / "broken.parquet").write_text("not parquet")
    with pytest.raises(DataFileError, match="cannot read"):
        validate_file(tmp_path / "broken.parquet")


def test_validation_makes_no_network_call(monkeypatch: pytest.MonkeyPatch) -> None:
    from fraudguard.validation import _gx

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("validation tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    _gx._batch_definition.cache_clear()  # make the context again, under the block
    assert validate(frames.history()).success
    assert os.environ["GX_ANALYTICS_ENABLED"] == "False"
