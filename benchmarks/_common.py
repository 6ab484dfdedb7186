"""What the timing benchmarks share: latency statistics and the report's lines.

A benchmark is run as a script (``.venv/bin/python benchmarks/bench_x.py``), so this
folder is first on ``sys.path`` and ``from _common import ...`` finds this module.
"""

from __future__ import annotations

import resource
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Stats", "line", "peak_rss_mib", "verdict"]


@dataclass(frozen=True)
class Stats:
    """Latencies of one stage over the timed calls, in microseconds."""

    p50: float
    p99: float
    mean: float

    @classmethod
    def of(cls, ns: Sequence[int] | np.ndarray[Any, Any]) -> Stats:
        us = np.asarray(ns, dtype=float) / 1000.0
        p50, p99 = np.percentile(us, [50, 99])
        return cls(float(p50), float(p99), float(us.mean()))


def line(label: str, value: str, target: str = "") -> None:
    """One report row: a label, its value and, when there is one, the target's verdict."""
    print(f"{label:<44}{value:>14}{target:>20}")


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def peak_rss_mib() -> float:
    """The process's peak resident set so far (``ru_maxrss`` is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
