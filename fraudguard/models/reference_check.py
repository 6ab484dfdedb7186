"""Whether a registered model was fitted on the reference data a service loads.

A model learns what the reference tables said when its features were computed (an IP range
flagged as a proxy, a number segment's province); served on other tables, the same order
gets other features than the ones the model was trained and calibrated on. The manifest
records the version (sha256) of the files the model was fitted on; the service compares it
with the files it loaded and refuses a model fitted on others unless the operator allows it
(``FRAUDGUARD_ALLOW_REFERENCE_MISMATCH``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from fraudguard.models.schemas import ModelManifest

__all__ = ["ALLOW_SETTING", "ReferenceMismatch", "reference_mismatch"]

#: The setting that lets a service serve a model fitted on other reference data.
ALLOW_SETTING = "FRAUDGUARD_ALLOW_REFERENCE_MISMATCH"


def _tables(overrides: Mapping[str, str] | None) -> str:
    if overrides is None:
        return "tables not recorded"
    return "overridden: " + ", ".join(sorted(overrides)) if overrides else "the shipped tables"


@dataclass(frozen=True)
class ReferenceMismatch:
    """A model fitted on one version of the reference data, a service loading another."""

    model_version: str
    fitted: str
    serving: str
    fitted_overrides: Mapping[str, str] | None = field(default=None, compare=False)
    serving_overrides: Mapping[str, str] = field(default_factory=dict, compare=False)

    def describe(self) -> str:
        """What differs, naming both versions and which tables each overrides."""
        return (
            f"model {self.model_version} was fitted on reference data {self.fitted} "
            f"({_tables(self.fitted_overrides)}); this service loads {self.serving} "
            f"({_tables(self.serving_overrides)})"
        )

    def refusal(self) -> str:
        """Why the model is not served, and the two ways out."""
        return (
            f"{self.describe()}: train a model with this service's FRAUDGUARD_*_PATH "
            f"settings (`fraudguard train`) and promote it, or set {ALLOW_SETTING}=true "
            "to serve this one anyway"
        )

    def warning(self) -> str:
        """The mismatch served anyway, as /readyz reports it."""
        return f"{self.describe()}; served anyway because {ALLOW_SETTING}=true"


def reference_mismatch(
    manifest: ModelManifest,
    serving_version: str,
    serving_overrides: Mapping[str, str] | None = None,
) -> ReferenceMismatch | None:
    """The mismatch between ``manifest``'s reference data and the service's, if any."""
    if manifest.reference_version == serving_version:
        return None
    return ReferenceMismatch(
        model_version=manifest.version,
        fitted=manifest.reference_version,
        serving=serving_version,
        fitted_overrides=manifest.reference_overrides,
        serving_overrides=dict(serving_overrides or {}),
    )
