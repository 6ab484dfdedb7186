"""A proposed rule pack run in shadow: evaluated on every live order beside the live pack,
its decision made as the live one is (same model score, same allow-lists), counted, and
never obeyed, stored or answered.

The counts hold no order data (no ids, no amounts per order): totals, transitions between
decisions, rule hits and the families of the orders it would flag or stop flagging.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fraudguard.rules import RuleEvaluation, RuleSet
from fraudguard.schema import Decision, DecisionOutcome

__all__ = ["ShadowRun", "ShadowTally"]


class ShadowTally:
    """Running counts of a shadow pack on one worker (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.since = datetime.now(UTC)
        self.orders = 0
        self.changed = 0
        self.flagged_before = 0
        self.flagged_after = 0
        self.amount_before = 0.0
        self.amount_after = 0.0
        self.transitions: Counter[str] = Counter()
        self.rules: Counter[str] = Counter()
        self.newly: Counter[str] = Counter()
        self.no_longer: Counter[str] = Counter()

    def observe(
        self, live: Decision, shadow: Decision, evaluation: RuleEvaluation, amount: float
    ) -> None:
        """Count one order: its live decision and the shadow pack's."""
        was = live.decision is not DecisionOutcome.ALLOW
        would = shadow.decision is not DecisionOutcome.ALLOW
        with self._lock:
            self.orders += 1
            self.flagged_before += was
            self.flagged_after += would
            self.amount_before += amount if was else 0.0
            self.amount_after += amount if would else 0.0
            for hit in (*evaluation.hits, *evaluation.shadow_hits):
                self.rules[hit.rule_id] += 1
            if live.decision is shadow.decision:
                return
            self.changed += 1
            self.transitions[f"{live.decision.value}->{shadow.decision.value}"] += 1
            if would and not was:
                self.newly[_family(shadow)] += 1
            elif was and not would:
                self.no_longer[_family(live)] += 1

    def snapshot(self) -> dict[str, Any]:
        """The counts so far, as JSON."""
        with self._lock:
            return {
                "since": self.since.isoformat(),
                "orders": self.orders,
                "changed": self.changed,
                "flagged_before": self.flagged_before,
                "flagged_after": self.flagged_after,
                "amount_before": round(self.amount_before, 2),
                "amount_after": round(self.amount_after, 2),
                "transitions": dict(self.transitions),
                "rules": dict(self.rules),
                "newly": dict(self.newly),
                "no_longer": dict(self.no_longer),
            }


def _family(decision: Decision) -> str:
    return decision.reasons[0].family.value if decision.reasons else "model"


@dataclass
class ShadowRun:
    """The pack a worker runs in shadow: ``version_id`` names it where tallies are kept."""

    version_id: int
    rules: RuleSet
    tally: ShadowTally = field(default_factory=ShadowTally)
