"""Prometheus metrics, one registry per app (so tests can build many apps)."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info

from fraudguard.rules import RuleEvaluation

__all__ = ["ServiceMetrics"]

_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class ServiceMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "fraudguard_requests",
            "HTTP requests by route, decision and status code",
            ["route", "decision", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "fraudguard_request_seconds",
            "Request latency by route and decision",
            ["route", "decision"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.rule_hits = Counter(
            "fraudguard_rule_hits",
            "Rules that fired, by rule id and mode",
            ["rule_id", "mode"],
            registry=self.registry,
        )
        self.model = Info("fraudguard_model", "The model in use", registry=self.registry)
        self.degraded = Gauge(
            "fraudguard_degraded",
            "1 while scoring degraded: no model, or the velocity state store is down",
            registry=self.registry,
        )
        self.feedback_behind = Gauge(
            "fraudguard_feedback_behind_seconds",
            "Seconds since the feedback store last caught up with the log's fraud reports "
            "(NaN until it is first warmed)",
            registry=self.registry,
        )

    def set_model(self, version: str | None, ruleset_version: str) -> None:
        self.model.info({"version": version or "none", "ruleset_version": ruleset_version})

    def follow_degraded(self, degraded: Callable[[], bool]) -> None:
        """Read ``degraded()`` at every scrape, so a store outage shows as it happens."""
        self.degraded.set_function(lambda: 1.0 if degraded() else 0.0)

    def follow_feedback(self, caught_up_at: Callable[[], datetime | None]) -> None:
        """Read ``caught_up_at()`` at every scrape: a catch-up that keeps failing shows."""

        def behind() -> float:
            at = caught_up_at()
            return math.nan if at is None else (datetime.now(UTC) - at).total_seconds()

        self.feedback_behind.set_function(behind)

    def observe_rules(self, evaluation: RuleEvaluation) -> None:
        for hit in evaluation.hits:
            self.rule_hits.labels(hit.rule_id, "active").inc()
        for hit in evaluation.shadow_hits:
            self.rule_hits.labels(hit.rule_id, "shadow").inc()
