"""Bulk scoring and backtests: the Dask engine (a real 2-worker ``distributed`` cluster)
gives exactly the pandas engine's decisions and report on the sample data, and the
output carries no personal data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from fraudguard.cli import app
from fraudguard.config import Settings
from fraudguard.exceptions import InputError
from fraudguard.files import read_events, write_events
from fraudguard.rules import DEFAULT_PACK_DIR, backtest_files
from fraudguard.scoring.bulk import (
    DECISION_COLUMNS,
    BulkEngine,
    backtest_file,
    partitions,
    score_file,
)

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "samples" / "recharges.parquet"
PERSONAL = (
    "msisdn",
    "payment_payer_id",
    "payment_instrument_id",
    "payment_card_bin",
    "device_id",
    "network_ip",
)


@pytest.fixture(scope="module")
def cluster() -> Iterator[object]:
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as local,
        Client(local) as client,
    ):
        yield client


def partitioned(frame: pd.DataFrame, folder: Path, parts: int) -> Path:
    """``frame`` as a folder of Parquet files, in order (part-0000, part-0001, ...)."""
    folder.mkdir(parents=True)
    size = -(-len(frame) // parts)
    for i in range(parts):
        write_events(frame.iloc[i * size : (i + 1) * size], folder / f"part-{i:04d}.parquet")
    return folder


@pytest.mark.slow
@pytest.mark.integration
def test_dask_scores_the_sample_exactly_like_pandas(
    base_settings: Settings, cluster: object, tmp_path: Path
) -> None:
    frame = read_events(SAMPLE)
    folder = partitioned(frame, tmp_path / "sample.parquet", parts=5)
    assert len(partitions(folder)) == 5
    expected = score_file(SAMPLE, tmp_path / "pandas.parquet", base_settings)
    got = score_file(
        folder,
        tmp_path / "dask.parquet",
        base_settings,
        engine=BulkEngine.DASK,
        client=cluster,  # type: ignore[arg-type]
    )
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert list(got.columns) == list(DECISION_COLUMNS)
    assert len(got) == len(frame)
    assert got["transaction_id"].tolist() == frame["transaction_id"].tolist()
    # The sample has every outcome, velocity-driven reasons included (order matters there).
    assert set(got["decision"]) == {"allow", "review", "block"}
    assert got["reason_codes"].str.contains("VELOCITY|PROMOTION_ABUSE").any()
    assert got["model_version"].notna().all()
    pd.testing.assert_frame_equal(read_events(tmp_path / "dask.parquet"), expected)


@pytest.mark.slow
@pytest.mark.integration
def test_dask_backtest_equals_the_pandas_backtest(
    base_settings: Settings, cluster: object, tmp_path: Path
) -> None:
    from fraudguard.reference import load_reference

    frame = read_events(SAMPLE).head(20_000)
    single = tmp_path / "history.parquet"
    frame.to_parquet(single, row_group_size=4_000)  # partitions = row groups
    assert len(partitions(single)) == 5
    expected = backtest_files(DEFAULT_PACK_DIR, single, load_reference())
    got = backtest_file(DEFAULT_PACK_DIR, single, base_settings, client=cluster)  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(got.to_frame(), expected.to_frame())
    pd.testing.assert_frame_equal(got.decisions, expected.decisions)
    pd.testing.assert_frame_equal(got.overlap, expected.overlap)
    assert got.to_text() == expected.to_text()
    assert expected.rules["hits"].sum() > 0


def test_score_cli_writes_decisions_without_personal_data(
    base_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    frame = read_events(SAMPLE).head(300)
    source = write_events(frame, tmp_path / "orders.csv")
    out = tmp_path / "decisions.csv"
    monkeypatch.setenv("FRAUDGUARD_HOME", str(base_settings.home))
    monkeypatch.setenv("FRAUDGUARD_MODEL_REGISTRY", str(base_settings.resolved_model_registry))
    monkeypatch.setenv("FRAUDGUARD_BOOTSTRAP_MODEL", "false")
    from fraudguard.config import get_settings

    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["score", "--data", str(source), "--out", str(out)])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "scored 300 orders" in result.output
    written = pd.read_csv(out, dtype=str)
    assert list(written.columns) == list(DECISION_COLUMNS)
    text = out.read_text(encoding="utf-8")
    for column in PERSONAL:
        for value in frame[column].dropna().astype(str).head(50):
            assert value not in text, column


def test_bad_bulk_requests_are_clear_errors(base_settings: Settings, tmp_path: Path) -> None:
    source = write_events(read_events(SAMPLE).head(10), tmp_path / "orders.csv")
    with pytest.raises(InputError, match="Parquet"):
        score_file(source, tmp_path / "out.csv", base_settings, engine=BulkEngine.DASK)
    with pytest.raises(InputError, match=r"\.csv or \.parquet"):
        score_file(source, tmp_path / "out.json", base_settings)
    result = CliRunner().invoke(
        app, ["score", "--data", str(source), "--out", "x.csv", "--engine", "spark"]
    )
    assert result.exit_code == 2
    assert "pandas or dask" in result.output
