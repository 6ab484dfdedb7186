"""Response bodies of the service endpoints (the scoring bodies are in fraudguard.schema)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

__all__ = ["ERROR_RESPONSES", "ErrorBody", "ProblemBody", "ReadyBody"]


class ProblemBody(BaseModel):
    field: str
    message: str


class ErrorBody(BaseModel):
    """Every 4xx/5xx: a machine code, a message, and the fields at fault (never values)."""

    error: str
    message: str
    problems: list[ProblemBody] = []


class ReadyBody(BaseModel):
    status: str
    degraded: bool
    model_version: str | None
    ruleset_version: str
    rules: int
    store: str
    database: str
    failure_policy: str
    #: The version (sha256) of the reference files this worker loaded.
    reference_version: str | None = None
    #: Why the service is not ready, and the fix (status ``not_ready``).
    reason: str | None = None
    #: What an operator should know although the service is ready (e.g. a model served on
    #: other reference data than it was fitted on).
    warnings: list[str] = Field(default_factory=list)


#: The error answers the service routes document (``responses=`` of a route).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (401, 403, 409, 413, 415, 422, 429, 503)
}
