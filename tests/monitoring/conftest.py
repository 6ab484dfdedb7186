from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fraudguard.config import Settings
from fraudguard.scoring import Scorer, build_scorer
from fraudguard.simulate import SimulationConfig, simulate


@pytest.fixture(scope="session")
def window() -> pd.DataFrame:
    """Two weeks of ordinary traffic with every typology."""
    return simulate(SimulationConfig(events=8_000, seed=31, start="2026-10-01", days=14))


@pytest.fixture(scope="session")
def halves(window: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The window's rows split at random in two, each kept in time order: the same
    distribution twice, by construction."""
    pick = np.random.default_rng(3).random(len(window)) < 0.5
    return window[pick].reset_index(drop=True), window[~pick].reset_index(drop=True)


@pytest.fixture(scope="session")
def next_fortnight() -> pd.DataFrame:
    """The next two weeks of the same traffic mix (another seed)."""
    return simulate(SimulationConfig(events=8_000, seed=33, start="2026-10-15", days=14))


@pytest.fixture(scope="session")
def scam_wave() -> pd.DataFrame:
    """The next two weeks with five times the fake-discount shops and three times the
    public Wi-Fi: the drift a monitor exists to catch."""
    config = SimulationConfig(
        events=8_000,
        seed=32,
        start="2026-10-15",
        days=14,
        fake_discount_scam_rate=0.03,
        legit_public_wifi_rate=0.12,
    )
    return simulate(config)


@pytest.fixture(scope="session")
def scorer(tmp_path_factory: pytest.TempPathFactory) -> Scorer:
    """The service's scorer on the shipped rule pack, without a model (rules-only scores)."""
    home: Path = tmp_path_factory.mktemp("monitor-home")
    return build_scorer(Settings(home=home, bootstrap_model=False), load_model=False)
