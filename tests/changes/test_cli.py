"""`fraudguard rules ...`: propose a file, list, show, diff, export, and decide with API keys
(identities as the API records them); without a key one may propose, never decide."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fraudguard.cli import app
from fraudguard.config import get_settings
from tests.packs import TYPO_LINE

from .conftest import EDITED, SHIPPED

runner = CliRunner()
KEYS = ["--key", "approver-key-0001"]


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("FRAUDGUARD_DATABASE_URL", f"sqlite:///{tmp_path / 'fg.db'}")
    monkeypatch.setenv("FRAUDGUARD_MODEL_REGISTRY", str(tmp_path / "registry"))
    monkeypatch.setenv(
        "FRAUDGUARD_API_KEYS",
        "analyst-key-0001:analyst,approver-key-0001:approver,admin-key-0001:admin",
    )
    monkeypatch.delenv("FRAUDGUARD_KEY", raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_a_pack_proposed_from_the_command_line_goes_live_through_a_second_person(
    env: Path,
) -> None:
    pack = env / "pack.yaml"
    pack.write_text(EDITED, encoding="utf-8")
    proposed = runner.invoke(
        app,
        ["rules", "propose", str(pack), "--rationale", "catch card testing earlier"],
        env={"FRAUDGUARD_KEY": "analyst-key-0001"},
    )
    assert proposed.exit_code == 0, proposed.output
    assert "ruleset version 2: proposed" in proposed.output
    assert "VE-001" in proposed.output
    assert "changed" in proposed.output
    listed = runner.invoke(app, ["rules", "list"]).output.splitlines()
    assert [line.split()[:2] for line in listed] == [["2", "proposed"], ["1", "active"]]
    shown = json.loads(runner.invoke(app, ["rules", "show", "2"]).output)
    assert shown["author"].startswith("analyst:env-")
    assert shown["evidence"]["validation"]["ok"] is True
    diff = runner.invoke(app, ["rules", "diff", "1", "2"]).output
    assert "changed  VE-001" in diff
    assert "vel_device_distinct_instrument_1h >= 3" in diff

    own = runner.invoke(
        app, ["rules", "approve", "2", "--comment", "mine", "--key", "analyst-key-0001"]
    )
    assert own.exit_code == 2
    approved = runner.invoke(app, ["rules", "approve", "2", "--comment", "evidence ok", *KEYS])
    assert approved.exit_code == 0, approved.output
    active = runner.invoke(app, ["rules", "activate", "2", "--comment", "go live", *KEYS])
    assert "ruleset version 2: active" in active.output

    out = env / "exported.yaml"
    runner.invoke(app, ["rules", "export", "2", "--out", str(out)])
    assert out.read_text(encoding="utf-8") == EDITED

    asked = runner.invoke(app, ["rules", "rollback", "--comment", "too many blocks", *KEYS])
    assert "ruleset version 1: retired" in asked.output
    assert "another approver or admin confirms it" in asked.output
    again = runner.invoke(app, ["rules", "rollback", "1", "--comment", "me again", *KEYS])
    assert again.exit_code == 2
    assert "someone other than approver:" in again.output
    done = runner.invoke(
        app, ["rules", "rollback", "1", "--comment", "agreed", "--key", "admin-key-0001"]
    )
    assert "ruleset version 1: active" in done.output


def test_bad_input_from_the_command_line_is_a_clear_error(env: Path) -> None:
    broken = env / "broken.yaml"
    broken.write_text(SHIPPED.replace("condition: net_ip_tor", "condition: net_ip_torr"))
    result = runner.invoke(app, ["rules", "propose", str(broken), "--rationale", "a typo, sorry"])
    assert result.exit_code == 2
    assert f"content:{TYPO_LINE}: UN-001: condition: unknown symbol `net_ip_torr`" in result.output
    missing = runner.invoke(
        app, ["rules", "propose", str(env / "nope.yaml"), "--rationale", "x" * 12]
    )
    assert missing.exit_code == 2
    assert "cannot read" in missing.output
    unknown = runner.invoke(app, ["rules", "show", "9"])
    assert unknown.exit_code == 2
    assert "there is no ruleset version 9" in unknown.output
