"""The fraud labels a backtest counts caught and missed fraud with: the labels known now
under the deployment's label policy (outcomes, reviewers' dispositions and maturity,
:func:`fraudguard.outcomes.labels_as_of`)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine

from fraudguard.outcomes import labels_as_of, load_label_policy

__all__ = ["LABEL_COLUMNS", "LABEL_SOURCE", "known_labels"]

#: What a labels frame handed to a backtest holds.
LABEL_COLUMNS = ("transaction_id", "is_fraud")
#: How the evidence names where the labels came from.
LABEL_SOURCE = "outcomes, dispositions and maturity (label policy)"


def known_labels(
    engine: Engine, policy_path: Path | None = None, as_of: datetime | None = None
) -> pd.DataFrame:
    """``transaction_id``, ``is_fraud`` of the orders whose truth is known at ``as_of``
    (default now) under the label policy at ``policy_path`` (default the shipped one)."""
    policy = load_label_policy(policy_path)
    frame = labels_as_of(engine, as_of or datetime.now(UTC), policy)
    return frame[list(LABEL_COLUMNS)]
