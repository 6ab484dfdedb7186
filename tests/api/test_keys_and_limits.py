"""API keys made with ``fraudguard keys`` (stored hashed, revocable while serving) and the
per-key rate limit (429 with Retry-After)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from fraudguard.api import create_app
from fraudguard.cli import app as cli
from fraudguard.config import get_settings
from tests.api.conftest import auth, service_settings
from tests.scoring.conftest import event_body, make_event

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("FRAUDGUARD_HOME", str(tmp_path))
    monkeypatch.delenv("FRAUDGUARD_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def _add(role: str, name: str | None = None) -> tuple[str, str]:
    """(key, key id) from ``keys add``."""
    result = runner.invoke(
        cli, ["keys", "add", "--role", role, *(["--name", name] if name else [])]
    )
    assert result.exit_code == 0, result.output
    key = result.stdout.strip()
    key_id = result.stderr.split()[1]
    return key, key_id


def test_keys_add_list_revoke_store_only_hashes(home: Path) -> None:
    key, key_id = _add("scorer", "pipeline-a")
    assert key.startswith("fg_")
    assert len(key) > 40
    assert "not shown again" in runner.invoke(cli, ["keys", "add", "--role", "admin"]).stderr
    listing = runner.invoke(cli, ["keys", "list"])
    assert listing.exit_code == 0
    assert key_id in listing.stdout
    assert "pipeline-a" in listing.stdout
    assert f"...{key[-4:]}" in listing.stdout
    assert key not in listing.stdout
    assert "active" in listing.stdout
    with sqlite3.connect(home / "fraudguard.db") as raw:
        dump = "\n".join(raw.iterdump())
    assert key not in dump
    revoked = runner.invoke(cli, ["keys", "revoke", key_id])
    assert revoked.exit_code == 0
    assert "revoked" in runner.invoke(cli, ["keys", "list"]).stdout.split(key_id)[1].splitlines()[0]


def test_keys_refuse_bad_input(home: Path) -> None:
    bad_role = runner.invoke(cli, ["keys", "add", "--role", "root"])
    assert bad_role.exit_code == 2
    assert "role" in bad_role.stderr
    unknown = runner.invoke(cli, ["keys", "revoke", "key_nope"])
    assert unknown.exit_code == 2
    assert "keys list" in unknown.stderr


def test_service_accepts_stored_keys_and_stops_revoked_ones(home: Path, model_root: Path) -> None:
    key, key_id = _add("scorer")
    analyst_key, _ = _add("analyst")
    settings = service_settings(home, model_root, api_key_refresh_s=0.2)
    with TestClient(create_app(settings)) as client:
        bearer = {"Authorization": f"Bearer {key}"}
        assert client.post("/v1/score", json=event_body(), headers=bearer).status_code == 200
        analyst = {"Authorization": f"Bearer {analyst_key}"}
        assert client.post("/v1/score", json=event_body(), headers=analyst).status_code == 403
        # Env keys keep working beside the stored ones.
        assert client.post("/v1/score", json=event_body(), headers=auth()).status_code == 200
        assert runner.invoke(cli, ["keys", "revoke", key_id]).exit_code == 0
        deadline = time.monotonic() + 120  # a hang guard: a loaded machine is slow
        status = 200
        while status == 200 and time.monotonic() < deadline:
            time.sleep(0.1)
            status = client.post("/v1/score", json=event_body(), headers=bearer).status_code
        assert status == 401
        # A key added while serving works without a restart.
        fresh, _ = _add("scorer")
        deadline = time.monotonic() + 120  # a hang guard: a loaded machine is slow
        status = 401
        while status == 401 and time.monotonic() < deadline:
            time.sleep(0.1)
            body = event_body(transaction_id="ord-fresh")
            fresh_auth = {"Authorization": f"Bearer {fresh}"}
            status = client.post("/v1/score", json=body, headers=fresh_auth).status_code
        assert status == 200


def test_rate_limit_is_per_key_with_retry_after(tmp_path: Path, model_root: Path) -> None:
    settings = service_settings(tmp_path, model_root, rate_limit="3/minute")
    with TestClient(create_app(settings)) as client:
        for i in range(3):
            body = event_body(transaction_id=f"rl-{i}")
            assert client.post("/v1/score", json=body, headers=auth()).status_code == 200
        refused = client.post("/v1/score", json=event_body(transaction_id="rl-9"), headers=auth())
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        payload = refused.json()
        assert payload["error"] == "rate_limited"
        assert "3 per 1 minute" in payload["message"]
        assert payload["problems"][0]["field"] == "Authorization"
        # Nothing was scored for the refused order, and another key has its own budget.
        log = client.app.state.services.log  # type: ignore[attr-defined]
        assert log.find(make_event(transaction_id="rl-9")) is None
        admin = client.post(
            "/v1/score", json=event_body(transaction_id="rl-9"), headers=auth("admin")
        )
        assert admin.status_code == 200


def test_a_batch_counts_each_event(tmp_path: Path, model_root: Path) -> None:
    settings = service_settings(tmp_path, model_root, rate_limit="5/minute")
    with TestClient(create_app(settings)) as client:
        events = [event_body(transaction_id=f"bl-{i}") for i in range(4)]
        ok = client.post("/v1/score/batch", json={"events": events}, headers=auth())
        assert ok.status_code == 200
        again = client.post("/v1/score/batch", json={"events": events[:2]}, headers=auth())
        assert again.status_code == 429


def test_bad_rate_limit_setting_is_named(tmp_path: Path, model_root: Path) -> None:
    from fraudguard.exceptions import ConfigError

    settings = service_settings(tmp_path, model_root, rate_limit="lots")
    with pytest.raises(ConfigError) as caught, TestClient(create_app(settings)):
        pass
    assert "FRAUDGUARD_RATE_LIMIT" in str(caught.value)
