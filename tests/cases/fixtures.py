"""Shared fixtures for the case API, console and browser tests: a service whose decision log
(SQLite, or a throw-away PostgreSQL database) holds cases opened by scoring simulated traffic
through the real ``/v1/score/batch`` endpoint.

Import these into a test module: ``from tests.cases.fixtures import ...``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from fraudguard.api import create_app
from fraudguard.config import Settings
from fraudguard.schema import FLAT_COLUMNS
from fraudguard.simulate import SimulationConfig, simulate
from tests.api.conftest import KEYS, auth, service_settings
from tests.frames import event_from_row
from tests.postgres import fresh_database

#: Simulated orders scored per store: enough for ~100 cases across every family.
EVENTS = 6_000
#: Allowed orders kept in the log besides every flagged one (1 in N).
ALLOWED_KEPT = 20


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A uniquely named PostgreSQL database for this test session, dropped afterwards."""
    with fresh_database() as url:
        yield url


@dataclass
class Store:
    """A running service over a populated decision log."""

    client: TestClient
    settings: Settings
    frame: pd.DataFrame
    backend: str
    decisions: dict[str, dict[str, Any]] = field(default_factory=dict)
    _taken: set[str] = field(default_factory=set)

    def take(self, **filters: Any) -> str:
        """A case no other test has used (tests share one store per backend)."""
        page = self.client.get(
            "/v1/cases",
            params={"page_size": 200, "status": "open", **filters},
            headers=auth("admin"),
        ).json()
        for item in page["items"]:
            if item["case_id"] not in self._taken:
                self._taken.add(item["case_id"])
                return str(item["case_id"])
        raise AssertionError(f"no unused open case left for {filters}")

    def claim(self, case_id: str) -> str:
        """Mark a case found otherwise (by its decision) as used: no other test takes it."""
        assert case_id not in self._taken, f"{case_id} is used by another test"
        self._taken.add(case_id)
        return case_id


def populate(client: TestClient, frame: pd.DataFrame, through_api: int = 40) -> dict[str, Any]:
    """Score ``frame`` with the app's own scorer and record the decisions in its decision log
    (the batch path: the online path costs ~10 ms an event on a busy 2-core machine); the
    first ``through_api`` orders go through ``POST /v1/score/batch`` itself. Returns the
    decisions by transaction id."""
    services = client.app.state.services  # type: ignore[attr-defined]
    bodies = [
        event_from_row(row).model_dump(mode="json")
        for row in frame.iloc[:through_api].to_dict("records")
    ]
    response = client.post("/v1/score/batch", json={"events": bodies}, headers=auth("scorer"))
    assert response.status_code == 200, response.text
    decisions: dict[str, Any] = {r["transaction_id"]: r for r in response.json()["results"]}
    rest = frame.iloc[through_api:].reset_index(drop=True)
    flat = rest.reindex(columns=list(FLAT_COLUMNS))
    scored = services.scorer.score_many(rest)
    features = services.scorer.extractor.extract_many(flat).to_dict("records")
    rows = rest.to_dict("records")
    for i, decision in enumerate(scored):
        if decision.decision.value == "allow" and i % ALLOWED_KEPT:
            continue
        event = event_from_row(rows[i])
        stored = services.log.record(event, decision, features[i])
        decisions[stored.transaction_id] = stored.model_dump(mode="json")
    return decisions


def open_store(
    home: Path, registry: Path, database_url: str | None, backend: str
) -> Iterator[Store]:
    settings = service_settings(home, registry, database_url=database_url, reload_interval_s=0)
    frame = simulate(SimulationConfig(events=EVENTS, seed=11))
    with TestClient(create_app(settings)) as client:
        store = Store(client, settings, frame, backend)
        store.decisions = populate(client, frame)
        yield store


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, model_root: Path
) -> Iterator[Store]:
    """The populated service, once per backend per session."""
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    yield from open_store(tmp_path_factory.mktemp("cases"), model_root, url, request.param)


__all__ = ["KEYS", "Store", "auth", "open_store", "pg_url", "populate", "store"]
