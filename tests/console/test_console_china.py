"""Issue 21, the console for a reviewer in China: times in the operator's zone, named; every
value a reviewer reads in words in both languages (the code kept as secondary text); what
decided next to the model's fraud probability; no status preselected in the move form; page
views audited but collapsed in the case's history."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from fraudguard.cases import CaseStatus
from fraudguard.config import Settings, get_settings
from fraudguard.exceptions import ConfigError
from tests.cases.fixtures import Store, auth
from tests.console.pages import csrf, facts, login, row, section, visible

SHANGHAI = ZoneInfo("Asia/Shanghai")
NAMED = "(Asia/Shanghai, UTC+08:00)"
CJK = re.compile(r"[\u4e00-\u9fff]")

# --- 1. times in the operator's zone --------------------------------------------------------


def test_console_timezone_is_a_setting_checked_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    field = Settings.model_fields["console_timezone"]
    assert field.default == "Asia/Shanghai"
    assert field.description  # the configuration page is generated from it
    monkeypatch.setenv("FRAUDGUARD_CONSOLE_TIMEZONE", "Mars/Olympus_Mons")
    get_settings.cache_clear()
    try:
        with pytest.raises(ConfigError) as caught:
            get_settings()
    finally:
        get_settings.cache_clear()
    assert [p.location for p in caught.value.problems] == ["FRAUDGUARD_CONSOLE_TIMEZONE"]
    assert "Mars/Olympus_Mons" in caught.value.problems[0].message
    assert Settings(console_timezone="Asia/Urumqi", _env_file=None).console_timezone == (
        "Asia/Urumqi"
    )


def _local(value: str) -> str:
    return f"{datetime.fromisoformat(value).astimezone(SHANGHAI):%Y-%m-%d %H:%M} {NAMED}"


def test_every_page_shows_times_in_the_configured_zone(store: Store) -> None:
    client = login(store.client, "reviewer", "zh")
    # The queue: the first row's opening time.
    first = client.get("/v1/cases", headers=auth("reviewer")).json()["items"][0]
    queue = client.get("/console/cases").text
    cells = row(queue, f'href="/console/cases/{first["case_id"]}"')
    assert _local(first["created_at"]) in [visible(cell) for cell in cells]
    # The case page: event time, opening time, SLA, the history of changes and of views.
    case_id = store.take()
    token = csrf(client.get(f"/console/cases/{case_id}").text)
    client.post(f"/console/cases/{case_id}/assign", data={"csrf": token})
    page = client.get(f"/console/cases/{case_id}").text
    case = client.get(f"/v1/cases/{case_id}/history", headers=auth("reviewer")).json()
    detail = client.get(f"/v1/cases/{case_id}", headers=auth("admin")).json()
    facts = visible(section(page, 'class="card facts"'))
    for key in ("event_time", "created_at", "sla_due"):
        assert _local(detail[key]) in facts, key
    history = visible(section(page, "操作记录"))
    assign = next(h for h in case if h["action"] == "assign")
    view = [h for h in case if h["action"] == "view"][-1]
    assert _local(assign["at"]) in history
    assert _local(view["at"]) in history
    # No time anywhere in UTC only.
    for html in (queue, page):
        assert not re.search(r"\d\d:\d\d UTC\b", visible(html))
    # The dashboard: its days are Shanghai's, and it says so.
    board = client.get("/console/dashboard").text
    assert f"日期按时区 {NAMED[1:-1]}" in visible(board)
    today = datetime.now(SHANGHAI).strftime("%Y-%m-%d")
    assert f'<time datetime="{today}">' in board


# --- 2. every value in words, both languages -------------------------------------------------


def _signals(detail: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for group in detail["signals"] for s in group["signals"]]


#: Category features and the words one of their values must show as, in each language.
CATEGORY_FEATURES = (
    "platform_lookalike_kind",
    "platform_imitated_operator",
    "promotion_url_lookalike_kind",
    "promotion_url_imitated_operator",
    "promo_status",
    "net_ip_category",
    "number_operator",
    "platform_owner",
)
SEVERITIES = {"zh": {"低", "中", "高", "严重"}, "en": {"low", "medium", "high", "critical"}}
BOOLEANS = {"zh": {True: "是", False: "否"}, "en": {True: "yes", False: "no"}}


def _in_words(text: str, lang: str) -> bool:
    """Chinese words in Chinese; readable English (no snake_case) in English."""
    return bool(CJK.search(text)) if lang == "zh" else "_" not in text and bool(text)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_case_pages_show_values_in_words(store: Store, lang: str) -> None:
    client = login(store.client, "reviewer", lang)
    checked: set[str] = set()
    for family in ("suspicious_platform", "suspicious_platform", "unsafe_network", "velocity"):
        case_id = store.take(family=family)
        detail = client.get(f"/v1/cases/{case_id}", headers=auth("admin")).json()
        page = client.get(f"/console/cases/{case_id}").text
        # Severities (critical -> 严重) and the channel (other_web -> 其他网站).
        reasons = section(page, '<ul class="reasons">', "</ul>")
        badges = [visible(b) for b in re.findall(r'<span class="badge">.*?</span>', reasons)]
        assert len(badges) == len(detail["decision_body"]["reasons"])
        assert set(badges) <= SEVERITIES[lang]
        channel = facts(page)["渠道" if lang == "zh" else "Channel"]
        assert _in_words(channel, lang), channel
        assert detail["channel"] in section(page, 'class="card facts"')  # the code stays
        # Every signal's value: booleans yes/no, codes in words, the code kept aside.
        for signal in _signals(detail):
            value = signal["value"]
            rows = re.findall(r"<tr[^>]*>\s*<td>(.*?)</td>\s*<td[^>]*>(.*?)</td>", page, re.S)
            words = signal["description_zh" if lang == "zh" else "description"]
            shown = next(visible(v) for d, v in rows if visible(d) == words)
            if isinstance(value, bool):
                assert shown == BOOLEANS[lang][value], signal
                checked.add("boolean")
            elif signal["name"] in CATEGORY_FEATURES:
                assert _in_words(shown, lang), signal
                assert shown != value
                checked.add(signal["name"])
    assert {"boolean", "platform_lookalike_kind", "promo_status", "net_ip_category"} <= checked


def test_queue_shows_values_in_words(store: Store) -> None:
    client = login(store.client, "reviewer", "zh")
    page = client.get("/console/cases").text
    body = section(page, "<tbody>", "</tbody>")
    for code in ("suspicious_platform", "in_review", "block", "review", "open"):
        assert f">{code}<" not in body
    families = re.findall(r'<td class="family">(.*?)</td>', body)
    assert families
    assert all(CJK.search(visible(f)) for f in families)
    options = section(page, '<select name="family">', "</select>")
    assert "可疑平台" in options
    assert ">suspicious_platform<" not in options


# --- 3. what decided, and what the score is --------------------------------------------------


DECIDERS = {"zh": {"rule": "规则", "model": "模型"}, "en": {"rule": "rule", "model": "model"}}


def _deciders(item: dict[str, Any], lang: str) -> str:
    """``规则 FD-004 + 模型``: what the queue shows for the API's ``decided_by``."""
    return " + ".join(
        DECIDERS[lang][d["kind"]] + ("" if d["kind"] == "model" else f" {d['id']}")
        for d in item["decided_by"]
    )


def test_queue_and_case_page_say_what_decided(store: Store) -> None:
    client = login(store.client, "reviewer", "zh")
    items = client.get("/v1/cases", params={"page_size": 200}, headers=auth("admin")).json()
    # The case: blocked while the model scores it low (0.017 beside 拦截).
    item = next(
        i
        for i in items["items"]
        if i["decision"] == "block" and i["score"] < 0.3 and i["case_id"] not in store._taken
    )
    store.claim(item["case_id"])
    filters = {"decision": "block", "score_max": repr(item["score"]), "sort": "score"}
    queue = client.get("/console/cases", params=filters).text
    header = visible(section(queue, "<thead>", "</thead>"))
    assert "模型欺诈概率" in header
    assert "决策依据" in header
    cells = row(queue, f'href="/console/cases/{item["case_id"]}"')
    decided = visible(cells[2])
    assert decided.startswith("拦截 规则 "), decided  # a rule decided, not the score
    assert decided == f"拦截 {_deciders(item, 'zh')}"
    assert [d["kind"] for d in item["decided_by"]] == ["rule"]
    assert visible(cells[3]) == f"{item['score']:.3f}"
    # The case page: the rule, what it asked for, and the model's probability, named.
    rule = item["decided_by"][0]["id"]
    case = client.get(f"/console/cases/{item['case_id']}").text
    shown = facts(case)
    assert shown["决策依据"] == f"规则 {rule} 要求 拦截"
    assert shown["模型欺诈概率"] == f"{item['score']:.3f} (模型本身未标记此订单)"
    english = login(store.client, "reviewer", "en").get(f"/console/cases/{item['case_id']}")
    shown = facts(english.text)
    assert shown["Decided by"] == f"rule {rule} asks for block"
    assert shown["model fraud probability"] == (
        f"{item['score']:.3f} (the model alone did not flag this order)"
    )


def test_model_decided_cases_name_the_model(store: Store) -> None:
    client = login(store.client, "reviewer", "en")
    items = client.get("/v1/cases", params={"page_size": 200}, headers=auth("admin")).json()
    item = next(
        i
        for i in items["items"]
        if "model" in [d["kind"] for d in i["decided_by"]] and i["case_id"] not in store._taken
    )
    store.claim(item["case_id"])
    case = client.get(f"/console/cases/{item['case_id']}").text
    decided = visible(section(case, '<dd class="decided-by">', "</dd>"))
    assert decided.endswith(f"model asks for {item['decision']}")
    assert "the model alone did not flag" not in case


# --- 4. the move form preselects nothing ---------------------------------------------------


def test_move_to_preselects_nothing_and_an_empty_choice_changes_nothing(store: Store) -> None:
    client = login(store.client, "reviewer", "en")
    case_id = store.take()
    page = client.get(f"/console/cases/{case_id}").text
    select = section(page, '<select name="status"', "</select>")
    assert re.match(r'<select name="status" required>', select)
    options = re.findall(r"<option[^>]*>", select)
    assert options[0] == '<option value="" disabled selected>'
    assert not [o for o in options[1:] if "selected" in o]
    history = client.get(f"/v1/cases/{case_id}/history", headers=auth("admin")).json()
    for data in ({"status": ""}, {}):
        response = client.post(
            f"/console/cases/{case_id}/status", data={"csrf": csrf(page), **data}
        )
        assert response.status_code == 422
        assert "Choose the status to move the case to; nothing was changed." in response.text
        assert "<code>status</code>" in response.text
    after = client.get(f"/v1/cases/{case_id}/history", headers=auth("admin")).json()
    assert after == history
    assert (
        client.get(f"/v1/cases/{case_id}", headers=auth("admin")).json()["status"]
        == CaseStatus.OPEN
    )


# --- 5. views audited, collapsed ---------------------------------------------------------


def test_page_views_are_audited_and_collapsed_apart_from_changes(store: Store) -> None:
    client = login(store.client, "reviewer", "en")
    case_id = store.take()
    token = csrf(client.get(f"/console/cases/{case_id}").text)
    moved = client.post(
        f"/console/cases/{case_id}/status",
        data={"csrf": token, "status": "escalated"},
        follow_redirects=False,
    )
    assert moved.status_code == 303
    for _ in range(4):
        page = client.get(f"/console/cases/{case_id}").text
    trail = client.get(f"/v1/cases/{case_id}/history", headers=auth("admin")).json()
    views = [h for h in trail if h["action"] == "view"]
    assert len(views) == 5  # every view is still audited (the first, then four reloads)
    history = section(page, "History (audit trail)")
    changes = history[: history.index("<details")]
    assert 'class="audit-view"' not in changes
    assert visible(section(changes, 'class="audit-status"', "</tr>")).endswith(
        "status changed status : open → escalated"
    )
    details = section(history, '<details class="views">', "</details>")
    summary = visible(section(details, "<summary>", "</summary>"))
    last = datetime.fromisoformat(views[-1]["at"]).astimezone(SHANGHAI)
    assert summary == (
        f"Viewed 5 times, last by {views[-1]['actor']} at {last:%Y-%m-%d %H:%M} {NAMED}"
    )
    assert details.count('class="audit-view"') == 5
    chinese = login(store.client, "reviewer", "zh").get(f"/console/cases/{case_id}").text
    assert "已查看 6 次" in chinese
