"""Charts the console draws as inline SVG, server-side: the console's CSP allows no script,
so a chart is shapes and text computed here and written out by the template.

>>> from datetime import datetime, UTC
>>> from fraudguard.monitoring import PerformanceReport, WindowPerformance
>>> def week(day: int, caught: float, missed: float, immature: float) -> WindowPerformance:
...     return WindowPerformance(start=datetime(2026, 9, day, tzinfo=UTC),
...         end=datetime(2026, 9, day + 7, tzinfo=UTC), orders=10, amount=0, allowed=8,
...         reviewed=1, blocked=1, labelled=5, fraud=2, fraud_money=caught + missed,
...         caught=1, caught_money=caught, missed=1, missed_money=missed, review_labelled=1,
...         review_precision=1.0, block_labelled=0, block_precision=None,
...         immature=int(immature * 8), immature_share=immature, matured=immature == 0,
...         cases_opened=1, cases_resolved=1, missed_fraud_cases=1)
>>> chart = performance_chart([week(1, 100, 50, 0), week(8, 20, 0, 0.5)])
>>> [(b.kind, b.height, b.faded) for b in chart.bars]
[('caught', 158.0, False), ('missed', 79.0, False), ('caught', 31.6, True), ('missed', 0.0, True)]
>>> [n.text for n in chart.notes]
['50%']
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fraudguard.monitoring import PerformanceReport, WindowPerformance, performance_report
from fraudguard.outcomes import LabelPolicy

if TYPE_CHECKING:
    from sqlalchemy import Engine

__all__ = ["PERFORMANCE_TTL_S", "Bar", "Chart", "Note", "dashboard_performance",
           "performance_chart"]  # fmt: skip

#: How long the dashboard reuses a realised-performance report: it reads every order of the
#: last 13 weeks, and labels change by the day, not the second.
PERFORMANCE_TTL_S = 300.0

WIDTH, HEIGHT = 720, 230
_LEFT, _RIGHT, _TOP, _BOTTOM = 64, 8, 26, 46
PLOT_HEIGHT = HEIGHT - _TOP - _BOTTOM
COLOURS = {"caught": "#2f7d4f", "missed": "#c0392b"}


@dataclass(frozen=True)
class Bar:
    kind: str  # caught | missed
    x: float
    y: float
    width: float
    height: float
    fill: str
    faded: bool
    value: float
    label: str


@dataclass(frozen=True)
class Note:
    x: float
    y: float
    text: str


@dataclass
class Chart:
    width: int = WIDTH
    height: int = HEIGHT
    baseline: float = _TOP + PLOT_HEIGHT
    left: float = _LEFT
    right: float = WIDTH - _RIGHT
    peak: float = 0.0
    bars: list[Bar] = field(default_factory=list)
    #: Immature shares above the windows still maturing.
    notes: list[Note] = field(default_factory=list)
    #: Window start dates under the axis.
    ticks: list[Note] = field(default_factory=list)
    #: Money at the top and the middle of the axis.
    scale: list[Note] = field(default_factory=list)


def performance_chart(windows: Sequence[WindowPerformance]) -> Chart:
    """Caught and missed fraud money per window; a window still maturing is faded and
    carries its immature share, so a fresh week never looks clean."""
    chart = Chart()
    if not windows:
        return chart
    chart.peak = max(max(w.caught_money, w.missed_money) for w in windows) or 1.0
    slot = (chart.right - chart.left) / len(windows)
    every = max(1, round(len(windows) / 8))
    for i, window in enumerate(windows):
        x0 = chart.left + i * slot
        faded = not window.matured
        for offset, kind, value in (
            (0.12, "caught", window.caught_money),
            (0.5, "missed", window.missed_money),
        ):
            height = round(value / chart.peak * PLOT_HEIGHT, 1)
            chart.bars.append(
                Bar(
                    kind=kind,
                    x=round(x0 + slot * offset, 1),
                    y=round(chart.baseline - height, 1),
                    width=round(slot * 0.36, 1),
                    height=height,
                    fill=COLOURS[kind],
                    faded=faded,
                    value=value,
                    label=f"{window.start:%Y-%m-%d}",
                )
            )
        if faded and window.orders:
            chart.notes.append(
                Note(round(x0 + slot / 2, 1), _TOP - 8, f"{window.immature_share:.0%}")
            )
        if i % every == 0:
            chart.ticks.append(
                Note(round(x0 + slot / 2, 1), chart.baseline + 16, f"{window.start:%m-%d}")
            )
    chart.scale = [
        Note(chart.left - 6, _TOP + 4, f"{chart.peak:,.0f}"),
        Note(chart.left - 6, _TOP + PLOT_HEIGHT / 2 + 4, f"{chart.peak / 2:,.0f}"),
        Note(chart.left - 6, chart.baseline, "0"),
    ]
    return chart


def dashboard_performance(state: Any, engine: Engine) -> tuple[PerformanceReport, Chart]:
    """The dashboard's realised-performance report (13 weekly windows up to now, the app's
    label policy) and its chart, reused for :data:`PERFORMANCE_TTL_S` (``state``: the app's
    ``state``; ``state.performance_cache = None`` forgets it)."""
    cached = getattr(state, "performance_cache", None)
    if (
        cached is not None
        and cached[0] is engine
        and time.monotonic() - cached[1] < PERFORMANCE_TTL_S
    ):
        return cached[2], cached[3]
    policy: LabelPolicy | None = getattr(state, "label_policy", None)
    report = performance_report(engine, policy=policy, window_days=7)
    chart = performance_chart(report.windows)
    state.performance_cache = (engine, time.monotonic(), report, chart)
    return report, chart
