# ruff: noqa: F811 - fixtures imported from other test modules
"""In a real browser: an approver opening a model fitted on other reference data than the
deployment loads sees the warning above everything else, and the approval is refused on the
page with the reason, the version staying proposed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from fraudguard.api import create_app
from tests.api.conftest import KEYS, auth, running, service_settings
from tests.api.test_changes_reference import SECOND, intel, registry  # noqa: F401
from tests.console.test_console_browser import CHROMIUM, browser  # noqa: F401
from tests.scoring.conftest import model_root  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]


def test_the_approver_sees_the_mismatch_and_cannot_approve_it(
    tmp_path: Path, registry: Path, intel: Path, browser: Any
) -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)")
    settings = service_settings(
        tmp_path, registry, ip_intel_path=intel, reload_interval_s=0, rate_limit=""
    )
    with running(create_app(settings), lifespan="on") as base:
        proposed = httpx.post(
            f"{base}/v1/models",
            json={"model_version": SECOND, "rationale": "retrained on the November traffic"},
            headers=auth("analyst"),
            timeout=120,
        ).json()
        page = browser.new_page(locale="en-US", viewport={"width": 1360, "height": 1200})
        page.set_default_timeout(15_000)
        page.goto(f"{base}/console/login")
        page.fill("input[name=api_key]", KEYS["approver"])
        page.click("button[type=submit]")
        page.wait_for_url("**/console/**")
        page.goto(f"{base}/console/changes/models/{proposed['number']}")

        box = page.locator("section.version-warnings")
        assert box.is_visible()
        assert "tables that differ: ip_intel" in box.inner_text()
        assert box.bounding_box()["y"] < page.locator("#approve").bounding_box()["y"]

        page.fill("#decide-form textarea[name=comment]", "the evidence looks fine")
        page.click("#approve")
        page.wait_for_selector("div.error")
        refused = page.locator("div.error").inner_text()
        assert "cannot be approved here" in refused
        assert "FRAUDGUARD_ALLOW_REFERENCE_MISMATCH=true" in refused
        assert page.locator("h1 .badge").inner_text() == "proposed"
        page.close()
