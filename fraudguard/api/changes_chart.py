"""Charts of the evidence as inline SVG geometry (the console's policy allows no script):
the template draws the rectangles and labels computed here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from fraudguard.changes.schemas import DayImpact

__all__ = ["Bar", "Chart", "day_chart", "flagged_chart"]

_WIDTH, _HEIGHT, _LEFT, _BOTTOM, _TOP = 720, 200, 44, 24, 10


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str


@dataclass
class Chart:
    width: int
    height: int
    bars: list[Bar] = field(default_factory=list)
    #: ``(x, y, text, anchor)`` of each label.
    labels: list[tuple[float, float, str, str]] = field(default_factory=list)
    #: ``(x1, y1, x2, y2)`` of each axis or grid line.
    lines: list[tuple[float, float, float, float]] = field(default_factory=list)


def _ticks(peak: int) -> list[int]:
    step = max(1, -(-peak // 4))
    return list(range(0, peak + step, step))


def day_chart(days: Sequence[DayImpact], before: str, after: str) -> Chart:
    """Flagged orders per day, the active pack's bar beside the proposed one's."""
    chart = Chart(_WIDTH, _HEIGHT)
    if not days:
        return chart
    peak = max(max(d.flagged_before, d.flagged_after) for d in days) or 1
    ticks = _ticks(peak)
    top = ticks[-1] or 1
    plot_h = _HEIGHT - _BOTTOM - _TOP
    plot_w = _WIDTH - _LEFT - 8
    slot = plot_w / len(days)
    bar = min(24.0, max(1.0, slot * 0.4))
    for tick in ticks:
        y = _TOP + plot_h * (1 - tick / top)
        chart.lines.append((_LEFT, y, _WIDTH - 8, y))
        chart.labels.append((_LEFT - 4, y + 4, str(tick), "end"))
    every = max(1, len(days) // 8)
    for i, day in enumerate(days):
        x = _LEFT + i * slot + (slot - 2 * bar) / 2
        for offset, value, css, name in (
            (0.0, day.flagged_before, "before", before),
            (bar, day.flagged_after, "after", after),
        ):
            height = plot_h * value / top
            chart.bars.append(
                Bar(
                    round(x + offset, 1),
                    round(_TOP + plot_h - height, 1),
                    round(bar, 1),
                    round(height, 1),
                    css,
                    f"{day.day.isoformat()} {name}: {value}",
                )
            )
        if i % every == 0:
            label = day.day.strftime("%m-%d")
            chart.labels.append((round(x + bar, 1), _HEIGHT - 6, label, "middle"))
    return chart


def flagged_chart(rows: Sequence[tuple[str, int, int]]) -> Chart:
    """One horizontal bar per row (``name, review, block``): review and block stacked."""
    height = 28 * len(rows) + 16
    chart = Chart(_WIDTH, height)
    peak = max((r + b for _, r, b in rows), default=0) or 1
    plot_w = _WIDTH - 140 - 60
    for i, (name, review, block) in enumerate(rows):
        y = 8 + i * 28
        chart.labels.append((130, y + 15, name, "end"))
        x = 140.0
        for value, css in ((review, "review"), (block, "block")):
            width = plot_w * value / peak
            chart.bars.append(
                Bar(round(x, 1), y, round(width, 1), 20, css, f"{name} {css}: {value}")
            )
            x += width
        chart.labels.append((round(x + 6, 1), y + 15, str(review + block), "start"))
    return chart
