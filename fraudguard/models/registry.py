"""A folder of versioned models, each an artifact plus a manifest, and a promotion log.

Layout (the same on a local disk or shared storage)::

    <root>/models/<version>/model.skops   the fitted pipeline
    <root>/models/<version>/trees-<platform>.so  its trees compiled to native code (optional)
    <root>/models/<version>/manifest.json versions, data, metrics, thresholds, sha256s
    <root>/promotions.json                 promoted versions, newest last

Loading checks the artifact's sha256 against its manifest before anything is
deserialised, and a skops artifact may only contain the types in :data:`TRUSTED_TYPES`.
The compiled trees are loaded only when their sha256 matches too, on the platform they were
built for, and after they reproduce the interpreted trees; elsewhere GTIL scores the model.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sklearn
from pydantic import ValidationError
from sklearn.pipeline import Pipeline

from fraudguard import __version__
from fraudguard.exceptions import (
    ArtifactIntegrityError,
    FieldProblem,
    InputError,
    ModelError,
    NotFoundError,
)
from fraudguard.models.enums import ArtifactFormat
from fraudguard.models.native import NativeTrees, compile_trees, native_platform
from fraudguard.models.runtime import FastModel
from fraudguard.models.schemas import ModelManifest, NativeLibrary
from fraudguard.models.training import TrainingResult

__all__ = ["TRUSTED_TYPES", "LoadedModel", "ModelRegistry"]

#: Every type a FraudGuard pipeline artifact holds beyond skops' built-in safe set.
#: A type outside this list (``builtins.eval``, ``os.system``, a foreign class) is refused.
TRUSTED_TYPES: frozenset[str] = frozenset(
    {
        "fraudguard.models.calibration.MarginCalibrator",
        "fraudguard.models.calibration.RankCalibratedClassifier",
        "fraudguard.models.pipeline.EventFeatures",
        "fraudguard.reference.service.ReferencePaths",
        "functools.partial",
        "sklearn.calibration._CalibratedClassifier",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
        "sklearn.utils.validation.check_array",
    }
)
_log = logging.getLogger(__name__)
_ARTIFACT_NAMES = {ArtifactFormat.SKOPS: "model.skops", ArtifactFormat.JOBLIB: "model.joblib"}


@dataclass(frozen=True)
class LoadedModel:
    """A verified pipeline, its compiled fast path and its manifest."""

    manifest: ModelManifest
    pipeline: Pipeline
    fast: FastModel


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


class ModelRegistry:
    """Register, list, load, promote and roll back models in one folder."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    # --- writing ------------------------------------------------------------------------

    def _next_version(self, created: datetime) -> str:
        stem = f"hgb-{created:%Y-%m-%d}-"
        taken = [v.version for v in self.versions() if v.version.startswith(stem)]
        numbers = [int(v.removeprefix(stem)) for v in taken if v.removeprefix(stem).isdigit()]
        return f"{stem}{max(numbers, default=0) + 1}"

    def register(
        self,
        result: TrainingResult,
        reference_version: str | None = None,
        artifact_format: ArtifactFormat = ArtifactFormat.SKOPS,
        native: bool = True,
    ) -> ModelManifest:
        """Write the pipeline and its manifest as a new version; nothing is promoted.

        The manifest records the reference data the pipeline was fitted on; a
        ``reference_version`` given (the data the caller serves with) must be that one.
        ``native`` also compiles the trees for this platform (seconds; skipped with a
        warning where no C compiler is installed)."""
        if reference_version is not None and reference_version != result.reference_version:
            raise InputError(
                "the model was fitted on other reference data",
                [
                    FieldProblem(
                        "reference_version",
                        f"is {reference_version}, the pipeline was fitted on "
                        f"{result.reference_version}: train with the reference data you "
                        "serve (train(..., reference=ReferencePaths.from_settings(settings)))",
                    )
                ],
            )
        created = datetime.now(UTC)
        version = self._next_version(created)
        folder = self.root / "models" / version
        folder.mkdir(parents=True, exist_ok=False)
        artifact = folder / _ARTIFACT_NAMES[artifact_format]
        if artifact_format is ArtifactFormat.SKOPS:
            import skops.io

            skops.io.dump(result.pipeline, artifact)
        else:
            import joblib

            joblib.dump(result.pipeline, artifact)
        native_library = self._compile(result.pipeline, folder) if native else None
        manifest = ModelManifest(
            version=version,
            created=created,
            fraudguard_version=__version__,
            sklearn_version=sklearn.__version__,
            artifact_file=artifact.name,
            artifact_format=artifact_format,
            artifact_sha256=_sha256(artifact),
            feature_names=[*result.categorical, *result.numeric],
            categorical_features=result.categorical,
            feature_schema_hash=result.feature_schema_hash,
            reference_version=result.reference_version,
            reference_overrides=result.reference_overrides,
            training_data=result.training_data,
            validation=result.validation,
            config=result.config,
            thresholds=result.thresholds,
            metrics=_jsonable(result.metrics),
            native_library=native_library,
        )
        _write_atomic(folder / "manifest.json", manifest.model_dump_json(indent=2))
        return manifest

    @staticmethod
    def _compile(pipeline: Pipeline, folder: Path) -> NativeLibrary | None:
        target = native_platform()
        try:
            library = compile_trees(FastModel(pipeline).trees, folder / f"trees-{target}.so")
        except ModelError as error:
            _log.warning("trees not compiled, GTIL will score this model: %s", error)
            return None
        return NativeLibrary(
            file=library.name,
            sha256=_sha256(library),
            platform=target,
            compiler_flags=["-O1"],
        )

    # --- reading ------------------------------------------------------------------------

    def versions(self) -> list[ModelManifest]:
        """Every registered model, oldest first; unreadable manifests are skipped."""
        manifests = []
        for path in sorted((self.root / "models").glob("*/manifest.json")):
            try:
                manifests.append(ModelManifest.model_validate_json(path.read_text("utf-8")))
            except (OSError, ValidationError):
                continue
        return sorted(manifests, key=lambda m: m.created)

    def manifest(self, version: str) -> ModelManifest:
        path = self.root / "models" / version / "manifest.json"
        if not path.is_file():
            raise NotFoundError(f"model {version!r} is not in the registry at {self.root}")
        try:
            return ModelManifest.model_validate_json(path.read_text("utf-8"))
        except ValidationError as exc:
            raise ModelError(f"the manifest of {version!r} is unreadable: {exc}") from None

    def load(self, version: str) -> LoadedModel:
        """Verify and load one version; raises :class:`ArtifactIntegrityError` if tampered."""
        manifest = self.manifest(version)
        artifact = self.root / "models" / version / manifest.artifact_file
        if not artifact.is_file():
            raise ModelError(f"the artifact of {version!r} is missing: {artifact}")
        actual = _sha256(artifact)
        if actual != manifest.artifact_sha256:
            raise ArtifactIntegrityError(
                f"refusing {version!r}: the artifact's sha256 {actual[:12]}… does not match "
                f"its manifest ({manifest.artifact_sha256[:12]}…); re-register the model"
            )
        pipeline = self._deserialise(artifact, manifest.artifact_format, version)
        if not isinstance(pipeline, Pipeline) or "model" not in pipeline.named_steps:
            raise ArtifactIntegrityError(f"refusing {version!r}: not a FraudGuard pipeline")
        fast = FastModel(pipeline)
        self._attach_native(fast, manifest)
        return LoadedModel(manifest=manifest, pipeline=pipeline, fast=fast)

    def _attach_native(self, fast: FastModel, manifest: ModelManifest) -> None:
        """Compiled trees when the manifest has them for this platform; a library that does
        not match its sha256 refuses the whole model, one that does not load is skipped."""
        library = manifest.native_library
        if library is None or library.platform != native_platform():
            return
        path = self.root / "models" / manifest.version / library.file
        if not path.is_file():
            raise ModelError(f"the compiled trees of {manifest.version!r} are missing: {path}")
        try:
            native = NativeTrees(path, library.sha256, len(fast.columns))
        except ArtifactIntegrityError:
            raise
        except ModelError as error:
            _log.warning("compiled trees skipped, GTIL scores %s: %s", manifest.version, error)
            return
        fast.attach_native(native)

    @staticmethod
    def _deserialise(artifact: Path, fmt: ArtifactFormat, version: str) -> Any:
        if fmt is ArtifactFormat.JOBLIB:
            import joblib

            return joblib.load(artifact)  # sha256 matched the manifest above
        import skops.io

        try:
            untrusted = skops.io.get_untrusted_types(file=artifact)
        except Exception as exc:  # a corrupt zip or foreign format
            raise ArtifactIntegrityError(f"refusing {version!r}: unreadable artifact") from exc
        refused = sorted(set(untrusted) - TRUSTED_TYPES)
        if refused:
            raise ArtifactIntegrityError(
                f"refusing {version!r}: the artifact holds types outside the trusted list: "
                + ", ".join(refused)
            )
        return skops.io.load(artifact, trusted=list(untrusted))

    # --- promotion ----------------------------------------------------------------------

    def _promotions(self) -> list[str]:
        path = self.root / "promotions.json"
        if not path.is_file():
            return []
        data = json.loads(path.read_text("utf-8"))
        return [str(v) for v in data.get("history", [])]

    def promoted(self) -> ModelManifest | None:
        history = self._promotions()
        return self.manifest(history[-1]) if history else None

    def promote(self, version: str) -> ModelManifest:
        """Make ``version`` the one the service loads (it is verified first)."""
        self.load(version)
        history = [*self._promotions(), version]
        _write_atomic(self.root / "promotions.json", json.dumps({"history": history}, indent=2))
        return self.manifest(version)

    def rollback(self) -> ModelManifest:
        """Go back to the model promoted before the current one."""
        history = self._promotions()
        if len(history) < 2:
            raise NotFoundError("nothing to roll back to: fewer than two promotions recorded")
        history = history[:-1]
        self.load(history[-1])
        _write_atomic(self.root / "promotions.json", json.dumps({"history": history}, indent=2))
        return self.manifest(history[-1])

    def load_promoted(self) -> LoadedModel | None:
        current = self.promoted()
        return None if current is None else self.load(current.version)


def _jsonable(value: Any) -> Any:
    """Metrics as plain JSON: NaN becomes null, numpy scalars become Python numbers."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
