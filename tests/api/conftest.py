from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from fraudguard.api import create_app
from fraudguard.config import Settings
from tests.scoring.conftest import loaded_model, model_root  # noqa: F401 - shared fixtures

KEYS = {
    "scorer": "scorer-key-0001",
    "analyst": "analyst-key-0001",
    "reviewer": "reviewer-key-0001",
    "admin": "admin-key-0001",
}


def auth(role: str = "scorer") -> dict[str, str]:
    return {"Authorization": f"Bearer {KEYS[role]}"}


def service_settings(home: Path, registry: Path, **changes: object) -> Settings:
    values: dict[str, object] = {
        "home": home,
        "model_registry": registry,
        "bootstrap_model": False,
        "api_keys": ",".join(f"{key}:{role}" for role, key in KEYS.items()),
        "_env_file": None,
    }
    values.update(changes)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def settings(tmp_path: Path, model_root: Path) -> Settings:  # noqa: F811
    return service_settings(tmp_path, model_root)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@contextmanager
def running(app: Any) -> Iterator[str]:
    """``app`` served by uvicorn on a free loopback port (in a thread); yields the base URL."""
    import threading
    import time

    import uvicorn

    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 120
        while not server.started:
            assert thread.is_alive(), "uvicorn stopped during start-up"
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
