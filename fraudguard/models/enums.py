"""Fixed vocabularies of the models domain."""

from enum import StrEnum

__all__ = ["ArtifactFormat", "CalibrationMethod"]


class ArtifactFormat(StrEnum):
    #: skops: loads only an explicit list of trusted types; the default.
    SKOPS = "skops"
    #: joblib (pickle): loaded only when its sha256 matches the manifest.
    JOBLIB = "joblib"


class CalibrationMethod(StrEnum):
    """How raw tree margins become probabilities; each keeps the margins' ranking."""

    #: Pooled-adjacent-violators steps, joined by straight lines through each step's centre.
    ISOTONIC = "isotonic"
    #: A logistic curve of the margin (Platt); for calibration windows with few frauds.
    SIGMOID = "sigmoid"
    #: Isotonic when the calibration window has enough known frauds, else sigmoid.
    AUTO = "auto"
