"""Change control over real HTTP, two workers (two app instances) on one database (SQLite
and PostgreSQL): a rule change goes from a draft to active on both only through a second
person's approval, a rollback restores the earlier decisions for the same orders, and bad
requests get a clear error and change nothing."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from fraudguard.api import create_app
from fraudguard.rules import pack_text
from tests.api.conftest import auth, running, service_settings
from tests.scoring.conftest import event_body

pytestmark = [pytest.mark.integration, pytest.mark.slow]

#: A rule the shipped pack lacks: it blocks top-ups of 300 yuan or more.
NEW_RULE = """
  - id: PR-099
    title: Large top-up under test
    family: payment_risk
    severity: high
    condition: amount >= 300
    action: block
    reason_code: PAYMENT_RISK.LARGE_UNDER_TEST
    message: Large top-up blocked by the change-control test rule
    message_zh: 变更管理测试规则拦截的大额充值
    rationale: Added by the change-control tests so an approved change visibly decides.
"""
CHANGED = pack_text().rstrip("\n") + "\n" + NEW_RULE


@pytest.fixture
def workers(
    tmp_path: Path, model_root: Path, database_url: str
) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    """Two service instances over one database, each polling it every 0.2 s."""
    with ExitStack() as stack:
        clients = []
        for name in ("a", "b"):
            settings = service_settings(
                tmp_path / name,
                model_root,
                database_url=database_url,
                reload_interval_s=0.2,
                rate_limit="",
            )
            base = stack.enter_context(running(create_app(settings)))
            clients.append(stack.enter_context(httpx.Client(base_url=base, timeout=120)))
        yield clients[0], clients[1]


_ORDERS = iter(range(10**9))


def _order(client: httpx.Client, amount: float = 300.0) -> dict[str, Any]:
    """A plain order (its own number, payer, card, device: no velocity from the others)."""
    n = next(_ORDERS)
    body = event_body(
        transaction_id=f"chg-{n}-{time.monotonic_ns()}",
        msisdn=f"139{n:08d}",
        amount=amount,
        payment={"instrument_id": f"tok-c{n}", "payer_id": f"u-c{n}"},
        device={"id": f"dev-c{n}"},
    )
    response = client.post("/v1/score", json=body, headers=auth("scorer"))
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def _until(condition: Callable[[], bool], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not within {seconds} s: {what}"
        time.sleep(0.1)


def _same(decision: dict[str, Any], other: dict[str, Any]) -> bool:
    keys = ("decision", "reasons", "ruleset_version", "model_version")
    return all(decision[k] == other[k] for k in keys)


def test_a_change_reaches_both_workers_only_through_a_second_person(
    workers: tuple[httpx.Client, httpx.Client],
) -> None:
    a, b = workers
    original = [_order(client) for client in (a, b)]
    assert original[0]["decision"] == "allow"
    assert _same(original[0], original[1])
    seeded = a.get("/v1/rulesets/active", headers=auth("analyst")).json()
    assert seeded["content_hash"] == original[0]["ruleset_version"]
    assert seeded["seeded"] is True

    draft = a.post(
        "/v1/rulesets",
        json={"content": CHANGED, "rationale": "block large top-ups while we investigate"},
        headers=auth("analyst"),
    )
    assert draft.status_code == 201, draft.text
    number = draft.json()["number"]
    assert draft.headers["etag"] == f'"ruleset-{number}-1"'
    proposal = b.post(
        f"/v1/rulesets/{number}/propose", json={"revision": 1}, headers=auth("analyst")
    )
    assert proposal.status_code == 200, proposal.text
    evidence = proposal.json()["evidence"]
    assert evidence["validation"]["ok"] is True
    assert evidence["backtest"]["orders"] >= 2  # the two orders just logged
    rules = {r["rule_id"]: r for r in evidence["backtest"]["rules"]}
    assert rules["PR-099"]["change"] == "added"
    assert evidence["backtest"]["after"]["block"] > evidence["backtest"]["before"]["block"]

    # Nobody approves alone: not the analyst, not with a stale revision.
    own = a.post(
        f"/v1/rulesets/{number}/approve",
        json={"revision": 2, "comment": "approving my own"},
        headers=auth("analyst"),
    )
    assert own.status_code == 403
    stale = a.post(
        f"/v1/rulesets/{number}/approve",
        json={"revision": 1, "comment": "read before it was proposed"},
        headers=auth("approver"),
    )
    assert stale.status_code == 409
    assert stale.json()["error"] == "stale_revision"
    assert stale.json()["problems"][0]["field"] == "revision"
    early = b.post(
        f"/v1/rulesets/{number}/activate",
        json={"revision": 2, "comment": "straight to live"},
        headers=auth("admin"),
    )
    assert early.status_code == 409
    assert early.json()["error"] == "invalid_state"
    assert _same(_order(b), original[0])  # still the old pack everywhere

    approved = a.post(
        f"/v1/rulesets/{number}/approve",
        json={"revision": 2, "comment": "the backtest flags only large orders"},
        headers=auth("approver"),
    )
    assert approved.status_code == 200, approved.text
    assert _same(_order(a), original[0])  # approved is not live
    active = b.post(
        f"/v1/rulesets/{number}/activate",
        json={"revision": 3, "comment": "go live on every worker"},
        headers=auth("admin"),
    )
    assert active.status_code == 200, active.text
    new_hash = active.json()["content_hash"]
    assert _order(b)["ruleset_version"] == new_hash  # the answering worker at once
    _until(lambda: _order(a)["ruleset_version"] == new_hash, "worker a runs the new pack")
    for client in (a, b):
        changed = _order(client)
        assert changed["decision"] == "block"
        assert "rule:PR-099" in [r["source"] for r in changed["reasons"]]
        assert changed["ruleset_version"] == new_hash

    # Rollback: one request, confirmed by a second person; then every worker decides the
    # same orders as before the change.
    seeded_now = a.get(f"/v1/rulesets/{seeded['number']}", headers=auth("approver")).json()
    assert seeded_now["state"] == "retired"
    asked = a.post(
        f"/v1/rulesets/{seeded['number']}/rollback",
        json={"revision": seeded_now["revision"], "comment": "too many large orders blocked"},
        headers=auth("approver"),
    )
    assert asked.status_code == 200, asked.text
    assert asked.json()["rollback"]["requested_by"].startswith("approver:")
    alone = b.post(
        f"/v1/rulesets/{seeded['number']}/rollback",
        json={"revision": asked.json()["revision"], "comment": "confirming my own"},
        headers=auth("approver"),
    )
    assert alone.status_code == 403
    assert alone.json()["error"] == "four_eyes"
    assert _order(a)["ruleset_version"] == new_hash
    confirmed = b.post(
        f"/v1/rulesets/{seeded['number']}/rollback",
        json={"revision": asked.json()["revision"], "comment": "agreed: roll back"},
        headers=auth("admin"),
    )
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["state"] == "active"
    old_hash = seeded["content_hash"]
    _until(
        lambda: all(_order(c)["ruleset_version"] == old_hash for c in (a, b)),
        "both workers run the earlier pack again",
    )
    for client in (a, b):
        assert _same(_order(client), original[0])

    audit = a.get("/v1/audit", params={"limit": 50}, headers=auth("admin")).json()
    actions = [e["action"] for e in audit if e["details"].get("kind") == "ruleset"]
    assert actions[:3] == ["change_rollback", "change_rollback", "change_activate"]
    detail = a.get(f"/v1/rulesets/{number}", headers=auth("analyst")).json()
    assert [h["action"] for h in detail["history"]] == [
        "change_draft",
        "change_propose",
        "change_approve",
        "change_activate",
    ]
    assert detail["state"] == "retired"


def test_bad_requests_get_a_clear_error_and_change_nothing(
    workers: tuple[httpx.Client, httpx.Client],
) -> None:
    a, _ = workers

    def versions() -> list[Any]:
        listed: list[Any] = a.get("/v1/rulesets", headers=auth("admin")).json()
        return listed

    before = versions()
    broken = pack_text().replace("condition: net_ip_tor", "condition: net_ip_torr")
    typo_line = 1 + broken.splitlines().index("    condition: net_ip_torr")
    cases = [
        (
            {"content": broken, "rationale": "a typo in a condition"},
            422,
            f"content:{typo_line}: UN-001",
        ),
        ({"content": CHANGED, "rationale": "x"}, 422, "rationale"),
        ({"content": CHANGED, "rationale": "a field too many", "extra": 1}, 422, "extra"),
        ({"rationale": "no content at all"}, 422, "content"),
    ]
    for body, status, field in cases:
        response = a.post("/v1/rulesets", json=body, headers=auth("analyst"))
        assert response.status_code == status, response.text
        assert any(p["field"].startswith(field) for p in response.json()["problems"]), (
            response.json()
        )
    assert (
        a.post("/v1/rulesets", json={"content": CHANGED}, headers=auth("reviewer")).status_code
        == 403
    )
    assert (
        a.post(
            "/v1/rulesets",
            content=b"{",
            headers={**auth("analyst"), "content-type": "application/json"},
        ).status_code
        == 422
    )
    assert a.get("/v1/rulesets/0", headers=auth("admin")).status_code == 422
    assert a.get("/v1/rulesets/999", headers=auth("admin")).status_code == 404
    assert a.get("/v1/rulesets/1", headers=auth("scorer")).status_code == 403
    assert versions() == before

    draft = a.post(
        "/v1/rulesets",
        json={"content": CHANGED, "rationale": "a race to go live"},
        headers=auth("analyst"),
    ).json()
    typo = a.post(
        f"/v1/rulesets/{draft['number']}/propose", json={"revison": 1}, headers=auth("analyst")
    )
    assert typo.status_code == 422
    assert {p["field"] for p in typo.json()["problems"]} == {"revision", "revison"}
    a.post(f"/v1/rulesets/{draft['number']}/propose", json={"revision": 1}, headers=auth("analyst"))
    a.post(
        f"/v1/rulesets/{draft['number']}/approve",
        json={"revision": 2, "comment": "fine by me"},
        headers=auth("approver"),
    )
    no_comment = a.post(
        f"/v1/rulesets/{draft['number']}/activate", json={"revision": 3}, headers=auth("admin")
    )
    assert no_comment.status_code == 422
    assert no_comment.json()["problems"][0]["field"] == "comment"

    # Two activations of the same version at once, on two workers: one wins.
    barrier = threading.Barrier(2)
    answers: list[httpx.Response] = []

    def activate(client: httpx.Client, role: str) -> None:
        barrier.wait()
        answers.append(
            client.post(
                f"/v1/rulesets/{draft['number']}/activate",
                json={"revision": 3, "comment": f"activated by the {role}"},
                headers=auth(role),
            )
        )

    threads = [
        threading.Thread(target=activate, args=(client, role))
        for client, role in zip(workers, ("approver", "admin"), strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(r.status_code for r in answers) == [200, 409], [r.text for r in answers]
    refused = next(r for r in answers if r.status_code == 409)
    assert refused.json()["error"] in ("stale_revision", "invalid_state", "activation_conflict")
    detail = a.get(f"/v1/rulesets/{draft['number']}", headers=auth("admin")).json()
    assert [h["action"] for h in detail["history"]].count("change_activate") == 1
