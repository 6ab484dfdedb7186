"""Shared simulated frames: generated once per session, small enough to stay fast."""

from __future__ import annotations

import pandas as pd
import pytest

from fraudguard.reference import ReferenceData, load_reference
from fraudguard.simulate import FRAUD_TYPOLOGIES, SimulationConfig, simulate

#: Default rates: for counts, overlaps and hard negatives.
DEFAULT = SimulationConfig(events=60_000, seed=11)
#: Every fraud typology at 5%: enough groups (shops, farms, sessions) to measure signatures.
HEAVY = SimulationConfig(
    events=40_000, seed=12, **{f"{t.value}_rate": 0.05 for t in FRAUD_TYPOLOGIES}
)


@pytest.fixture(scope="session")
def reference() -> ReferenceData:
    return load_reference()


@pytest.fixture(scope="session")
def sample() -> pd.DataFrame:
    return simulate(DEFAULT)


@pytest.fixture(scope="session")
def heavy() -> pd.DataFrame:
    return simulate(HEAVY)
