"""State behind the feedback features: fraud reports per entity key, by the time each
became known.

A :class:`FraudReport` says "order ``report_id`` was fraud, known from ``known_us``" and
carries the entity keys of that order (platform, promotion, device, instrument, payer; see
:mod:`fraudguard.features.feedback`). The contract every store keeps (the batch path
:meth:`~fraudguard.features.feedback.FeedbackFeatures.transform_many` computes the same):

* **One count per order.** A report whose ``report_id`` was counted less than the longest
  window before it (by known time) is ignored: a chargeback, a complaint and a reviewer's
  confirmation of one order are one report, and a re-posted outcome never counts twice.
* **Window.** For an order at time ``t``, window ``w`` holds the reports of its key with
  ``t - w < known <= t``: nothing known after the order counts.
* **Retention.** Reports older than the longest window plus :data:`RETAIN_MARGIN_S`
  behind the newest one recorded are dropped (an online order is at most
  ``max_event_age_days`` old, and the margin covers that by default).
* Keys are keyed hashes (``entity:<hmac>``); ``None`` (no such entity) is not recorded.
"""

from __future__ import annotations

import threading
from bisect import bisect_right, insort
from collections.abc import Sequence
from itertools import pairwise
from typing import NamedTuple, Protocol

from fraudguard.exceptions import ConfigError, FieldProblem

__all__ = [
    "DEFAULT_FEEDBACK_WINDOWS_S",
    "RETAIN_MARGIN_S",
    "FeedbackStore",
    "FraudReport",
    "InMemoryFeedbackStore",
    "check_feedback_windows",
]

#: Window widths in seconds: 1 day, 7 days, 30 days.
DEFAULT_FEEDBACK_WINDOWS_S: tuple[int, ...] = (86_400, 7 * 86_400, 30 * 86_400)
#: How long past the longest window a report is kept, for orders scored late (90 days,
#: the default ``max_event_age_days``).
RETAIN_MARGIN_S = 90 * 86_400
_US = 1_000_000


class FraudReport(NamedTuple):
    """One order known to be fraud, as a feedback store sees it."""

    #: The order (its ``transaction_id``): counted once per longest window.
    report_id: str
    #: Microseconds since the epoch when FraudGuard knew it.
    known_us: int
    #: Store keys (``entity:<hmac>``) of the order's entities; ``None`` entries are skipped.
    keys: tuple[str | None, ...]


class FeedbackStore(Protocol):
    """Fraud reports shared by the scoring workers (contract in the module docstring)."""

    @property
    def windows_s(self) -> tuple[int, ...]:
        """Window widths in seconds, increasing."""
        ...

    def record(self, reports: Sequence[FraudReport]) -> int:
        """Record ``reports`` in order; returns how many were counted (not duplicates)."""
        ...

    def counts(self, keys: Sequence[str | None], ts_us: int) -> list[tuple[int, ...] | None]:
        """Per key, the reports per window known at ``ts_us`` (``None`` for a ``None`` key)."""
        ...


def check_feedback_windows(windows_s: Sequence[int]) -> tuple[int, ...]:
    """The windows as a tuple, or :class:`ConfigError`.

    >>> check_feedback_windows([86_400, 604_800])
    (86400, 604800)
    """
    windows = tuple(windows_s)
    if (
        not windows
        or any(not isinstance(w, int) or isinstance(w, bool) or w <= 0 for w in windows)
        or any(a >= b for a, b in pairwise(windows))
    ):
        raise ConfigError(
            "invalid feedback windows",
            [FieldProblem("windows_s", "give positive whole seconds in increasing order")],
        )
    return windows


class InMemoryFeedbackStore:
    """Feedback state in this process: per key, the sorted known times of its reports.

    One per scoring worker: with several workers each knows only the reports it was told
    about, so a multi-worker service uses Redis (:mod:`fraudguard.features.feedback_redis`).

    >>> store = InMemoryFeedbackStore(windows_s=(86_400,))
    >>> day = 86_400 * 1_000_000
    >>> store.record([FraudReport("t1", 10 * day, ("platform:ab", None))])
    1
    >>> store.record([FraudReport("t1", 10 * day + 5, ("platform:ab", None))])  # same order
    0
    >>> store.counts(["platform:ab", "device:cd", None], 10 * day + 1)
    [(1,), (0,), None]
    >>> store.counts(["platform:ab"], 11 * day)  # exactly a day old: out of the window
    [(0,)]
    """

    def __init__(self, *, windows_s: Sequence[int] = DEFAULT_FEEDBACK_WINDOWS_S) -> None:
        self._windows_s = check_feedback_windows(windows_s)
        self._widths_us = tuple(w * _US for w in self._windows_s)
        self._longest_us = self._widths_us[-1]
        self._retain_us = self._longest_us + RETAIN_MARGIN_S * _US
        self._times: dict[str, list[int]] = {}
        self._counted: dict[str, int] = {}
        self._newest = 0
        self._pruned_at = 0
        self._lock = threading.Lock()

    @property
    def windows_s(self) -> tuple[int, ...]:
        return self._windows_s

    def record(self, reports: Sequence[FraudReport]) -> int:
        counted = 0
        with self._lock:
            for report in reports:
                before = self._counted.get(report.report_id)
                if before is not None and report.known_us - before < self._longest_us:
                    continue
                self._counted[report.report_id] = report.known_us
                for key in report.keys:
                    if key is not None:
                        insort(self._times.setdefault(key, []), report.known_us)
                counted += 1
                self._newest = max(self._newest, report.known_us)
            if self._newest - self._pruned_at >= self._longest_us:
                self._prune()
        return counted

    def _prune(self) -> None:
        """Forget what no order can count any more (module docstring, retention)."""
        horizon = self._newest - self._retain_us
        for key in list(self._times):
            times = self._times[key]
            del times[: bisect_right(times, horizon)]
            if not times:
                del self._times[key]
        forget = self._newest - self._longest_us
        self._counted = {k: t for k, t in self._counted.items() if t > forget}
        self._pruned_at = self._newest

    def counts(self, keys: Sequence[str | None], ts_us: int) -> list[tuple[int, ...] | None]:
        answers: list[tuple[int, ...] | None] = []
        times_of = self._times
        for key in keys:
            if key is None:
                answers.append(None)
                continue
            times = times_of.get(key)
            if not times:
                answers.append((0,) * len(self._widths_us))
                continue
            # A list is only ever appended to or cut at the front under the lock; a copy
            # keeps this read consistent without taking it on the scoring path.
            times = list(times)
            end = bisect_right(times, ts_us)
            answers.append(tuple(end - bisect_right(times, ts_us - w) for w in self._widths_us))
        return answers
