"""The label policy: one documented, configurable answer to "is this order fraud, and since
when do we know?", from outcomes, reviewers' dispositions and time.

The shipped policy is ``fraudguard/outcomes/data/label_policy.yaml``; a deployment replaces
it with ``FRAUDGUARD_LABEL_POLICY_PATH``. Precedence for one order, at any moment:

1. a reviewer's current disposition (``confirmed_fraud`` / ``false_positive``), or, with
   ``reviewer_overrides_outcomes: false``, the outcomes first;
2. the outcomes reported so far whose kind says ``fraud`` or ``genuine``, settled by
   ``conflicts`` (``latest`` or ``fraud_wins``);
3. maturity: an order whose decision is in ``maturity.decisions``, once every fraud kind's
   window has passed since the order, is genuine.

>>> policy = load_label_policy()
>>> policy.label_of(OutcomeKind.CHARGEBACK), policy.label_of(OutcomeKind.REFUND)
(<LabelValue.FRAUD: 'fraud'>, <LabelValue.NONE: 'none'>)
>>> policy.maturity_days("operator_app"), policy.maturity_days("self_service_terminal")
(60, 30)
>>> policy.typology_for(OutcomeKind.COMPLAINT_NOT_DELIVERED, None)
'fake_discount_scam'
"""

from __future__ import annotations

from functools import cached_property
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from fraudguard.outcomes.enums import LabelValue, OutcomeConflicts
from fraudguard.outcomes.exceptions import LabelPolicyError
from fraudguard.reference.files import parse_yaml_model, read_yaml_model
from fraudguard.schema import Channel, DecisionOutcome, FraudTypology, OutcomeKind

__all__ = ["DEFAULT_POLICY", "KindRule", "LabelPolicy", "Maturity", "load_label_policy"]

#: The shipped policy file, inside the package.
DEFAULT_POLICY = "label_policy.yaml"

Days = Annotated[int, Field(ge=0, le=3650)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KindRule(_Model):
    """What one outcome kind says."""

    label: LabelValue
    #: The typology of a ``fraud`` label when the report names none.
    typology: FraudTypology | None = None
    #: How long after an order this kind can still arrive (``fraud`` kinds).
    window_days: Days | None = None

    @model_validator(mode="after")
    def _fraud_needs_typology_and_window(self) -> KindRule:
        if self.label is LabelValue.FRAUD:
            if self.typology is None:
                raise ValueError("a fraud kind needs `typology` (used when the report has none)")
            if self.window_days is None:
                raise ValueError("a fraud kind needs `window_days` (when orders mature)")
        elif self.typology is not None:
            raise ValueError("only fraud kinds have a typology")
        return self


class Maturity(_Model):
    """When an order with nothing said against it counts as genuine."""

    decisions: list[DecisionOutcome] = Field(default_factory=lambda: [DecisionOutcome.ALLOW])
    #: ``channel -> {kind: days}``: a fraud kind's window on that channel.
    channels: dict[Channel, dict[OutcomeKind, Days]] = Field(default_factory=dict)


class LabelPolicy(_Model):
    """The label policy file (see the module docstring and the analyst guide)."""

    version: Literal[1] = 1
    kinds: dict[OutcomeKind, KindRule]
    report_typology: bool = True
    conflicts: OutcomeConflicts = OutcomeConflicts.LATEST
    reviewer_overrides_outcomes: bool = True
    maturity: Maturity = Field(default_factory=Maturity)

    @model_validator(mode="after")
    def _every_kind_and_fraud_windows(self) -> LabelPolicy:
        missing = [kind.value for kind in OutcomeKind if kind not in self.kinds]
        if missing:
            raise ValueError(f"say what every kind means; missing: {', '.join(missing)}")
        for channel, windows in self.maturity.channels.items():
            for kind in windows:
                if self.kinds[kind].label is not LabelValue.FRAUD:
                    raise ValueError(
                        f"maturity.channels.{channel}.{kind}: only fraud kinds have a window"
                    )
        return self

    def label_of(self, kind: OutcomeKind | str) -> LabelValue:
        return self.kinds[OutcomeKind(kind)].label

    def with_changes(self, **changes: object) -> LabelPolicy:
        """A copy with ``changes`` (validated, unlike ``model_copy``).

        >>> load_label_policy().with_changes(conflicts="fraud_wins").conflicts
        <OutcomeConflicts.FRAUD_WINS: 'fraud_wins'>
        """
        return LabelPolicy.model_validate({**self.model_dump(), **changes})

    @cached_property
    def fraud_kinds(self) -> frozenset[OutcomeKind]:
        """Kinds whose outcome says fraud (and opens a missed-fraud case on an allowed order)."""
        return frozenset(k for k, rule in self.kinds.items() if rule.label is LabelValue.FRAUD)

    @cached_property
    def labelled_kinds(self) -> frozenset[OutcomeKind]:
        """Kinds that give a label (fraud or genuine)."""
        return frozenset(k for k, rule in self.kinds.items() if rule.label is not LabelValue.NONE)

    def typology_for(self, kind: OutcomeKind | str, reported: str | None) -> str | None:
        """The typology of a fraud label from an outcome of ``kind`` (``None`` otherwise)."""
        rule = self.kinds[OutcomeKind(kind)]
        if rule.label is not LabelValue.FRAUD:
            return None
        if reported is not None and self.report_typology:
            return reported
        return rule.typology.value if rule.typology is not None else None

    def maturity_days(self, channel: Channel | str | None) -> int:
        """Days after an order on ``channel`` until every fraud kind's window has passed."""
        return self._maturity_by_channel.get(str(channel) if channel else "", self._default_days)

    @cached_property
    def _default_days(self) -> int:
        return max((self.kinds[k].window_days or 0 for k in self.fraud_kinds), default=0)

    @cached_property
    def _maturity_by_channel(self) -> dict[str, int]:
        by_channel: dict[str, int] = {}
        for channel, windows in self.maturity.channels.items():
            days = [windows.get(k, self.kinds[k].window_days or 0) for k in self.fraud_kinds]
            by_channel[channel.value] = max(days, default=0)
        return by_channel

    @property
    def shortest_maturity_days(self) -> int:
        """The fewest days any order takes to mature (a bound for reading candidates)."""
        return min([self._default_days, *self._maturity_by_channel.values()])

    @property
    def longest_maturity_days(self) -> int:
        """The most days any order takes to mature: a window older than this is settled."""
        return max([self._default_days, *self._maturity_by_channel.values()])


def load_label_policy(path: Path | str | None = None) -> LabelPolicy:
    """The label policy at ``path`` (YAML), or the shipped one.

    Raises :class:`LabelPolicyError` naming file, line and field of every problem.
    """
    if path is not None:
        return read_yaml_model(Path(path), LabelPolicy, LabelPolicyError)
    text = files("fraudguard.outcomes").joinpath("data", DEFAULT_POLICY).read_text("utf-8")
    return parse_yaml_model(text, Path(DEFAULT_POLICY), LabelPolicy, LabelPolicyError)
