"""The console's page tests share one populated service (SQLite): every test takes cases no
other test has used (``Store.take``)."""

# ruff: noqa: F811 - pytest fixtures imported from tests.scoring.conftest
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cases.fixtures import Store, open_store
from tests.scoring.conftest import model_root  # noqa: F401 - fixture


@pytest.fixture(scope="package")
def store(tmp_path_factory: pytest.TempPathFactory, model_root: Path) -> Iterator[Store]:
    yield from open_store(tmp_path_factory.mktemp("console"), model_root, None, "sqlite")
