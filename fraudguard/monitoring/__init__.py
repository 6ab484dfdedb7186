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
"""

from fraudguard.monitoring.enums import BinningKind, DriftLevel
from fraudguard.monitoring.psi import MISSING_BIN, OTHER_BIN, binning_kind, psi, psi_from_counts
from fraudguard.monitoring.schemas import (
    DEFAULT_SCORE_EDGES,
    DriftReport,
    DriftThresholds,
    PsiLimits,
    PsiResult,
    ScoreDrift,
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
    "DEFAULT_SCORE_EDGES",
    "MISSING_BIN",
    "OTHER_BIN",
    "REQUIRED_COLUMNS",
    "BinningKind",
    "DriftLevel",
    "DriftReport",
    "DriftThresholds",
    "PsiLimits",
    "PsiResult",
    "ScoreDrift",
    "WindowSummary",
    "binning_kind",
    "load_thresholds",
    "monitor",
    "monitor_files",
    "monitored_columns",
    "psi",
    "psi_from_counts",
]
