"""The review console's pages over HTTP (TestClient): login, sessions, CSRF, masking, both
languages, forms that name the bad field, read-only analysts."""

from __future__ import annotations

import re

from tests.api.conftest import KEYS
from tests.cases.fixtures import Store, auth
from tests.console.pages import csrf as _csrf
from tests.console.pages import login as _login


def test_pages_need_a_login(store: Store) -> None:
    store.client.cookies.clear()
    for path in ("/console/cases", "/console/dashboard", "/console/cases/case-000001"):
        response = store.client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/console/login")


def test_login_refuses_unknown_keys_wrong_roles_and_missing_tokens(store: Store) -> None:
    client = store.client
    client.cookies.clear()
    token = _csrf(client.get("/console/login", headers={"Accept-Language": "en"}).text)
    unknown = client.post("/console/login", data={"api_key": "nope-nope-nope", "csrf": token})
    assert unknown.status_code == 401
    assert "Unknown API key" in unknown.text
    scorer = client.post("/console/login", data={"api_key": KEYS["scorer"], "csrf": token})
    assert scorer.status_code == 403
    assert "cannot use the console" in scorer.text
    forged = client.post("/console/login", data={"api_key": KEYS["reviewer"], "csrf": "x"})
    assert forged.status_code == 403
    assert client.get("/console/cases", follow_redirects=False).status_code == 303


def test_session_cookie_is_signed_httponly_and_samesite(store: Store) -> None:
    client = store.client
    client.cookies.clear()
    page = client.get("/console/login")
    response = client.post(
        "/console/login",
        data={"api_key": KEYS["reviewer"], "csrf": _csrf(page.text)},
        follow_redirects=False,
    )
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Path=/console" in cookie
    assert KEYS["reviewer"] not in cookie
    assert client.get("/console/cases", follow_redirects=False).status_code == 200
    value = client.cookies.get("fg_console")
    assert value is not None
    client.cookies.set("fg_console", value[:-3] + "AAA", path="/console")
    assert client.get("/console/cases", follow_redirects=False).status_code == 303


def test_queue_filters_masks_and_names_bad_filters(store: Store) -> None:
    client = _login(store.client, "reviewer")
    page = client.get("/console/cases", params={"family": "velocity"})
    assert page.status_code == 200
    total = client.get("/v1/cases", params={"family": "velocity"}, headers=auth("reviewer")).json()[
        "total"
    ]
    assert f"{total} cases" in page.text
    assert "suspicious platform" not in page.text.split("<tbody>")[1]
    for number in store.frame["msisdn"].astype(str).unique():
        assert number not in page.text
    assert re.search(r"1\d\d\*\*\*\*\d{4}", page.text)
    bad = client.get("/console/cases", params={"score_min": "abc", "family": "velocity"})
    assert bad.status_code == 200
    assert "score_min" in bad.text
    assert f"{total} cases" in bad.text  # the good filter still applies
    assert bad.headers["content-security-policy"].startswith("default-src 'self'")


def test_case_page_in_both_languages(store: Store) -> None:
    client = _login(store.client, "reviewer", lang="zh")
    case_id = store.take(family="suspicious_platform")
    body = client.get(f"/v1/cases/{case_id}", headers=auth("reviewer")).json()
    reason = body["decision_body"]["reasons"][0]
    chinese = client.get(f"/console/cases/{case_id}")
    assert reason["message_zh"] in chinese.text
    assert "标记原因" in chinese.text
    switched = client.get(
        "/console/lang/en", params={"next": f"/console/cases/{case_id}"}, follow_redirects=True
    )
    assert reason["message"] in switched.text
    assert "Why it was flagged" in switched.text
    evil = client.get(
        "/console/lang/en", params={"next": "https://evil.example/"}, follow_redirects=False
    )
    assert evil.headers["location"] == "/console/cases"


def test_forms_need_the_session_token(store: Store) -> None:
    client = _login(store.client, "reviewer")
    case_id = store.take()
    data = {"disposition": "false_positive", "comment": "fine", "csrf": "forged"}
    refused = client.post(f"/console/cases/{case_id}/disposition", data=data)
    assert refused.status_code == 403
    assert client.get(f"/v1/cases/{case_id}", headers=auth("admin")).json()["disposition"] is None
    token = _csrf(client.get(f"/console/cases/{case_id}").text)
    done = client.post(
        f"/console/cases/{case_id}/disposition",
        data={**data, "csrf": token},
        follow_redirects=False,
    )
    assert done.status_code == 303
    page = client.get(done.headers["location"])
    assert "Disposition recorded." in page.text
    assert "audit-disposition" in page.text


def test_form_errors_name_the_field_and_keep_the_input(store: Store) -> None:
    client = _login(store.client, "reviewer")
    case_id = store.take()
    token = _csrf(client.get(f"/console/cases/{case_id}").text)
    response = client.post(
        f"/console/cases/{case_id}/disposition",
        data={"csrf": token, "disposition": "confirmed_fraud", "comment": "shop is fake"},
    )
    assert response.status_code == 422
    assert "<code>typology</code>" in response.text
    assert "shop is fake" in response.text  # the reviewer's comment is not lost


def test_analysts_get_no_buttons_and_cannot_post(store: Store) -> None:
    client = _login(store.client, "analyst")
    case_id = store.take()
    page = client.get(f"/console/cases/{case_id}")
    assert 'id="record-disposition"' not in page.text
    token = _csrf(page.text)
    response = client.post(f"/console/cases/{case_id}/assign", data={"csrf": token})
    assert response.status_code == 403
    assert client.get(f"/v1/cases/{case_id}", headers=auth("admin")).json()["assignee"] is None


def test_dashboard_page(store: Store) -> None:
    client = _login(store.client, "admin", lang="en")
    page = client.get("/console/dashboard")
    assert page.status_code == 200
    assert "False-positive rate per rule" in page.text
    assert "<meter" in page.text


def test_logout(store: Store) -> None:
    client = _login(store.client, "reviewer")
    token = _csrf(client.get("/console/cases").text)
    client.post("/console/logout", data={"csrf": token})
    assert client.get("/console/cases", follow_redirects=False).status_code == 303
