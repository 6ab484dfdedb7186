"""First start on a fresh machine: no promoted model yet, so train one from the sample."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from fraudguard.files import read_events
from fraudguard.models.registry import ModelRegistry
from fraudguard.models.schemas import ModelManifest, TrainConfig
from fraudguard.models.training import train
from fraudguard.reference import ReferencePaths

__all__ = ["ensure_promoted_model"]

logger = logging.getLogger(__name__)


class _Progress:
    """Logs each step of the first start as it begins, with the seconds since the start."""

    def __init__(self) -> None:
        self._start = time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self._start

    def __call__(self, step: str) -> None:
        logger.info("first start: %s (%.0f s so far)", step, self.elapsed())


def ensure_promoted_model(
    registry: ModelRegistry,
    data: Path,
    reference: ReferencePaths,
    config: TrainConfig | None = None,
) -> ModelManifest:
    """The promoted model; if there is none, train on ``data`` with the reference files the
    service loads (``reference``), register and promote it.

    Training on the shipped sample takes a minute or two, once: each step is logged
    (INFO) as it starts, so the console shows where the start is.
    """
    current = registry.promoted()
    if current is not None:
        return current
    logger.info(
        "first start: no promoted model in %s, training one from %s (once; later starts "
        "load it in seconds)",
        registry.root,
        data,
    )
    progress = _Progress()
    progress(f"reading {data}")
    result = train(read_events(data), config, progress=progress, reference=reference)
    progress("saving the model and compiling its trees")
    manifest = registry.register(result)
    promoted = registry.promote(manifest.version)
    logger.info(
        "first start: model %s trained and promoted in %.0f s", promoted.version, progress.elapsed()
    )
    return promoted
