"""The trees compiled to native code: same scores as scikit-learn, loaded only when trusted."""

from __future__ import annotations

import shutil
import struct
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fraudguard.exceptions import ArtifactIntegrityError
from fraudguard.models import ModelManifest, ModelRegistry, TrainConfig, TrainingResult, train
from fraudguard.models.native import native_platform
from fraudguard.models.registry import _sha256

pytestmark = pytest.mark.skipif(
    shutil.which("gcc") is None and shutil.which("cc") is None,
    reason="no C compiler here: models are scored by GTIL (covered by test_runtime.py)",
)


@pytest.fixture(scope="module")
def compiled(
    tmp_path_factory: pytest.TempPathFactory, trained: TrainingResult
) -> tuple[Path, ModelManifest]:
    root = tmp_path_factory.mktemp("native") / "registry"
    return root, ModelRegistry(root).register(trained)


@pytest.fixture
def registry(compiled: tuple[Path, ModelManifest], tmp_path: Path) -> ModelRegistry:
    """A private copy of the compiled registry, free to tamper with."""
    copy = tmp_path / "registry"
    shutil.copytree(compiled[0], copy)
    return ModelRegistry(copy)


def _features(trained: TrainingResult, history: pd.DataFrame) -> pd.DataFrame:
    return trained.pipeline.named_steps["features"].transform(history.iloc[:3_000])


def test_registration_compiles_the_trees_for_this_platform(
    compiled: tuple[Path, ModelManifest],
) -> None:
    root, manifest = compiled
    library = manifest.native_library
    assert library is not None
    assert library.platform == native_platform()
    assert library.sha256 == _sha256(root / "models" / manifest.version / library.file)


def test_compiling_the_trees_prints_and_warns_nothing(
    trained: TrainingResult, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """A first start compiles the trees: nothing may reach the console (TL2cgen's own
    treelite writes a version warning straight to fd 2 when the versions differ)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        manifest = ModelRegistry(tmp_path / "registry").register(trained)
    assert manifest.native_library is not None
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")
    assert [str(w.message) for w in caught] == []


def test_compiled_trees_score_every_row_like_sklearn(
    compiled: tuple[Path, ModelManifest], trained: TrainingResult, history: pd.DataFrame
) -> None:
    root, manifest = compiled
    loaded = ModelRegistry(root).load(manifest.version)
    assert loaded.fast.native is not None
    features = _features(trained, history)
    expected = trained.pipeline.named_steps["model"].predict_proba(features)[:, 1]
    one = np.array([loaded.fast.score_one(row) for row in features.to_dict("records")])
    np.testing.assert_allclose(one, expected, atol=1e-6)


def test_missing_and_unseen_inputs_score_like_the_interpreted_trees(
    compiled: tuple[Path, ModelManifest], trained: TrainingResult, history: pd.DataFrame
) -> None:
    root, manifest = compiled
    fast = ModelRegistry(root).load(manifest.version).fast
    row = _features(trained, history).iloc[0].to_dict()
    row["channel"] = "a channel never seen"
    row = {k: (None if k.startswith(("vel_", "net_")) else v) for k, v in row.items()}
    encoded = fast.encode_one(row)
    interpreted = fast.margin_many(encoded)[0]
    assert fast.margin_one(encoded) == pytest.approx(interpreted, abs=1e-12)
    assert fast.native is not None
    assert fast.native.margin_values(fast.encode_values(row)) == pytest.approx(
        interpreted, abs=1e-12
    )


@pytest.mark.parametrize("value", [0.8749999999999999, -0.8749999999999999, 7.999999999999999])
def test_a_value_the_compiled_trees_would_read_as_missing_scores_like_sklearn(
    compiled: tuple[Path, ModelManifest],
    trained: TrainingResult,
    history: pd.DataFrame,
    value: float,
) -> None:
    """The compiled trees read a value whose low 4 bytes are all ones as missing
    (``missing == -1`` in their union): such a row is scored by GTIL, exactly."""
    assert struct.pack("<d", value)[:4] == b"\xff\xff\xff\xff"
    root, manifest = compiled
    fast = ModelRegistry(root).load(manifest.version).fast
    assert fast.native is not None
    original = _features(trained, history).iloc[:50]
    features = original.copy()
    model = trained.pipeline.named_steps["model"]
    for column in fast.numeric:
        features[column] = value
        expected = model.predict_proba(features)[:, 1]
        one = np.array([fast.score_one(row) for row in features.to_dict("records")])
        np.testing.assert_allclose(one, expected, atol=1e-12, err_msg=column)
        features[column] = original[column]


def test_a_tampered_library_refuses_the_model(registry: ModelRegistry) -> None:
    [manifest] = registry.versions()
    assert manifest.native_library is not None
    library = registry.root / "models" / manifest.version / manifest.native_library.file
    data = bytearray(library.read_bytes())
    data[len(data) // 2] ^= 0xFF
    library.write_bytes(bytes(data))
    with pytest.raises(ArtifactIntegrityError, match="compiled trees"):
        registry.load(manifest.version)


def test_a_library_of_another_model_is_refused_even_with_its_hash_in_the_manifest(
    registry: ModelRegistry, history: pd.DataFrame, tmp_path: Path
) -> None:
    other_root = tmp_path / "other"
    small = train(history, TrainConfig(seed=9, max_iter=10))
    other = ModelRegistry(other_root).register(small)
    assert other.native_library is not None
    [manifest] = registry.versions()
    assert manifest.native_library is not None
    folder = registry.root / "models" / manifest.version
    shutil.copy(
        other_root / "models" / other.version / other.native_library.file,
        folder / manifest.native_library.file,
    )
    forged = manifest.native_library.model_copy(update={"sha256": other.native_library.sha256})
    (folder / "manifest.json").write_text(
        manifest.model_copy(update={"native_library": forged}).model_dump_json()
    )
    with pytest.raises(ArtifactIntegrityError, match="differ from the model"):
        registry.load(manifest.version)


def test_a_library_built_for_another_platform_is_left_to_gtil(
    registry: ModelRegistry, trained: TrainingResult, history: pd.DataFrame
) -> None:
    [manifest] = registry.versions()
    assert manifest.native_library is not None
    elsewhere = manifest.native_library.model_copy(update={"platform": "darwin-arm64"})
    folder = registry.root / "models" / manifest.version
    (folder / "manifest.json").write_text(
        manifest.model_copy(update={"native_library": elsewhere}).model_dump_json()
    )
    loaded = registry.load(manifest.version)
    assert loaded.fast.native is None
    features = _features(trained, history).iloc[:200]
    expected = trained.pipeline.named_steps["model"].predict_proba(features)[:, 1]
    one = [loaded.fast.score_one(row) for row in features.to_dict("records")]
    np.testing.assert_allclose(one, expected, atol=1e-6)
