from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fraudguard.reference import ReferenceData, load_reference


@pytest.fixture(scope="session")
def reference() -> ReferenceData:
    """The shipped reference data, loaded once."""
    return load_reference()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """One empty database per test, on each backend FraudGuard supports: a SQLite file, and
    a throw-away PostgreSQL database (skipped with the reason where no server answers)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fg.db'}"
        return
    from tests.postgres import fresh_database

    with fresh_database() as url:
        yield url
