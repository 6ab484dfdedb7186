"""The decision log: every scored order stored once, durably, before it is answered.

* :class:`DecisionLog` stores decisions (idempotent on ``transaction_id``) and opens a case
  for each flagged order.
* :class:`DecisionWriter` and :class:`LoopDecisionWriter` settle the orders waiting as one
  group in one transaction (group commit); :func:`decision_writer` picks one.
* :func:`rowid_slices` and :func:`streamed_slices` read a window of the log in slices, for
  the readers that take it whole (the rule backtest, training sets).
"""

from fraudguard.decisions.service import Decide, DecisionLog, Recorded, link_keys
from fraudguard.decisions.slices import (
    collector_paused,
    rowid_slices,
    sqlite_time,
    streamed_slices,
)
from fraudguard.decisions.writer import DecisionWriter, LoopDecisionWriter, decision_writer

__all__ = [
    "Decide",
    "DecisionLog",
    "DecisionWriter",
    "LoopDecisionWriter",
    "Recorded",
    "collector_paused",
    "decision_writer",
    "link_keys",
    "rowid_slices",
    "sqlite_time",
    "streamed_slices",
]
