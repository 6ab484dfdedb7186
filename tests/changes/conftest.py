"""Change control over a real database (SQLite and PostgreSQL): fixtures and helpers."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from fraudguard.cases import Actor
from fraudguard.changes import (
    ChangeControl,
    ChangeKind,
    ChangeSettings,
    ChangeVersion,
    DecisionRequest,
    DraftRequest,
    PackCompiler,
    ProposeRequest,
)
from fraudguard.db import create_db_engine, upgrade_database
from fraudguard.features import feature_specs
from fraudguard.models import ModelRegistry
from fraudguard.reference import ReferenceData
from fraudguard.rules import pack_text
from tests.scoring.conftest import (  # noqa: F401 - fixtures for the modules here
    base_settings,
    loaded_model,
    model_root,
    sample_frame,
)

ANALYST = Actor(id="analyst:key_a1", role="analyst")
ANALYST_2 = Actor(id="analyst:key_a2", role="analyst")
APPROVER = Actor(id="approver:key_p1", role="approver")
APPROVER_2 = Actor(id="approver:key_p2", role="approver")
ADMIN = Actor(id="admin:key_d1", role="admin")
REVIEWER = Actor(id="reviewer:key_r1", role="reviewer")

#: The shipped pack, and one edit of it: card testing caught at 3 cards on a device, not 4.
SHIPPED = pack_text()
EDITED = SHIPPED.replace(
    "vel_device_distinct_instrument_1h >= 4", "vel_device_distinct_instrument_1h >= 3"
)


@pytest.fixture(scope="session")
def compiler(reference: ReferenceData) -> PackCompiler:
    kinds = {name: spec.kind for name, spec in feature_specs(reference).items()}
    return PackCompiler(kinds, reference.lists)


def make_control(
    url: str,
    compiler: PackCompiler,
    registry: ModelRegistry | None = None,
    settings: ChangeSettings | None = None,
) -> ChangeControl:
    engine = create_db_engine(url)
    upgrade_database(engine)
    return ChangeControl(engine, compiler, registry, settings)


@pytest.fixture
def control(database_url: str, compiler: PackCompiler) -> Iterator[ChangeControl]:
    """Change control over an empty database, the shipped pack seeded as version 1."""
    made = make_control(database_url, compiler)
    made.seed(ChangeKind.RULESET, SHIPPED, "the shipped pack")
    yield made
    made.engine.dispose()


def proposed(
    control: ChangeControl,
    content: str = EDITED,
    author: Actor = ANALYST,
    labels: pd.DataFrame | None = None,
    **options: Any,
) -> ChangeVersion:
    """``content`` drafted and proposed by ``author`` (``options``: of the proposal)."""
    draft = control.draft(
        DraftRequest(content=content, rationale="catch card testing earlier"), author
    )
    request = ProposeRequest(revision=draft.revision, **options)
    return control.propose(draft.number, request, author, labels=labels)


def decision(version: ChangeVersion, comment: str = "checked the evidence") -> DecisionRequest:
    return DecisionRequest(revision=version.revision, comment=comment)


def registry_with_copy(source: Path, root: Path, version: str) -> ModelRegistry:
    """A copy of the registry at ``source`` in ``root``, with a second version: the
    promoted model's artifact under the name ``version``."""
    shutil.copytree(source, root)
    first = ModelRegistry(root).promoted()
    assert first is not None
    shutil.copytree(root / "models" / first.version, root / "models" / version)
    manifest = root / "models" / version / "manifest.json"
    manifest.write_text(manifest.read_text("utf-8").replace(first.version, version), "utf-8")
    return ModelRegistry(root)


def live(control: ChangeControl, content: str = EDITED) -> ChangeVersion:
    """A proposal by the analyst, approved and activated by the approver."""
    version = proposed(control, content)
    approved = control.approve(ChangeKind.RULESET, version.number, decision(version), APPROVER)
    return control.activate(ChangeKind.RULESET, version.number, decision(approved), APPROVER)


__all__ = [
    "ADMIN",
    "ANALYST",
    "ANALYST_2",
    "APPROVER",
    "APPROVER_2",
    "EDITED",
    "REVIEWER",
    "SHIPPED",
    "Path",
    "decision",
    "live",
    "make_control",
    "proposed",
    "registry_with_copy",
]
