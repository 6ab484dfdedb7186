"""`fraudguard train` and `fraudguard models ...` on a real registry folder."""

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
def registry_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    root = tmp_path / "registry"
    monkeypatch.setenv("FRAUDGUARD_MODEL_REGISTRY", str(root))
    get_settings.cache_clear()
    yield root
    get_settings.cache_clear()


def test_train_registers_promotes_and_the_models_commands_see_it(
    registry_env: Path, tmp_path: Path, history: pd.DataFrame
) -> None:
    data = write_events(history, tmp_path / "history.parquet")
    result = runner.invoke(app, ["train", "--data", str(data), "--seed", "2", "--promote"])
    assert result.exit_code == 0, result.output
    assert "rules" in result.output  # the rules-only baseline row
    assert "promoted hgb-" in result.output
    listed = runner.invoke(app, ["models", "list"])
    assert listed.exit_code == 0
    assert listed.output.startswith("* hgb-")
    version = listed.output.split()[1]
    shown = runner.invoke(app, ["models", "show", version])
    assert json.loads(shown.output)["version"] == version
    rollback = runner.invoke(app, ["models", "rollback"])
    assert rollback.exit_code == 2
    assert "nothing to roll back" in rollback.output


def test_unknown_version_is_a_clear_error(registry_env: Path) -> None:
    result = runner.invoke(app, ["models", "promote", "hgb-1999-01-01-1"])
    assert result.exit_code == 2
    assert "not in the registry" in result.output
