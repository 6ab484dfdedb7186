"""The review console: server-rendered pages under ``/console`` (Jinja2), in Chinese and
English, over the same :class:`~fraudguard.cases.CaseService` as the case API.

* **Login** with an API key of role ``reviewer``, ``analyst`` or ``admin``. The key is checked
  once and never stored: the signed session cookie holds the role, the audit id of the key
  and a CSRF token (:mod:`fraudguard.api.console_session`).
* **CSRF**: every form carries the session's token; a POST without the matching token is
  refused (403) by its ``CsrfChecked`` / ``CsrfSignedIn`` dependency and changes nothing.
* Pages show phone numbers masked (``189****5678``) and no payer, instrument or device ids.
* Every value is shown in words in the session's language, the code kept as secondary
  text (:class:`~fraudguard.api.console_text.Labels`), and every time in the operator's
  zone, named (``FRAUDGUARD_CONSOLE_TIMEZONE``, :class:`~fraudguard.api.console_text.LocalTime`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import Annotated, Any
from urllib.parse import urlencode

import pydantic
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fraudguard.api.cases import ACTING_ROLES, READING_ROLES, CasesDep, actor_id
from fraudguard.api.console_charts import dashboard_performance
from fraudguard.api.console_pages import clock, error_page, form_errors, redirect, render
from fraudguard.api.console_session import (
    ConsoleRefusal,
    ConsoleSession,
    CsrfChecked,
    CsrfSignedIn,
    SessionDep,
    SignedIn,
    SignInRequiredError,
    forget_session,
)
from fraudguard.api.console_text import LANGUAGES, LocalTime, text_for
from fraudguard.api.deps import ServicesDep
from fraudguard.api.feedback import feed_back_disposition
from fraudguard.cases import (
    Actor,
    AuditAction,
    CaseOrigin,
    CaseQuery,
    CaseSort,
    CaseStatus,
    Disposition,
    DispositionRequest,
    FraudTypology,
    TransitionRequest,
)
from fraudguard.exceptions import FieldProblem, FraudGuardError, InputError
from fraudguard.schema import DecisionOutcome, ReasonFamily

__all__ = ["answer_refusal", "router"]

_STATIC = {"console.css": "text/css; charset=utf-8", "changes.css": "text/css; charset=utf-8"}

router = APIRouter(prefix="/console", include_in_schema=False)


def _login_redirect(request: Request) -> RedirectResponse:
    return redirect("/console/login?" + urlencode({"next": request.url.path}))


def _safe_next(value: str | None) -> str:
    """Only console paths: no open redirect through ``next``."""
    if value and value.startswith("/console") and "//" not in value and "\\" not in value:
        return value
    return "/console/cases"


async def answer_refusal(request: Request, exc: Exception) -> Response:
    """The answer to a :class:`~fraudguard.api.console_session.ConsoleRefusal` raised by a
    console dependency: the login page for a visitor, 403 for a POST without its token
    (registered on the app for that class)."""
    assert isinstance(exc, ConsoleRefusal)  # noqa: S101 - registered for this class only
    if isinstance(exc, SignInRequiredError):
        return _login_redirect(request)
    session = exc.session
    return error_page(request, session, text_for(session.lang)["csrf_refused"], 403)


# --- login -------------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
def console_home() -> Response:
    return redirect("/console/cases")


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, session: SessionDep, next: str | None = None) -> Response:
    return render(request, session, "login.html", next=_safe_next(next), error=None)


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    services: ServicesDep,
    session: CsrfChecked,
    api_key: Annotated[str, Form(max_length=256)] = "",
    next: Annotated[str, Form(max_length=512)] = "/console/cases",
) -> Response:
    t = text_for(session.lang)
    try:
        key = services.keys.authenticate(f"Bearer {api_key.strip()}")
    except FraudGuardError:
        return render(
            request,
            session,
            "login.html",
            401,
            next=_safe_next(next),
            error=t["login_unknown"],
        )
    if key.role not in READING_ROLES:
        return render(
            request,
            session,
            "login.html",
            403,
            next=_safe_next(next),
            error=t["login_role"],
        )
    # A new session (and CSRF token) at login: a token planted before login is useless.
    fresh = session.signed_in(actor_id(key), key.role.value)
    return fresh.store(redirect(_safe_next(next)), request)


@router.post("/logout")
def logout(_session: CsrfChecked) -> Response:
    return forget_session(redirect("/console/login"))


@router.get("/lang/{lang}")
def switch_language(
    lang: str,
    request: Request,
    session: SessionDep,
    next: str | None = None,
) -> Response:
    """Switch the language (not a state change worth a CSRF token: only the display)."""
    if lang in LANGUAGES:
        session.data["lang"] = lang
    return session.store(redirect(_safe_next(next)), request)


@router.get("/static/{name}")
def static(name: str) -> Response:
    media = _STATIC.get(name)
    if media is None:
        return Response("not found", status_code=404, media_type="text/plain")
    from importlib.resources import files

    body = files("fraudguard.api").joinpath("static", name).read_bytes()
    return Response(body, media_type=media, headers={"Cache-Control": "max-age=3600"})


# --- the queue, a case, the dashboard ----------------------------------------------------

#: The queue's filters: every field of the case query but the page size the console fixes.
_QUEUE_FIELDS = frozenset(CaseQuery.model_fields) - {"page_size"}


def _queue_query(
    request: Request, clock: LocalTime
) -> tuple[CaseQuery, dict[str, str], list[tuple[str, str]]]:
    """The queue filters from the query string; bad ones are named and dropped."""
    raw = {k: v for k, v in request.query_params.items() if k in _QUEUE_FIELDS and v.strip()}
    values: dict[str, Any] = dict(raw)
    for key in ("created_from", "created_to"):
        # The form's date inputs give a day: it starts at midnight in the console's zone.
        if key in values and len(values[key]) == 10:
            try:
                day = date.fromisoformat(values[key])
            except ValueError:
                continue  # named as invalid by the query's validation
            values[key] = datetime.combine(day, time(0), tzinfo=clock.zone).isoformat()
    problems: list[tuple[str, str]] = []
    try:
        return CaseQuery.model_validate({**values, "page_size": 50}), raw, problems
    except pydantic.ValidationError as exc:
        bad = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
        problems = [(str(e["loc"][0]) if e["loc"] else "query", e["msg"]) for e in exc.errors()]
        kept = {k: v for k, v in values.items() if k not in bad}
        try:
            query = CaseQuery.model_validate({**kept, "page_size": 50})
        except pydantic.ValidationError:
            query = CaseQuery(page_size=50)
        return query, raw, problems


@router.get("/cases", response_class=HTMLResponse)
def queue(request: Request, _actor: SignedIn, session: SessionDep, cases: CasesDep) -> Response:
    query, raw, problems = _queue_query(request, clock(request))
    page = cases.list_cases(query)
    pages = max(1, -(-page.total // page.page_size))

    def link(**changes: Any) -> str:
        merged = {**raw, **{k: str(v) for k, v in changes.items()}}
        return "/console/cases?" + urlencode({k: v for k, v in merged.items() if v})

    return render(
        request,
        session,
        "queue.html",
        page=page,
        pages=pages,
        filters=raw,
        problems=problems,
        link=link,
        sort=query.sort.value,
        statuses=list(CaseStatus),
        families=list(ReasonFamily),
        decisions=[DecisionOutcome.REVIEW, DecisionOutcome.BLOCK],
        origins=list(CaseOrigin),
        sorts=list(CaseSort),
    )


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(
    case_id: str,
    request: Request,
    actor: SignedIn,
    session: SessionDep,
    cases: CasesDep,
    done: str | None = None,
) -> Response:
    try:
        detail = cases.get_case(case_id, actor)
    except FraudGuardError as error:
        message = text_for(session.lang)["case_missing"]
        return error_page(request, session, message, error.status_code)
    return _case(request, session, detail, notice=done)


def _case(
    request: Request,
    session: ConsoleSession,
    detail: Any,
    *,
    status_code: int = 200,
    errors: list[tuple[str, str]] | None = None,
    notice: str | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    changes = [h for h in detail.history if h.action is not AuditAction.VIEW]
    views = [h for h in detail.history if h.action is AuditAction.VIEW]
    return render(
        request,
        session,
        "case.html",
        status_code,
        case=detail,
        changes=list(reversed(changes)),
        views=list(reversed(views)),
        # Model reasons are there only when the model itself flagged the order.
        model_flagged=any(
            r.source.startswith("model:") and r.source != "model:none"
            for r in detail.decision_body.reasons
        ),
        errors=errors or [],
        notice=notice,
        form=form or {},
        dispositions=list(Disposition),
        typologies=list(FraudTypology),
        now=datetime.now(UTC),
    )


def _act(
    case_id: str,
    request: Request,
    actor: Actor,
    session: ConsoleSession,
    cases: Any,
    action: Callable[[Actor], None],
    notice: str,
    form: dict[str, str] | None = None,
) -> Response:
    """Run one case action from a form (signed in and CSRF checked by the route's
    ``CsrfSignedIn``): the role first, errors shown on the case page with the field named,
    success redirects (POST, redirect, GET)."""
    t = text_for(session.lang)
    if actor.role not in ACTING_ROLES:
        errors = [("role", t["read_only"])]
        status = 403
    else:
        try:
            action(actor)
        except pydantic.ValidationError as exc:
            errors = form_errors(exc)
            status = 422
        except FraudGuardError as error:
            errors = [(p.location, p.message) for p in error.problems] or [("case", error.message)]
            status = error.status_code
        else:
            return redirect(f"/console/cases/{case_id}?done={notice}")
    try:
        detail = cases.get_case(case_id, actor, record_view=False)
    except FraudGuardError:
        return error_page(request, session, t["case_missing"], 404)
    return _case(request, session, detail, status_code=status, errors=errors, form=form)


@router.post("/cases/{case_id}/assign", response_class=HTMLResponse)
def assign(
    case_id: str,
    request: Request,
    actor: CsrfSignedIn,
    session: SessionDep,
    cases: CasesDep,
    unassign: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    def run(actor: Actor) -> None:
        cases.assign(case_id, None if unassign else actor.id, actor)

    return _act(case_id, request, actor, session, cases, run, "assigned")


@router.post("/cases/{case_id}/status", response_class=HTMLResponse)
def change_status(
    case_id: str,
    request: Request,
    actor: CsrfSignedIn,
    session: SessionDep,
    cases: CasesDep,
    status: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    def run(actor: Actor) -> None:
        if not status:  # the placeholder: nothing chosen, nothing changed
            message = text_for(session.lang)["choose_status"]
            raise InputError("no status chosen", [FieldProblem("status", message)])
        cases.transition(case_id, TransitionRequest.model_validate({"status": status}), actor)

    return _act(case_id, request, actor, session, cases, run, "status")


@router.post("/cases/{case_id}/disposition", response_class=HTMLResponse)
def dispose(
    case_id: str,
    request: Request,
    actor: CsrfSignedIn,
    session: SessionDep,
    cases: CasesDep,
    services: ServicesDep,
    disposition: Annotated[str, Form(max_length=32)] = "",
    typology: Annotated[str, Form(max_length=32)] = "",
    comment: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    body: dict[str, Any] = {"disposition": disposition, "comment": comment}
    if typology:
        body["typology"] = typology

    def run(actor: Actor) -> None:
        detail = cases.dispose(case_id, DispositionRequest.model_validate(body), actor)
        feed_back_disposition(services.scorer, cases.engine, detail)

    form = {"disposition": disposition, "typology": typology, "comment": comment}
    return _act(case_id, request, actor, session, cases, run, "disposition", form)


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard_page(
    request: Request, _actor: SignedIn, session: SessionDep, cases: CasesDep
) -> Response:
    board = cases.dashboard(14, clock(request).zone)
    performance, chart = dashboard_performance(request.app.state, cases.engine)
    days = sorted({v.day for v in board.volume})
    families = sorted({v.family for v in board.volume})
    grid = {(v.day, v.family): v.cases for v in board.volume}
    totals = {day: sum(grid.get((day, f), 0) for f in families) for day in days}
    peak = max(totals.values(), default=0) or 1
    return render(
        request,
        session,
        "dashboard.html",
        board=board,
        days=days,
        families=families,
        grid=grid,
        totals=totals,
        peak=peak,
        performance=performance,
        chart=chart,
    )
