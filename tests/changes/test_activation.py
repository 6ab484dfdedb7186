"""A worker follows change control: it seeds what it was started with, runs what is
activated (and stops following the YAML files), runs a proposal in shadow and reports its
counts, and keeps what it runs when a version cannot be compiled or loaded here."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fraudguard.changes import (
    Activator,
    ChangeControl,
    ChangeKind,
    ChangeState,
    PackCompiler,
)
from fraudguard.models import LoadedModel, ModelRegistry
from fraudguard.scoring import Scorer, build_scorer
from tests.scoring.conftest import LATER, make_event

from .conftest import APPROVER, EDITED, SHIPPED, decision, live, make_control, proposed

#: Orders whose last the edited pack flags (a 4th card on one device within the hour: 3 seen
#: before it) and the shipped pack allows.
CARDS = [f"tok-{n}" for n in range(4)]


def _cards(scorer: Scorer, prefix: str) -> Any:
    """Four orders from one device, each with its own card; the last one's decision."""
    for n, card in enumerate(CARDS):
        scored = scorer.score_one(
            make_event(
                transaction_id=f"{prefix}-{n}",
                device={"id": f"dev-{prefix}"},
                payment={"instrument_id": f"{card}-{prefix}", "payer_id": f"u-{prefix}"},
            ),
            now=LATER,
        )
    return scored.decision


@pytest.fixture
def scorer(base_settings: Any, loaded_model: LoadedModel) -> Scorer:
    return build_scorer(base_settings, model=loaded_model)


@pytest.fixture
def control(
    database_url: str,
    compiler: PackCompiler,
    model_root: Path,
) -> Iterator[ChangeControl]:
    made = make_control(database_url, compiler, ModelRegistry(model_root))
    yield made
    made.engine.dispose()


def test_a_worker_seeds_then_follows_the_database(
    control: ChangeControl,
    scorer: Scorer,
    base_settings: Any,
    loaded_model: LoadedModel,
) -> None:
    worker = Activator(control, scorer, worker="w1")
    worker.start()
    seeded = control.active(ChangeKind.RULESET)
    assert seeded is not None
    assert seeded.seeded
    assert seeded.content_hash == scorer.rules.version
    model = control.active(ChangeKind.MODEL)
    assert model is not None
    assert model.label == scorer.model_version
    assert scorer.managed
    assert scorer.refresh() is False  # the YAML files no longer decide what is live

    other = build_scorer(base_settings, model=loaded_model)
    second = Activator(control, other, worker="w2")
    second.start()  # a second worker on the same database: nothing seeded twice
    assert len(control.versions(ChangeKind.RULESET)) == 1
    before = _cards(other, "a")

    active = live(control)
    assert worker.sync() is True
    assert second.sync() is True
    assert second.sync() is False  # nothing new
    assert other.rules.version == scorer.rules.version == active.content_hash
    after = _cards(other, "b")
    assert after.ruleset_version == active.content_hash
    # The shipped pack does not block the fourth card (the model may send it to review).
    assert before.decision.value != "block"
    assert "rule:VE-001" not in [r.source for r in before.reasons]
    assert after.decision.value == "block"
    assert "rule:VE-001" in [r.source for r in after.reasons]


def test_a_proposal_runs_in_shadow_and_its_counts_reach_the_database(
    control: ChangeControl, scorer: Scorer
) -> None:
    worker = Activator(control, scorer, worker="w1")
    worker.start()
    version = proposed(control, shadow=True)
    worker.sync()
    assert scorer.shadow is not None
    live_decision = _cards(scorer, "c")
    assert live_decision.decision.value != "block"  # the shadow is never obeyed
    worker.flush()
    results = control.detail(ChangeKind.RULESET, version.number).shadow_results
    assert results is not None
    assert results.workers == 1
    assert results.orders == len(CARDS)
    assert results.changed == 1
    assert results.transitions == {f"{live_decision.decision.value}->block": 1}
    assert results.rules["VE-001"] == 1
    newly = [("velocity", 1)] if live_decision.decision.value == "allow" else []
    assert [(f.family, f.newly_flagged) for f in results.families] == newly

    control.approve(ChangeKind.RULESET, version.number, decision(version), APPROVER)
    worker.sync()
    assert scorer.shadow is None  # decided: the shadow stops, its results stay
    assert control.detail(ChangeKind.RULESET, version.number).shadow_results is not None


def test_a_version_this_worker_cannot_compile_leaves_it_on_what_it_runs(
    control: ChangeControl, scorer: Scorer, database_url: str
) -> None:
    Activator(control, scorer, worker="w1").start()
    blind = make_control(database_url, PackCompiler({}, None), control.registry)  # no features
    try:
        worker = Activator(blind, scorer, worker="w2")
        running = scorer.rules.version
        live(control)
        assert worker.sync() is False
        assert scorer.rules.version == running
        assert control.active(ChangeKind.RULESET).state is ChangeState.ACTIVE  # type: ignore[union-attr]
    finally:
        blind.engine.dispose()


def test_the_seed_is_the_pack_the_scorer_loaded(
    control: ChangeControl,
    base_settings: Any,
    loaded_model: LoadedModel,
    tmp_path: Path,
) -> None:
    pack = tmp_path / "pack.yaml"
    pack.write_text(EDITED, encoding="utf-8")
    settings = base_settings.model_copy(update={"rules_path": pack})
    scorer = build_scorer(settings, model=loaded_model)
    Activator(control, scorer, worker="w1").start()
    seeded = control.detail(ChangeKind.RULESET, 1)
    assert seeded.content == EDITED
    assert seeded.content != SHIPPED
