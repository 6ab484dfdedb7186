"""What the console shows of outcomes: missed-fraud cases in the queue (a filter and a badge)
and on their page with what was reported, and the dashboard's realised-performance chart
(inline SVG: the CSP allows no script)."""

from __future__ import annotations

import re

from tests.cases.fixtures import Store, auth
from tests.console.pages import login as _login


def _missed_fraud_case(store: Store, transaction_id: str | None = None) -> tuple[str, str]:
    """Report a chargeback on an allowed order of the store; its missed-fraud case."""
    if transaction_id is None:
        transaction_id = next(
            tid
            for tid, decision in store.decisions.items()
            if decision["decision"] == "allow" and not tid.startswith("used-")
        )
        store.decisions[f"used-{transaction_id}"] = store.decisions.pop(transaction_id)
    body = {
        "outcomes": [
            {
                "transaction_id": transaction_id,
                "kind": "complaint_not_delivered",
                "reported_at": "2026-12-01T10:00:00+08:00",
                "amount": 100.0,
                "reference": "cmp-4411",
                "note": "paid a half-price shop, no top-up",
            }
        ]
    }
    response = store.client.post("/v1/outcomes", json=body, headers=auth("scorer"))
    assert response.status_code == 200, response.text
    [result] = response.json()["results"]
    assert result["opened_case"]
    return transaction_id, str(result["case_id"])


def test_the_queue_filters_missed_fraud_and_marks_it(store: Store) -> None:
    _transaction_id, case_id = _missed_fraud_case(store)
    client = _login(store.client, "reviewer")
    page = client.get("/console/cases", params={"origin": "missed_fraud"})
    assert page.status_code == 200
    assert case_id in page.text
    assert 'class="badge missed"' in page.text
    assert '<option value="missed_fraud" selected>' in page.text
    everything = client.get("/console/cases", params={"origin": "scoring"})
    assert case_id not in everything.text
    bad = client.get("/console/cases", params={"origin": "rumour"})
    assert bad.status_code == 200
    assert "origin" in bad.text


def test_a_missed_fraud_case_shows_what_was_reported(store: Store) -> None:
    _, case_id = _missed_fraud_case(store)
    client = _login(store.client, "reviewer", lang="en")
    page = client.get(f"/console/cases/{case_id}")
    assert page.status_code == 200
    section = page.text[page.text.index('class="card outcomes"') :]
    section = section[: section.index("</section>")]
    assert "complaint: top-up not delivered" in section
    assert "cmp-4411" in section
    assert "paid a half-price shop" in section
    assert "FraudGuard allowed this order" in section
    assert "outcome reported" in page.text  # in the history too
    zh = _login(store.client, "reviewer", lang="zh").get(f"/console/cases/{case_id}")
    assert "投诉:充值未到账" in zh.text
    assert "漏判欺诈" in zh.text


def test_the_dashboard_draws_realised_performance_without_script(store: Store) -> None:
    _missed_fraud_case(store)
    store.client.app.state.performance_cache = None  # type: ignore[attr-defined]
    client = _login(store.client, "analyst", lang="en")
    page = client.get("/console/dashboard")
    assert page.status_code == 200
    assert "script-src 'none'" in page.headers["content-security-policy"]
    assert "<script" not in page.text
    section = page.text[page.text.index('class="card performance"') :]
    section = section[: section.index("</section>")]
    assert "Realised performance" in section
    assert "<svg" in section
    bars = re.findall(
        r'<rect class="bar (caught|missed)( faded)?" x="[^"]+" y="[^"]+" width="[^"]+" '
        r'height="([^"]+)"',
        section,
    )
    assert bars
    assert len(bars) % 2 == 0
    assert any(float(height) > 0 for _, _, height in bars)
    # The sample's orders are weeks old but were scored just now: nothing has matured,
    # so the weeks are faded with their immature share, and no total pretends otherwise.
    assert all(faded for _, faded, height in bars if float(height) > 0)
    assert "immature" in section
    assert "No week has matured yet" in section
