"""Helpers for the console's page tests: log in, read a form's CSRF token, read what a
page shows."""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient

from tests.api.conftest import KEYS


def csrf(page: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match is not None
    return match.group(1)


def login(client: TestClient, role: str, lang: str = "en") -> TestClient:
    client.cookies.clear()
    page = client.get("/console/login", headers={"Accept-Language": lang})
    response = client.post(
        "/console/login",
        data={"api_key": KEYS[role], "csrf": csrf(page.text), "next": "/console/cases"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return client


def visible(fragment: str) -> str:
    """The text a reader sees in ``fragment``: no tags, no attributes (titles), entities
    decoded, the codes kept as secondary text (``<small class="code">``) left out."""
    fragment = re.sub(r'<small class="code">.*?</small>', "", fragment, flags=re.S)
    fragment = re.sub(r"<[^>]+>", " ", fragment)
    return re.sub(r"\s+", " ", html.unescape(fragment)).strip()


def section(page: str, start: str, end: str = "</section>") -> str:
    """The HTML from the first ``start`` to the next ``end``."""
    at = page.index(start)
    return page[at : page.index(end, at)]


def facts(page: str) -> dict[str, str]:
    """A page's ``<dt>``/``<dd>`` pairs as the reader sees them: label -> value."""
    pairs = re.findall(r"<dt[^>]*>(.*?)</dt>\s*<dd[^>]*>(.*?)</dd>", page, re.S)
    return {visible(dt): visible(dd) for dt, dd in pairs}


def row(page: str, marker: str) -> list[str]:
    """The cells (HTML) of the table row holding ``marker``."""
    at = page.index(marker)
    start = page.rindex("<tr", 0, at)
    html = page[start : page.index("</tr>", at)]
    return re.findall(r"<td[^>]*>(.*?)</td>", html, re.S)
