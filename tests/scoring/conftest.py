"""Shared fixtures for the service tests: one small model per session, scorers around it.

``tests/cases`` and ``tests/api`` import these fixtures from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from fraudguard.config import FailurePolicy, Settings
from fraudguard.features import FeatureState
from fraudguard.models import LoadedModel, ModelRegistry, Thresholds, TrainConfig, train
from fraudguard.models.explain import Contribution
from fraudguard.schema import RechargeEvent
from fraudguard.scoring import Scorer, build_scorer
from fraudguard.simulate import SimulationConfig, simulate

#: Simulated traffic runs to late November 2026: score "as of" a later instant.
LATER = datetime(2027, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="session")
def model_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A registry holding ONE small promoted model, trained once per session (per worker)."""
    root = tmp_path_factory.mktemp("registry")
    history = simulate(SimulationConfig(events=20_000, seed=5))
    result = train(history, TrainConfig(seed=5, max_iter=60))
    registry = ModelRegistry(root)
    manifest = registry.register(result)
    registry.promote(manifest.version)
    return root


@pytest.fixture(scope="session")
def loaded_model(model_root: Path) -> LoadedModel:
    model = ModelRegistry(model_root).load_promoted()
    assert model is not None
    return model


@pytest.fixture(scope="session")
def base_settings(tmp_path_factory: pytest.TempPathFactory, model_root: Path) -> Settings:
    home = tmp_path_factory.mktemp("home")
    return Settings(
        home=home,
        model_registry=model_root,
        bootstrap_model=False,
        api_keys=None,
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture(scope="session")
def base_scorer(base_settings: Settings, loaded_model: LoadedModel) -> Scorer:
    return build_scorer(base_settings, model=loaded_model)


def fresh(
    scorer: Scorer,
    *,
    model: Any = "same",
    policy: FailurePolicy | None = None,
) -> Scorer:
    """The same reference, extractor and rules with empty feature state."""
    settings = scorer.settings
    if policy is not None:
        settings = settings.model_copy(update={"failure_policy": policy})
    return Scorer(
        scorer.reference,
        scorer.extractor,
        FeatureState.in_memory(scorer.extractor),
        scorer.rules,
        scorer.model if model == "same" else model,
        settings,
    )


@pytest.fixture
def scorer(base_scorer: Scorer) -> Scorer:
    return fresh(base_scorer)


@dataclass
class FixedFast:
    """A stand-in for FastModel with a fixed score, to drive each decision path."""

    score: float
    contributions: list[Contribution] = field(default_factory=list)

    def score_one(self, features: Any) -> float:
        return self.score

    def score_many(self, frame: pd.DataFrame) -> Any:
        return [self.score] * len(frame)

    def explain_one(self, features: Any, k: int = 3) -> list[Contribution]:
        return self.contributions[:k]


def fixed_model(
    real: LoadedModel, score: float, contributions: list[Contribution] | None = None
) -> Any:
    """A LoadedModel-shaped object scoring ``score``, thresholds review 0.5 / block 0.9."""
    manifest = real.manifest.model_copy(
        update={"thresholds": Thresholds(review=0.5, block=0.9), "version": "fixed-1"}
    )
    return LoadedModel(manifest, real.pipeline, FixedFast(score, contributions or []))  # type: ignore[arg-type]


_BASE: dict[str, Any] = {
    "transaction_id": "ord-1",
    "event_time": "2026-11-05T10:00:00+08:00",
    "msisdn": "18912345678",
    "amount": 100.0,
    "channel": "operator_app",
    "platform": {"app_package": "com.chinatelecom.bestpayclient"},
    "payment": {"method": "alipay", "instrument_id": "tok-1", "payer_id": "u-1"},
    "device": {"id": "dev-1", "os": "android", "rooted": False, "emulator": False},
    "network": {"type": "cellular", "ip": "36.110.14.2", "tls": True},
}


def event_body(**changes: Any) -> dict[str, Any]:
    """A plain, genuine order body; keyword arguments replace (parts merge) its fields."""
    body = {k: (dict(v) if isinstance(v, dict) else v) for k, v in _BASE.items()}
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(body.get(key), dict):
            body[key].update(value)
        else:
            body[key] = value
    return body


def make_event(**changes: Any) -> RechargeEvent:
    return RechargeEvent.model_validate(event_body(**changes))


@pytest.fixture(scope="session")
def sample_frame() -> pd.DataFrame:
    """A few thousand simulated orders (another seed than the model's)."""
    return simulate(SimulationConfig(events=4_000, seed=11))
