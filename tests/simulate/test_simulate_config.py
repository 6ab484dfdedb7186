"""The configuration refuses inconsistent rates, and the data dictionary stays in sync."""

from __future__ import annotations

from pathlib import Path

import pydantic
import pytest

from fraudguard.exceptions import InputError
from fraudguard.simulate import (
    OUTPUT_COLUMNS,
    OutcomeSimulation,
    SimulationConfig,
    Typology,
    simulate,
)

README = Path(__file__).parents[2] / "data" / "samples" / "README.md"


def test_rates_must_leave_room_for_plain_legit() -> None:
    with pytest.raises(pydantic.ValidationError, match="add up to"):
        SimulationConfig(laundering_rate=0.5, card_testing_rate=0.5)


def test_label_delay_bounds_are_ordered() -> None:
    with pytest.raises(pydantic.ValidationError, match="label_delay_max_days"):
        SimulationConfig(label_delay_min_days=10, label_delay_max_days=2)


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(pydantic.ValidationError, match="extra"):
        SimulationConfig.model_validate({"evnts": 10})


def test_plain_legit_is_the_remainder() -> None:
    config = SimulationConfig()
    assert sum(config.rate(t) for t in Typology) == pytest.approx(1.0)


def test_window_without_new_user_offers_names_the_fix() -> None:
    config = SimulationConfig(events=5_000, start="2030-01-01")
    with pytest.raises(InputError, match="promotion_abuse_rate"):
        simulate(config)


def test_zero_rates_need_no_new_user_offers() -> None:
    config = SimulationConfig(
        events=2_000, start="2030-01-01", promotion_abuse_rate=0,
        legit_campaign_deep_discount_rate=0,
    )  # fmt: skip
    assert len(simulate(config)) == 2_000


def test_data_dictionary_names_every_column_typology_and_parameter() -> None:
    text = README.read_text(encoding="utf-8")
    for column in OUTPUT_COLUMNS:
        assert f"`{column}`" in text, column
    for typology in Typology:
        assert f"`{typology.value}`" in text, typology
    for name, field in SimulationConfig.model_fields.items():
        default = f"{type(field.default).__name__}()" if name == "outcomes" else field.default
        assert f"| `{name}` | `{default}` |" in text, name
    outcomes = SimulationConfig().outcomes
    for name in OutcomeSimulation.model_fields:
        for rule in outcomes.rules(name):
            row = (
                f"| `{name}` | `{rule.kind.value}` | {rule.rate} | {rule.median_days} | "
                f"{rule.spread} | {rule.max_days} | {rule.source} | "
                f"{'yes' if rule.typology_named else 'no'} |"
            )
            assert row in text, row
