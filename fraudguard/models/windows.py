"""Where training's time windows fall in a history sorted by event time.

``[0, warm)`` warms velocity only, train is ``[warm, calibration)``, calibration
``[calibration, test)``, test ``[test, end)``; rows from ``end`` on are not used. A boundary
given as a date is the first event at or after it; one given in days is counted back from
the next boundary; otherwise the shares of :class:`~fraudguard.models.schemas.TrainConfig`
cut the rows from ``train_start`` to ``test_end`` (the defaults reproduce the 60 / 15 / 25
split by rows).

>>> import pandas as pd
>>> times = pd.Series(pd.date_range("2026-11-01", periods=1_000, freq="h", tz="UTC"))
>>> w = training_windows(times, TrainConfig(train_start="2026-11-03", test_days=7))
>>> w.warm, w.calibration, w.test, w.end
(48, 689, 831, 1000)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd

from fraudguard.exceptions import InputError
from fraudguard.models.schemas import TrainConfig

__all__ = ["MIN_WINDOW_ROWS", "Windows", "training_windows"]

#: Fewest rows each of train, calibration and test may hold.
MIN_WINDOW_ROWS = 100


@dataclass(frozen=True)
class Windows:
    """Row positions of the window boundaries (see the module docstring)."""

    warm: int
    calibration: int
    test: int
    end: int

    def sizes(self) -> dict[str, int]:
        return {
            "warm_up": self.warm,
            "train": self.calibration - self.warm,
            "calibration": self.test - self.calibration,
            "test": self.end - self.test,
        }


def _at(times: pd.Series, moment: datetime | pd.Timestamp) -> int:
    return int(times.searchsorted(pd.Timestamp(moment), side="left"))


def training_windows(times: pd.Series, config: TrainConfig) -> Windows:
    """The windows of ``times`` (event times, UTC, sorted); a window with fewer than
    :data:`MIN_WINDOW_ROWS` rows is an :class:`InputError` naming the sizes and the fix."""
    n = len(times)
    warm = 0 if config.train_start is None else _at(times, config.train_start)
    end = n if config.test_end is None else _at(times, config.test_end)
    rows = max(end - warm, 0)
    by_share = config.test_start is None and config.test_days is None
    if config.test_start is not None:
        test = _at(times, config.test_start)
    elif config.test_days is not None and end > 0:
        test = _at(times, times.iloc[end - 1] - timedelta(days=config.test_days))
    else:
        test = warm + int(rows * (1 - config.test_share))
    if config.calibration_start is not None:
        calibration = _at(times, config.calibration_start)
    elif config.calibration_days is not None:
        start = config.test_start or (times.iloc[test] if test < n else times.iloc[-1])
        calibration = _at(times, pd.Timestamp(start) - timedelta(days=config.calibration_days))
    elif by_share:
        calibration = warm + int(rows * (1 - config.test_share - config.calibration_share))
    else:
        calibration = test - int(rows * config.calibration_share)
    calibration = max(calibration, warm)
    windows = Windows(warm, calibration, max(test, calibration), max(end, test))
    sizes = windows.sizes()
    small = {k: v for k, v in sizes.items() if k != "warm_up" and v < MIN_WINDOW_ROWS}
    if small:
        listed = ", ".join(f"{k} {v:,}" for k, v in sizes.items() if k != "warm_up")
        raise InputError(
            f"too little data in the time windows ({listed} rows of {n:,}; each needs "
            f"{MIN_WINDOW_ROWS}): widen them (--train-start, --calibration-start, "
            "--test-start, --test-end, or the shares/days) or train on more history"
        )
    return windows
