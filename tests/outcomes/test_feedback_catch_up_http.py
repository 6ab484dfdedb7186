"""Every fraud report reaches a running service's feedback state, over real HTTP: reports
survive a restart (the store is warmed from the log); a file imported with ``fraudguard
outcomes import`` while the service runs, or posted to another worker, counts after one
catch-up step; and a report the request path recorded and the catch-up read again counts
once, in memory and on Redis."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from typer.testing import CliRunner

from fraudguard.api import create_app
from fraudguard.cases import Actor
from fraudguard.cli import app as cli
from fraudguard.config import Settings, get_settings
from fraudguard.db import DecisionRow, create_db_engine
from fraudguard.outcomes import FeedbackCatchUp, OutcomeStore, load_label_policy
from fraudguard.schema import OutcomeReport
from tests.api.conftest import auth, running, service_settings
from tests.features.redis_support import shared_redis_url, unique_prefix
from tests.scoring.conftest import event_body, model_root  # noqa: F401 - fixture

pytestmark = pytest.mark.integration

REPORTED_SHOP = "SUSPICIOUS_PLATFORM.REPORTED_SHOP"
REPORTED_PROMOTION = "FAKE_DISCOUNT.REPORTED_PROMOTION"


def _settings(home: Path, registry: Path, **changes: Any) -> Settings:
    url = f"sqlite:///{home / 'fraudguard.db'}"
    # No reload loop: the tests step the catch-up themselves.
    return service_settings(
        home, registry, rate_limit="", database_url=url, reload_interval_s=0, **changes
    )


@contextmanager
def _serving(settings: Settings) -> Iterator[tuple[httpx.Client, FastAPI]]:
    app = create_app(settings)
    with running(app) as base, httpx.Client(base_url=base, timeout=60) as client:
        yield client, app


def _catch_up(app: FastAPI) -> FeedbackCatchUp:
    catch_up: FeedbackCatchUp = app.state.feedback_catch_up
    return catch_up


def _order(http: httpx.Client, tid: str, shop: str, **changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "transaction_id": tid,
        "event_time": datetime.now(UTC).isoformat(),
        "channel": "other_web",
        "platform": {"url": f"https://m.{shop}/pay", "app_package": None},
        "payment": {"payer_id": f"payer-{tid}", "instrument_id": f"card-{tid}"},
        "device": {"id": f"device-{tid}"},
    }
    answer = http.post("/v1/score", json=event_body(**{**fields, **changes}), headers=auth())
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def _complaint(http: httpx.Client, tid: str) -> None:
    body = {
        "outcomes": [
            {
                "transaction_id": tid,
                "kind": "complaint_not_delivered",
                "reported_at": datetime.now(UTC).isoformat(),
                "reference": f"complaint-{tid}",
            }
        ]
    }
    answer = http.post("/v1/outcomes", json=body, headers=auth("scorer"))
    assert answer.status_code == 200, answer.text
    assert answer.json()["results"][0]["created"]


def _stored_elsewhere(settings: Settings, tid: str) -> None:
    """A fraud report stored by another process (no request of this service saw it)."""
    engine = create_db_engine(settings.resolved_database_url)
    try:
        report = OutcomeReport.model_validate(
            {"transaction_id": tid, "kind": "fraud_report", "reported_at": datetime.now(UTC)}
        )
        OutcomeStore(engine, load_label_policy()).report([report], Actor(id="cli:test", role="cli"))
    finally:
        engine.dispose()


def _codes(decision: dict[str, Any]) -> list[str]:
    return [reason["code"] for reason in decision["reasons"]]


def _logged(settings: Settings, tid: str, feature: str) -> float:
    """The feature value the service logged for order ``tid``."""
    engine = create_db_engine(settings.resolved_database_url)
    try:
        with engine.connect() as connection:
            features = connection.execute(
                select(DecisionRow.features).where(DecisionRow.transaction_id == tid)
            ).scalar_one()
    finally:
        engine.dispose()
    return float(features[feature])


def test_reports_survive_a_restart(tmp_path: Path, model_root: Path) -> None:  # noqa: F811
    settings = _settings(tmp_path, model_root)
    shop = "restart-189.shop"
    with _serving(settings) as (http, _):
        for tid in ("rs-1", "rs-2"):
            _order(http, tid, shop)
            _complaint(http, tid)

    with _serving(settings) as (http, _):  # a new app on the same database: a deploy
        third = _order(http, "rs-3", shop)
        metrics = http.get("/metrics").text
    [gauge] = [
        line for line in metrics.splitlines() if line.startswith("fraudguard_feedback_behind")
    ]
    assert float(gauge.split()[-1]) >= 0  # warmed: a number of seconds, not NaN
    assert REPORTED_SHOP in _codes(third)
    assert third["decision"] in ("review", "block")
    assert _logged(settings, "rs-3", "fb_platform_fraud_1d") == 2


def test_an_imported_file_counts_after_one_catch_up_step(
    tmp_path: Path,
    model_root: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = _settings(tmp_path, model_root)
    shop = "import-189.shop"
    path = tmp_path / "outcomes.csv"
    with _serving(settings) as (http, app):
        for tid in ("im-1", "im-2"):
            _order(http, tid, shop)
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["transaction_id", "kind", "reported_at", "reference"])
            for tid in ("im-1", "im-2"):
                writer.writerow([tid, "chargeback", datetime.now(UTC).isoformat(), f"cb-{tid}"])
        monkeypatch.setenv("FRAUDGUARD_DATABASE_URL", settings.resolved_database_url)
        monkeypatch.setenv("FRAUDGUARD_HOME", str(tmp_path))
        get_settings.cache_clear()
        try:
            result = CliRunner().invoke(cli, ["outcomes", "import", str(path)])
        finally:
            get_settings.cache_clear()
        assert result.exit_code == 0, result.output

        # Stored, but the running service has not read the log since.
        assert REPORTED_SHOP not in _codes(_order(http, "im-3", shop))
        assert _catch_up(app).step() == 2
        after = _order(http, "im-4", shop)
    assert REPORTED_SHOP in _codes(after)
    assert _logged(settings, "im-4", "fb_platform_fraud_1d") == 2


def test_a_report_made_on_one_worker_reaches_another_at_its_next_step(
    tmp_path: Path,
    model_root: Path,  # noqa: F811
) -> None:
    settings = _settings(tmp_path, model_root)  # in-process state: one store per worker
    shop = "workers-189.shop"
    with _serving(settings) as (first, _), _serving(settings) as (second, app):
        for tid in ("wk-1", "wk-2"):
            _order(first, tid, shop)
            _complaint(first, tid)
        assert REPORTED_SHOP not in _codes(_order(second, "wk-3", shop))
        assert _catch_up(app).step() == 2
        assert REPORTED_SHOP in _codes(_order(second, "wk-4", shop))


@pytest.fixture(params=["memory", "redis"])
def state_url(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.param == "memory":
        yield "memory://"
        return
    import redis

    url, prefix = shared_redis_url(), unique_prefix()
    yield f"{url}?key_prefix={prefix}"
    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def test_a_report_heard_by_the_request_and_the_catch_up_counts_once(
    tmp_path: Path,
    model_root: Path,  # noqa: F811
    state_url: str,
) -> None:
    settings = _settings(tmp_path, model_root, state_url=state_url)
    shop = "once-189.shop"
    promo = {"code": "VIP-HALF-88", "discount": 50}
    with _serving(settings) as (http, app):
        catch_up = _catch_up(app)
        for tid in ("on-1", "on-2"):
            _order(http, tid, shop)
        _complaint(http, "on-1")  # recorded by the request, then read again from the log
        assert catch_up.step() == 0
        third = _order(http, "on-3", shop)
        assert REPORTED_SHOP not in _codes(third)

        # The other way round: a complaint read from the log first, then the reviewer's
        # confirmation of the same order recorded by its request.
        flagged = _order(http, "on-4", "elsewhere-189.shop", promotion=promo)
        assert flagged["case_id"], flagged
        _stored_elsewhere(settings, "on-4")
        assert catch_up.step() == 1
        answer = http.post(
            f"/v1/cases/{flagged['case_id']}/disposition",
            json={
                "disposition": "confirmed_fraud",
                "typology": "fake_discount_scam",
                "comment": "victim called the hotline",
            },
            headers=auth("reviewer"),
        )
        assert answer.status_code == 200, answer.text
        assert catch_up.step() == 0
        promoted = _order(http, "on-5", "third-189.shop", promotion=promo)
        assert REPORTED_PROMOTION not in _codes(promoted)
    assert _logged(settings, "on-3", "fb_platform_fraud_1d") == 1
    assert _logged(settings, "on-5", "fb_promotion_fraud_1d") == 1
