"""Shared helpers for the rules tests: a small typed feature table and pack writers."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from fraudguard.features.base import FeatureKind
from fraudguard.reference.schemas import ListEntry, Lists, ListsFile

#: Synthetic features: the rules core is tested without the features package.
FEATURES: dict[str, FeatureKind] = {
    "net_wifi_open": FeatureKind.BOOL,
    "promo_discount_ratio": FeatureKind.FLOAT,
    "payer_recharges_1h": FeatureKind.INT,
    "number_operator": FeatureKind.CATEGORY,
}


def rule(rule_id: str = "FD-001", condition: str = "amount > 100", **fields: Any) -> dict[str, Any]:
    """A valid rule as it would appear in YAML; ``fields`` override or add keys."""
    family = fields.pop("family", "fake_discount")
    data: dict[str, Any] = {
        "id": rule_id,
        "title": f"Rule {rule_id}",
        "family": family,
        "severity": "high",
        "condition": condition,
        "action": "review",
        "reason_code": f"{family.upper()}.TEST_{rule_id.replace('-', '_')}",
        "message": f"Rule {rule_id} fired",
        "message_zh": f"规则 {rule_id} 命中",
        "rationale": "A test rule that exercises the engine end to end.",
    }
    data.update(fields)
    return data


@pytest.fixture
def write_pack(tmp_path: Path) -> Callable[..., Path]:
    """Write rules (dicts) or raw YAML text to ``tmp_path/name`` and return the path."""

    def write(rules: list[dict[str, Any]] | str, name: str = "pack.yaml") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(rules, str):
            text = textwrap.dedent(rules).lstrip()
        else:
            text = yaml.safe_dump({"version": "1", "rules": rules}, allow_unicode=True)
        path.write_text(text, encoding="utf-8")
        return path

    return write


def _entries(*values: str) -> list[ListEntry]:
    return [ListEntry(value=v, reason="test", added=date(2026, 1, 1)) for v in values]


@pytest.fixture(scope="session")
def lists() -> ListsFile:
    """Small block/allow lists with one entry of each kind the engine reads."""
    return ListsFile(
        version="test",
        block=Lists(
            instruments=_entries("tok_stolen"),
            devices=_entries("dev-bad"),
            ips=_entries("198.51.100.0/24"),
            domains=_entries("pay-secure.top", "10086-cz.com"),
        ),
        allow=Lists(devices=_entries("dev-kiosk-1"), ips=_entries("36.110.0.0/16")),
    )
