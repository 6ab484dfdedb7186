"""Change control in the console (``/console/changes``): the versions of the rule pack and
the model with their states, a draft form for analysts, each version's evidence as tables
and inline SVG charts, a side-by-side diff, and the decisions (propose, approve, reject,
activate, roll back) as forms.

Every form carries the session's CSRF token and the ``revision`` the page showed, so a
decision made on a page that has gone stale is refused and changes nothing. The service
enforces roles and four eyes (:class:`~fraudguard.changes.ChangeControl`); the pages only
leave out buttons a role cannot use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import pydantic
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from fraudguard.api.changes import ChangesDep, ChangeServices
from fraudguard.api.changes_chart import day_chart, flagged_chart
from fraudguard.api.changes_text import changes_text_for
from fraudguard.api.console_pages import FormErrors, error_page, form_errors, redirect, render
from fraudguard.api.console_session import ConsoleSession, CsrfSignedIn, SessionDep, SignedIn
from fraudguard.cases import Actor
from fraudguard.changes import (
    AUTHOR_ROLES,
    DECIDER_ROLES,
    DECISIONS,
    ChangeDetail,
    ChangeKind,
    ChangeState,
    DecisionRequest,
    DiffRow,
    DraftRequest,
    ModelProposalRequest,
    ProposeRequest,
)
from fraudguard.exceptions import FieldProblem, FraudGuardError, InputError

__all__ = ["CONSOLE_ROLES", "router"]

#: Who may open the change pages.
CONSOLE_ROLES = frozenset({"analyst", "approver", "admin"})
_KINDS = {"rulesets": ChangeKind.RULESET, "models": ChangeKind.MODEL}
_PATHS = {kind: path for path, kind in _KINDS.items()}
_ACTIONS = ("propose", *DECISIONS)

router = APIRouter(prefix="/console/changes", include_in_schema=False)


def _render(
    request: Request,
    session: ConsoleSession,
    template: str,
    status_code: int = 200,
    **context: Any,
) -> Response:
    c = changes_text_for(session.lang)
    return render(request, session, template, status_code, c=c, kind_path=_PATHS, **context)


def _refused(request: Request, session: ConsoleSession, message_key: str, status: int) -> Response:
    return error_page(request, session, changes_text_for(session.lang)[message_key], status)


def _errors(error: Exception) -> tuple[FormErrors, int]:
    if isinstance(error, pydantic.ValidationError):
        return form_errors(error), 422
    assert isinstance(error, FraudGuardError)  # noqa: S101 - the two kinds caught
    return [("", error.message), *((p.location, p.message) for p in error.problems)], (
        error.status_code
    )


# --- the list ------------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
def changes_page(
    request: Request, actor: SignedIn, session: SessionDep, changes: ChangesDep
) -> Response:
    if actor.role not in CONSOLE_ROLES:
        return _refused(request, session, "no_role", 403)
    control = changes.control
    return _render(
        request,
        session,
        "changes_list.html",
        rulesets=control.versions(ChangeKind.RULESET),
        models=control.versions(ChangeKind.MODEL),
        can_author=actor.role in AUTHOR_ROLES,
    )


# --- a new rule pack draft, a model proposal -----------------------------------------------


@router.get("/rulesets/new", response_class=HTMLResponse)
def new_draft_page(
    request: Request, actor: SignedIn, session: SessionDep, changes: ChangesDep
) -> Response:
    if actor.role not in AUTHOR_ROLES:
        return _refused(request, session, "no_role", 403)
    active = changes.control.active(ChangeKind.RULESET)
    content = "" if active is None else changes.control.detail(active.kind, active.number).content
    return _render(
        request, session, "changes_new.html", form={"content": content, "rationale": ""}, errors=[]
    )


@router.post("/rulesets/new", response_class=HTMLResponse)
def new_draft(
    request: Request,
    actor: CsrfSignedIn,
    session: SessionDep,
    changes: ChangesDep,
    content: Annotated[str, Form(max_length=600_000)] = "",
    rationale: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    form = {"content": content, "rationale": rationale}
    try:
        request_body = DraftRequest.model_validate({"content": content, "rationale": rationale})
        created = changes.control.draft(request_body, actor)
    except (pydantic.ValidationError, FraudGuardError) as error:
        errors, status = _errors(error)
        return _render(request, session, "changes_new.html", status, form=form, errors=errors)
    return redirect(f"/console/changes/rulesets/{created.number}?done=draft")


@router.get("/models/new", response_class=HTMLResponse)
def new_model_page(
    request: Request, actor: SignedIn, session: SessionDep, changes: ChangesDep
) -> Response:
    if actor.role not in AUTHOR_ROLES:
        return _refused(request, session, "no_role", 403)
    return _model_form(request, session, changes, {}, [], 200)


def _model_form(
    request: Request,
    session: ConsoleSession,
    changes: ChangeServices,
    form: dict[str, str],
    errors: FormErrors,
    status: int,
) -> Response:
    registry = changes.control.registry
    versions = [] if registry is None else [m.version for m in reversed(registry.versions())]
    return _render(
        request,
        session,
        "changes_model_new.html",
        status,
        versions=versions,
        form=form,
        errors=errors,
    )


@router.post("/models/new", response_class=HTMLResponse)
def new_model(
    request: Request,
    actor: CsrfSignedIn,
    session: SessionDep,
    changes: ChangesDep,
    model_version: Annotated[str, Form(max_length=64)] = "",
    rationale: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    form = {"model_version": model_version, "rationale": rationale}
    try:
        body = ModelProposalRequest.model_validate(form)
        created = changes.control.propose_model(body, actor)
    except (pydantic.ValidationError, FraudGuardError) as error:
        errors, status = _errors(error)
        return _model_form(request, session, changes, form, errors, status)
    return redirect(f"/console/changes/models/{created.number}?done=propose")


# --- two versions side by side -------------------------------------------------------------


@router.get("/{kind_path}/diff", response_class=HTMLResponse)
def diff_page(
    kind_path: str,
    request: Request,
    actor: SignedIn,
    session: SessionDep,
    changes: ChangesDep,
    a: str = "",
    b: str = "",
) -> Response:
    kind = _KINDS.get(kind_path)
    if actor.role not in CONSOLE_ROLES:
        return _refused(request, session, "no_role", 403)
    if kind is None or not a.isdigit() or not b.isdigit() or len(a) > 9 or len(b) > 9:
        return _refused(request, session, "missing", 404)
    try:
        diff = changes.control.diff(kind, int(a), int(b))
    except FraudGuardError as error:
        return _refused(request, session, "missing", error.status_code)
    return _render(request, session, "changes_diff.html", diff=diff, lines=_collapse(diff.lines))


#: Unchanged lines kept around each change on the diff page.
_CONTEXT = 3


def _collapse(rows: list[DiffRow]) -> list[DiffRow]:
    """The side-by-side rows with long unchanged stretches folded into one ``skip`` row
    (its ``left`` says how many lines it stands for)."""
    keep = [False] * len(rows)
    for i, row in enumerate(rows):
        if row.tag != "equal":
            for j in range(max(0, i - _CONTEXT), min(len(rows), i + _CONTEXT + 1)):
                keep[j] = True
    shown: list[DiffRow] = []
    skipped = 0
    for row, kept in zip(rows, keep, strict=True):
        if kept:
            if skipped:
                shown.append(_skip(skipped))
                skipped = 0
            shown.append(row)
        else:
            skipped += 1
    if skipped:
        shown.append(_skip(skipped))
    return shown


def _skip(count: int) -> DiffRow:
    return DiffRow(tag="skip", left_no=None, left=str(count), right_no=None, right=None)


# --- one version ---------------------------------------------------------------------------


def _version_page(
    request: Request,
    session: ConsoleSession,
    actor: Actor,
    detail: ChangeDetail,
    *,
    status_code: int = 200,
    errors: FormErrors | None = None,
    notice: str | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    c = changes_text_for(session.lang)
    backtest = detail.evidence.backtest if detail.evidence else None
    shadow = detail.shadow_results
    charts: dict[str, Any] = {}
    if backtest is not None:
        charts["days"] = day_chart(backtest.days, c.before, c.after)
        charts["mix"] = flagged_chart(
            [
                (c.before, backtest.before.review, backtest.before.block),
                (c.after, backtest.after.review, backtest.after.block),
            ]
        )
    if shadow is not None and shadow.orders:
        charts["shadow"] = flagged_chart(
            [(c.before, shadow.flagged_before, 0), (c.after, shadow.flagged_after, 0)]
        )
    return _render(
        request,
        session,
        "changes_version.html",
        status_code,
        version=detail,
        charts=charts,
        errors=errors or [],
        notice=notice,
        form=form or {},
        is_author=actor.id == detail.author,
        can_author=actor.role in AUTHOR_ROLES,
        can_decide=actor.role in DECIDER_ROLES,
        states=ChangeState,
    )


def _version(
    kind_path: str, number: str, changes: ChangeServices
) -> tuple[ChangeKind, ChangeDetail] | None:
    kind = _KINDS.get(kind_path)
    if kind is None or not number.isdigit() or len(number) > 9:
        return None
    try:
        return kind, changes.control.detail(kind, int(number))
    except FraudGuardError:
        return None


@router.get("/{kind_path}/{number}", response_class=HTMLResponse)
def version_page(
    kind_path: str,
    number: str,
    request: Request,
    actor: SignedIn,
    session: SessionDep,
    changes: ChangesDep,
    done: str | None = None,
) -> Response:
    if actor.role not in CONSOLE_ROLES:
        return _refused(request, session, "no_role", 403)
    found = _version(kind_path, number, changes)
    if found is None:
        return _refused(request, session, "missing", 404)
    notice = done if done in (*_ACTIONS, "draft") else None
    return _version_page(request, session, actor, found[1], notice=notice)


@router.post("/{kind_path}/{number}/{action}", response_class=HTMLResponse)
def act(
    kind_path: str,
    number: str,
    action: str,
    request: Request,
    actor: CsrfSignedIn,
    session: SessionDep,
    changes: ChangesDep,
    revision: Annotated[str, Form(max_length=12)] = "",
    comment: Annotated[str, Form(max_length=4000)] = "",
    shadow: Annotated[str, Form(max_length=8)] = "",
    days: Annotated[str, Form(max_length=4)] = "",
) -> Response:
    """One decision from a form (signed in and CSRF checked): errors are shown on the
    version's page with the field named; success redirects (POST, redirect, GET)."""
    if actor.role not in CONSOLE_ROLES:
        return _refused(request, session, "no_role", 403)
    found = _version(kind_path, number, changes)
    if found is None or action not in _ACTIONS:
        return _refused(request, session, "missing", 404)
    kind, detail = found
    form = {"comment": comment, "days": days, "shadow": shadow}
    try:
        run = _action(changes, kind, detail.number, action, revision, comment, shadow, days)
        result = run(actor)
    except (pydantic.ValidationError, FraudGuardError) as error:
        errors, status = _errors(error)
        fresh = changes.control.detail(kind, detail.number)
        return _version_page(
            request, session, actor, fresh, status_code=status, errors=errors, form=form
        )
    if result.state is ChangeState.ACTIVE:
        changes.activator.sync()  # this worker at once; the others within their interval
    return redirect(f"/console/changes/{kind_path}/{detail.number}?done={action}")


def _action(
    changes: ChangeServices,
    kind: ChangeKind,
    number: int,
    action: str,
    revision: str,
    comment: str,
    shadow: str,
    days: str,
) -> Callable[[Actor], Any]:
    if not revision.isdigit():
        raise InputError("reload the page", [FieldProblem("revision", "missing from the form")])
    control = changes.control
    if action == "propose":
        if kind is not ChangeKind.RULESET:
            raise InputError("models are proposed with their version", [])
        body: dict[str, Any] = {"revision": int(revision), "shadow": bool(shadow)}
        if days.strip():
            body["days"] = days.strip()
        proposal = ProposeRequest.model_validate(body)
        return lambda actor: control.propose(number, proposal, actor)
    decision = DecisionRequest.model_validate({"revision": int(revision), "comment": comment})
    return lambda actor: control.decide(action, kind, number, decision, actor)
