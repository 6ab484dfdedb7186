"""What a drift check is told (:class:`DriftThresholds`) and answers (:class:`DriftReport`).

The defaults are the usual credit-risk conventions for the population stability index
(below 0.1 stable, 0.1-0.25 worth a look, above 0.25 a real shift) and limits on the score's
Kolmogorov-Smirnov statistic and on each rule's hit rate that a normal week of top-up
traffic stays inside. A thresholds file (YAML or JSON) names only what it changes::

    psi_alert: 0.3
    ignore: [local_weekday]          # windows that are not whole weeks
    feature_limits:
      promo_claimed: {warn: 0.2, alert: 0.5}   # campaigns move it every month
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from fraudguard.monitoring.enums import BinningKind, DriftLevel

__all__ = [
    "DEFAULT_SCORE_EDGES",
    "DriftReport",
    "DriftThresholds",
    "PerformanceReport",
    "PerformanceRow",
    "PsiLimits",
    "PsiResult",
    "ScoreDrift",
    "WindowPerformance",
    "WindowSummary",
]

Positive = Annotated[float, Field(gt=0.0)]
#: Score bins for PSI: fine near 0, where most orders are, and around usual thresholds.
DEFAULT_SCORE_EDGES = (0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 0.9)


class PsiLimits(BaseModel):
    """PSI at or above ``warn`` warns, at or above ``alert`` alerts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    warn: Positive
    alert: Positive

    @model_validator(mode="after")
    def _ordered(self) -> PsiLimits:
        if self.alert < self.warn:
            raise ValueError("alert must not be below warn")
        return self

    def level(self, value: float) -> DriftLevel:
        if value >= self.alert:
            return DriftLevel.ALERT
        if value >= self.warn:
            return DriftLevel.WARN
        return DriftLevel.OK


class DriftThresholds(BaseModel):
    """Limits past which a drift check warns or alerts, and how PSI is measured."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    psi_warn: Positive = Field(default=0.1, description="Feature PSI that warns.")
    psi_alert: Positive = Field(default=0.25, description="Feature PSI that alerts.")
    feature_limits: dict[str, PsiLimits] = Field(
        default_factory=dict, description="Per-feature PSI limits over psi_warn / psi_alert."
    )
    ignore: list[str] = Field(
        default_factory=list, description="Features (or raw columns) not measured at all."
    )
    score_edges: list[float] = Field(
        default_factory=lambda: list(DEFAULT_SCORE_EDGES),
        description="Bin edges of the score's PSI. Fixed, not the reference's quantiles: "
        "most orders score (nearly) 0, so score quantiles collapse into one or two bins "
        "and would hide a change in the tail, where review and block happen.",
    )
    score_psi_warn: Positive = Field(default=0.1, description="PSI of the score that warns.")
    score_psi_alert: Positive = Field(default=0.25, description="PSI of the score that alerts.")
    ks_warn: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        default=0.1, description="Kolmogorov-Smirnov statistic of the score that warns."
    )
    ks_alert: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        default=0.2, description="Kolmogorov-Smirnov statistic of the score that alerts."
    )
    rule_ratio_warn: Annotated[float, Field(gt=1.0)] = Field(
        default=2.0,
        description="A rule's hit rate (or the flagged rate) this many times higher or lower "
        "warns.",
    )
    rule_ratio_alert: Annotated[float, Field(gt=1.0)] = Field(
        default=4.0,
        description="A rule's hit rate (or the flagged rate) this many times higher or lower "
        "alerts.",
    )
    rule_min_change: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        default=0.001,
        description="Hit-rate changes smaller than this (0.001 = 0.1 percentage point) never "
        "warn: a rare rule going from 2 to 5 hits is noise, not drift.",
    )
    rule_max_p_value: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        default=0.01,
        description="A rule's change must also be significant: Fisher's exact test p-value "
        "at most this.",
    )
    bins: Annotated[int, Field(ge=2, le=100)] = Field(
        default=10, description="Quantile bins of the reference window for numeric columns."
    )
    max_categories: Annotated[int, Field(ge=1, le=200)] = Field(
        default=20,
        description="Most frequent reference values kept as bins for a categorical column; "
        "the rest, and values the reference never had, share the bin `(other)`.",
    )
    epsilon: Annotated[float, Field(gt=0.0, lt=0.01)] = Field(
        default=1e-4,
        description="Bin shares below this are raised to it before the logarithm, so an "
        "empty bin adds a large but finite term instead of infinity.",
    )
    min_rows: Annotated[int, Field(ge=1)] = Field(
        default=500,
        description="Fewest rows a window may have: PSI's sampling noise grows like "
        "bins / rows and would drown real drift in small windows.",
    )

    @model_validator(mode="after")
    def _ordered(self) -> DriftThresholds:
        for low, high in (
            ("psi_warn", "psi_alert"),
            ("score_psi_warn", "score_psi_alert"),
            ("ks_warn", "ks_alert"),
            ("rule_ratio_warn", "rule_ratio_alert"),
        ):
            if getattr(self, high) < getattr(self, low):
                raise ValueError(f"{high} must not be below {low}")
        edges = self.score_edges
        if not edges or any(b <= a for a, b in itertools.pairwise(edges)):
            raise ValueError("score_edges must be a non-empty, strictly increasing list")
        return self

    def feature_psi_limits(self, name: str) -> PsiLimits:
        return self.feature_limits.get(name) or PsiLimits(warn=self.psi_warn, alert=self.psi_alert)


@dataclass(frozen=True)
class PsiResult:
    """One population stability index and the bins it was computed on.

    ``bins`` is indexed by the bin's label, with columns ``reference_count``,
    ``current_count``, ``reference_share``, ``current_share`` and ``contribution`` (the
    bin's term of the sum; the terms are never negative).
    """

    value: float
    kind: BinningKind
    bins: pd.DataFrame = field(repr=False)

    @property
    def top_bin(self) -> str:
        """The bin that moved the most (largest contribution)."""
        return str(self.bins["contribution"].idxmax())


@dataclass(frozen=True)
class WindowSummary:
    """Rows and time span of one window."""

    rows: int
    start: datetime | None
    end: datetime | None

    def describe(self) -> str:
        if self.start is None or self.end is None:
            return f"{self.rows:,} rows"
        return f"{self.rows:,} rows, {self.start:%Y-%m-%d %H:%M} to {self.end:%Y-%m-%d %H:%M}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "start": None if self.start is None else self.start.isoformat(),
            "end": None if self.end is None else self.end.isoformat(),
        }


@dataclass(frozen=True)
class ScoreDrift:
    """Shift of the decision score: PSI on fixed score bins, the two-sample KS test
    and the decision mix (``allow`` / ``review`` / ``block`` shares) of both windows.

    PSI and KS see the bulk of the scores, where most orders sit near 0; the tail that
    matters for fraud is watched by the *flagged rate* (review + block), tested like a
    rule's hit rate (ratio, Fisher's exact test, ``rule_*`` thresholds).
    """

    psi: PsiResult
    ks_statistic: float
    ks_p_value: float
    reference_mean: float
    current_mean: float
    #: Index ``allow``, ``review``, ``block``; columns ``reference``, ``current`` (shares).
    decisions: pd.DataFrame = field(repr=False)
    psi_level: DriftLevel
    ks_level: DriftLevel
    #: Current flagged rate / reference flagged rate (smoothed by half an order).
    flagged_ratio: float
    flagged_p_value: float
    flagged_level: DriftLevel

    @property
    def level(self) -> DriftLevel:
        levels = (self.psi_level, self.ks_level, self.flagged_level)
        return max(levels, key=lambda level: level.rank)

    def flagged_rates(self) -> tuple[float, float]:
        """Reference and current share of orders sent to review or block."""
        allowed = self.decisions.loc["allow"].to_numpy(dtype=float)
        return 1.0 - float(allowed[0]), 1.0 - float(allowed[1])


def _number(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _records(frame: pd.DataFrame) -> dict[str, Any]:
    return dict(json.loads(frame.to_json(orient="index", force_ascii=False)))


@dataclass(frozen=True)
class DriftReport:
    """The result of :func:`~fraudguard.monitoring.monitor`: tables, a level, text and JSON.

    * :attr:`features`: one row per measured column (index ``feature``): ``kind``, ``psi``,
      ``level``, ``reference_missing`` / ``current_missing`` (shares), ``top_bin``;
      sorted by PSI, largest first. :attr:`feature_bins` holds each column's bins.
    * :attr:`scores`: :class:`ScoreDrift` of the score the service would have answered.
    * :attr:`rules`: one row per enabled rule (index ``rule_id``): ``mode``, ``action``,
      hits and hit rates of both windows, ``change`` (current - reference rate), ``ratio``
      (current / reference rate, smoothed by half a hit), ``p_value``, ``level``.
    """

    reference: WindowSummary
    current: WindowSummary
    model_version: str | None
    ruleset_version: str
    thresholds: DriftThresholds
    features: pd.DataFrame
    feature_bins: Mapping[str, PsiResult] = field(repr=False)
    scores: ScoreDrift = field(repr=False)
    rules: pd.DataFrame = field(repr=False)

    @property
    def level(self) -> DriftLevel:
        """The worst level of any feature, the score or any rule."""
        levels = [
            *(DriftLevel(v) for v in self.features["level"]),
            *(DriftLevel(v) for v in self.rules["level"]),
            self.scores.level,
        ]
        return max(levels, key=lambda level: level.rank)

    def exit_code(self, fail_on: DriftLevel = DriftLevel.ALERT) -> int:
        """``1`` when the report's level reaches ``fail_on`` (warn or alert), else ``0``."""
        if fail_on is DriftLevel.OK:
            raise ValueError("fail_on must be warn or alert")
        return 1 if self.level.rank >= fail_on.rank else 0

    def flagged(self) -> list[str]:
        """One line per measure past a threshold, worst first."""
        lines: list[tuple[int, str]] = []
        for name, row in self.features.iterrows():
            level = DriftLevel(row["level"])
            if level is not DriftLevel.OK:
                lines.append(
                    (level.rank, f"{level}: feature {name} PSI {row['psi']:.3f} ({row['top_bin']})")
                )
        score = self.scores
        for level, text in (
            (score.psi_level, f"score PSI {score.psi.value:.3f}"),
            (score.ks_level, f"score KS statistic {score.ks_statistic:.3f}"),
            (
                score.flagged_level,
                "flagged rate {:.3%} -> {:.3%} (x{:.2f})".format(
                    *score.flagged_rates(), score.flagged_ratio
                ),
            ),
        ):
            if level is not DriftLevel.OK:
                lines.append((level.rank, f"{level}: {text}"))
        for rule_id, row in self.rules.iterrows():
            level = DriftLevel(row["level"])
            if level is not DriftLevel.OK:
                lines.append(
                    (
                        level.rank,
                        f"{level}: rule {rule_id} hit rate {row['reference_rate']:.3%} -> "
                        f"{row['current_rate']:.3%} (x{row['ratio']:.2f})",
                    )
                )
        return [text for _, text in sorted(lines, key=lambda item: -item[0])]

    def to_dict(self) -> dict[str, Any]:
        """Everything as JSON-ready values (``NaN`` becomes ``null``)."""
        score = self.scores
        return {
            "level": str(self.level),
            "reference": self.reference.to_dict(),
            "current": self.current.to_dict(),
            "model_version": self.model_version,
            "ruleset_version": self.ruleset_version,
            "thresholds": self.thresholds.model_dump(mode="json"),
            "flagged": self.flagged(),
            "score": {
                "level": str(score.level),
                "psi": _number(score.psi.value),
                "psi_level": str(score.psi_level),
                "ks_statistic": _number(score.ks_statistic),
                "ks_p_value": _number(score.ks_p_value),
                "ks_level": str(score.ks_level),
                "flagged_rates": list(score.flagged_rates()),
                "flagged_ratio": _number(score.flagged_ratio),
                "flagged_p_value": _number(score.flagged_p_value),
                "flagged_level": str(score.flagged_level),
                "reference_mean": _number(score.reference_mean),
                "current_mean": _number(score.current_mean),
                "decisions": _records(score.decisions),
                "bins": _records(score.psi.bins),
            },
            "features": _records(self.features),
            "feature_bins": {name: _records(r.bins) for name, r in self.feature_bins.items()},
            "rules": _records(self.rules),
        }

    def to_json(self, path: Path | str) -> None:
        text = json.dumps(self.to_dict(), indent=2, ensure_ascii=False)
        Path(path).write_text(text + "\n", encoding="utf-8")

    def to_text(self, features: int = 10) -> str:
        """The report for a terminal: flagged measures, the score, the ``features`` columns
        with the largest PSI (every flagged one at least) and every rule."""
        score = self.scores
        flagged_before, flagged_now = score.flagged_rates()
        parts = [
            f"Drift report: {str(self.level).upper()}",
            f"reference  {self.reference.describe()}",
            f"current    {self.current.describe()}",
            f"model {self.model_version or 'none (rules only)'}, rules {self.ruleset_version}",
        ]
        flagged = self.flagged()
        parts += ["", "Past thresholds" if flagged else "Nothing past the thresholds"]
        parts += [f"  {line}" for line in flagged]
        parts += [
            "",
            f"Score: PSI {score.psi.value:.4f} ({score.psi_level}), KS {score.ks_statistic:.4f} "
            f"(p={score.ks_p_value:.2g}, {score.ks_level}), mean {score.reference_mean:.4f} -> "
            f"{score.current_mean:.4f}",
            f"flagged (review + block) {flagged_before:.3%} -> {flagged_now:.3%} "
            f"(x{score.flagged_ratio:.2f}, p={score.flagged_p_value:.2g}, {score.flagged_level})",
            _format(score.decisions.rename(index=lambda d: f"  {d}")),
        ]
        table = self.features
        shown = table[(table["level"] != "ok").to_numpy() | (np.arange(len(table)) < features)]
        parts += [
            "",
            f"Features: {len(table)} measured, {len(shown)} shown (largest PSI first)",
            _format(shown),
            "",
            "Rules: hit rate per window",
            _format(
                self.rules[
                    [
                        "mode",
                        "reference_rate",
                        "current_rate",
                        "change",
                        "ratio",
                        "p_value",
                        "level",
                    ]
                ]
            ),
        ]
        return "\n".join(parts)

    def __str__(self) -> str:
        return self.to_text()


def _format(frame: pd.DataFrame) -> str:
    def number(value: float) -> str:
        if math.isnan(value):
            return "-"
        return f"{value:.2e}" if 0 < abs(value) < 1e-4 else f"{value:.4f}"

    return frame.to_string(float_format=number, na_rep="-")


# --- realised performance ----------------------------------------------------------------


class WindowPerformance(BaseModel):
    """One window of orders (by order time) and what its labels say so far."""

    start: datetime
    end: datetime
    orders: int
    amount: float
    allowed: int
    reviewed: int
    blocked: int
    #: Orders with a label as of the report.
    labelled: int
    fraud: int
    fraud_money: float
    #: Fraud that was reviewed or blocked.
    caught: int
    caught_money: float
    #: Fraud that was allowed: the fraud money allowed.
    missed: int
    missed_money: float
    review_labelled: int
    #: Share of labelled ``review`` orders that were fraud; ``None`` without one.
    review_precision: float | None
    block_labelled: int
    block_precision: float | None
    #: Orders whose label may still come: allowed, unlabelled, not yet mature.
    immature: int
    #: ``immature`` over the window's orders whose decision matures (``allow`` by default).
    immature_share: float
    #: Nothing in the window can still mature: its figures are final under the policy.
    matured: bool
    cases_opened: int
    cases_resolved: int
    missed_fraud_cases: int


class PerformanceRow(BaseModel):
    """Caught and missed fraud for one value of one dimension, over the matured windows."""

    dimension: str
    value: str
    orders: int
    labelled: int
    fraud: int
    caught: int
    caught_money: float
    missed: int
    missed_money: float
    #: Share of labelled flagged (review + block) orders that were fraud.
    precision: float | None


class PerformanceReport(BaseModel):
    """What the decisions of a period turned out to be (:func:`realised_performance`)."""

    as_of: datetime
    since: datetime
    until: datetime
    window_days: int
    #: Days after an order until it is mature under the label policy (the longest channel).
    maturity_days: int
    windows: list[WindowPerformance]
    #: The matured windows together (``None`` while none has matured).
    totals: WindowPerformance | None
    #: By ``decision``, ``family``, ``rule`` and ``model_version``, over the matured windows.
    breakdown: list[PerformanceRow]

    def windows_frame(self) -> pd.DataFrame:
        return pd.DataFrame([w.model_dump() for w in self.windows])

    def breakdown_frame(self) -> pd.DataFrame:
        return pd.DataFrame([r.model_dump() for r in self.breakdown])

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def to_text(self) -> str:
        """A readable report: the windows (immature share shown), the matured totals, the
        breakdown."""

        def share(value: float | None) -> str:
            return "-" if value is None else f"{value:.1%}"

        lines = [
            f"realised performance of orders {self.since:%Y-%m-%d} to {self.until:%Y-%m-%d}, "
            f"labels as of {self.as_of:%Y-%m-%d %H:%M} UTC (orders mature after "
            f"{self.maturity_days} days)",
            f"{'window':<23} {'orders':>7} {'fraud':>6} {'caught':>7} {'missed':>7} "
            f"{'missed money':>13} {'review prec':>11} {'block prec':>10} {'immature':>9}",
        ]
        for w in self.windows:
            mark = "" if w.matured else "  (not mature)"
            lines.append(
                f"{w.start:%Y-%m-%d}..{w.end:%Y-%m-%d}  {w.orders:>7,} {w.fraud:>6,} "
                f"{w.caught:>7,} {w.missed:>7,} {w.missed_money:>13,.2f} "
                f"{share(w.review_precision):>11} {share(w.block_precision):>10} "
                f"{w.immature_share:>9.1%}{mark}"
            )
        if self.totals is None:
            lines.append("no window has matured yet: its fraud is not all known")
            return "\n".join(lines)
        t = self.totals
        lines += [
            f"matured windows: {t.fraud:,} fraud orders ({t.fraud_money:,.2f}); caught "
            f"{t.caught:,} ({t.caught_money:,.2f}), missed {t.missed:,} "
            f"({t.missed_money:,.2f} fraud money allowed); precision of review "
            f"{share(t.review_precision)}, of block {share(t.block_precision)}; cases opened "
            f"{t.cases_opened:,}, resolved {t.cases_resolved:,}",
            f"{'by':<14} {'value':<28} {'orders':>8} {'fraud':>6} {'caught':>7} {'missed':>7} "
            f"{'missed money':>13} {'precision':>9}",
        ]
        for r in self.breakdown:
            lines.append(
                f"{r.dimension:<14} {r.value[:28]:<28} {r.orders:>8,} {r.fraud:>6,} "
                f"{r.caught:>7,} {r.missed:>7,} {r.missed_money:>13,.2f} {share(r.precision):>9}"
            )
        return "\n".join(lines)
