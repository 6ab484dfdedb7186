"""The review console in a real browser: Debian's Chromium driven by Playwright, against the
app served by uvicorn on a loopback port. A reviewer logs in, filters the queue, opens a
case, reads why it was flagged, records a disposition and sees it in the audit trail."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fraudguard.api import create_app
from tests.api.conftest import KEYS, auth, running, service_settings
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
    with running(app, lifespan="on") as base:
        # Fill the log through the running app's own services (what /v1/score/batch does).
        client = TestClient(app)  # no lifespan: shares the served app's state
        populate(client, simulate(SimulationConfig(events=EVENTS // 2, seed=11)), through_api=20)
        yield base, client


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
    scores = [
        float(x.split()[0])
        for x in page.locator("table.queue tbody td:nth-child(4)").all_inner_texts()
    ]
    assert scores == sorted(scores, reverse=True)
    expected = client.get(
        "/v1/cases",
        params={"family": "suspicious_platform"},
        headers=auth("reviewer"),
    ).json()
    assert page.locator("h1 small").inner_text().startswith(str(expected["total"]))
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "console-queue.png"), full_page=False)

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
    assert "confirmed fraud" in audit.inner_text()
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


#: What each language shows (issue 21): the score's name, what decided, the zone, the move
#: form's placeholder, the views' summary.
CHINA: dict[str, dict[str, Any]] = {
    "zh": {
        "locale": "zh-CN",
        "score": "模型欺诈概率",
        "decided": "决策依据",
        "rule": "规则",
        "choose": "请选择…",
        "viewed": "已查看 4 次",
        "severities": {"低", "中", "高", "严重"},
    },
    "en": {
        "locale": "en-US",
        "score": "Model fraud probability",
        "decided": "Decided by",
        "rule": "rule",
        "choose": "choose…",
        "viewed": "Viewed 4 times",
        "severities": {"low", "medium", "high", "critical"},
    },
}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_console_for_a_reviewer_in_china(served: Any, browser: Any, lang: str) -> None:
    """Times in Asia/Shanghai, named; values in words; what decided beside the model's fraud
    probability; no status preselected (the browser refuses the empty choice); page views
    collapsed in a closed <details>. A screenshot of each page per language."""
    base, client = served
    words = CHINA[lang]
    page = browser.new_page(locale=words["locale"], viewport={"width": 1440, "height": 1200})
    page.set_default_timeout(15_000)
    page.goto(f"{base}/console/login")
    page.fill("input[name=api_key]", KEYS["reviewer"])
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/console/cases")
    ARTIFACTS.mkdir(exist_ok=True)

    # The queue: what decided beside the probability, opening times in Shanghai time.
    page.goto(f"{base}/console/cases?decision=block&sort=score")
    header = page.locator("table.queue thead").inner_text()
    assert words["score"] in header
    assert words["decided"] in header
    decided = page.locator("table.queue tbody td.decided").all_inner_texts()
    assert decided
    assert all(words["rule"] in d or "模型" in d or "model" in d for d in decided)
    times = page.locator("table.queue tbody td.time").all_inner_texts()
    assert times
    assert all("Asia/Shanghai, UTC+08:00" in t for t in times)
    page.screenshot(path=str(ARTIFACTS / f"console-china-queue-{lang}.png"), full_page=False)

    # A case nobody has opened yet (its trail is empty): open it four times.
    shown = page.locator("a.case-link").all_inner_texts()
    case_id = next(
        c
        for c in reversed(shown)
        if not client.get(f"/v1/cases/{c}/history", headers=auth("admin")).json()
    )
    for _ in range(4):
        page.goto(f"{base}/console/cases/{case_id}")
    stored = client.get(f"/v1/cases/{case_id}", headers=auth("admin")).json()
    facts = page.locator("section.facts").inner_text()
    assert words["decided"] in facts
    assert "(Asia/Shanghai, UTC+08:00)" in facts
    badges = set(page.locator("ul.reasons li > span.badge").all_inner_texts())
    assert badges
    assert badges <= words["severities"]
    assert stored["decision_body"]["reasons"][0]["code"] in page.locator("ul.reasons").inner_text()

    # The move form: nothing chosen, and the browser will not send the empty choice.
    move = page.locator("select[name=status]")
    assert move.input_value() == ""
    assert move.locator("option:checked").inner_text() == words["choose"]
    assert page.locator("select[name=status]:invalid").count() == 1
    page.click("#move")
    assert page.url == f"{base}/console/cases/{case_id}"  # not submitted
    assert client.get(f"/v1/cases/{case_id}", headers=auth("admin")).json()["status"] == "open"

    # Views: collapsed in a closed <details>, apart from the changes.
    views = page.locator("details.views")
    assert views.get_attribute("open") is None
    assert words["viewed"] in views.locator("summary").inner_text()
    assert page.locator("table.views").is_visible() is False
    assert page.locator("table.history tr.audit-view").count() == 0
    page.screenshot(path=str(ARTIFACTS / f"console-china-case-{lang}.png"), full_page=True)
    views.locator("summary").click()  # opens without JavaScript of the page's own
    assert page.locator("table.views tr.audit-view").count() == 4

    # The dashboard: days in Shanghai time, said so.
    page.goto(f"{base}/console/dashboard")
    assert "Asia/Shanghai, UTC+08:00" in page.locator("section.card h2").nth(1).inner_text()
    page.screenshot(path=str(ARTIFACTS / f"console-china-dashboard-{lang}.png"), full_page=True)
    page.close()
