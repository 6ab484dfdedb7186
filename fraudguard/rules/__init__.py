"""Declarative fraud rules: YAML packs, compiled once, evaluated online, in batch and in
backtests. See :mod:`fraudguard.rules.symbols` for the condition language and its names,
:mod:`fraudguard.rules.schemas` for the file format.

Typical use::

    rules = RuleRegistry(path, features={"net_wifi_open": FeatureKind.BOOL}, lists=ref.lists)
    result = rules.evaluate({**to_flat(event), **features})   # RuleEvaluation
    result.action, result.score_delta, result.reasons, result.ruleset_version
    rules.reload()   # after editing the YAML; a bad edit keeps the old rules live
"""

from fraudguard.rules.backtest import BacktestReport, backtest, backtest_files
from fraudguard.rules.enums import RuleAction, RuleMode
from fraudguard.rules.ruleset import (
    FrameEvaluation,
    RuleEvaluation,
    RuleHit,
    RuleSet,
    ruleset_version,
)
from fraudguard.rules.schemas import Rule, RuleFile
from fraudguard.rules.service import (
    DEFAULT_PACK_DIR,
    PackFile,
    RuleRegistry,
    check_rule,
    compile_pack,
    load_rules,
    load_rules_text,
    pack_text,
    parse_pack_text,
    read_pack,
)
from fraudguard.rules.symbols import EVENT_SYMBOLS, LIST_SYMBOLS

__all__ = [
    "DEFAULT_PACK_DIR",
    "EVENT_SYMBOLS",
    "LIST_SYMBOLS",
    "BacktestReport",
    "FrameEvaluation",
    "PackFile",
    "Rule",
    "RuleAction",
    "RuleEvaluation",
    "RuleFile",
    "RuleHit",
    "RuleMode",
    "RuleRegistry",
    "RuleSet",
    "backtest",
    "backtest_files",
    "check_rule",
    "compile_pack",
    "load_rules",
    "load_rules_text",
    "pack_text",
    "parse_pack_text",
    "read_pack",
    "ruleset_version",
]
