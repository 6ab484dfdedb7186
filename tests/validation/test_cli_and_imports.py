"""``fraudguard validate`` exit codes and output; importing the package loads no GE."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from fraudguard.cli import app
from tests.validation import frames

runner = CliRunner()


def test_cli_passes_a_good_file(tmp_path: Path) -> None:
    path = tmp_path / "history.parquet"
    frames.history().to_parquet(path)
    result = runner.invoke(app, ["validate", "--data", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("raw_history: OK")


def test_cli_fails_a_bad_file_with_a_readable_masked_report(tmp_path: Path) -> None:
    frame = frames.batch()
    frame.loc[0, "msisdn"] = "10012345678"
    frame.loc[1, "channel"] = "kiosk"
    path = tmp_path / "batch.csv"
    frame.to_csv(path, index=False)
    result = runner.invoke(app, ["validate", "--data", str(path), "--suite", "batch_input"])
    assert result.exit_code == 1
    summary = result.output.splitlines()[0]
    assert summary.startswith("batch_input: FAILED - 2 of ")
    assert summary.endswith(" checks failed on 40 rows")
    assert "  x msisdn [expect_column_values_to_match_regex]" in result.output
    assert "examples: ****5678" in result.output
    assert "examples: kiosk" in result.output
    assert "10012345678" not in result.output

    as_json = runner.invoke(
        app, ["validate", "--data", str(path), "--suite", "batch_input", "--json"]
    )
    assert as_json.exit_code == 1
    report = json.loads(as_json.output)
    assert report["success"] is False
    assert [f["column"] for f in report["failures"]] == ["channel", "msisdn"]
    assert "10012345678" not in as_json.output


def test_cli_reports_unusable_input_as_errors(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", "--data", str(tmp_path / "absent.csv")])
    assert result.exit_code == 2
    assert "error: cannot read" in result.output
    path = tmp_path / "history.csv"
    frames.history().to_csv(path, index=False)
    result = runner.invoke(app, ["validate", "--data", str(path), "--suite", "everything"])
    assert result.exit_code == 2
    assert "suite: must be one of raw_history, feature_frame, batch_input" in result.output


def test_importing_validation_does_not_load_great_expectations() -> None:
    code = (
        "import sys, fraudguard.validation, fraudguard.cli\n"
        "assert 'great_expectations' not in sys.modules, 'GE imported eagerly'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)  # noqa: S603 - our code
