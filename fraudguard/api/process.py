"""Process tuning for a service worker: how the garbage collector treats what start-up built.

Start-up builds a large, long-lived object graph (reference data, rules, the model, warmed
caches) that no later collection can free. Left in the collector's care, every full
collection rescans all of it while requests wait, and those pauses, not scoring, were the
service's tail latency under load. Once start-up is over the app freezes that graph out of
collection and lets full collections run less often; objects made afterwards are collected
as usual. ``fraudguard serve`` holds full collections off while the app starts, for the same
reason.
"""

from __future__ import annotations

import gc

__all__ = ["SERVICE_GC_THRESHOLDS", "freeze_startup_objects", "thaw"]

#: The collector's thresholds while serving: the default young and middle generations, and
#: a full collection after 100 collections of the middle one instead of 10. With start-up
#: frozen the long-lived set is small, so the default's growth rule alone would still let
#: full collections run often under load, each costing more as the velocity state grows.
SERVICE_GC_THRESHOLDS = (700, 10, 100)


def freeze_startup_objects() -> tuple[int, int, int]:
    """Leave everything alive now out of every later garbage collection and set
    :data:`SERVICE_GC_THRESHOLDS`; returns the previous thresholds, for :func:`thaw`."""
    gc.collect()
    gc.freeze()
    previous = gc.get_threshold()
    gc.set_threshold(*SERVICE_GC_THRESHOLDS)
    return previous


def thaw(thresholds: tuple[int, int, int]) -> None:
    """Undo :func:`freeze_startup_objects` (at shutdown): what the app built may be
    collected again, with ``thresholds``."""
    gc.unfreeze()
    gc.set_threshold(*thresholds)
