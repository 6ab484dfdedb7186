"""First start on a fresh machine: no promoted model yet, so train one from the sample."""

from __future__ import annotations

import logging
from pathlib import Path

from fraudguard.files import read_events
from fraudguard.models.registry import ModelRegistry
from fraudguard.models.schemas import ModelManifest, TrainConfig
from fraudguard.models.training import train

__all__ = ["ensure_promoted_model"]

logger = logging.getLogger(__name__)


def ensure_promoted_model(
    registry: ModelRegistry,
    data: Path,
    reference_version: str,
    config: TrainConfig | None = None,
) -> ModelManifest:
    """The promoted model; if there is none, train on ``data``, register and promote it."""
    current = registry.promoted()
    if current is not None:
        return current
    logger.info("no promoted model in %s: training one from %s", registry.root, data)
    result = train(read_events(data), config)
    manifest = registry.register(result, reference_version)
    return registry.promote(manifest.version)
