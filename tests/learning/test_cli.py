"""`fraudguard train --from-log`: a model trained on the orders the service scored."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from typer.testing import CliRunner

from fraudguard.cases import Actor
from fraudguard.cli import app
from fraudguard.config import get_settings
from fraudguard.outcomes import OutcomeStore
from fraudguard.schema import OutcomeReport

from .test_training_set import KEY, _log

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    url = f"sqlite:///{tmp_path / 'log.db'}"
    monkeypatch.setenv("FRAUDGUARD_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("FRAUDGUARD_BOOTSTRAP_MODEL", "false")
    monkeypatch.setenv("FRAUDGUARD_DATABASE_URL", url)
    monkeypatch.setenv("FRAUDGUARD_HMAC_KEY", KEY)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_a_model_is_trained_on_the_decision_log(home: Path) -> None:
    url = f"sqlite:///{home / 'log.db'}"
    logged = _log(url, home)
    engine = create_engine(url)
    store = OutcomeStore(engine, clock=lambda: datetime(2027, 6, 1, tzinfo=UTC))
    # Every 12th order charged back (known early January), one after the cut-off.
    reports = [
        OutcomeReport(
            transaction_id=event.transaction_id,
            kind="chargeback",
            reported_at=datetime(2027, 1, 5, tzinfo=UTC),
        )
        for event in logged.events[::12]
    ]
    store.store(reports, Actor(id="test:cli", role="cli"))
    engine.dispose()
    # Validated for real (the log_history suite): no --allow-invalid-data.
    result = runner.invoke(app, ["train", "--from-log", "--as-of", "2027-01-20"])
    assert result.exit_code == 0, result.output
    assert f"rebuilt {len(logged.events):,} orders from the decision log" in result.output
    assert "registered" in result.output


def test_from_log_needs_a_cut_off_and_no_file(home: Path) -> None:
    result = runner.invoke(app, ["train", "--from-log"])
    assert result.exit_code == 2
    assert "--as-of" in result.output
    result = runner.invoke(app, ["train", "--from-log", "--as-of", "2027-01-20", "--data", "x.csv"])
    assert result.exit_code == 2
    assert "--data" in result.output
    result = runner.invoke(app, ["train", "--from-log", "--as-of", "2027-01-20", "--since", "x"])
    assert result.exit_code == 2
    assert "--since" in result.output
    result = runner.invoke(app, ["train"])
    assert result.exit_code == 2
    assert "--data" in result.output
