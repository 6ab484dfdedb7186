"""The registry reloads rules without a restart and keeps the last good set on a bad edit."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from fraudguard.exceptions import RuleError
from fraudguard.rules import RuleAction, RuleRegistry
from tests.rules.conftest import FEATURES, rule

Writer = Callable[..., Path]


def test_reload_swaps_in_the_edited_pack(write_pack: Writer) -> None:
    path = write_pack([rule("FD-001", "amount > 100", action="tag")])
    registry = RuleRegistry(path, features=FEATURES)
    before = registry.current
    assert registry.evaluate({"amount": 500.0}).action is RuleAction.TAG

    write_pack([rule("FD-001", "amount > 100", action="block")])
    fresh = registry.reload()
    assert registry.current is fresh
    assert fresh is not before
    assert registry.version == fresh.version != before.version
    assert registry.evaluate({"amount": 500.0}).action is RuleAction.BLOCK
    assert before.evaluate({"amount": 500.0}).action is RuleAction.TAG  # old set untouched


@pytest.mark.parametrize(
    "bad_edit",
    [
        [rule("FD-001", "amout > 100")],  # unknown symbol
        [rule("FD-001", action="deny")],  # bad action
        "version: '1'\nrules: [\n",  # YAML that does not parse
    ],
)
def test_reload_keeps_the_last_good_rules(
    write_pack: Writer, caplog: pytest.LogCaptureFixture, bad_edit: object
) -> None:
    path = write_pack([rule("FD-001", "amount > 100", action="review")])
    registry = RuleRegistry(path, features=FEATURES)
    good = registry.current

    write_pack(bad_edit)
    with pytest.raises(RuleError):
        registry.reload()
    assert registry.current is good
    assert registry.evaluate({"amount": 500.0}).action is RuleAction.REVIEW
    assert "rule reload refused, keeping " + good.version in caplog.text

    write_pack([rule("FD-001", "amount > 100", action="tag")])  # fixed: reload works again
    assert registry.reload().version != good.version


def test_a_bad_pack_at_start_raises(write_pack: Writer) -> None:
    with pytest.raises(RuleError, match="unknown symbol"):
        RuleRegistry(write_pack([rule("FD-001", "amout > 1")]), features=FEATURES)
