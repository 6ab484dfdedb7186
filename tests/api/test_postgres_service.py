"""The service on PostgreSQL (issue 8): many workers share one decision log, a promoted
model reaches every worker, and a database that drops away for a moment costs 503s that
name the problem - never a 500, never an answered decision - and recovers by itself."""

from __future__ import annotations

import shutil
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from fraudguard.api import create_app
from fraudguard.decisions import DecisionLog
from fraudguard.models import ModelRegistry
from fraudguard.schema import RechargeEvent
from tests.api.conftest import KEYS, running, serve, server_env, service_settings
from tests.postgres import TcpProxy, fresh_database
from tests.scoring.conftest import event_body

pytestmark = [pytest.mark.integration, pytest.mark.slow]

HEADERS = {"Authorization": f"Bearer {KEYS['scorer']}"}


def test_two_workers_one_decision_and_one_case_per_order(tmp_path: Path, model_root: Path) -> None:
    with fresh_database() as url:
        env = server_env(tmp_path, model_root, FRAUDGUARD_DATABASE_URL=url)
        with serve(env, workers=2) as (base, _):
            for n in range(5):
                body = event_body(transaction_id=f"twin-{n}", promotion={"code": "VIP-HALF"})

                def send(_: int, body: dict[str, Any] = body) -> dict[str, Any]:
                    # A fresh connection each: the kernel spreads them over both workers.
                    response = httpx.post(f"{base}/v1/score", json=body, headers=HEADERS)
                    assert response.status_code == 200, response.text
                    result: dict[str, Any] = response.json()
                    return result

                with ThreadPoolExecutor(12) as pool:
                    answers = list(pool.map(send, range(12)))
                assert all(a == answers[0] for a in answers)
                assert answers[0]["case_id"] is not None
        log = DecisionLog(url, "unused")
        try:
            assert log.count_cases() == 5
        finally:
            log.close()


def test_every_worker_picks_up_a_promoted_model(tmp_path: Path, model_root: Path) -> None:
    registry_root = tmp_path / "registry"
    shutil.copytree(model_root, registry_root)
    registry = ModelRegistry(registry_root)
    promoted = registry.promoted()
    assert promoted is not None
    first = promoted.version
    with fresh_database() as url:
        env = server_env(
            tmp_path,
            registry_root,
            FRAUDGUARD_DATABASE_URL=url,
            FRAUDGUARD_RELOAD_INTERVAL_S="0.5",
        )
        with serve(env, workers=2) as (base, _):
            before = httpx.post(f"{base}/v1/score", json=event_body(), headers=HEADERS)
            assert before.json()["model_version"] == first
            # A second version (same artifact, another name), promoted while serving.
            second = registry_root / "models" / "hgb-2099-01-01-1"
            shutil.copytree(registry_root / "models" / first, second)
            manifest = second / "manifest.json"
            manifest.write_text(manifest.read_text().replace(first, second.name), "utf-8")
            # Promoted through change control: proposed, approved by a second person,
            # activated; the registry file is not how a model goes live any more.
            _promote_through_change_control(base, second.name)
            assert registry.promoted().version == second.name  # type: ignore[union-attr]
            # Each worker notices within a reload interval plus the time to load the model
            # (seconds on a busy machine): wait until 40 requests in a row see the new one.
            deadline = time.monotonic() + 120
            versions: Counter[str] = Counter()
            batch = 0
            while versions != {second.name: 40}:
                assert time.monotonic() < deadline, f"some worker kept {versions}"
                time.sleep(0.5)
                batch += 1
                versions = Counter(
                    httpx.post(
                        f"{base}/v1/score",
                        json=event_body(transaction_id=f"after-{batch}-{i}"),
                        headers=HEADERS,
                    ).json()["model_version"]
                    for i in range(40)
                )


def _promote_through_change_control(base: str, version: str) -> None:
    def call(path: str, body: dict[str, Any], role: str) -> dict[str, Any]:
        response = httpx.post(
            f"{base}{path}",
            json=body,
            headers={"Authorization": f"Bearer {KEYS[role]}"},
            timeout=300,
        )
        assert response.status_code in (200, 201), response.text
        answer: dict[str, Any] = response.json()
        return answer

    proposed = call("/v1/models", {"model_version": version, "rationale": "the retrain"}, "analyst")
    number = proposed["number"]
    assert proposed["evidence"]["model"]["candidate"]["version"] == version
    approved = call(
        f"/v1/models/{number}/approve",
        {"revision": proposed["revision"], "comment": "same figures on the held-out window"},
        "approver",
    )
    call(
        f"/v1/models/{number}/activate",
        {"revision": approved["revision"], "comment": "live on every worker"},
        "admin",
    )


def test_postgres_briefly_unreachable(tmp_path: Path, model_root: Path) -> None:
    proxy = TcpProxy()
    try:
        with fresh_database() as direct_url:
            via_proxy = direct_url.replace(":5432/", f":{proxy.port}/")
            settings = service_settings(tmp_path, model_root, database_url=via_proxy, rate_limit="")
            answered: dict[str, dict[str, Any]] = {}
            statuses: Counter[int] = Counter()
            errors: list[str] = []
            stop = threading.Event()
            lock = threading.Lock()
            counter = iter(range(1_000_000))

            def client(base: str) -> None:
                with httpx.Client(base_url=base, timeout=30) as http:
                    while not stop.is_set():
                        with lock:
                            i = next(counter)
                        body = event_body(transaction_id=f"cut-{i}")
                        response = http.post("/v1/score", json=body, headers=HEADERS)
                        with lock:
                            statuses[response.status_code] += 1
                            if response.status_code == 200:
                                answered[f"cut-{i}"] = response.json()
                            elif response.status_code == 503:
                                errors.append(response.json()["error"])

            with running(create_app(settings)) as base:
                threads = [threading.Thread(target=client, args=(base,)) for _ in range(4)]
                for thread in threads:
                    thread.start()
                time.sleep(2)
                proxy.cut()
                time.sleep(2)
                during = dict(statuses)
                proxy.restore()
                time.sleep(4)  # recovery, no restart
                stop.set()
                for thread in threads:
                    thread.join(timeout=60)
                with httpx.Client(base_url=base) as http:
                    ready = http.get("/readyz")
                    assert ready.status_code == 200
                    assert ready.json()["database"] == "ok"
                    after = http.post("/v1/score", json=event_body(), headers=HEADERS)
                    assert after.status_code == 200

            assert set(statuses) <= {200, 503}, statuses  # never a 500
            assert statuses[503] > 0, "the cut was not noticed"
            assert set(errors) == {"unavailable"}
            assert sum(statuses.values()) > during.get(200, 0) + during.get(503, 0)
            log = DecisionLog(direct_url, "unused")  # straight to PostgreSQL
            try:
                for transaction_id, decision in answered.items():
                    event = RechargeEvent.model_validate(event_body(transaction_id=transaction_id))
                    stored = log.find(event)
                    assert stored is not None, f"{transaction_id} answered but not stored"
                    assert stored.model_dump(mode="json") == decision
            finally:
                log.close()
    finally:
        proxy.close()
