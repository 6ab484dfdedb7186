"""Issue 25, the crashes: a history with only some columns, values training cannot read, and
a file carrying its own feature columns each end in one line naming the fix, never a trace."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from fraudguard.baselines import rules_only_scores
from fraudguard.cli import app
from fraudguard.config import get_settings
from fraudguard.exceptions import DataValidationError, InputError
from fraudguard.features import default_extractor
from fraudguard.files import write_events
from fraudguard.models import TrainConfig, train

runner = CliRunner()
FEW = ["transaction_id", "event_time", "msisdn", "amount", "channel", "is_fraud", "label_time"]


@pytest.fixture
def registry_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("FRAUDGUARD_MODEL_REGISTRY", str(tmp_path / "registry"))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_features_of_a_file_with_only_the_required_columns(history: pd.DataFrame) -> None:
    few = history[FEW].iloc[:300]
    features = default_extractor().extract_many(few)
    full = default_extractor().extract_many(few.assign(paid_amount=few["amount"]))
    assert features.index.equals(few.index)
    assert features["net_ip_category"].eq("unknown").all()  # missing, not a KeyError
    pd.testing.assert_frame_equal(features, full)


def test_rules_baseline_on_a_file_carrying_feature_columns(history: pd.DataFrame) -> None:
    frame = history.iloc[:300]
    features = default_extractor().extract_many(frame)
    both = pd.concat([frame, features], axis=1)  # an export with its features
    settings = get_settings()
    assert (rules_only_scores(both, settings) == rules_only_scores(frame, settings)).all()


def test_unreadable_values_are_one_line_naming_the_column(history: pd.DataFrame) -> None:
    broken = history.iloc[:3000].copy()
    broken["is_fraud"] = broken["is_fraud"].map({True: "yes", False: "no"})
    with pytest.raises(InputError, match="is_fraud: every row needs true or false"):
        train(broken, TrainConfig(allow_invalid_data=True, max_iter=10))


def test_the_override_is_named_as_the_caller_gives_it(
    history: pd.DataFrame, registry_dir: Path
) -> None:
    broken = history.iloc[:3000].copy()
    broken.loc[broken.index[:3], "channel"] = "kiosk"
    with pytest.raises(DataValidationError, match=r"TrainConfig\(allow_invalid_data=True\)"):
        train(broken)
    path = write_events(broken, registry_dir / "broken.parquet")
    result = runner.invoke(app, ["train", "--data", str(path)])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert "--allow-invalid-data" in lines[0]
    assert "allow_invalid_data=True" not in lines[0]


def test_a_time_that_is_no_time_is_one_line_from_the_cli(
    history: pd.DataFrame, registry_dir: Path
) -> None:
    broken = history.iloc[:3000].copy()
    broken["event_time"] = broken["event_time"].astype(str)
    broken.loc[broken.index[5], "event_time"] = "yesterday"
    path = write_events(broken, registry_dir / "broken.parquet")
    result = runner.invoke(app, ["train", "--data", str(path), "--allow-invalid-data"])
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines() == [
        "error: training data cannot be read: event_time: every row needs an ISO 8601 time "
        "with a UTC offset (`fraudguard validate` names the rows; `fraudguard import` converts "
        "a file of another shape)"
    ]
