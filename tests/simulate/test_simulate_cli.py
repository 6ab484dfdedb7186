"""``fraudguard simulate`` writes CSV and Parquet and refuses other suffixes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from fraudguard.cli import app
from fraudguard.schema import from_flat
from fraudguard.simulate import OUTPUT_COLUMNS, SimulationConfig, simulate, write_events

runner = CliRunner()
ARGS = ["simulate", "--events", "300", "--seed", "4", "--start", "2026-11-01", "--days", "3"]


def test_writes_parquet(tmp_path: Path) -> None:
    out = tmp_path / "nested" / "events.parquet"
    result = runner.invoke(app, [*ARGS, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "300 events" in result.output
    assert "fraud rate" in result.output
    frame = pd.read_parquet(out)
    expected = simulate(SimulationConfig(events=300, seed=4, start="2026-11-01", days=3))
    pd.testing.assert_frame_equal(frame, expected)


def test_writes_csv_that_reads_back_into_events(tmp_path: Path) -> None:
    out = tmp_path / "events.csv"
    result = runner.invoke(app, [*ARGS, "--out", str(out)])
    assert result.exit_code == 0, result.output
    text_columns = {"msisdn": str, "payment_card_bin": str, "transaction_id": str}
    frame = pd.read_csv(out, dtype=text_columns)
    assert tuple(frame.columns) == OUTPUT_COLUMNS
    assert len(frame) == 300
    for row in frame.head(50).to_dict("records"):
        from_flat(row)


def test_refuses_other_suffixes_before_simulating(tmp_path: Path) -> None:
    out = tmp_path / "events.json"
    result = runner.invoke(app, [*ARGS, "--out", str(out)])
    assert result.exit_code == 2
    assert ".csv or .parquet" in result.output
    assert not out.exists()


def test_refuses_a_bad_date(tmp_path: Path) -> None:
    result = runner.invoke(
        app, [*ARGS[:-4], "--start", "2026-13-01", "--out", str(tmp_path / "x.csv")]
    )
    assert result.exit_code == 2


def test_write_events_returns_the_path(tmp_path: Path) -> None:
    frame = simulate(SimulationConfig(events=50, seed=1))
    assert write_events(frame, tmp_path / "e.CSV").exists()
