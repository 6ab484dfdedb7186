"""Change control API: ``/v1/rulesets...`` and ``/v1/models...``. Thin: parse, call
:class:`~fraudguard.changes.ChangeControl`, answer.

Roles: ``analyst`` and ``admin`` draft and propose; ``approver`` and ``admin`` approve,
reject and activate, never their own change; anyone of those asks for a rollback, and an
approver or admin other than the asker confirms it. Every decision sends the ``revision``
it read (the ``ETag`` of the version) and a comment; a stale one is a 409 that changes
nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import pydantic
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from fraudguard.api.cases import RequireActor
from fraudguard.api.deps import JsonBody, Services, json_response, parse_body
from fraudguard.api.schemas import ErrorBody
from fraudguard.auth import Role
from fraudguard.cases import Actor
from fraudguard.changes import (
    DECISIONS,
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


@dataclass
class ChangeServices:
    """The app's change control and the activator keeping this worker on what is live."""

    control: ChangeControl
    activator: Activator


def start_change_control(services: Services) -> ChangeServices:
    """Change control over the decision log's database, compiling packs against the
    scorer's features and lists and checking models against its reference data; this
    worker seeds (first start) and runs what is live."""
    scorer = services.scorer
    settings = scorer.settings
    control = ChangeControl(
        services.log.engine,
        PackCompiler(scorer.rules.features, scorer.rules.lists),
        ModelRegistry(settings.resolved_model_registry),
        ChangeSettings.from_settings(settings),
        scorer.reference_mismatch,
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
        for action in DECISIONS
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


def _sync(request: Request, changes: ChangeServices) -> None:
    """Run what is now live on this worker at once (the others follow within their reload
    interval), and say so in the metrics."""
    if changes.activator.sync():
        services = request.app.state.services
        if services is not None:
            services.metrics.set_model(services.scorer.model_version, services.scorer.rules.version)


#: What a 422 calls each decision's body: ``the approval is invalid``.
_DECISION_NOUNS = {
    "approve": "approval",
    "reject": "rejection",
    "activate": "activation",
    "rollback": "rollback",
}


def _decide(
    request: Request,
    changes: ChangeServices,
    kind: ChangeKind,
    number: int,
    body: dict[str, Any],
    actor: Actor,
    action: str,
) -> Response:
    decision = parse_body(DecisionRequest, body, _DECISION_NOUNS[action])
    result = changes.control.decide(action, kind, number, decision, actor)
    if result.state is ChangeState.ACTIVE:
        _sync(request, changes)
    return json_response(result)


def _diff(changes: ChangeServices, kind: ChangeKind, number: int, against: int | None) -> Response:
    if against is None:
        current = changes.control.get(kind, number)
        active = changes.control.active(kind)
        against = current.based_on or (active.number if active is not None else None)
        if against is None or against == number:
            raise InputError(
                "nothing to compare with", [FieldProblem("against", "give a version number")]
            )
    return json_response(changes.control.diff(kind, against, number))


# --- the shape both kinds share ------------------------------------------------------------


@dataclass(frozen=True)
class _Slot:
    """One kind under change control as its routes name it. Rule packs and models share
    their routes' shape (list; active and one version; decide and compare): only the
    path, the names and the words differ."""

    kind: ChangeKind
    plural: str  # the path: ``/v1/<plural>``
    singular: str  # in the route names: ``approve_<singular>``
    missing: str  # the 404 when none is active: ``no <missing> is active yet``
    summaries: dict[str, str]
    docs: dict[str, str]  # the descriptions, where a route has one
    against: str | None = None  # the description of the diff's ``against``


def _route(
    slot: _Slot,
    action: str,
    path: str,
    endpoint: Callable[..., Any],
    method: str = "GET",
    **options: Any,
) -> None:
    endpoint.__doc__ = slot.docs.get(action)
    router.add_api_route(
        f"/v1/{slot.plural}{path}",
        endpoint,
        methods=[method],
        name=f"list_{slot.plural}" if action == "list" else f"{action}_{slot.singular}",
        summary=slot.summaries[action],
        responses=_ERRORS,
        **options,
    )


def _listing(slot: _Slot) -> None:
    def versions(
        changes: ChangesDep,
        _actor: Reader,
        state: Annotated[list[ChangeState] | None, Query(description="Only these states.")] = None,
    ) -> list[ChangeSummary]:
        return changes.control.versions(slot.kind, state or None)

    _route(slot, "list", "", versions, response_model=list[ChangeSummary])


def _reading(slot: _Slot) -> None:
    def active(changes: ChangesDep, _actor: Reader) -> Response:
        version = changes.control.active(slot.kind)
        if version is None:
            raise NotFoundError(f"no {slot.missing} is active yet")
        return json_response(version)

    def detail(number: Number, changes: ChangesDep, _actor: Reader) -> Response:
        return json_response(changes.control.detail(slot.kind, number))

    _route(slot, "active", "/active", active, response_model=ChangeVersion)
    _route(slot, "get", "/{number}", detail, response_model=ChangeDetail)


def _deciding(slot: _Slot) -> None:
    decisions = {
        "approve": _decision(slot.kind, "approve"),
        "reject": _decision(slot.kind, "reject"),
        "activate": _decision(slot.kind, "activate"),
        "rollback": _rollback(slot.kind),
    }
    for action, endpoint in decisions.items():
        path = f"/{{number}}/{action}"
        _route(slot, action, path, endpoint, "POST", response_model=ChangeVersion)
    # A default rather than ``Annotated``: the description is the slot's, known only here.
    against_query = Query(None, ge=1, le=2**31 - 1, description=slot.against)

    def diff(
        number: Number, changes: ChangesDep, _actor: Reader, against: int | None = against_query
    ) -> Response:
        return _diff(changes, slot.kind, number, against)

    _route(slot, "diff", "/{number}/diff", diff, response_model=VersionDiff)


def _decision(kind: ChangeKind, action: str) -> Callable[..., Response]:
    def decide(
        number: Number, body: JsonBody, request: Request, changes: ChangesDep, actor: Decider
    ) -> Response:
        return _decide(request, changes, kind, number, body, actor, action)

    return decide


def _rollback(kind: ChangeKind) -> Callable[..., Response]:
    def rollback(
        number: Number, body: JsonBody, request: Request, changes: ChangesDep, actor: RollbackAsker
    ) -> Response:
        return _decide(request, changes, kind, number, body, actor, "rollback")

    return rollback


_RULESETS = _Slot(
    ChangeKind.RULESET,
    "rulesets",
    "ruleset",
    "rule pack version",
    summaries={
        "list": "List rule pack versions",
        "active": "The live rule pack version",
        "get": "One rule pack version",
        "approve": "Approve a proposal",
        "reject": "Reject a proposal or a rollback request",
        "activate": "Make an approved version live",
        "rollback": "Roll back to an earlier version",
        "diff": "Compare two rule pack versions",
    },
    docs={
        "list": "Newest first.",
        "get": "Content, evidence, shadow results so far, decisions and audit history; ``ETag``.",
        "approve": '``{"revision": 2, "comment": "..."}``; never one\'s own (403 ``four_eyes``).',
        "activate": "Every worker runs it within its reload interval; the one answering, at once.",
        "rollback": "Asks for a rollback to a retired version; the same request by an approver "
        "or admin\nother than the asker makes it live (with FRAUDGUARD_CHANGE_EMERGENCY_ROLLBACK, "
        "an\napprover or admin alone).",
        "diff": "Rule by rule (fields that differ) and line by line (side by side).",
    },
    against="Default: the version it was proposed against.",
)
_MODELS = _Slot(
    ChangeKind.MODEL,
    "models",
    "model",
    "model version",
    summaries={
        "list": "List model versions",
        "active": "The live model",
        "get": "One model version",
        "approve": "Approve a model proposal",
        "reject": "Reject a model proposal or a rollback request",
        "activate": "Make an approved model live",
        "rollback": "Roll back to an earlier model",
        "diff": "Compare two models",
    },
    docs={
        "list": "Models put forward under change control, newest first.",
        "get": "Evidence, decisions and history; ``warnings`` names a model fitted on other "
        "reference data.",
        "approve": "Never one's own (403 ``four_eyes``); a model fitted on other reference "
        "data than this\ndeployment loads is 409 ``reference_mismatch`` unless "
        "FRAUDGUARD_ALLOW_REFERENCE_MISMATCH.",
        "activate": "Every worker serves it within its reload interval; 409 "
        "``reference_mismatch`` as for approval.",
        "diff": "Their manifests side by side.",
    },
)


# --- rule packs (the order of the routes is the order of the API reference) ----------------

_listing(_RULESETS)


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
    request = parse_body(DraftRequest, body, "draft")
    return json_response(changes.control.draft(request, actor), 201)


_reading(_RULESETS)


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
    request = parse_body(EditRequest, body, "edit")
    return json_response(changes.control.edit(number, request, actor))


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
    request = parse_body(ProposeRequest, body, "proposal")
    return json_response(changes.control.propose(number, request, actor))


_deciding(_RULESETS)


# --- models --------------------------------------------------------------------------------


class RegisteredModel(pydantic.BaseModel):
    version: str
    created: str
    rows: int
    average_precision: float | None


_listing(_MODELS)


@router.post(
    "/v1/models",
    response_model=ChangeVersion,
    status_code=201,
    responses=_ERRORS,
    summary="Propose a model",
)
def propose_model(body: JsonBody, changes: ChangesDep, actor: Author) -> Response:
    """``{"model_version": "hgb-2026-12-01-1", "rationale": "..."}``: verified, then scored
    with the active model on the same held-out window. A model fitted on other reference
    data than this deployment loads is proposed with a line in ``warnings``."""
    request = parse_body(ModelProposalRequest, body, "model proposal")
    return json_response(changes.control.propose_model(request, actor), 201)


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


_reading(_MODELS)
_deciding(_MODELS)
