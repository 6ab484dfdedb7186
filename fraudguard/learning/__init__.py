"""Learning from what the service scored: training sets rebuilt from the decision log.

* :func:`build_training_set` rebuilds the orders the service scored (identifiers keyed,
  as the log keeps them), labels them as known at a cut-off and recomputes every feature,
  velocity replayed in event order.
"""

from fraudguard.learning.logread import LIST_FEATURES
from fraudguard.learning.service import LABEL_COLUMNS, TRAINING_FLAT_COLUMNS, build_training_set

__all__ = ["LABEL_COLUMNS", "LIST_FEATURES", "TRAINING_FLAT_COLUMNS", "build_training_set"]
