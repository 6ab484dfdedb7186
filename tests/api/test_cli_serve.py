from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from fraudguard.cli import app


def test_serve_runs_uvicorn_with_the_app_factory(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: calls.append((args, kwargs)))
    result = CliRunner().invoke(app, ["serve", "--port", "8123", "--workers", "2"])
    assert result.exit_code == 0, result.output
    [(args, kwargs)] = calls
    assert args == ("fraudguard.api:create_app",)
    assert kwargs["factory"] is True
    assert kwargs["port"] == 8123
    assert kwargs["workers"] == 2
    assert "per process" in result.output


def test_serve_help_mentions_per_process_state() -> None:
    result = CliRunner().invoke(app, ["serve", "--help"])
    assert result.exit_code == 0
    assert "memory://" in result.output


@pytest.fixture(autouse=True)
def _fresh_settings_and_collector() -> Any:
    import gc

    from fraudguard.config import get_settings

    thresholds = gc.get_threshold()
    yield
    gc.set_threshold(*thresholds)  # serve holds full collections off until the app starts
    get_settings.cache_clear()  # serve read (and cached) this test's settings


def test_no_full_collection_runs_while_the_service_starts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import gc

    import uvicorn

    seen: list[tuple[int, int, int]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: seen.append(gc.get_threshold()))
    young, middle, _ = gc.get_threshold()
    assert CliRunner().invoke(app, ["serve"]).exit_code == 0
    [(seen_young, seen_middle, seen_full)] = seen
    assert (seen_young, seen_middle) == (young, middle)  # young collections still run
    assert seen_full >= 1_000_000
