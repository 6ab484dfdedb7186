"""``fraudguard backtest`` on a small parquet file, with a fake features module."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import fraudguard.features
from fraudguard.cli import app
from fraudguard.features.base import FeatureKind, FeatureSpec
from tests.rules.conftest import rule

runner = CliRunner()


def fake_specs() -> dict[str, FeatureSpec]:
    return {
        "net_wifi_open": FeatureSpec("net_wifi_open", FeatureKind.BOOL, None, "open Wi-Fi"),
        "promo_discount_ratio": FeatureSpec(
            "promo_discount_ratio", FeatureKind.FLOAT, None, "discount"
        ),
    }


def fake_extract_many(frame: pd.DataFrame, reference: object) -> pd.DataFrame:
    """Features from the events alone, as the real module will compute them."""
    return pd.DataFrame(
        {
            "net_wifi_open": (frame["network_wifi_security"] == "open").to_numpy(),
            "promo_discount_ratio": 1 - frame["paid_amount"] / frame["amount"],
        },
        index=frame.index,
    )


@pytest.fixture
def fake_features(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fraudguard.features, "extract_many", fake_extract_many, raising=False)
    monkeypatch.setattr(fraudguard.features, "feature_specs", fake_specs, raising=False)


@pytest.fixture
def files(tmp_path: Path, write_pack: Callable[..., Path]) -> tuple[Path, Path]:
    rules = write_pack(
        [
            rule("NET-001", "net_wifi_open and amount >= 100", family="unsafe_network"),
            rule("FD-001", "promo_discount_ratio >= 0.4", action="block"),
            rule("PAY-001", "ip_blocklisted", action="block", family="payment_risk"),
        ]
    )
    history = pd.DataFrame(
        {
            "transaction_id": ["t1", "t2", "t3", "t4"],
            "msisdn": ["13812345678", "13912345678", "18912345678", "18912345679"],
            "amount": [100.0, 100.0, 50.0, 30.0],
            "paid_amount": [100.0, 50.0, 50.0, 30.0],
            "channel": ["operator_app", "other_web", "operator_app", "other_web"],
            "network_wifi_security": ["open", "wpa2", None, "wpa2"],
            "network_ip": [None, None, "198.51.100.20", "36.110.14.2"],  # shipped block list
            "promo_discount_ratio": [0.9, 0.9, 0.9, 0.9],  # a stale copy: recomputed
            "is_fraud": [0, 1, 1, 0],
        }
    )
    data = tmp_path / "history.parquet"
    history.to_parquet(data)
    return rules, data


def test_backtest_prints_the_report(fake_features: None, files: tuple[Path, Path]) -> None:
    rules, data = files
    result = runner.invoke(app, ["backtest", "--rules", str(rules), "--data", str(data)])
    assert result.exit_code == 0, result.output
    assert "4 events, 2 fraud (50.00%)" in result.output
    assert "NET-001" in result.output
    assert "FD-001" in result.output
    assert "13812345678" not in result.output


@pytest.mark.parametrize("suffix", [".json", ".csv"])
def test_backtest_writes_the_report(
    fake_features: None, files: tuple[Path, Path], tmp_path: Path, suffix: str
) -> None:
    rules, data = files
    out = tmp_path / f"report{suffix}"
    result = runner.invoke(
        app, ["backtest", "--rules", str(rules), "--data", str(data), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    if suffix == ".json":
        report = json.loads(out.read_text(encoding="utf-8"))["rules"]
    else:
        report = pd.read_csv(out, index_col="rule_id").to_dict(orient="index")
    assert report["NET-001"]["hits"] == 1
    assert report["NET-001"]["precision"] == 0
    assert report["FD-001"]["hits"] == 1
    assert report["FD-001"]["recall"] == 0.5
    assert report["PAY-001"]["hits"] == 1
    assert report["PAY-001"]["precision"] == 1


def test_backtest_without_features_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, files: tuple[Path, Path]
) -> None:
    monkeypatch.delattr(fraudguard.features, "extract_many", raising=False)
    rules, data = files
    result = runner.invoke(app, ["backtest", "--rules", str(rules), "--data", str(data)])
    assert result.exit_code == 2
    assert "cannot compute features for the backtest" in result.output


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--out", "report.txt"], "--out must end in .csv or .json"),
        (["--label", "label"], "no label column 'label'"),
    ],
)
def test_backtest_errors_exit_2(
    fake_features: None, files: tuple[Path, Path], arguments: list[str], message: str
) -> None:
    rules, data = files
    result = runner.invoke(
        app, ["backtest", "--rules", str(rules), "--data", str(data), *arguments]
    )
    assert result.exit_code == 2
    assert message in result.output


def test_backtest_refuses_other_file_types(
    fake_features: None, files: tuple[Path, Path], tmp_path: Path
) -> None:
    rules, _ = files
    data = tmp_path / "history.xlsx"
    data.write_text("x")
    result = runner.invoke(app, ["backtest", "--rules", str(rules), "--data", str(data)])
    assert result.exit_code == 2
    assert "use a .csv or .parquet file" in result.output
