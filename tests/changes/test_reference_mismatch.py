# ruff: noqa: F811 - fixtures imported from test_models
"""Change control and a model fitted on other reference data than the deployment loads: a
warning from the proposal on, and approval, activation and rollback refused with the
workers' reason unless the deployment allows mismatches (SQLite and PostgreSQL).

The deployment's check is given as a function that reports a mismatch for one version, so
these tests need no second training; tests/api/test_changes_reference.py goes through a
real service overriding a table."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fraudguard.changes import (
    ChangeControl,
    ChangeKind,
    ChangeSettings,
    ChangeState,
    PackCompiler,
    ReferenceMismatchError,
)
from fraudguard.changes.reference import ReferenceCheck, differing_tables
from fraudguard.models import ModelManifest, ModelRegistry, ReferenceMismatch

from .conftest import ADMIN, APPROVER, APPROVER_2, decision, make_control

# the fixtures (``control``: change control without the check, as before it existed)
from .test_models import SECOND, _propose, control, registry  # noqa: F401

MODEL = ChangeKind.MODEL
SERVING = {"ip_intel": "/srv/reference/ip_intel.csv"}


def _flagging(*versions: str) -> ReferenceCheck:
    """A deployment overriding ``ip_intel`` on which ``versions`` were not fitted."""

    def check(manifest: ModelManifest) -> ReferenceMismatch | None:
        if manifest.version not in versions:
            return None
        return ReferenceMismatch(manifest.version, "a" * 16, "b" * 16, {}, SERVING)

    return check


Deployment = Callable[..., ChangeControl]


@pytest.fixture
def deployment(
    control: ChangeControl, registry: ModelRegistry, database_url: str, compiler: PackCompiler
) -> Iterator[Deployment]:
    """Change control over ``control``'s database on a deployment where the given versions
    were fitted on other reference data (``allow``: it allows mismatches)."""
    made: list[ChangeControl] = []

    def open_deployment(*flagged: str, allow: bool = False) -> ChangeControl:
        settings = ChangeSettings(allow_reference_mismatch=allow, emergency_rollback=True)
        checking = make_control(database_url, compiler, registry, settings)
        checking.reference = _flagging(*flagged)
        made.append(checking)
        return checking

    yield open_deployment
    for checking in made:
        checking.engine.dispose()


def test_the_proposal_carries_a_warning_and_approval_is_refused(
    deployment: Deployment, sample_frame: pd.DataFrame
) -> None:
    here = deployment(SECOND)
    proposed = _propose(here, sample_frame)
    [warning] = proposed.warnings
    assert "tables that differ: ip_intel" in warning
    assert "Approval and activation are refused here" in warning
    number = proposed.number
    assert here.detail(MODEL, number).warnings == [warning]
    assert here.active(MODEL).warnings == []  # type: ignore[union-attr]
    with pytest.raises(ReferenceMismatchError) as refused:
        here.approve(MODEL, number, decision(proposed), APPROVER)
    assert refused.value.status_code == 409
    assert f"model version {number} cannot be approved here" in refused.value.message
    assert "FRAUDGUARD_ALLOW_REFERENCE_MISMATCH=true" in refused.value.message
    assert here.get(MODEL, number).state is ChangeState.PROPOSED

    allowing = deployment(SECOND, allow=True)
    [allowed] = allowing.get(MODEL, number).warnings
    assert "can be approved and is served anyway" in allowed
    approved = allowing.approve(MODEL, number, decision(proposed), APPROVER)
    assert approved.state is ChangeState.APPROVED


def test_an_approval_from_before_is_not_activated_nor_rolled_back_to(
    control: ChangeControl, deployment: Deployment, sample_frame: pd.DataFrame
) -> None:
    proposed = _propose(control, sample_frame)  # approved before the check existed
    number = proposed.number
    approved = control.approve(MODEL, number, decision(proposed), APPROVER)
    here = deployment(SECOND)
    with pytest.raises(ReferenceMismatchError, match="cannot be made live here"):
        here.activate(MODEL, number, decision(approved), ADMIN)
    assert here.active(MODEL).label != SECOND  # type: ignore[union-attr]

    assert control.activate(MODEL, number, decision(approved), ADMIN).state is ChangeState.ACTIVE
    first = control.versions(MODEL, [ChangeState.RETIRED])[0]
    # A deployment whose tables changed under the first model: every worker would refuse
    # to go back to it, so the rollback (one approver alone, emergency) is refused too.
    moved = deployment(first.label)
    retired = moved.get(MODEL, first.number)
    with pytest.raises(ReferenceMismatchError):
        moved.rollback(MODEL, first.number, decision(retired), APPROVER_2)
    assert moved.active(MODEL).number == number  # type: ignore[union-attr]


@given(
    st.dictionaries(st.sampled_from(["ip_intel", "lists", "prefixes"]), st.sampled_from("ab")),
    st.dictionaries(st.sampled_from(["ip_intel", "lists", "prefixes"]), st.sampled_from("ab")),
)
def test_the_tables_named_are_exactly_those_whose_files_differ(
    fitted: dict[str, str], serving: dict[str, str]
) -> None:
    mismatch = ReferenceMismatch("m", "x", "y", fitted, serving)
    named = differing_tables(mismatch)
    assert named == sorted(named)
    for table in ("ip_intel", "lists", "prefixes"):
        assert (table in named) is (fitted.get(table) != serving.get(table))
    assert differing_tables(ReferenceMismatch("m", "x", "y", None, serving)) == []
