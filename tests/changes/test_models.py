"""A model goes live the way a rule pack does: proposed with its evaluation next to the
active model's on the same held-out window, approved by a second person, activated on every
worker, rolled back in one (confirmed) request."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from fraudguard.changes import (
    Activator,
    ChangeControl,
    ChangeKind,
    ChangeState,
    FourEyesError,
    ModelProposalRequest,
    PackCompiler,
)
from fraudguard.exceptions import InputError
from fraudguard.models import LoadedModel, ModelRegistry
from fraudguard.scoring import build_scorer

from .conftest import (
    ADMIN,
    ANALYST,
    APPROVER,
    APPROVER_2,
    decision,
    make_control,
    registry_with_copy,
)

MODEL = ChangeKind.MODEL
SECOND = "hgb-2099-01-01-1"


@pytest.fixture
def registry(tmp_path: Path, model_root: Path) -> ModelRegistry:
    """A copy of the test registry with a second version (the same artifact, renamed)."""
    return registry_with_copy(model_root, tmp_path / "registry", SECOND)


@pytest.fixture
def control(
    database_url: str, compiler: PackCompiler, registry: ModelRegistry
) -> Iterator[ChangeControl]:
    made = make_control(database_url, compiler, registry)
    promoted = registry.promoted()
    assert promoted is not None
    made.seed(MODEL, promoted.version, "the model registry")
    yield made
    made.engine.dispose()


def _propose(control: ChangeControl, frame: pd.DataFrame, version: str = SECOND) -> Any:
    request = ModelProposalRequest(model_version=version, rationale="retrained on November")
    return control.propose_model(request, ANALYST, data=frame)


def test_a_model_goes_live_through_a_second_person(
    control: ChangeControl,
    registry: ModelRegistry,
    sample_frame: pd.DataFrame,
    base_settings: Any,
    loaded_model: LoadedModel,
) -> None:
    first = control.active(MODEL)
    assert first is not None
    scorer = build_scorer(
        base_settings.model_copy(update={"model_registry": registry.root}), model=loaded_model
    )
    worker = Activator(control, scorer, worker="w1")
    worker.start()

    version = _propose(control, sample_frame)
    assert version.state is ChangeState.PROPOSED
    assert version.content_hash == registry.manifest(SECOND).artifact_sha256
    evaluation = version.evidence.model  # type: ignore[union-attr]
    assert evaluation is not None
    assert evaluation.rows >= 200
    assert evaluation.candidate.version == SECOND
    assert evaluation.active is not None
    assert evaluation.active.version == first.label
    # The same artifact under two names: the same figures on the same window.
    assert evaluation.candidate.average_precision == evaluation.active.average_precision
    assert evaluation.candidate.flagged == evaluation.active.flagged

    with pytest.raises(FourEyesError):
        control.approve(
            MODEL, version.number, decision(version), ANALYST.model_copy(update={"role": "admin"})
        )
    approved = control.approve(MODEL, version.number, decision(version), APPROVER)
    active = control.activate(MODEL, version.number, decision(approved), ADMIN)
    assert active.state is ChangeState.ACTIVE
    assert registry.promoted().version == SECOND  # type: ignore[union-attr]
    assert worker.sync() is True
    assert scorer.model_version == SECOND

    old = control.get(MODEL, first.number)
    asked = control.rollback(MODEL, first.number, decision(old, "the retrain drifts"), APPROVER)
    assert asked.rollback is not None
    back = control.rollback(MODEL, first.number, decision(asked, "agreed"), APPROVER_2)
    assert back.state is ChangeState.ACTIVE
    assert worker.sync() is True
    assert scorer.model_version == first.label


@pytest.mark.parametrize("version", ["hgb-1999-01-01-1", "../../etc"])
def test_a_model_not_in_the_registry_is_refused_naming_the_field(
    control: ChangeControl, sample_frame: pd.DataFrame, version: str
) -> None:
    with pytest.raises((InputError, ValueError)) as refused:
        _propose(control, sample_frame, version)
    if isinstance(refused.value, InputError):
        assert refused.value.problems[0].location == "model_version"
    assert [v.number for v in control.versions(MODEL)] == [1]


def test_a_tampered_model_cannot_be_proposed(
    control: ChangeControl, registry: ModelRegistry, sample_frame: pd.DataFrame
) -> None:
    artifact = registry.root / "models" / SECOND / registry.manifest(SECOND).artifact_file
    artifact.write_bytes(artifact.read_bytes() + b"x")
    with pytest.raises(InputError) as refused:
        _propose(control, sample_frame)
    assert "sha256" in refused.value.problems[0].message


def test_the_active_model_is_not_proposed_again(
    control: ChangeControl, registry: ModelRegistry, sample_frame: pd.DataFrame
) -> None:
    active = control.active(MODEL)
    assert active is not None
    with pytest.raises(InputError) as refused:
        _propose(control, sample_frame, active.label)
    assert refused.value.problems[0].location == "model_version"
