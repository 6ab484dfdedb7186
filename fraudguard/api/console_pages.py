"""How every console page is answered, for the review pages (:mod:`fraudguard.api.console`)
and the change control pages (:mod:`fraudguard.api.changes_console`) alike: one template
environment, the session's language, CSRF token and actor in every page, times in the
operator's zone, the security headers, a fresh session's cookie, errors named by field.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import pydantic
from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, PackageLoader, select_autoescape

from fraudguard.api.cases import ACTING_ROLES
from fraudguard.api.console_session import ConsoleSession
from fraudguard.api.console_text import LANGUAGES, LocalTime, labels_for, text_for
from fraudguard.config import Settings

__all__ = ["FormErrors", "clock", "error_page", "form_errors", "redirect", "render", "templates"]

#: What a form got wrong: (field, message) pairs, shown beside the form.
FormErrors = list[tuple[str, str]]

_environment = Environment(
    loader=PackageLoader("fraudguard.api", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
templates = Jinja2Templates(env=_environment)


@lru_cache(maxsize=8)
def _local_time(name: str) -> LocalTime:
    return LocalTime(ZoneInfo(name), name)


def clock(request: Request) -> LocalTime:
    """Times in the configured zone (``FRAUDGUARD_CONSOLE_TIMEZONE``, checked at start)."""
    services = getattr(request.app.state, "services", None)
    if services is None:  # the service is starting: the setting's default
        return _local_time(str(Settings.model_fields["console_timezone"].default))
    return _local_time(services.scorer.settings.console_timezone)


def render(
    request: Request,
    session: ConsoleSession,
    template: str,
    status_code: int = 200,
    **context: Any,
) -> Response:
    """``template`` rendered with the session's words, token and actor and ``context``."""
    response = templates.TemplateResponse(
        request,
        template,
        {
            "t": text_for(session.lang),
            "v": labels_for(session.lang),
            "clock": clock(request),
            "lang": session.lang,
            "languages": LANGUAGES,
            "csrf": session.csrf,
            "actor": session.actor,
            "can_act": session.actor is not None and session.actor.role in ACTING_ROLES,
            "here": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
            **context,
        },
        status_code=status_code,
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; style-src 'self'; script-src 'none'; frame-ancestors 'none'"
    )
    if session.fresh:
        session.store(response, request)
    return response


def error_page(
    request: Request, session: ConsoleSession, message: str, status_code: int
) -> Response:
    """The error page saying ``message`` (in the session's language already)."""
    return render(request, session, "error.html", status_code=status_code, message=message)


def redirect(url: str) -> RedirectResponse:
    """See other: after a form's POST, the page to GET (POST, redirect, GET)."""
    return RedirectResponse(url, status_code=303)


def form_errors(error: pydantic.ValidationError) -> FormErrors:
    """A form's validation errors by field (``form`` where none is named)."""
    return [(".".join(str(p) for p in e["loc"]) or "form", e["msg"]) for e in error.errors()]
