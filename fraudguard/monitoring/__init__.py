"""Drift monitoring: is recent traffic still the traffic the rules and the model were built on?

Three measures between a reference window and a current window, each with warn / alert
limits (:class:`DriftThresholds`, defaults documented there):

* the population stability index of every feature and of the raw columns the model reads
  (:func:`psi`: quantile bins for numbers, top categories plus ``(other)`` for the rest,
  missing values as a bin of their own);
* the shift of the decision score (PSI on fixed score bins, the two-sample
  Kolmogorov-Smirnov statistic) and of the flagged rate (review + block);
* each rule's hit rate (ratio, change and Fisher's exact test).

Typical use from a notebook::

    from fraudguard.monitoring import monitor
    from fraudguard.scoring import build_scorer
    report = monitor(reference_frame, current_frame, build_scorer(get_settings()))
    print(report.to_text()); report.level; report.features.head()

From a shell: ``fraudguard monitor --reference ref.parquet --current last-week.parquet``
(exit 0 within the thresholds, 1 past them, 2 on bad input).

Realised performance (:func:`performance_report`, ``fraudguard monitor performance``): what
the decisions of a period turned out to be once their labels matured - caught and missed
fraud, precision of review and block, fraud money allowed, reviewer workload.
"""

from fraudguard.monitoring.enums import BinningKind, DriftLevel
from fraudguard.monitoring.performance import (
    DEFAULT_PERIOD_DAYS,
    performance_report,
    realised_performance,
)
from fraudguard.monitoring.psi import MISSING_BIN, OTHER_BIN, binning_kind, psi, psi_from_counts
from fraudguard.monitoring.schemas import (
    DEFAULT_SCORE_EDGES,
    DriftReport,
    DriftThresholds,
    PerformanceReport,
    PerformanceRow,
    PsiLimits,
    PsiResult,
    ScoreDrift,
    WindowPerformance,
    WindowSummary,
)
from fraudguard.monitoring.service import (
    REQUIRED_COLUMNS,
    load_thresholds,
    monitor,
    monitor_files,
    monitored_columns,
)

__all__ = [
    "DEFAULT_PERIOD_DAYS",
    "DEFAULT_SCORE_EDGES",
    "MISSING_BIN",
    "OTHER_BIN",
    "REQUIRED_COLUMNS",
    "BinningKind",
    "DriftLevel",
    "DriftReport",
    "DriftThresholds",
    "PerformanceReport",
    "PerformanceRow",
    "PsiLimits",
    "PsiResult",
    "ScoreDrift",
    "WindowPerformance",
    "WindowSummary",
    "binning_kind",
    "load_thresholds",
    "monitor",
    "monitor_files",
    "monitored_columns",
    "performance_report",
    "psi",
    "psi_from_counts",
    "realised_performance",
]
