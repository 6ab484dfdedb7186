"""Change control in a real browser (Debian's Chromium through Playwright) against the app
served by uvicorn: an analyst drafts and proposes a rule change, an approver reads its
evidence (tables and an inline SVG chart) and the diff, approves and activates it, and the
next order is decided by it; an admin cannot approve their own change. Screenshots of each
page, in English and Chinese, go to test-artifacts/."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fraudguard.api import create_app
from tests.api.conftest import KEYS, auth, running, service_settings
from tests.console.test_console_browser import ARTIFACTS, CHROMIUM, browser  # noqa: F401
from tests.scoring.conftest import event_body, model_root  # noqa: F401 - fixture

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]

NEW_RULE = """
  - id: PR-098
    title: Large top-up under browser test
    family: payment_risk
    severity: high
    condition: amount >= 300
    action: block
    reason_code: PAYMENT_RISK.LARGE_UNDER_BROWSER_TEST
    message: Large top-up blocked by the browser test rule
    message_zh: 浏览器测试规则拦截的大额充值
    rationale: Added in the browser so an approved change visibly decides the next order.
"""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, model_root: Path) -> Iterator[Any]:  # noqa: F811
    """The app under uvicorn, its decision log holding scored traffic to backtest on."""
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)")
    from fastapi.testclient import TestClient

    from fraudguard.simulate import SimulationConfig, simulate
    from tests.cases.fixtures import EVENTS, populate

    settings = service_settings(tmp_path_factory.mktemp("changes"), model_root, reload_interval_s=0)
    app = create_app(settings)
    with running(app) as base:
        client = TestClient(app)  # no lifespan: shares the served app's state
        populate(client, simulate(SimulationConfig(events=EVENTS // 3, seed=13)), through_api=10)
        yield base, client


def _login(chromium: Any, base: str, role: str, locale: str = "en-US") -> Any:
    page = chromium.new_page(locale=locale, viewport={"width": 1360, "height": 1300})
    page.set_default_timeout(30_000)
    page.goto(f"{base}/console/login?next=/console/changes")
    page.fill("input[name=api_key]", KEYS[role])
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/console/changes")
    return page


def _score(client: Any, n: int) -> dict[str, Any]:
    body = event_body(
        transaction_id=f"browser-{n}-{time.monotonic_ns()}",
        msisdn=f"137{n:08d}",
        amount=300.0,
        payment={"instrument_id": f"tok-b{n}", "payer_id": f"u-b{n}"},
        device={"id": f"dev-b{n}"},
    )
    response = client.post("/v1/score", json=body, headers=auth("scorer"))
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def test_a_rule_change_goes_live_through_an_approver_in_the_browser(
    served: Any,
    browser: Any,  # noqa: F811
) -> None:
    base, client = served
    ARTIFACTS.mkdir(exist_ok=True)
    before = _score(client, 1)
    assert before["decision"] == "allow"

    # The analyst drafts the change in the console and proposes it with its evidence.
    analyst = _login(browser, base, "analyst")
    assert analyst.locator("table.v-ruleset tbody tr").count() == 1
    analyst.click("#new-draft")
    content = analyst.locator("textarea[name=content]").input_value()
    assert "FD-001" in content  # starts from the live pack
    analyst.fill("textarea[name=content]", content.rstrip("\n") + "\n" + NEW_RULE)
    analyst.fill("textarea[name=rationale]", "Block large top-ups while the bank investigates.")
    analyst.click("#save-draft")
    analyst.wait_for_selector("p.notice")
    number = analyst.url.split("/")[-1].split("?")[0]
    analyst.check("input[name=shadow]")
    analyst.click("#propose")
    analyst.wait_for_selector("section.evidence")
    assert analyst.locator("#approve").count() == 0  # an analyst cannot decide
    evidence = analyst.locator("section.evidence")
    assert "PR-098" in evidence.locator("table.by-rule").inner_text()
    assert analyst.locator("svg.day-chart rect.bar").count() > 0
    assert analyst.locator("svg.mix-chart rect.block").count() == 2
    analyst.screenshot(path=str(ARTIFACTS / "changes-proposal.png"), full_page=True)
    analyst.close()

    # The approver reads the evidence and the diff, then approves and activates it.
    approver = _login(browser, base, "approver")
    approver.click(f"a.version-link >> text=#{number}")
    approver.wait_for_selector("#approve")
    orders = int(approver.locator("dd.orders").inner_text().split()[0])
    assert orders > 0
    approver.click("#diff-link")
    approver.wait_for_selector("table.side-by-side")
    assert approver.locator("table.rule-diff tr[data-rule=PR-098]").count() == 1
    assert approver.locator("table.side-by-side tr.d-insert").count() >= 10
    approver.screenshot(path=str(ARTIFACTS / "changes-diff.png"), full_page=False)
    approver.go_back()
    approver.wait_for_selector("#approve")
    approver.click("#approve")  # no comment: refused, nothing changed
    approver.wait_for_selector("div.error")
    assert "comment" in approver.locator("div.error").inner_text()
    approver.fill("textarea[name=comment]", "Evidence checked: only large orders are blocked.")
    approver.click("#approve")
    approver.wait_for_selector("p.notice")
    assert "Approved." in approver.locator("p.notice").inner_text()
    assert _score(client, 2)["ruleset_version"] == before["ruleset_version"]  # not live yet
    approver.fill("textarea[name=comment]", "Live now: incident 7 needs it.")
    approver.click("#activate")
    approver.wait_for_selector("p.notice")
    assert "Active on every worker." in approver.locator("p.notice").inner_text()
    history = approver.locator("table.change-history").inner_text()
    for word in ("drafted", "proposed", "approved", "activated"):
        assert word in history
    approver.screenshot(path=str(ARTIFACTS / "changes-activated.png"), full_page=True)

    after = _score(client, 3)
    assert after["decision"] == "block"
    assert "rule:PR-098" in [r["source"] for r in after["reasons"]]
    stored = client.get(f"/v1/rulesets/{number}", headers=auth("admin")).json()
    assert stored["state"] == "active"
    assert after["ruleset_version"] == stored["content_hash"]

    # The same page in Chinese.
    approver.click("a.lang >> text=中文")
    approver.wait_for_selector("text=回测")
    assert "生效中" in approver.locator("h1").inner_text()
    approver.screenshot(path=str(ARTIFACTS / "changes-activated-zh.png"), full_page=False)
    approver.goto(f"{base}/console/changes")
    approver.screenshot(path=str(ARTIFACTS / "changes-list-zh.png"), full_page=False)
    approver.close()


def test_an_admin_cannot_approve_their_own_change_in_the_browser(
    served: Any,
    browser: Any,  # noqa: F811
) -> None:
    base, client = served
    admin = _login(browser, base, "admin", locale="zh-CN")
    admin.click("#new-draft")
    content = admin.locator("textarea[name=content]").input_value()
    admin.fill(
        "textarea[name=content]",
        content.replace("vel_device_count_10m >= 5", "vel_device_count_10m >= 4"),
    )
    admin.fill("textarea[name=rationale]", "Catch card-testing bursts one order earlier.")
    admin.click("#save-draft")
    admin.wait_for_selector("p.notice")
    number = admin.url.split("/")[-1].split("?")[0]
    admin.click("#propose")
    admin.wait_for_selector("#approve")
    assert admin.locator("p.own-change").count() == 1
    admin.fill("textarea[name=comment]", "I wrote it and I approve it.")
    admin.click("#approve")
    admin.wait_for_selector("div.error")
    refusal = admin.locator("div.error").inner_text()
    assert "another approver or admin must approve it" in refusal
    assert "actor: the author of a change cannot approve it" in refusal
    admin.screenshot(path=str(ARTIFACTS / "changes-own-approval-zh.png"), full_page=False)
    stored = client.get(f"/v1/rulesets/{number}", headers=auth("admin")).json()
    assert stored["state"] == "proposed"
    assert stored["decided_by"] is None
    admin.close()
