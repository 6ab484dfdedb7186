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
    monkeypatch.setenv("FRAUDGUARD_DATABASE_URL", f"sqlite:///{tmp_path / 'fg.db'}")
    monkeypatch.setenv("FRAUDGUARD_API_KEYS", "approver-key-0001:approver,admin-key-0001:admin")
    monkeypatch.delenv("FRAUDGUARD_KEY", raising=False)
    get_settings.cache_clear()
    yield root
    get_settings.cache_clear()


def test_train_registers_proposes_and_a_second_person_makes_it_live(
    registry_env: Path, tmp_path: Path, history: pd.DataFrame
) -> None:
    data = write_events(history, tmp_path / "history.parquet")
    result = runner.invoke(app, ["train", "--data", str(data), "--seed", "2", "--promote"])
    assert result.exit_code == 0, result.output
    assert "rules" in result.output  # the rules-only baseline row
    assert "proposed hgb-" in result.output
    assert "model version 1" in result.output
    listed = runner.invoke(app, ["models", "list"])
    assert listed.exit_code == 0
    assert listed.output.startswith("  hgb-")  # proposed, not promoted: nothing starred
    version = listed.output.split()[0]
    shown = runner.invoke(app, ["models", "show", version])
    assert json.loads(shown.output)["version"] == version

    # Nobody decides without a key; the approver approves, the admin activates.
    alone = runner.invoke(app, ["models", "approve", "1", "--comment", "looks fine"])
    assert alone.exit_code == 2
    assert "needs one of the roles admin, approver; you gave no API key" in alone.output
    approved = runner.invoke(
        app, ["models", "approve", "1", "--comment", "AP up", "--key", "approver-key-0001"]
    )
    assert approved.exit_code == 0, approved.output
    assert "model version 1: approved" in approved.output
    no_comment = runner.invoke(app, ["models", "activate", "1", "--key", "admin-key-0001"])
    assert no_comment.exit_code == 2
    assert "--comment" in no_comment.output
    active = runner.invoke(
        app, ["models", "activate", "1", "--comment", "go live", "--key", "admin-key-0001"]
    )
    assert active.exit_code == 0, active.output
    assert runner.invoke(app, ["models", "list"]).output.startswith("* hgb-")
    changes = runner.invoke(app, ["models", "changes"])
    assert changes.output.split()[:2] == ["1", "active"]

    rollback = runner.invoke(app, ["models", "rollback", "--comment", "back", "--key", "x" * 12])
    assert rollback.exit_code == 2
    assert "nothing to roll back" in rollback.output or "unknown" in rollback.output
    rollback = runner.invoke(app, ["models", "rollback", "--comment", "back"])
    assert rollback.exit_code == 2
    assert "nothing to roll back" in rollback.output


def test_unknown_version_is_a_clear_error(registry_env: Path) -> None:
    result = runner.invoke(app, ["models", "promote", "hgb-1999-01-01-1"])
    assert result.exit_code == 2
    assert "not in the registry" in result.output
    assert "model_version" in result.output


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["--as-of", "2026-11-01T00:00:00"], "--as-of: give a time zone offset"),
        (["--as-of", "soon"], "--as-of: Input should be a valid datetime"),
        (["--test-start", "2026-10-20", "--calibration-start", "2026-10-25"], "--test-start"),
        (["--review-budget", "0"], "--review-budget: Input should be greater than 0"),
        (["--as-of", "2026-10-03", "--test-end", "2026-10-03"], "too few known frauds"),
    ],
)
def test_train_errors_are_one_line_and_exit_2(
    registry_env: Path, tmp_path: Path, history: pd.DataFrame, options: list[str], expected: str
) -> None:
    data = write_events(history, tmp_path / "history.parquet")
    result = runner.invoke(app, ["train", "--data", str(data), *options])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("error: ")
    assert expected in lines[0]
