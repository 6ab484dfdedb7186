"""Shape of a rule file: what an analyst writes, checked field by field at load.

A rule file is YAML with a ``version`` label and a list of ``rules``::

    version: "2026.11.1"
    rules:
      - id: FD-002
        title: Promotion code no operator issued
        family: fake_discount
        severity: high
        condition: promotion_code != null and not promo_registered
        action: review
        reason_code: FAKE_DISCOUNT.UNREGISTERED_PROMOTION
        message: Promotion code is not in the official catalogue
        message_zh: 该优惠活动不在运营商官方活动目录中
        rationale: Fake-discount shops invent codes; genuine codes are all in the catalogue.

>>> rule = Rule.model_validate({
...     "id": "NET-001", "title": "Open Wi-Fi, large amount", "family": "unsafe_network",
...     "severity": "medium", "condition": "net_wifi_open and amount >= 200",
...     "action": "score", "score_delta": 0.2, "reason_code": "UNSAFE_NETWORK.OPEN_WIFI",
...     "message": "Paid on an open Wi-Fi network", "message_zh": "通过开放的公共Wi-Fi支付",
...     "rationale": "Open hotspots are where payment pages get intercepted."})
>>> rule.mode, rule.enabled, rule.score_delta
(<RuleMode.ACTIVE: 'active'>, True, 0.2)
"""

from __future__ import annotations

import math
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from fraudguard.rules.enums import RuleAction, RuleMode
from fraudguard.schema import ReasonFamily, Severity

__all__ = ["Rule", "RuleFile"]

RuleId = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9]{1,7}-\d{3,4}$")]
ReasonCode = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]*\.[A-Z][A-Z0-9_]*$", max_length=96)]
Text = Annotated[str, Field(min_length=1, max_length=300)]


class Rule(BaseModel):
    """One rule: when ``condition`` holds, do ``action`` and say why in both languages."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    id: RuleId = Field(description="Stable id such as FD-002; cited in reasons as rule:FD-002.")
    title: Annotated[str, Field(min_length=1, max_length=120)]
    family: ReasonFamily
    severity: Severity
    condition: Annotated[str, Field(min_length=1, max_length=4000)] = Field(
        description="A rule-engine expression over event columns, features and list symbols."
    )
    action: RuleAction
    score_delta: float | None = Field(
        default=None,
        validate_default=True,
        description="For action `score` only: added to the score, between -1 and 1.",
    )
    reason_code: ReasonCode = Field(
        description="FAMILY.WHAT, e.g. FAKE_DISCOUNT.UNREGISTERED_PROMOTION"
    )
    message: Text
    message_zh: Text
    rationale: Annotated[str, Field(min_length=1, max_length=1000)] = Field(
        description="Why the rule exists, for the analysts who will maintain it."
    )
    enabled: bool = True
    mode: RuleMode = RuleMode.ACTIVE

    @field_validator("family")
    @classmethod
    def _not_model(cls, family: ReasonFamily) -> ReasonFamily:
        if family is ReasonFamily.MODEL:
            raise ValueError("the `model` family is reserved for the model's own reasons")
        return family

    @field_validator("score_delta")
    @classmethod
    def _delta_for_score_only(cls, delta: float | None, info: ValidationInfo) -> float | None:
        action = info.data.get("action")
        if action is None:  # the action itself is invalid and reported on its own
            return delta
        if action is not RuleAction.SCORE:
            if delta is not None:
                raise ValueError(f"only `score` rules take a score_delta (this rule does {action})")
            return None
        if delta is None:
            raise ValueError("a `score` rule needs a score_delta between -1 and 1")
        if not (math.isfinite(delta) and -1.0 <= delta <= 1.0) or delta == 0.0:
            raise ValueError("score_delta must be between -1 and 1 and not 0")
        return delta

    @field_validator("reason_code")
    @classmethod
    def _code_names_family(cls, code: str, info: ValidationInfo) -> str:
        # Reviewers read the family off the code, so the two must agree.
        family = info.data.get("family")
        if family is not None and code.split(".", 1)[0] != family.upper():
            raise ValueError(f"must start with {family.upper()}. to match the family {family}")
        return code


class RuleFile(BaseModel):
    """One YAML file of a rule pack."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Annotated[str, Field(min_length=1, max_length=64)]
    rules: Annotated[list[Rule], Field(min_length=1)]
