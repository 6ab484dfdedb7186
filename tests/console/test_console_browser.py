"""The review console in a real browser: Debian's Chromium driven by Playwright, against the
app served by uvicorn on a loopback port. A reviewer logs in, filters the queue, opens a
case, reads why it was flagged, records a disposition and sees it in the audit trail."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from fraudguard.api import create_app
from tests.api.conftest import KEYS, auth, service_settings
from tests.scoring.conftest import model_root  # noqa: F401 - fixture

pytestmark = [pytest.mark.browser, pytest.mark.integration]

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, model_root: Path) -> Iterator[Any]:  # noqa: F811
    """The app under uvicorn on 127.0.0.1, its decision log filled with scored traffic."""
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)")
    from fastapi.testclient import TestClient

    from fraudguard.simulate import SimulationConfig, simulate
    from tests.cases.fixtures import EVENTS, populate

    settings = service_settings(tmp_path_factory.mktemp("browser"), model_root, reload_interval_s=0)
    app = create_app(settings)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    # Fill the log through the running app's own services (what /v1/score/batch does).
    client = TestClient(app)  # no lifespan: shares the served app's state
    populate(client, simulate(SimulationConfig(events=EVENTS // 2, seed=11)), through_api=20)
    try:
        yield f"http://127.0.0.1:{port}", client
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


def test_reviewer_works_a_case_end_to_end(served: Any, browser: Any) -> None:
    base, client = served
    page = browser.new_page(locale="en-US", viewport={"width": 1360, "height": 1400})
    page.set_default_timeout(15_000)

    page.goto(f"{base}/console/cases")
    assert "/console/login" in page.url  # not logged in yet
    page.fill("input[name=api_key]", KEYS["reviewer"])
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/console/cases")

    # Filter the queue to suspicious platforms, highest score first.
    page.select_option("select[name=family]", "suspicious_platform")
    page.select_option("select[name=sort]", "score")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**family=suspicious_platform**")
    rows = page.locator("table.queue tbody tr")
    assert rows.count() > 0
    families = page.locator("table.queue tbody tr td:nth-child(7)").all_inner_texts()
    assert set(families) == {"suspicious platform"}
    scores = [float(x) for x in page.locator("table.queue tbody td:nth-child(4)").all_inner_texts()]
    assert scores == sorted(scores, reverse=True)
    expected = client.get(
        "/v1/cases",
        params={"family": "suspicious_platform"},
        headers=auth("reviewer"),
    ).json()
    assert page.locator("h1 small").inner_text().startswith(str(expected["total"]))

    # Open the first case and read why it was flagged.
    case_id = page.locator("a.case-link").first.inner_text()
    page.locator("a.case-link").first.click()
    page.wait_for_url(f"**/console/cases/{case_id}")
    reasons = page.locator("ul.reasons li").all_inner_texts()
    stored = client.get(f"/v1/cases/{case_id}", headers=auth("admin")).json()
    assert reasons
    assert stored["decision_body"]["reasons"][0]["message"] in reasons[0]
    assert page.locator(".signals.g-platform .summary").count() == 1

    # Assign it, record a disposition, and see both in the audit trail.
    page.click("#assign-me")
    page.wait_for_selector("p.notice")
    page.check("input[name=disposition][value=confirmed_fraud]")
    page.select_option("select[name=typology]", "fake_discount_scam")
    page.fill("textarea[name=comment]", "Look-alike shop; the bank confirmed the chargeback.")
    page.click("#record-disposition")
    page.wait_for_selector("p.notice")
    assert "Disposition recorded." in page.locator("p.notice").inner_text()
    audit = page.locator("table.history tr.audit-disposition")
    assert audit.count() == 1
    assert "confirmed_fraud" in audit.inner_text()
    assert page.locator("table.history tr.audit-assign").count() == 1
    assert "resolved" in page.locator("h1").inner_text()

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "console-case.png"), full_page=True)

    # The same page in Chinese.
    page.click("a.lang >> text=中文")
    page.wait_for_selector("text=标记原因")
    assert stored["decision_body"]["reasons"][0]["message_zh"] in page.content()
    page.screenshot(path=str(ARTIFACTS / "console-case-zh.png"), full_page=False)

    after = client.get(f"/v1/cases/{case_id}", headers=auth("admin")).json()
    assert after["disposition"] == "confirmed_fraud"
    assert after["typology"] == "fake_discount_scam"
    page.close()


def test_dashboard_in_the_browser(served: Any, browser: Any) -> None:
    base, _client = served
    page = browser.new_page(locale="zh-CN", viewport={"width": 1360, "height": 1000})
    page.goto(f"{base}/console/login")
    page.fill("input[name=api_key]", KEYS["analyst"])
    page.click("button[type=submit]")
    page.goto(f"{base}/console/dashboard")
    assert page.locator("table.volume tbody tr").count() >= 1
    assert "各规则误报率" in page.content()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "console-dashboard.png"), full_page=True)
    page.close()
