"""Synthetic recharge traffic with labelled fraud typologies and hard negatives.

>>> from fraudguard.simulate import SimulationConfig, simulate
>>> frame = simulate(SimulationConfig(events=500, seed=3))
>>> frame["typology"].isin([t.value for t in Typology]).all()
np.True_

The data dictionary (columns, typologies and their rates, parameters) is
``data/samples/README.md``.
"""

from fraudguard.files import event_file_format, write_events
from fraudguard.simulate.enums import FRAUD_TYPOLOGIES, HARD_NEGATIVE_TYPOLOGIES, Typology
from fraudguard.simulate.schemas import SimulationConfig
from fraudguard.simulate.service import (
    LABEL_COLUMNS,
    OUTPUT_COLUMNS,
    simulate,
)

__all__ = [
    "FRAUD_TYPOLOGIES",
    "HARD_NEGATIVE_TYPOLOGIES",
    "LABEL_COLUMNS",
    "OUTPUT_COLUMNS",
    "SimulationConfig",
    "Typology",
    "event_file_format",
    "simulate",
    "write_events",
]
