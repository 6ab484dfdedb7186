"""A running scorer picks up rule edits and model promotions without a restart."""

from __future__ import annotations

import shutil
from pathlib import Path

from fraudguard.models import ModelRegistry
from fraudguard.rules import DEFAULT_PACK_DIR
from fraudguard.scoring import Scorer, build_scorer

from .conftest import LATER, make_event


def _scorer(base: Scorer, tmp_path: Path, registry_root: Path) -> Scorer:
    pack = tmp_path / "pack"
    shutil.copytree(DEFAULT_PACK_DIR, pack)
    settings = base.settings.model_copy(
        update={"rules_path": pack, "model_registry": registry_root}
    )
    return build_scorer(settings)


def test_an_edited_rule_pack_is_picked_up_and_a_broken_one_is_not(
    base_scorer: Scorer, tmp_path: Path, model_root: Path
) -> None:
    scorer = _scorer(base_scorer, tmp_path, model_root)
    pack = scorer.rules.path / "default.yaml"
    before = scorer.rules.version
    assert scorer.refresh() is False

    text = pack.read_text(encoding="utf-8")
    pack.write_text(
        text.replace(
            "vel_device_distinct_instrument_1h >= 4", "vel_device_distinct_instrument_1h >= 3"
        ),
        encoding="utf-8",
    )
    assert scorer.refresh() is True
    edited = scorer.rules.version
    assert edited != before

    pack.write_text(
        text.replace("condition: net_ip_tor", "condition: net_ip_torr"), encoding="utf-8"
    )
    assert scorer.refresh() is False
    assert scorer.rules.version == edited  # the last good pack stays live
    decision = scorer.score_one(make_event(), now=LATER).decision
    assert decision.ruleset_version == edited


def test_promotion_and_rollback_reach_a_running_scorer(
    base_scorer: Scorer, tmp_path: Path, model_root: Path
) -> None:
    root = tmp_path / "registry"
    shutil.copytree(model_root, root)
    scorer = _scorer(base_scorer, tmp_path, root)
    registry = ModelRegistry(root)
    first = scorer.model_version
    assert first is not None

    # A second version: the same artifact under another name, as `fraudguard train` makes.
    second = root / "models" / "hgb-2099-01-01-1"
    shutil.copytree(root / "models" / first, second)
    manifest = second / "manifest.json"
    manifest.write_text(manifest.read_text().replace(first, second.name), encoding="utf-8")
    registry.promote("hgb-2099-01-01-1")
    assert scorer.refresh() is True
    assert scorer.model_version == "hgb-2099-01-01-1"
    assert scorer.score_one(make_event(), now=LATER).decision.model_version == "hgb-2099-01-01-1"

    registry.rollback()
    assert scorer.refresh() is True
    assert scorer.model_version == first


def test_a_promoted_but_tampered_model_is_not_loaded(
    base_scorer: Scorer, tmp_path: Path, model_root: Path
) -> None:
    root = tmp_path / "registry"
    shutil.copytree(model_root, root)
    scorer = _scorer(base_scorer, tmp_path, root)
    current = scorer.model_version
    (root / "promotions.json").write_text('{"history": ["hgb-2099-09-09-9"]}')
    assert scorer.refresh() is False
    assert scorer.model_version == current
