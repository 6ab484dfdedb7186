"""The change-control pages over HTTP (TestClient): who may open them, the CSRF check, a
decision made on a stale page, an unknown version, both languages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from fraudguard.api import create_app
from fraudguard.rules import pack_text
from tests.api.conftest import auth, service_settings
from tests.console.pages import csrf, login
from tests.packs import TYPO_LINE

EDITED = pack_text().replace(
    "vel_device_distinct_instrument_1h >= 4", "vel_device_distinct_instrument_1h >= 3"
)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, model_root: Path) -> Iterator[TestClient]:
    settings = service_settings(tmp_path_factory.mktemp("pages"), model_root, reload_interval_s=0)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def _proposed(client: TestClient) -> dict[str, object]:
    draft = client.post(
        "/v1/rulesets",
        json={"content": EDITED, "rationale": "card testing at three cards"},
        headers=auth("analyst"),
    ).json()
    proposed: dict[str, object] = client.post(
        f"/v1/rulesets/{draft['number']}/propose", json={"revision": 1}, headers=auth("analyst")
    ).json()
    return proposed


def test_who_may_open_the_change_pages(client: TestClient) -> None:
    client.cookies.clear()
    assert client.get("/console/changes", follow_redirects=False).status_code == 303
    login(client, "reviewer")
    page = client.get("/console/changes")
    assert page.status_code == 403
    assert "change control" in page.text
    assert 'href="/console/changes"' not in page.text  # no link a reviewer cannot follow
    for role in ("analyst", "approver", "admin"):
        login(client, role)
        listed = client.get("/console/changes")
        assert listed.status_code == 200
        assert 'href="/console/changes"' in listed.text
        assert ("new-draft" in listed.text) is (role != "approver")
    assert client.get("/console/changes/rulesets/999").status_code == 404
    assert client.get("/console/changes/rulesets/abc").status_code == 404
    assert client.get("/console/changes/nothing/1").status_code == 404
    assert client.get("/console/changes/rulesets/diff?a=1&b=x").status_code == 404


def test_a_decision_needs_the_token_and_the_revision_the_page_showed(client: TestClient) -> None:
    version = _proposed(client)
    number = version["number"]
    login(client, "approver")
    page = client.get(f"/console/changes/rulesets/{number}")
    assert 'id="approve"' in page.text
    token = csrf(page.text)
    forged = client.post(
        f"/console/changes/rulesets/{number}/approve",
        data={"csrf": "forged", "revision": str(version["revision"]), "comment": "fine"},
    )
    assert forged.status_code == 403
    stale = client.post(
        f"/console/changes/rulesets/{number}/approve",
        data={"csrf": token, "revision": "1", "comment": "read before it was proposed"},
    )
    assert stale.status_code == 409
    assert "changed since you read it" in stale.text
    assert "revision" in stale.text
    done = client.post(
        f"/console/changes/rulesets/{number}/approve",
        data={"csrf": token, "revision": str(version["revision"]), "comment": "evidence ok"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"].endswith("?done=approve")
    after = client.get(f"/v1/rulesets/{number}", headers=auth("admin")).json()
    assert after["state"] == "approved"
    assert [h["action"] for h in after["history"]][-1] == "change_approve"


def test_an_analyst_draft_with_an_error_is_shown_again_with_the_line(client: TestClient) -> None:
    login(client, "analyst", lang="zh")
    form = client.get("/console/changes/rulesets/new")
    assert "新建规则包草稿" in form.text
    broken = pack_text().replace("condition: net_ip_tor", "condition: net_ip_torr")
    refused = client.post(
        "/console/changes/rulesets/new",
        data={"csrf": csrf(form.text), "content": broken, "rationale": "a typo, on purpose"},
    )
    assert refused.status_code == 422
    assert f"content:{TYPO_LINE}: UN-001: condition" in refused.text
    assert "net_ip_torr" in refused.text  # the text is kept for the analyst to fix
