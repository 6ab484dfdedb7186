"""Training and serving use the same reference data (issue 23, item 5).

One table is overridden (IP intelligence: a /24 the simulated payers use is flagged as Tor);
a model trained with the service's settings learns from it, records its version, and the
service computes the same features online. A model fitted on the shipped tables is refused
by a service that overrides them - at start (/readyz 503), on hot reload and on activation;
change control refuses to approve it - unless ``allow_reference_mismatch`` is set.
"""

from __future__ import annotations

import logging
import math
import pickle
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
import skops.io
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from fraudguard.api import create_app
from fraudguard.changes import (
    Activator,
    ChangeControl,
    ChangeKind,
    ModelProposalRequest,
    ReferenceMismatchError,
    open_change_control,
)
from fraudguard.config import Settings
from fraudguard.exceptions import InputError, ModelError
from fraudguard.models import (
    ModelManifest,
    ModelRegistry,
    TrainConfig,
    ensure_promoted_model,
    train,
)
from fraudguard.reference import ReferencePaths, load_reference
from fraudguard.schema import to_flat
from fraudguard.scoring import build_scorer
from fraudguard.simulate import SimulationConfig, simulate
from tests.api.conftest import running, service_settings
from tests.changes.conftest import ADMIN, ANALYST, APPROVER, decision

from .conftest import LATER, make_event

pytestmark = pytest.mark.slow
MODEL = ChangeKind.MODEL


@dataclass(frozen=True)
class World:
    history: pd.DataFrame
    intel: Path  # the overridden ip_intel.csv
    subnet: str  # "a.b.c": the /24 it flags as Tor
    root: Path  # a registry holding both models, the overridden one promoted
    overridden: ModelManifest
    shipped: ModelManifest


def _flagged_subnet(history: pd.DataFrame) -> str:
    """The busiest /24 of the history's payers that the shipped tables call clean."""
    shipped = load_reference()
    ips = history["network_ip"].dropna().astype(str)
    clean = ips[[shipped.ip_category(ip) is None for ip in ips]]
    return str(clean.str.rsplit(".", n=1).str[0].value_counts().index[0])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    folder = tmp_path_factory.mktemp("reference")
    history = simulate(SimulationConfig(events=12_000, seed=5))
    subnet = _flagged_subnet(history)
    intel = folder / "ip_intel.csv"
    shipped_intel = ReferencePaths().ip_intel.read_text(encoding="utf-8")
    intel.write_text(shipped_intel + f"{subnet}.0/24,tor,test-feed\n", encoding="utf-8")
    data = folder / "history.parquet"
    history.to_parquet(data)
    config = TrainConfig(seed=5, max_iter=20)
    registry = ModelRegistry(folder / "registry")
    # The first-start path: bootstrap training with the reference files the service loads.
    overridden = ensure_promoted_model(registry, data, ReferencePaths(ip_intel=intel), config)
    shipped = registry.register(train(history, config, reference=ReferencePaths()), native=False)
    return World(history, intel, subnet, registry.root, overridden, shipped)


def _registry(tmp_path: Path, world: World, promoted: str) -> Path:
    """A copy of the world's registry with ``promoted`` promoted."""
    root = tmp_path / "registry"
    shutil.copytree(world.root, root)
    ModelRegistry(root).promote(promoted)
    return root


def _settings(tmp_path: Path, world: World, registry: Path, **changes: Any) -> Settings:
    return service_settings(tmp_path, registry, ip_intel_path=world.intel, **changes)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b)


# --- training records what it was fitted on ---------------------------------------------------


def test_the_manifest_records_the_reference_data_the_model_was_fitted_on(world: World) -> None:
    overridden = world.overridden
    served = load_reference(ReferencePaths(ip_intel=world.intel))
    assert overridden.reference_version == served.features_version
    assert overridden.reference_overrides == {"ip_intel": str(world.intel)}
    shipped = world.shipped
    assert shipped.reference_version == load_reference().features_version
    assert shipped.reference_overrides == {}
    assert overridden.reference_version != shipped.reference_version


def test_training_computes_features_from_the_overridden_table(world: World) -> None:
    loaded = ModelRegistry(world.root).load(world.overridden.version)
    features = loaded.pipeline.named_steps["features"]
    assert features.reference == ReferencePaths(ip_intel=world.intel)  # survived skops
    inputs = features.transform(world.history)
    in_subnet = world.history["network_ip"].astype(str).str.startswith(world.subnet + ".")
    assert in_subnet.sum() > 0
    assert (inputs.loc[in_subnet, "net_ip_category"] == "tor").all()
    shipped = ModelRegistry(world.root).load(world.shipped.version)
    shipped_inputs = shipped.pipeline.named_steps["features"].transform(world.history)
    assert not (shipped_inputs.loc[in_subnet, "net_ip_category"] == "tor").any()


def test_registering_under_another_reference_version_is_refused(
    world: World, tmp_path: Path
) -> None:
    loaded = ModelRegistry(world.root).load(world.overridden.version)
    with pytest.raises(InputError) as caught:
        ModelRegistry(tmp_path).register(
            _result_like(loaded.pipeline), reference_version=load_reference().features_version
        )
    assert caught.value.problems[0].location == "reference_version"


def _result_like(pipeline: Any) -> Any:
    @dataclass
    class Result:
        pipeline: Any

        @property
        def reference_version(self) -> str:
            return str(pipeline.named_steps["features"].reference_version_)

    return Result(pipeline)


def test_a_changed_reference_file_is_refused_when_features_are_computed(
    world: World, tmp_path: Path
) -> None:
    loaded = ModelRegistry(world.root).load(world.overridden.version)
    moved = tmp_path / "ip_intel.csv"
    moved.write_text(world.intel.read_text(encoding="utf-8") + "1.2.3.0/24,vpn,x\n", "utf-8")
    pipeline = loaded.pipeline.set_params(features__reference=ReferencePaths(ip_intel=moved))
    with pytest.raises(ModelError, match="fitted on reference data"):
        pipeline.predict_proba(world.history.head(50))


# --- serving: the same features, the right model ---------------------------------------------


def _events(subnet: str) -> list[Any]:
    ips = [f"{subnet}.7", f"{subnet}.200", "36.110.14.2", None, "104.0.144.9", f"{subnet}.9"]
    return [
        make_event(
            transaction_id=f"ord-ref-{i}",
            event_time=f"2026-11-05T10:{i:02d}:00+08:00",
            network={"ip": ip, "type": "wifi"},
        )
        for i, ip in enumerate(ips)
    ]


def test_online_features_equal_the_features_the_model_was_trained_with(
    world: World, tmp_path: Path
) -> None:
    scorer = build_scorer(_settings(tmp_path, world, world.root))
    assert scorer.model_version == world.overridden.version
    assert scorer.refused_model is None
    events = _events(world.subnet)
    online = [scorer.score_one(event, now=LATER) for event in events]
    frame = pd.DataFrame([to_flat(event) for event in events])
    model_features = scorer.model.pipeline.named_steps["features"]  # type: ignore[union-attr]
    batch = model_features.transform(frame)
    stateless = set(scorer.extractor.extract_stateless(to_flat(events[0])))
    compared = [c for c in batch.columns if c in stateless]
    assert "net_ip_category" in compared
    for i, scored in enumerate(online):
        assert scored.decision.degraded is False
        for column in compared:
            assert _same(scored.features[column], batch[column].iloc[i]), (i, column)
    assert [s.features["net_ip_tor"] for s in online] == [True, True, False, False, False, True]


@pytest.fixture
def log_lines(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.WARNING, logger="fraudguard")
    return caplog


def _refusals(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("model refused")]


def test_a_model_fitted_on_the_shipped_tables_is_refused_by_an_overriding_service(
    world: World, tmp_path: Path, log_lines: pytest.LogCaptureFixture
) -> None:
    settings = _settings(tmp_path, world, _registry(tmp_path, world, world.shipped.version))
    serving = load_reference(ReferencePaths.from_settings(settings)).features_version
    with running(create_app(settings)) as base:
        ready = httpx.get(f"{base}/readyz", timeout=30)
        decision = httpx.post(
            f"{base}/v1/score",
            json={**_plain_body(), "transaction_id": "ord-refused"},
            headers={"Authorization": "Bearer scorer-key-0001"},
            timeout=30,
        ).json()
    assert ready.status_code == 503
    body = ready.json()
    assert body["status"] == "not_ready"
    assert body["model_version"] is None
    assert body["reference_version"] == serving
    reason = body["reason"]
    assert world.shipped.reference_version in reason
    assert serving in reason
    assert "overridden: ip_intel" in reason
    assert "FRAUDGUARD_ALLOW_REFERENCE_MISMATCH=true" in reason
    assert "fraudguard train" in reason
    # scoring goes on without the model, as without any model
    assert decision["degraded"] is True
    assert decision["model_version"] is None
    assert len(_refusals(log_lines)) == 1


def _plain_body() -> dict[str, Any]:
    return make_event().model_dump(mode="json", exclude_none=True)


def test_allowing_the_mismatch_serves_the_model_with_a_warning(
    world: World, tmp_path: Path
) -> None:
    settings = _settings(
        tmp_path,
        world,
        _registry(tmp_path, world, world.shipped.version),
        allow_reference_mismatch=True,
    )
    with running(create_app(settings)) as base:
        ready = httpx.get(f"{base}/readyz", timeout=30)
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "ready"
    assert body["model_version"] == world.shipped.version
    assert body["reason"] is None
    assert len(body["warnings"]) == 1
    assert world.shipped.reference_version in body["warnings"][0]
    assert "served anyway" in body["warnings"][0]


def test_the_matching_model_is_ready_without_warnings(world: World, tmp_path: Path) -> None:
    settings = _settings(tmp_path, world, world.root)
    with running(create_app(settings)) as base:
        ready = httpx.get(f"{base}/readyz", timeout=30)
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"
    assert ready.json()["warnings"] == []
    assert ready.json()["model_version"] == world.overridden.version


# --- hot reload and change control apply the same check ---------------------------------------


def _both_models(world: World, tmp_path: Path) -> tuple[Path, str, str]:
    """A registry holding both models, the overridden one promoted."""
    root = _registry(tmp_path, world, world.overridden.version)
    return root, world.overridden.version, world.shipped.version


def test_hot_reload_refuses_a_promoted_model_fitted_on_other_reference_data(
    world: World, tmp_path: Path, log_lines: pytest.LogCaptureFixture
) -> None:
    root, good, bad = _both_models(world, tmp_path)
    scorer = build_scorer(_settings(tmp_path, world, root))
    assert scorer.model_version == good
    ModelRegistry(root).promote(bad)
    assert scorer.refresh() is False
    assert scorer.refresh() is False
    assert scorer.model_version == good  # the current model stays
    assert scorer.refused_model is not None
    assert scorer.refused_model.model_version == bad
    assert len(_refusals(log_lines)) == 1  # logged once, not at every poll


def test_activation_refuses_a_model_fitted_on_other_reference_data(
    world: World, tmp_path: Path, log_lines: pytest.LogCaptureFixture
) -> None:
    root, good, bad = _both_models(world, tmp_path)
    settings = _settings(tmp_path, world, root)
    scorer = build_scorer(settings)
    control = open_change_control(settings)
    try:
        Activator(control, scorer, worker="w1").start()  # seeds the served model as active
        request = ModelProposalRequest(model_version=bad, rationale="the shipped-table model")
        proposed = control.propose_model(request, ANALYST, data=world.history)
        assert "tables that differ: ip_intel" in proposed.warnings[0]
        with pytest.raises(ReferenceMismatchError) as refused:
            control.approve(MODEL, proposed.number, decision(proposed), APPROVER)
        assert world.shipped.reference_version in refused.value.message
        # Approved and activated where nothing checked (before the check existed): every
        # worker still refuses it.
        unchecked = ChangeControl(control.engine, control.compiler, control.registry)
        approved = unchecked.approve(MODEL, proposed.number, decision(proposed), APPROVER)
        unchecked.activate(MODEL, approved.number, decision(approved), ADMIN)
        worker = Activator(control, scorer, worker="w1")
        worker.start()
        assert worker.sync() is False
    finally:
        control.engine.dispose()
    assert scorer.model_version == good  # this worker keeps what it ran
    assert scorer.refused_model is not None
    assert scorer.refused_model.model_version == bad
    assert len(_refusals(log_lines)) == 1


# --- the parameter pickles small and portable ------------------------------------------------


_TABLES = list(ReferencePaths.__slots__)


@hypothesis_settings(max_examples=30, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(_TABLES), st.from_regex(r"/[a-z]{1,8}/[a-z]{1,8}\.csv", fullmatch=True)
    )
)
def test_reference_paths_round_trip_with_only_the_overrides_stored(
    overrides: dict[str, str],
) -> None:
    paths = ReferencePaths(**{name: Path(value) for name, value in overrides.items()})
    expected = {n: v for n, v in overrides.items() if Path(v) != getattr(ReferencePaths(), n)}
    assert paths.overrides() == expected
    assert {k: v for k, v in paths.__getstate__().items() if v is not None} == expected
    assert pickle.loads(pickle.dumps(paths)) == paths  # noqa: S301 - our own bytes
    data = skops.io.dumps(paths)
    assert skops.io.get_untrusted_types(data=data) == [
        "fraudguard.reference.service.ReferencePaths"
    ]
    assert skops.io.loads(data, trusted=["fraudguard.reference.service.ReferencePaths"]) == paths
