"""Training configuration, thresholds and the model manifest stored beside every artifact."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from fraudguard.models.enums import ArtifactFormat

__all__ = [
    "Costs",
    "ModelManifest",
    "NativeLibrary",
    "Thresholds",
    "TrainConfig",
    "TrainingDataSummary",
]

Share = Annotated[float, Field(gt=0.0, lt=1.0)]


class Costs(BaseModel):
    """What each outcome costs, in yuan, to choose thresholds by expected cost."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    missed_fraud_per_yuan: Annotated[float, Field(ge=0)] = Field(
        default=1.0, description="Loss per yuan of a fraud that is allowed (chargeback, refund)."
    )
    review: Annotated[float, Field(ge=0)] = Field(
        default=3.0, description="Cost of one manual review (reviewer time, payer delay)."
    )
    false_block: Annotated[float, Field(ge=0)] = Field(
        default=30.0, description="Cost of blocking a genuine order (lost sale, complaint)."
    )


class Thresholds(BaseModel):
    """Calibrated-score cut-offs: score >= review -> review, score >= block -> block."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    review: Annotated[float, Field(ge=0.0, le=1.0)]
    block: Annotated[float, Field(ge=0.0, le=1.0)]

    @model_validator(mode="after")
    def _ordered(self) -> Thresholds:
        if self.block < self.review:
            raise ValueError("block threshold must not be below the review threshold")
        return self


class TrainConfig(BaseModel):
    """How to train: time-ordered split shares, model size, costs and the seed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    seed: int = 0
    calibration_share: Share = 0.15
    test_share: Share = 0.25
    max_iter: Annotated[int, Field(ge=10, le=2000)] = 150
    learning_rate: Annotated[float, Field(gt=0, le=1)] = 0.1
    max_leaf_nodes: Annotated[int, Field(ge=4, le=255)] = 31
    min_samples_leaf: Annotated[int, Field(ge=1)] = 40
    l2_regularization: Annotated[float, Field(ge=0)] = 1.0
    costs: Costs = Field(default_factory=Costs)
    max_legit_flag_rate: Annotated[float, Field(gt=0, le=1)] = Field(
        default=0.01, description="At most this share of genuine orders may be reviewed/blocked."
    )
    allow_invalid_data: bool = Field(
        default=False, description="Train even if validation fails (recorded in the manifest)."
    )

    @model_validator(mode="after")
    def _room_to_train(self) -> TrainConfig:
        if self.calibration_share + self.test_share >= 0.8:
            raise ValueError("calibration_share + test_share must leave at least 20% to train on")
        return self


class TrainingDataSummary(BaseModel):
    sha256: str
    rows: int
    start: datetime
    end: datetime
    fraud_rate: float
    train_end: datetime
    calibration_end: datetime


class NativeLibrary(BaseModel):
    """The trees compiled to native code for one platform (see ``models.native``)."""

    model_config = ConfigDict(extra="forbid")

    file: str
    sha256: str
    platform: str
    compiler_flags: list[str]


class ModelManifest(BaseModel):
    """Everything needed to trust, reproduce and compare one registered model."""

    model_config = ConfigDict(extra="forbid")

    version: str
    created: datetime
    fraudguard_version: str
    sklearn_version: str
    artifact_file: str
    artifact_format: ArtifactFormat
    artifact_sha256: str
    feature_names: list[str]
    categorical_features: list[str]
    feature_schema_hash: str
    reference_version: str
    training_data: TrainingDataSummary
    validation: dict[str, Any]
    config: TrainConfig
    thresholds: Thresholds
    metrics: dict[str, Any]
    #: ``None`` when the registering machine could not compile; GTIL scores the model then.
    native_library: NativeLibrary | None = None
