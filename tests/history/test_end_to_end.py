"""Issue 25, done means: a foreign payments history with only ids, time, amount and label,
imported with the ten-line mapping, then trained, evaluated and scored with the CLI alone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from fraudguard.cli import app
from fraudguard.config import get_settings
from tests.history.foreign import write_foreign

runner = CliRunner()
MAPPING = Path(__file__).parents[2] / "data" / "samples" / "foreign_mapping.yaml"


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("FRAUDGUARD_MODEL_REGISTRY", str(tmp_path / "registry"))
    monkeypatch.setenv("FRAUDGUARD_DATABASE_URL", f"sqlite:///{tmp_path / 'fg.db'}")
    monkeypatch.setenv("FRAUDGUARD_API_KEYS", "approver-key-0001:approver,admin-key-0001:admin")
    monkeypatch.delenv("FRAUDGUARD_KEY", raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def _run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return str(result.output)


@pytest.mark.slow
def test_import_train_evaluate_and_score_a_foreign_history(workspace: Path) -> None:
    source = write_foreign(workspace / "payments.csv")  # ~22k rows, 300 customers, 90 days
    history = str(workspace / "history.parquet")
    _run("import", str(source), "--mapping", str(MAPPING), "--out", history)
    assert "raw_history: OK" in _run("validate", "--data", history)
    trained = _run("train", "--data", history, "--seed", "3", "--promote")
    model_row = next(line for line in trained.splitlines() if line.startswith("model "))
    rules_row = next(line for line in trained.splitlines() if line.startswith("rules "))
    # The model learns the compromised cards and terminals that the rules cannot see.
    assert float(model_row.split()[2]) > float(rules_row.split()[2])  # average precision
    _run("models", "approve", "1", "--comment", "imported history", "--key", "approver-key-0001")
    _run("models", "activate", "1", "--comment", "go live", "--key", "admin-key-0001")
    assert _run("backtest", "--data", history).strip()  # the rules evaluated on it too
    decisions = workspace / "decisions.parquet"
    scored = _run("score", "--data", history, "--out", str(decisions))
    assert "degraded" not in scored
    result = pd.read_parquet(decisions)
    assert len(result) == len(pd.read_parquet(history))
    assert result["degraded"].eq(False).all()
    assert result["decision"].isin(["review", "block"]).any()
