from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

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
