"""Synthetic recharge traffic with labelled fraud typologies and hard negatives.

>>> from fraudguard.simulate import SimulationConfig, simulate
>>> frame = simulate(SimulationConfig(events=500, seed=3))
>>> frame["typology"].isin([t.value for t in Typology]).all()
np.True_

:func:`simulate_outcomes` gives what is reported after those orders (chargebacks,
complaints, fraud reports), each typology after its own delays.

The data dictionary (columns, typologies and their rates, parameters) is
``data/samples/README.md``.
"""

from fraudguard.files import event_file_format, write_events
from fraudguard.simulate.enums import FRAUD_TYPOLOGIES, HARD_NEGATIVE_TYPOLOGIES, Typology
from fraudguard.simulate.outcomes import (
    OUTCOME_COLUMNS,
    outcome_bodies,
    simulate_outcomes,
    write_outcomes,
)
from fraudguard.simulate.schemas import OutcomeRule, OutcomeSimulation, SimulationConfig
from fraudguard.simulate.service import (
    LABEL_COLUMNS,
    OUTPUT_COLUMNS,
    simulate,
)

__all__ = [
    "FRAUD_TYPOLOGIES",
    "HARD_NEGATIVE_TYPOLOGIES",
    "LABEL_COLUMNS",
    "OUTCOME_COLUMNS",
    "OUTPUT_COLUMNS",
    "OutcomeRule",
    "OutcomeSimulation",
    "SimulationConfig",
    "Typology",
    "event_file_format",
    "outcome_bodies",
    "simulate",
    "simulate_outcomes",
    "write_events",
    "write_outcomes",
]
