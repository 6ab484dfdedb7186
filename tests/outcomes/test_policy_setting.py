"""``FRAUDGUARD_LABEL_POLICY_PATH``: read when the service is made, so a bad file stops the
start with the file, line and field named, not the first outcome reported."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from fraudguard.api import create_app
from fraudguard.cli import app
from fraudguard.config import Settings, get_settings
from fraudguard.outcomes import LabelPolicyError, load_label_policy


def test_the_app_reads_the_policy_it_is_given(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    shipped = (Path(__file__).parents[2] / "fraudguard/outcomes/data/label_policy.yaml").read_text()
    policy.write_text(shipped.replace("conflicts: latest", "conflicts: fraud_wins"), "utf-8")
    settings = Settings(home=tmp_path, label_policy_path=policy, _env_file=None)  # type: ignore[call-arg]
    assert create_app(settings).state.label_policy == load_label_policy(policy)
    assert create_app(settings).state.label_policy.conflicts == "fraud_wins"


def test_a_bad_policy_stops_the_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "policy.yaml"
    bad.write_text("version: 2\n", "utf-8")
    settings = Settings(home=tmp_path, label_policy_path=bad, _env_file=None)  # type: ignore[call-arg]
    with pytest.raises(LabelPolicyError, match=r"policy\.yaml:1: version"):
        create_app(settings)
    monkeypatch.setenv("FRAUDGUARD_LABEL_POLICY_PATH", str(bad))
    monkeypatch.setenv("FRAUDGUARD_HOME", str(tmp_path))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["serve", "--port", "1"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert result.output.startswith("error: ")
    assert "policy.yaml:1: version" in result.output
    missing = CliRunner().invoke(app, ["monitor", "performance", "--window-days", "0"])
    assert missing.exit_code == 2
