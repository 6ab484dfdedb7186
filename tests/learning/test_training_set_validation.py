"""A training set rebuilt from the decision log is validated for real: the ``log_history``
suite checks its identifiers as the log keeps them (no phone number, keyed ids), so
``train(build_training_set(...))`` needs no ``allow_invalid_data``, and a broken row is
refused naming its field."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import create_engine

from fraudguard.cases import Actor
from fraudguard.decisions.events import KEYED_COLUMNS, pseudonymous_msisdn
from fraudguard.exceptions import DataValidationError
from fraudguard.learning import build_training_set
from fraudguard.models import TrainConfig, train
from fraudguard.outcomes import OutcomeStore
from fraudguard.privacy import hash_key
from fraudguard.schema import OutcomeReport
from fraudguard.validation import SuiteName, history_suite, validate
from fraudguard.validation.suites import LOG_KEYED_COLUMNS, PSEUDONYMOUS_MSISDN_PATTERN

from .test_training_set import KEY, LATER, _log


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory: pytest.TempPathFactory) -> Iterator[pd.DataFrame]:
    """The set rebuilt from a logged stream, every 12th order charged back."""
    home = tmp_path_factory.mktemp("log-validation")
    url = f"sqlite:///{home / 'log.db'}"
    logged = _log(url, home)
    engine = create_engine(url)
    try:
        store = OutcomeStore(engine, clock=lambda: datetime(2027, 6, 1, tzinfo=UTC))
        reports = [
            OutcomeReport(
                transaction_id=event.transaction_id,
                kind="chargeback",
                reported_at=datetime(2027, 1, 5, tzinfo=UTC),
            )
            for event in logged.events[::12]
        ]
        store.store(reports, Actor(id="test:learning", role="cli"))
        yield build_training_set(engine, LATER)
    finally:
        engine.dispose()


def test_a_set_rebuilt_from_the_log_passes_validation_and_trains(rebuilt: pd.DataFrame) -> None:
    assert history_suite(rebuilt) is SuiteName.LOG_HISTORY
    report = validate(rebuilt, history_suite(rebuilt))
    assert report.success, report.to_text()
    # The file suite would refuse it: the set carries no phone number.
    assert [f.column for f in validate(rebuilt, SuiteName.RAW_HISTORY).failures] == ["msisdn"]
    result = train(rebuilt, TrainConfig(seed=1, max_iter=15, as_of=LATER))
    assert result.validation == {
        "suite": "log_history",
        "success": True,
        "overridden": False,
        "failed": [],
    }


def _broken(frame: pd.DataFrame, column: str, value: Any) -> pd.DataFrame:
    broken = frame.copy()  # keeps the mark of a set rebuilt from the log
    if column not in broken.columns:
        broken[column] = [
            pseudonymous_msisdn("13812345678", hash_key(str(i), KEY)) for i in range(len(broken))
        ]
    broken[column] = broken[column].astype(object)
    broken.loc[7, column] = value
    return broken


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("payment_payer_id", "u-raw-payer-id"),  # an id the log would have keyed
        ("msisdn", "13812345678"),  # a phone number in clear
        ("amount", 1e9),  # above the largest face value
    ],
)
def test_a_broken_row_of_a_rebuilt_set_is_refused_naming_its_field(
    rebuilt: pd.DataFrame, column: str, value: Any
) -> None:
    with pytest.raises(DataValidationError) as raised:
        train(_broken(rebuilt, column, value), TrainConfig(seed=1, max_iter=15, as_of=LATER))
    assert column in str(raised.value)
    report = raised.value.report
    assert report is not None
    assert report.suite is SuiteName.LOG_HISTORY
    assert [(f.column, f.failing_rows) for f in report.failures] == [(column, 1)]
    assert "13812345678" not in report.to_text()


def test_the_suite_knows_the_logs_forms_of_identifiers() -> None:
    assert set(LOG_KEYED_COLUMNS) == set(KEYED_COLUMNS)
    kept = pseudonymous_msisdn("19912345678", hash_key("19912345678", KEY))
    assert pd.Series([kept]).str.fullmatch(PSEUDONYMOUS_MSISDN_PATTERN).all()
