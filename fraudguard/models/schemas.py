"""Training configuration, thresholds and the model manifest stored beside every artifact."""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from fraudguard.exceptions import InputError
from fraudguard.models.enums import ArtifactFormat, CalibrationMethod

__all__ = [
    "Costs",
    "ModelManifest",
    "NativeLibrary",
    "Thresholds",
    "TrainConfig",
    "TrainingDataSummary",
    "parse_train_config",
]

Share = Annotated[float, Field(gt=0.0, lt=1.0)]
#: TrainConfig's moments: when labels are read, then the window boundaries in time order.
_MOMENTS = ("as_of", "train_start", "calibration_start", "test_start", "test_end")


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


def _day_is_midnight_utc(value: Any) -> Any:
    """A day alone (``2026-12-01`` or a ``date``) means its midnight UTC."""
    if isinstance(value, str) and len(value.strip()) == 10:
        return f"{value.strip()}T00:00:00+00:00"
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return value


class TrainConfig(BaseModel):
    """How to train: the moment labels are read, the time windows, model size, thresholds.

    Windows: rows before ``train_start`` only warm velocity features (features are computed
    over the whole frame in event order, then rows are selected); train is
    ``[train_start, calibration_start)``, calibration ``[calibration_start, test_start)``,
    test ``[test_start, test_end)``. A boundary not given as a date is placed by
    ``calibration_days`` / ``test_days`` (counted back from the next boundary), else by the
    shares of rows (the defaults: 60 / 15 / 25). Dates without a time are midnight UTC.

    Labels: in train and calibration only labels known by ``as_of`` count (default: the last
    event); the test window is judged on every label in the file.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    seed: int = 0
    as_of: datetime | None = Field(
        default=None,
        description="Labels with label_time after this moment are unknown to training "
        "(default: the last event in the file).",
    )
    train_start: datetime | None = Field(
        default=None, description="First training event; earlier rows only warm velocity."
    )
    calibration_start: datetime | None = Field(
        default=None, description="First calibration event (end of the training window)."
    )
    test_start: datetime | None = Field(
        default=None, description="First test event (end of the calibration window)."
    )
    test_end: datetime | None = Field(
        default=None, description="End of the test window (exclusive); later rows are unused."
    )
    calibration_days: Annotated[float, Field(gt=0, le=366)] | None = Field(
        default=None, description="Calibration window length, when calibration_start is not set."
    )
    test_days: Annotated[float, Field(gt=0, le=366)] | None = Field(
        default=None, description="Test window length, when test_start is not set."
    )
    calibration_share: Share = 0.15
    test_share: Share = 0.25
    max_iter: Annotated[int, Field(ge=10, le=2000)] = 150
    learning_rate: Annotated[float, Field(gt=0, le=1)] = 0.1
    max_leaf_nodes: Annotated[int, Field(ge=4, le=255)] = 31
    min_samples_leaf: Annotated[int, Field(ge=1)] = 40
    l2_regularization: Annotated[float, Field(ge=0)] = 1.0
    calibration: CalibrationMethod = Field(
        default=CalibrationMethod.AUTO,
        description="isotonic, sigmoid, or auto (sigmoid when the calibration window has "
        "few known frauds). Both keep the model's ranking: no ties the raw scores lack.",
    )
    costs: Costs = Field(default_factory=Costs)
    max_legit_flag_rate: Annotated[float, Field(gt=0, le=1)] = Field(
        default=0.01,
        description="Cost-based thresholds (no review_budget): at most this share of genuine "
        "orders may be reviewed/blocked.",
    )
    review_budget: Annotated[float, Field(gt=0, lt=1)] | None = Field(
        default=None,
        description="Share of all orders the model may send to review or block, e.g. 0.01; "
        "thresholds then follow the budget on the calibration window instead of the costs.",
    )
    block_budget: Annotated[float, Field(gt=0, lt=1)] | None = Field(
        default=None, description="With review_budget: at most this share of orders blocked."
    )
    block_precision: Annotated[float, Field(gt=0, le=1)] = Field(
        default=0.9,
        description="With review_budget: block only where at least this share of the "
        "calibration window's flagged orders are known frauds.",
    )
    allow_invalid_data: bool = Field(
        default=False, description="Train even if validation fails (recorded in the manifest)."
    )

    @field_validator(*_MOMENTS, mode="before")
    @classmethod
    def _day(cls, value: Any) -> Any:
        return _day_is_midnight_utc(value)

    @field_validator(*_MOMENTS)
    @classmethod
    def _has_zone(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give a time zone offset, e.g. 2026-12-01T00:00:00+08:00")
        return value

    @model_validator(mode="after")
    def _room_to_train(self) -> TrainConfig:
        if self.calibration_share + self.test_share >= 0.8:
            raise ValueError("calibration_share + test_share must leave at least 20% to train on")
        if self.calibration_start is not None and self.calibration_days is not None:
            raise ValueError("give calibration_start or calibration_days, not both")
        if self.test_start is not None and self.test_days is not None:
            raise ValueError("give test_start or test_days, not both")
        dates = [
            (name, value) for name in _MOMENTS[1:] if (value := getattr(self, name)) is not None
        ]
        for (first, early), (second, late) in itertools.pairwise(dates):
            if early >= late:
                raise ValueError(f"{second} must be after {first}")
        if self.block_budget is not None and self.review_budget is None:
            raise ValueError("block_budget needs review_budget")
        if (
            self.block_budget is not None
            and self.review_budget is not None
            and self.block_budget > self.review_budget
        ):
            raise ValueError("block_budget must not exceed review_budget")
        return self


def parse_train_config(values: Mapping[str, Any], *, as_options: bool = False) -> TrainConfig:
    """A :class:`TrainConfig` from plain values (CLI options, a notebook's dict); anything
    invalid is one :class:`InputError` line naming each field (``--as-of`` style with
    ``as_options``) and what to give instead."""
    try:
        return TrainConfig(**values)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"])
            message = str(error["msg"]).removeprefix("Value error, ")
            problems.append(f"{where}: {message}" if where else message)
        text = "; ".join(problems)
        if as_options:
            names = "|".join(sorted(TrainConfig.model_fields, key=len, reverse=True))
            text = re.sub(
                rf"(?<![\w-])({names})(?![\w-])",
                lambda m: "--" + m.group(1).replace("_", "-"),
                text,
            )
        raise InputError(f"invalid training options: {text}") from None


class TrainingDataSummary(BaseModel):
    sha256: str
    rows: int
    start: datetime
    end: datetime
    fraud_rate: float
    train_end: datetime
    calibration_end: datetime
    #: Labels known by then counted in train and calibration (``None``: written before).
    as_of: datetime | None = None
    #: First training event; the ``warm_up_rows`` before it only warmed velocity.
    train_start: datetime | None = None
    test_start: datetime | None = None
    warm_up_rows: int | None = None
    known_frauds_train: int | None = None
    known_frauds_calibration: int | None = None


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
    #: The version (sha256) of the reference files the features were fitted on.
    reference_version: str
    #: The tables that were not the shipped ones then (table -> file); ``None`` in a
    #: manifest written before this was recorded.
    reference_overrides: dict[str, str] | None = None
    training_data: TrainingDataSummary
    validation: dict[str, Any]
    config: TrainConfig
    thresholds: Thresholds
    metrics: dict[str, Any]
    #: ``None`` when the registering machine could not compile; GTIL scores the model then.
    native_library: NativeLibrary | None = None
