"""Change control API: ``/v1/rulesets...`` and ``/v1/models...``. Thin: parse, call
:class:`~fraudguard.changes.ChangeControl`, answer.

Roles: ``analyst`` and ``admin`` draft and propose; ``approver`` and ``admin`` approve,
reject and activate, never their own change; anyone of those asks for a rollback, and an
approver or admin other than the asker confirms it. Every decision sends the ``revision``
it read (the ``ETag`` of the version) and a comment; a stale one is a 409 that changes
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import pydantic
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from fraudguard.api.cases import RequireActor
from fraudguard.api.deps import JsonBody, Services
from fraudguard.api.schemas import ErrorBody
from fraudguard.auth import Role
from fraudguard.cases import Actor
from fraudguard.changes import (
    Activator,
    ChangeControl,
    ChangeDetail,
    ChangeKind,
    ChangeSettings,
    ChangeState,
    ChangeSummary,
    ChangeVersion,
    DecisionRequest,
    DraftRequest,
    EditRequest,
    ModelProposalRequest,
    PackCompiler,
    ProposeRequest,
    VersionDiff,
)
from fraudguard.exceptions import FieldProblem, InputError, NotFoundError, UnavailableError
from fraudguard.models import ModelRegistry
from fraudguard.schema import field_problems

__all__ = [
    "AUTHOR_KEYS",
    "DECIDER_KEYS",
    "READER_KEYS",
    "REQUEST_BODIES",
    "ChangeServices",
    "ChangesDep",
    "router",
    "start_change_control",
]

#: Who may read versions, evidence and diffs.
READER_KEYS = (Role.ANALYST, Role.APPROVER, Role.ADMIN)
#: Who may draft, edit and propose.
AUTHOR_KEYS = (Role.ANALYST, Role.ADMIN)
#: Who may approve, reject and activate (never their own change).
DECIDER_KEYS = (Role.APPROVER, Role.ADMIN)

router = APIRouter(tags=["change control"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (401, 403, 404, 409, 413, 415, 422, 503)
}
Number = Annotated[int, Path(ge=1, le=2**31 - 1, description="The version's number.")]
M = TypeVar("M", bound=pydantic.BaseModel)


@dataclass
class ChangeServices:
    """The app's change control and the activator keeping this worker on what is live."""

    control: ChangeControl
    activator: Activator


def start_change_control(services: Services) -> ChangeServices:
    """Change control over the decision log's database, compiling packs against the
    scorer's features and lists; this worker seeds (first start) and runs what is live."""
    scorer = services.scorer
    settings = scorer.settings
    control = ChangeControl(
        services.log.engine,
        PackCompiler(scorer.rules.features, scorer.rules.lists),
        ModelRegistry(settings.resolved_model_registry),
        ChangeSettings.from_settings(settings),
    )
    activator = Activator(control, scorer)
    activator.start()
    services.metrics.set_model(scorer.model_version, scorer.rules.version)
    return ChangeServices(control, activator)


#: The bodies these routes read themselves (``JsonBody``), for the OpenAPI document.
REQUEST_BODIES: dict[tuple[str, str], type[pydantic.BaseModel]] = {
    ("/v1/rulesets", "post"): DraftRequest,
    ("/v1/rulesets/{number}", "patch"): EditRequest,
    ("/v1/rulesets/{number}/propose", "post"): ProposeRequest,
    ("/v1/models", "post"): ModelProposalRequest,
    **{
        (f"/v1/{kind}/{{number}}/{action}", "post"): DecisionRequest
        for kind in ("rulesets", "models")
        for action in ("approve", "reject", "activate", "rollback")
    },
}


async def get_changes(request: Request) -> ChangeServices:
    changes: ChangeServices | None = getattr(request.app.state, "changes", None)
    if changes is None:
        raise UnavailableError("the service is starting")
    return changes


ChangesDep = Annotated[ChangeServices, Depends(get_changes)]


Reader = Annotated[Actor, Depends(RequireActor(*READER_KEYS))]
Author = Annotated[Actor, Depends(RequireActor(*AUTHOR_KEYS))]
Decider = Annotated[Actor, Depends(RequireActor(*DECIDER_KEYS))]
RollbackAsker = Annotated[Actor, Depends(RequireActor(*READER_KEYS))]


def _parse(model: type[M], body: dict[str, Any], what: str) -> M:
    try:
        return model.model_validate(body)
    except pydantic.ValidationError as exc:
        raise InputError(f"the {what} is invalid", field_problems(exc)) from None


def _json(model: pydantic.BaseModel, status_code: int = 200) -> Response:
    headers = {}
    etag = getattr(model, "etag", None)
    if isinstance(etag, str):
        headers["ETag"] = etag
    return Response(
        model.model_dump_json(),
        status_code=status_code,
        media_type="application/json",
        headers=headers,
    )


def _states(state: list[ChangeState] | None) -> list[ChangeState] | None:
    return state or None


def _sync(request: Request, changes: ChangeServices) -> None:
    """Run what is now live on this worker at once (the others follow within their reload
    interval), and say so in the metrics."""
    if changes.activator.sync():
        services = request.app.state.services
        if services is not None:
            services.metrics.set_model(services.scorer.model_version, services.scorer.rules.version)


def _decide(
    request: Request,
    changes: ChangeServices,
    kind: ChangeKind,
    number: int,
    body: dict[str, Any],
    actor: Actor,
    action: str,
) -> Response:
    decision = _parse(DecisionRequest, body, action)
    handler = {
        "approval": changes.control.approve,
        "rejection": changes.control.reject,
        "activation": changes.control.activate,
        "rollback": changes.control.rollback,
    }[action]
    result = handler(kind, number, decision, actor)
    if result.state is ChangeState.ACTIVE:
        _sync(request, changes)
    return _json(result)


def _diff(changes: ChangeServices, kind: ChangeKind, number: int, against: int | None) -> Response:
    if against is None:
        current = changes.control.get(kind, number)
        active = changes.control.active(kind)
        against = current.based_on or (active.number if active is not None else None)
        if against is None or against == number:
            raise InputError(
                "nothing to compare with", [FieldProblem("against", "give a version number")]
            )
    return _json(changes.control.diff(kind, against, number))


# --- rule packs ----------------------------------------------------------------------------


@router.get(
    "/v1/rulesets",
    response_model=list[ChangeSummary],
    responses=_ERRORS,
    summary="List rule pack versions",
)
def list_rulesets(
    changes: ChangesDep,
    _actor: Reader,
    state: Annotated[list[ChangeState] | None, Query(description="Only these states.")] = None,
) -> list[ChangeSummary]:
    """Newest first."""
    return changes.control.versions(ChangeKind.RULESET, _states(state))


@router.post(
    "/v1/rulesets",
    response_model=ChangeVersion,
    status_code=201,
    responses=_ERRORS,
    summary="Draft a rule pack version",
)
def draft_ruleset(body: JsonBody, changes: ChangesDep, actor: Author) -> Response:
    """``{"content": "<YAML of one rule file>", "rationale": "..."}``: the whole pack as it
    would be live. It must compile: a 422 names rule, line and field otherwise."""
    request = _parse(DraftRequest, body, "draft")
    return _json(changes.control.draft(request, actor), 201)


@router.get(
    "/v1/rulesets/active",
    response_model=ChangeVersion,
    responses=_ERRORS,
    summary="The live rule pack version",
)
def active_ruleset(changes: ChangesDep, _actor: Reader) -> Response:
    active = changes.control.active(ChangeKind.RULESET)
    if active is None:
        raise NotFoundError("no rule pack version is active yet")
    return _json(active)


@router.get(
    "/v1/rulesets/{number}",
    response_model=ChangeDetail,
    responses=_ERRORS,
    summary="One rule pack version",
)
def get_ruleset(number: Number, changes: ChangesDep, _actor: Reader) -> Response:
    """Content, evidence, shadow results so far, decisions and audit history; ``ETag``."""
    return _json(changes.control.detail(ChangeKind.RULESET, number))


@router.get(
    "/v1/rulesets/{number}/content",
    responses={200: {"content": {"application/yaml": {}}}, **_ERRORS},
    summary="Export a rule pack version (YAML)",
)
def ruleset_content(number: Number, changes: ChangesDep, _actor: Reader) -> Response:
    """The pack as one rule file: what `fraudguard rules export` writes."""
    detail = changes.control.detail(ChangeKind.RULESET, number)
    return Response(
        detail.content,
        media_type="application/yaml; charset=utf-8",
        headers={
            "ETag": detail.etag,
            "Content-Disposition": f'attachment; filename="ruleset-{number}.yaml"',
        },
    )


@router.patch(
    "/v1/rulesets/{number}",
    response_model=ChangeVersion,
    responses=_ERRORS,
    summary="Edit a draft",
)
def edit_ruleset(number: Number, body: JsonBody, changes: ChangesDep, actor: Author) -> Response:
    """``{"revision": 1, "content": "...", "rationale": "..."}`` (its author only)."""
    request = _parse(EditRequest, body, "edit")
    return _json(changes.control.edit(number, request, actor))


@router.post(
    "/v1/rulesets/{number}/propose",
    response_model=ChangeVersion,
    responses=_ERRORS,
    summary="Propose a draft with its evidence",
)
def propose_ruleset(number: Number, body: JsonBody, changes: ChangesDep, actor: Author) -> Response:
    """``{"revision": 1, "shadow": false, "days": 30}``: freezes the draft, validates it and
    backtests it on the decision log against the active pack (seconds per million orders);
    ``shadow`` also runs it beside the live pack on live traffic until it is decided."""
    request = _parse(ProposeRequest, body, "proposal")
    return _json(changes.control.propose(number, request, actor))


@router.post(
    "/v1/rulesets/{number}/approve",
    response_model=ChangeVersion,
    responses=_ERRORS,
    summary="Approve a proposal",
)
def approve_ruleset(
    number: Number, body: JsonBody, request: Request, changes: ChangesDep, actor: Decider
) -> Response:
    """``{"revision": 2, "comment": "..."}``; never one's own (403 ``four_eyes``)."""
    return _decide(request, changes, ChangeKind.RULESET, number, body, actor, "approval")


@router.post(
    "/v1/rulesets/{number}/reject",
    response_model=ChangeVersion,
    responses=_ERRORS,
    summary="Reject a proposal or a rollback request",
)
def reject_ruleset(
    number: Number, body: JsonBody, request: Request, changes: ChangesDep, actor: Decider
) -> Response:
    return _decide(request, changes, ChangeKind.RULESET, number, body, actor, "rejection")


@router.post(
    "/v1/rulesets/{number}/activate",
    response_model=ChangeVersion,
    responses=_ERRORS,
    summary="Make an approved version live",
)
def activate_ruleset(
    number: Number, body: JsonBody, request: Request, changes: ChangesDep, actor: Decider
) -> Response:
    """Every worker runs it within its reload interval; the one answering, at once."""
    return _decide(request, changes, ChangeKind.RULESET, number, body, actor, "activation")


@router.post(
    "/v1/rulesets/{number}/rollback",
    response_model=ChangeVersion,
    responses=_ERRORS,
    summary="Roll back to an earlier version",
)
def rollback_ruleset(
    number: Number, body: JsonBody, request: Request, changes: ChangesDep, actor: RollbackAsker
) -> Response:
    """Asks for a rollback to a retired version; the same request by an approver or admin
    other than the asker makes it live (with FRAUDGUARD_CHANGE_EMERGENCY_ROLLBACK, an
    approver or admin alone)."""
    return _decide(request, changes, ChangeKind.RULESET, number, body, actor, "rollback")


@router.get(
    "/v1/rulesets/{number}/diff",
    response_model=VersionDiff,
    responses=_ERRORS,
    summary="Compare two rule pack versions",
)
def diff_ruleset(
    number: Number,
    changes: ChangesDep,
    _actor: Reader,
    against: Annotated[
        int | None,
        Query(ge=1, le=2**31 - 1, description="Default: the version it was proposed against."),
    ] = None,
) -> Response:
    """Rule by rule (fields that differ) and line by line (side by side)."""
    return _diff(changes, ChangeKind.RULESET, number, against)


# --- models --------------------------------------------------------------------------------


class RegisteredModel(pydantic.BaseModel):
    version: str
    created: str
    rows: int
    average_precision: float | None


@router.get(
    "/v1/models",
    response_model=list[ChangeSummary],
    responses=_ERRORS,
    summary="List model versions",
)
def list_models(
    changes: ChangesDep,
    _actor: Reader,
    state: Annotated[list[ChangeState] | None, Query(description="Only these states.")] = None,
) -> list[ChangeSummary]:
    """Models put forward under change control, newest first."""
    return changes.control.versions(ChangeKind.MODEL, _states(state))


@router.post(
    "/v1/models",
    response_model=ChangeVersion,
    status_code=201,
    responses=_ERRORS,
    summary="Propose a model",
)
def propose_model(body: JsonBody, changes: ChangesDep, actor: Author) -> Response:
    """``{"model_version": "hgb-2026-12-01-1", "rationale": "..."}``: verified, then scored
    with the active model on the same held-out window."""
    request = _parse(ModelProposalRequest, body, "model proposal")
    return _json(changes.control.propose_model(request, actor), 201)


@router.get(
    "/v1/models/registry",
    response_model=list[RegisteredModel],
    responses=_ERRORS,
    summary="Models in the registry",
)
async def registered_models(changes: ChangesDep, _actor: Reader) -> list[RegisteredModel]:
    """What can be proposed: every registered model, newest first."""
    registry = changes.control.registry
    if registry is None:
        return []
    manifests = await run_in_threadpool(registry.versions)
    return [
        RegisteredModel(
            version=m.version,
            created=m.created.isoformat(),
            rows=m.training_data.rows,
            average_precision=m.metrics.get("model", {}).get("average_precision"),
        )
        for m in reversed(manifests)
    ]


@router.get(
    "/v1/models/active", response_model=ChangeVersion, responses=_ERRORS, summary="The live model"
)
def active_model(changes: ChangesDep, _actor: Reader) -> Response:
    active = changes.control.active(ChangeKind.MODEL)
    if active is None:
        raise NotFoundError("no model version is active yet")
    return _json(active)


@router.get(
    "/v1/models/{number}",
    response_model=ChangeDetail,
    responses=_ERRORS,
    summary="One model version",
)
def get_model(number: Number, changes: ChangesDep, _actor: Reader) -> Response:
    return _json(changes.control.detail(ChangeKind.MODEL, number))


@router.post(
    "/v1/models/{number}/approve",
    response_model=ChangeVersion,
    responses=_ERRORS,
    summary="Approve a model proposal",
)
def approve_model(
    number: Number, body: JsonBody, request: Request, changes: ChangesDep, actor: Decider
) -> Response:
    return _decide(request, changes, ChangeKind.MODEL, number, body, actor, "approval")


@router.post(
    "/v1/models/{number}/reject",
    response_model=ChangeVersion,
    responses=_ERRORS,
    summary="Reject a model proposal or a rollback request",
)
def reject_model(
    number: Number, body: JsonBody, request: Request, changes: ChangesDep, actor: Decider
) -> Response:
    return _decide(request, changes, ChangeKind.MODEL, number, body, actor, "rejection")


@router.post(
    "/v1/models/{number}/activate",
    response_model=ChangeVersion,
    responses=_ERRORS,
    summary="Make an approved model live",
)
def activate_model(
    number: Number, body: JsonBody, request: Request, changes: ChangesDep, actor: Decider
) -> Response:
    return _decide(request, changes, ChangeKind.MODEL, number, body, actor, "activation")


@router.post(
    "/v1/models/{number}/rollback",
    response_model=ChangeVersion,
    responses=_ERRORS,
    summary="Roll back to an earlier model",
)
def rollback_model(
    number: Number, body: JsonBody, request: Request, changes: ChangesDep, actor: RollbackAsker
) -> Response:
    return _decide(request, changes, ChangeKind.MODEL, number, body, actor, "rollback")


@router.get(
    "/v1/models/{number}/diff",
    response_model=VersionDiff,
    responses=_ERRORS,
    summary="Compare two models",
)
def diff_model(
    number: Number,
    changes: ChangesDep,
    _actor: Reader,
    against: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> Response:
    """Their manifests side by side."""
    return _diff(changes, ChangeKind.MODEL, number, against)
