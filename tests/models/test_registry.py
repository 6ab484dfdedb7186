"""The registry: versioned artifacts with manifests, safe loading, promotion, rollback."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pandas as pd
import pytest
import skops.io

from fraudguard.exceptions import ArtifactIntegrityError, NotFoundError
from fraudguard.models import ArtifactFormat, ModelManifest, ModelRegistry, TrainingResult
from fraudguard.models.registry import _sha256


def test_manifest_records_what_reproduction_needs(
    registry: ModelRegistry, registered: ModelManifest
) -> None:
    assert registered.version.startswith("hgb-")
    artifact = registry.root / "models" / registered.version / registered.artifact_file
    assert registered.artifact_sha256 == _sha256(artifact)
    assert registered.training_data.rows == 20_000
    assert registered.feature_names
    assert registered.feature_schema_hash.startswith("sha256:")
    assert registered.sklearn_version
    assert registered.metrics["model"]["average_precision"] > 0.5


def test_a_loaded_model_scores_like_the_trained_one(
    registry: ModelRegistry,
    registered: ModelManifest,
    trained: TrainingResult,
    history: pd.DataFrame,
) -> None:
    loaded = registry.load(registered.version)
    sample = history.iloc[:2_000]
    np.testing.assert_allclose(
        loaded.pipeline.predict_proba(sample)[:, 1],
        trained.pipeline.predict_proba(sample)[:, 1],
        atol=1e-12,
    )


def test_a_tampered_artifact_is_refused(registry: ModelRegistry, registered: ModelManifest) -> None:
    artifact = registry.root / "models" / registered.version / registered.artifact_file
    data = bytearray(artifact.read_bytes())
    data[len(data) // 2] ^= 0xFF
    artifact.write_bytes(bytes(data))
    with pytest.raises(ArtifactIntegrityError, match="does not match its manifest"):
        registry.load(registered.version)


class Foreign:
    """Stands for any class an attacker could make skops instantiate."""


def test_a_foreign_type_in_an_artifact_is_refused_even_with_a_matching_hash(
    registry: ModelRegistry, registered: ModelManifest
) -> None:
    folder = registry.root / "models" / registered.version
    artifact = folder / registered.artifact_file
    skops.io.dump({"payload": Foreign()}, artifact)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["artifact_sha256"] = _sha256(artifact)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ArtifactIntegrityError, match="outside the trusted list"):
        registry.load(registered.version)


def test_a_joblib_artifact_loads_only_when_its_hash_matches(
    registry: ModelRegistry, trained: TrainingResult
) -> None:
    manifest = registry.register(trained, artifact_format=ArtifactFormat.JOBLIB, native=False)
    assert registry.load(manifest.version).manifest.artifact_format is ArtifactFormat.JOBLIB
    artifact = registry.root / "models" / manifest.version / manifest.artifact_file
    artifact.write_bytes(pickle.dumps("not the model"))
    with pytest.raises(ArtifactIntegrityError):
        registry.load(manifest.version)


def test_promote_rollback_and_list(registry: ModelRegistry, trained: TrainingResult) -> None:
    assert registry.promoted() is None
    first = registry.register(trained, native=False)
    second = registry.register(trained, native=False)
    assert first.version != second.version
    assert [m.version for m in registry.versions()] == [first.version, second.version]
    registry.promote(first.version)
    registry.promote(second.version)
    assert registry.promoted() is not None
    assert registry.promoted().version == second.version  # type: ignore[union-attr]
    assert registry.rollback().version == first.version
    with pytest.raises(NotFoundError):
        registry.rollback()
    with pytest.raises(NotFoundError):
        registry.promote("hgb-1999-01-01-1")


def test_a_refused_artifact_cannot_be_promoted(
    registry: ModelRegistry, registered: ModelManifest
) -> None:
    artifact = registry.root / "models" / registered.version / registered.artifact_file
    artifact.write_bytes(b"garbage")
    with pytest.raises(ArtifactIntegrityError):
        registry.promote(registered.version)
    assert registry.promoted() is None
