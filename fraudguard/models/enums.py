"""Fixed vocabularies of the models domain."""

from enum import StrEnum

__all__ = ["ArtifactFormat"]


class ArtifactFormat(StrEnum):
    #: skops: loads only an explicit list of trusted types; the default.
    SKOPS = "skops"
    #: joblib (pickle): loaded only when its sha256 matches the manifest.
    JOBLIB = "joblib"
