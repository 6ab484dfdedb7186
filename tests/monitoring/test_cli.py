"""`fraudguard monitor` on event files: report, JSON, exit codes 0 / 1 / 2."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from fraudguard.cli import app
from fraudguard.config import get_settings
from fraudguard.files import write_events

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty FraudGuard home without a model: the monitor scores on rules alone."""
    monkeypatch.setenv("FRAUDGUARD_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("FRAUDGUARD_BOOTSTRAP_MODEL", "false")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


@pytest.fixture
def files(
    home: Path,
    halves: tuple[pd.DataFrame, pd.DataFrame],
    window: pd.DataFrame,
    scam_wave: pd.DataFrame,
) -> dict[str, Path]:
    return {
        "a": write_events(halves[0], home / "a.parquet"),
        "b": write_events(halves[1], home / "b.csv"),  # CSV reads back the same
        "reference": write_events(window, home / "reference.parquet"),
        "wave": write_events(scam_wave, home / "wave.parquet"),
    }


def test_same_distribution_exits_0(files: dict[str, Path], home: Path) -> None:
    out = home / "report.json"
    result = runner.invoke(
        app,
        ["monitor", "--reference", str(files["a"]), "--current", str(files["b"]),
         "--out", str(out), "--fail-on", "warn"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Drift report: OK")
    assert "Nothing past the thresholds" in result.output
    assert json.loads(out.read_text("utf-8"))["level"] == "ok"


def test_drift_past_the_alert_exits_1_and_names_it(files: dict[str, Path]) -> None:
    result = runner.invoke(
        app, ["monitor", "--reference", str(files["reference"]), "--current", str(files["wave"])]
    )
    assert result.exit_code == 1, result.output
    assert "Drift report: ALERT" in result.output
    assert "alert: rule SP-001" in result.output


def test_thresholds_file_can_silence_it(files: dict[str, Path], home: Path) -> None:
    limits = home / "limits.yaml"
    limits.write_text("rule_ratio_warn: 1000\nrule_ratio_alert: 2000\n")
    result = runner.invoke(
        app,
        ["monitor", "--reference", str(files["reference"]), "--current", str(files["wave"]),
         "--thresholds", str(limits)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output  # what is left is below the alert


def test_bad_input_exits_2_with_a_readable_message(files: dict[str, Path], home: Path) -> None:
    limits = home / "limits.yaml"
    limits.write_text("psi_alert: lots\n")
    cases = [
        (["--thresholds", str(limits)], "psi_alert"),
        (["--fail-on", "ok"], "--fail-on"),
        (["--out", str(home / "report.txt")], "--out"),
    ]
    for extra, named in cases:
        result = runner.invoke(
            app,
            ["monitor", "--reference", str(files["a"]), "--current", str(files["b"]), *extra],
        )
        assert result.exit_code == 2, result.output
        assert result.output.startswith("error: ")
        assert named in result.output
        assert "Traceback" not in result.output
    bad = home / "bad.parquet"
    write_events(pd.read_parquet(files["a"]).assign(channel="fax"), bad)
    invalid = runner.invoke(app, ["monitor", "--reference", str(files["a"]), "--current", str(bad)])
    assert invalid.exit_code == 2, invalid.output
    assert "the current window is not valid scoring input" in invalid.output
    assert "channel must be one of" in invalid.output
    missing = runner.invoke(
        app, ["monitor", "--reference", str(home / "nope.parquet"), "--current", str(files["b"])]
    )
    assert missing.exit_code == 2
    assert "cannot read" in missing.output
