from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from fraudguard.api import create_app
from fraudguard.config import Settings
from tests.scoring.conftest import loaded_model, model_root, sample_frame  # noqa: F401 - shared fixtures

KEYS = {
    "scorer": "scorer-key-0001",
    "analyst": "analyst-key-0001",
    "reviewer": "reviewer-key-0001",
    "approver": "approver-key-0001",
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
def running(app: Any, **config: Any) -> Iterator[str]:
    """``app`` served by uvicorn on a free loopback port (in a thread); yields the base URL.
    ``config``: more ``uvicorn.Config`` options (``root_path``...)."""
    import threading
    import time

    import uvicorn

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", **config)
    )
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


def server_env(home: Path, registry: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRAUDGUARD_")}
    env.update(
        FRAUDGUARD_HOME=str(home),
        FRAUDGUARD_MODEL_REGISTRY=str(registry),
        FRAUDGUARD_BOOTSTRAP_MODEL="false",
        FRAUDGUARD_API_KEYS=",".join(f"{key}:{role}" for role, key in KEYS.items()),
        FRAUDGUARD_RATE_LIMIT="",
        FRAUDGUARD_LOG_LEVEL="WARNING",
        **extra,
    )
    return env


@contextmanager
def serve(env: dict[str, str], workers: int = 1) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``fraudguard serve`` as a real subprocess on a free loopback port."""
    port = free_port()
    command = [
        str(Path(sys.executable).with_name("fraudguard")),
        "serve",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)  # noqa: S603
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert process.poll() is None, f"fraudguard serve exited with {process.returncode}"
            assert time.monotonic() < deadline, "fraudguard serve did not become ready"
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        yield base, process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
