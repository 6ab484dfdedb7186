"""A model under change control fitted on other reference data than this deployment loads.

Workers refuse such a model (:meth:`fraudguard.scoring.Scorer.use_model`) unless the
operator allows it, so change control says so from the proposal on: the version carries a
warning, and approving, activating or rolling back to it is refused with the workers'
reason unless the deployment allows mismatches.
"""

from __future__ import annotations

from collections.abc import Callable

from fraudguard.changes.exceptions import ReferenceMismatchError
from fraudguard.exceptions import FieldProblem
from fraudguard.models import ModelManifest, ReferenceMismatch
from fraudguard.models.reference_check import ALLOW_SETTING

__all__ = ["ReferenceCheck", "differing_tables", "mismatch_warning", "refuse_mismatch"]

#: The deployment's check of a manifest against the reference data it loads.
ReferenceCheck = Callable[[ModelManifest], ReferenceMismatch | None]


def differing_tables(mismatch: ReferenceMismatch) -> list[str]:
    """The tables whose files differ between the model's fit and this deployment; empty
    when the same files are named (their contents changed) or the fit did not record them."""
    fitted = mismatch.fitted_overrides
    if fitted is None:
        return []
    serving = mismatch.serving_overrides
    return sorted(t for t in {*fitted, *serving} if fitted.get(t) != serving.get(t))


def _which(mismatch: ReferenceMismatch) -> str:
    tables = differing_tables(mismatch)
    if tables:
        return "tables that differ: " + ", ".join(tables)
    if mismatch.fitted_overrides is None:
        return "the model did not record which tables it was fitted on"
    return "the same files, whose contents changed since the fit"


def mismatch_warning(mismatch: ReferenceMismatch, allowed: bool) -> str:
    """One line for the version's page: what differs and what to do about it."""
    head = f"Fitted on other reference data ({_which(mismatch)}): {mismatch.describe()}"
    if allowed:
        return (
            f"{head}. {ALLOW_SETTING}=true here: it can be approved and is served anyway, "
            "on features computed from other tables than its training's"
        )
    return (
        f"{head}. Approval and activation are refused here: retrain it on this deployment's "
        f"reference data (`fraudguard train` with its FRAUDGUARD_*_PATH settings) and propose "
        f"that model, or set {ALLOW_SETTING}=true if serving it on these tables is intended"
    )


def refuse_mismatch(mismatch: ReferenceMismatch, number: int, what: str) -> ReferenceMismatchError:
    """The error refusing to ``what`` (approve, activate...) model version ``number``: the
    reason every worker would give for not serving it."""
    return ReferenceMismatchError(
        f"model version {number} cannot be {what} here: {mismatch.refusal()}",
        [
            FieldProblem(
                "model_version",
                f"fitted on other reference data ({_which(mismatch)}); {ALLOW_SETTING} is off",
            )
        ],
    )
