"""Case API: ``/v1/cases`` and ``/v1/audit``. Thin: parse, call :class:`CaseService`, answer.

Roles: ``reviewer`` and ``admin`` act on cases; ``analyst`` reads (queue, cases, dashboard,
exports); ``scorer`` keys get 403. Exports mask personal data for everyone; ``admin`` exports
also carry the keyed hashes (:data:`~fraudguard.cases.PSEUDONYM_COLUMNS`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import AwareDatetime

from fraudguard.api.deps import JsonBody, RequireRole, ServicesDep, json_response, parse_body
from fraudguard.api.feedback import feed_back_disposition
from fraudguard.api.schemas import ErrorBody
from fraudguard.auth import ApiKey, Role
from fraudguard.cases import (
    Actor,
    AssignRequest,
    AuditAction,
    AuditEntry,
    CaseDetail,
    CasePage,
    CaseQuery,
    CaseService,
    Dashboard,
    DispositionRequest,
    TransitionRequest,
    audit_trail,
)

__all__ = [
    "ACTING_ROLES",
    "PSEUDONYM_ROLES",
    "READING_ROLES",
    "CaseActor",
    "CaseReader",
    "CasesDep",
    "actor_id",
    "case_service",
    "router",
]

#: Who may change a case (assign, move, dispose).
ACTING_ROLES = (Role.REVIEWER, Role.ADMIN)
#: Who may read cases, the dashboard, the audit trail and export (approvers weigh rule
#: changes against the cases they flag).
READING_ROLES = (Role.REVIEWER, Role.ANALYST, Role.APPROVER, Role.ADMIN)
#: Roles whose exports include keyed hashes of the phone number, payer, instrument, device.
PSEUDONYM_ROLES = frozenset({Role.ADMIN})

router = APIRouter(tags=["cases"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (401, 403, 404, 409, 413, 415, 422, 503)
}


def actor_id(key: ApiKey) -> str:
    """``reviewer:k_1a2b3c``: the role and the key's id (``fraudguard keys list`` shows it;
    never the key), so the audit trail tells two keys of one role apart."""
    return key.actor_id


class RequireActor(RequireRole):
    """The existing key and role check, plus who the key is for the audit trail."""

    async def __call__(  # type: ignore[override]
        self,
        request: Request,
        services: ServicesDep,
        authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
    ) -> Actor:
        role = await super().__call__(request, services, authorization)
        return Actor(id=actor_id(request.state.api_key), role=role)


CaseReader = Annotated[Actor, Depends(RequireActor(*READING_ROLES))]
CaseActor = Annotated[Actor, Depends(RequireActor(*ACTING_ROLES))]


def case_service(request: Request, services: ServicesDep) -> CaseService:
    """One :class:`CaseService` per app, over the decision log's engine."""
    current: CaseService | None = getattr(request.app.state, "case_service", None)
    if current is None or current.engine is not services.log.engine:
        current = CaseService(
            services.log.engine,
            specs=services.scorer.specs,
            reference=services.scorer.reference,
            rules=services.scorer.rules,
        )
        request.app.state.case_service = current
    return current


CasesDep = Annotated[CaseService, Depends(case_service)]


@router.get("/v1/cases", response_model=CasePage, responses=_ERRORS, summary="List cases")
def list_cases(
    query: Annotated[CaseQuery, Query()], cases: CasesDep, _actor: CaseReader
) -> Response:
    """The queue: filter by status (repeat or comma-separate), family, decision, platform,
    assignee (``none`` = unassigned), opening time and score; sort; page."""
    return json_response(cases.list_cases(query))


@router.get(
    "/v1/cases/export",
    responses={200: {"content": {"text/csv": {}}}, **_ERRORS},
    summary="Export cases (CSV)",
)
def export_cases(
    since: Annotated[AwareDatetime, Query(description="Opened at or after (with offset).")],
    until: Annotated[AwareDatetime, Query(description="Opened before (with offset).")],
    cases: CasesDep,
    actor: CaseReader,
) -> StreamingResponse:
    """Cases opened in ``[since, until)`` as CSV, phone numbers masked; audited."""
    lines: Iterator[str] = cases.export_csv(
        since, until, actor, include_pseudonyms=actor.role in PSEUDONYM_ROLES
    )
    name = f"cases-{since:%Y%m%d}-{until:%Y%m%d}.csv"
    return StreamingResponse(
        lines,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/v1/cases/dashboard", response_model=Dashboard, responses=_ERRORS, summary="Dashboard")
def dashboard(
    cases: CasesDep,
    _actor: CaseReader,
    days: Annotated[int, Query(ge=1, le=366)] = 14,
) -> Response:
    """Flag volume by family per day, the review backlog, false-positive rate per rule."""
    return json_response(cases.dashboard(days))


@router.get("/v1/cases/{case_id}", response_model=CaseDetail, responses=_ERRORS, summary="One case")
def get_case(case_id: str, cases: CasesDep, actor: CaseReader) -> Response:
    """The full decision, why it was flagged, linked cases and the history; audited."""
    return json_response(cases.get_case(case_id, actor))


@router.get(
    "/v1/cases/{case_id}/history",
    response_model=list[AuditEntry],
    responses=_ERRORS,
    summary="A case's audit trail",
)
def case_history(case_id: str, cases: CasesDep, _actor: CaseReader) -> list[AuditEntry]:
    return cases.history(case_id)


@router.post(
    "/v1/cases/{case_id}/assign", response_model=CaseDetail, responses=_ERRORS, summary="Assign"
)
def assign_case(case_id: str, body: JsonBody, cases: CasesDep, actor: CaseActor) -> Response:
    """``{"assignee": "name"}`` or ``{"assignee": null}``; assigning an open case starts
    its review."""
    request = parse_body(AssignRequest, body, "assignment")
    return json_response(cases.assign(case_id, request.assignee, actor))


@router.post(
    "/v1/cases/{case_id}/transition",
    response_model=CaseDetail,
    responses=_ERRORS,
    summary="Change status",
)
def transition_case(case_id: str, body: JsonBody, cases: CasesDep, actor: CaseActor) -> Response:
    """``{"status": "escalated", "comment": "..."}``; 409 for a move the workflow forbids."""
    request = parse_body(TransitionRequest, body, "transition")
    return json_response(cases.transition(case_id, request, actor))


@router.post(
    "/v1/cases/{case_id}/disposition",
    response_model=CaseDetail,
    responses=_ERRORS,
    summary="Record a disposition",
)
def dispose_case(
    case_id: str, body: JsonBody, cases: CasesDep, actor: CaseActor, services: ServicesDep
) -> Response:
    """``{"disposition": "confirmed_fraud", "typology": "fake_discount_scam", "comment":
    "..."}``; ``false_positive`` and ``needs_info`` take no typology. The comment is required.
    A confirmed fraud counts in the feedback features of later orders sharing its platform,
    promotion code, device, instrument or payer."""
    request = parse_body(DispositionRequest, body, "disposition")
    detail = cases.dispose(case_id, request, actor)
    feed_back_disposition(services.scorer, cases.engine, detail)
    return json_response(detail)


@router.get("/v1/audit", response_model=list[AuditEntry], responses=_ERRORS, summary="Audit trail")
def audit(
    cases: CasesDep,
    _actor: CaseReader,
    action: AuditAction | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> list[AuditEntry]:
    """Newest first. Read-only: no endpoint edits or deletes an entry, and the database
    refuses it too."""
    return audit_trail(cases.engine, action=action, limit=limit, offset=offset)
