"""The console's words for values and times (issue 21): every value the console shows has a
Chinese and an English label in one table keyed by ``(kind, code)`` - a new enum value
without one fails here - and times name the operator's zone and the offset of the instant."""

from __future__ import annotations

import inspect
import re
import types
from datetime import UTC, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

import fraudguard.cases.enums
import fraudguard.features._lookalike
import fraudguard.features.base
import fraudguard.schema
from fraudguard.api.console_text import FEATURE_KINDS, VALUE_LABELS, LocalTime, labels_for
from fraudguard.features import FeatureKind, PromotionStatus, default_extractor
from fraudguard.reference import load_reference
from fraudguard.reference.schemas import IpIntelRow
from tests.console.pages import visible

SHANGHAI = ZoneInfo("Asia/Shanghai")
CJK = re.compile(r"[\u4e00-\u9fff]")


def test_times_name_the_zone_and_the_offset_of_that_instant() -> None:
    shanghai = LocalTime(SHANGHAI, "Asia/Shanghai")
    placed = datetime(2026, 11, 5, 13, 0, tzinfo=UTC)  # 21:00 +08:00
    assert shanghai.text(placed) == "2026-11-05 21:00 (Asia/Shanghai, UTC+08:00)"
    html = str(shanghai(placed))
    assert 'datetime="2026-11-05T13:00:00+00:00"' in html  # the instant itself stays
    assert visible(html) == "2026-11-05 21:00 (Asia/Shanghai, UTC+08:00)"
    new_york = LocalTime(ZoneInfo("America/New_York"), "America/New_York")
    summer, winter = datetime(2026, 7, 1, 12, tzinfo=UTC), datetime(2026, 12, 1, 12, tzinfo=UTC)
    assert new_york.text(summer) == "2026-07-01 08:00 (America/New_York, UTC-04:00)"
    assert new_york.text(winter) == "2026-12-01 07:00 (America/New_York, UTC-05:00)"


#: Every enum (by class name) of the modules whose values the console shows, and the kind it
#: shows them as (``None``: never shown). A new enum there fails the test until it is listed.
ENUM_KINDS: dict[str, str | None] = {
    "Channel": "channel",
    "PaymentMethod": "payment_method",
    "NetworkType": "network_type",
    "WifiSecurity": "wifi_security",
    "DecisionOutcome": "decision",
    "ReasonFamily": "family",
    "Severity": "severity",
    "PromotionVerdict": "promotion_verdict",
    "FraudTypology": "typology",
    "OutcomeKind": "outcome_kind",
    "CaseStatus": "status",
    "CaseOrigin": "origin",
    "Disposition": "disposition",
    "AuditAction": "audit_action",
    "LinkKind": "link",
    "CaseSort": "sort",
    "DeciderKind": "decider",
    "ScoreSource": "score_source",
    "LookalikeKind": "lookalike_kind",
    "IdentifierKind": None,  # how a platform was given (URL, app, account)
    "FeatureKind": None,  # a feature's type
}
_ENUM_MODULES = (
    fraudguard.schema,
    fraudguard.cases.enums,
    fraudguard.features._lookalike,
    fraudguard.features.base,
)


def _enums(module: types.ModuleType) -> list[type[StrEnum]]:
    return [
        value
        for value in vars(module).values()
        if inspect.isclass(value)
        and issubclass(value, StrEnum)
        and value.__module__ == module.__name__
    ]


def _shown_values() -> list[tuple[str, str]]:
    """Every (kind, code) the console can show."""
    shown: list[tuple[str, str]] = []
    for module in _ENUM_MODULES:
        for enum in _enums(module):
            name = enum.__qualname__
            assert name in ENUM_KINDS, f"{module.__name__}.{name}: which kind does it show as?"
            kind = ENUM_KINDS[name]
            if kind is not None:
                shown += [(kind, member.value) for member in enum]
    statuses = [v for k, v in vars(PromotionStatus).items() if k.isupper()]
    shown += [("promotion_status", code) for code in statuses]
    pattern = IpIntelRow.model_json_schema()["properties"]["category"]["pattern"]
    categories = re.fullmatch(r"\^\((.*)\)\$", pattern)
    assert categories is not None
    shown += [("ip_category", c) for c in [*categories.group(1).split("|"), "clean", "unknown"]]
    reference = load_reference()
    owners = [*reference.channels.operators, *reference.channels.partners]
    shown += [("operator", owner.id) for owner in owners]
    shown += [("operator", row.operator) for row in reference.number_prefixes]
    shown += [("province", row.code) for row in reference.provinces]
    shown += [("boolean", "true"), ("boolean", "false")]
    return sorted(set(shown))


def test_every_value_the_console_shows_has_both_labels() -> None:
    missing = [
        f"{kind}:{code} ({lang})"
        for kind, code in _shown_values()
        for lang in ("zh", "en")
        if labels_for(lang).label(kind, code) is None
    ]
    assert missing == [], "add them to VALUE_LABELS in fraudguard/api/console_text.py"


def test_labels_are_words_not_codes() -> None:
    for (kind, code), (english, chinese) in VALUE_LABELS.items():
        assert "_" not in english, f"{kind}:{code}: {english!r} is not readable English"
        assert CJK.search(chinese), f"{kind}:{code}: {chinese!r} is not Chinese"


def test_every_category_feature_says_what_its_values_are() -> None:
    categories = [
        s.name for s in default_extractor().specs.values() if s.kind is FeatureKind.CATEGORY
    ]
    assert sorted(set(categories) - set(FEATURE_KINDS)) == []
