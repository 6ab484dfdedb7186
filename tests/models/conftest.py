from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from fraudguard.models import ModelManifest, ModelRegistry, TrainConfig, TrainingResult, train
from fraudguard.simulate import SimulationConfig, simulate


@pytest.fixture(scope="session")
def history() -> pd.DataFrame:
    return simulate(SimulationConfig(events=20_000, seed=5, start="2026-10-01", days=30))


@pytest.fixture(scope="session")
def trained(history: pd.DataFrame) -> TrainingResult:
    return train(history, TrainConfig(seed=3, max_iter=60))


@pytest.fixture
def registry(tmp_path: Path) -> ModelRegistry:
    return ModelRegistry(tmp_path / "registry")


@pytest.fixture
def registered(registry: ModelRegistry, trained: TrainingResult) -> ModelManifest:
    # Compiling the trees is covered in test_native.py; here it would only cost seconds.
    return registry.register(trained, native=False)
