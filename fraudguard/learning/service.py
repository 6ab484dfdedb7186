"""Training sets from the decision log: the orders the service actually scored, rebuilt as
received (identifiers keyed, :mod:`fraudguard.decisions.events`), labelled as known at a
cut-off, with every feature recomputed in batch and velocity replayed in event order.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from fraudguard.db import create_db_engine
from fraudguard.exceptions import FieldProblem, InputError
from fraudguard.features import FeatureExtractor, default_extractor
from fraudguard.learning.logread import LIST_FEATURES, LoggedEvents, read_logged_events
from fraudguard.outcomes import (
    LabelPolicy,
    feedback_reports_as_of,
    labels_as_of,
    load_label_policy,
)
from fraudguard.reference import ReferenceData
from fraudguard.schema import FLAT_COLUMNS
from fraudguard.validation import DECISION_LOG_SOURCE

__all__ = ["LABEL_COLUMNS", "TRAINING_FLAT_COLUMNS", "build_training_set"]

#: Flat columns a training set carries: every one but ``msisdn``, which the log keeps
#: only as segment and keyed hash (its features, operator, province and velocity, are
#: in the set). Payer, instrument and device ids are their keyed hashes.
TRAINING_FLAT_COLUMNS = tuple(column for column in FLAT_COLUMNS if column != "msisdn")
LABEL_COLUMNS = ("is_fraud", "label_time", "typology")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: The longest look-back of the history features (behaviour's 30 days of daily buckets,
#: feedback's 30-day window): the least history replayed before a window's first order.
_LOOK_BACK = timedelta(days=31)


def _moment(value: datetime, name: str) -> datetime:
    if value.tzinfo is None:
        raise InputError(
            "the training window is invalid",
            [FieldProblem(name, "give a time zone offset, e.g. 2026-12-01T00:00:00+08:00")],
        )
    return value


def build_training_set(
    database_url_or_engine: str | Engine,
    as_of: datetime,
    *,
    since: datetime | None = None,
    policy: LabelPolicy | None = None,
    reference: ReferenceData | None = None,
) -> pd.DataFrame:
    """The labelled history of the orders the service scored up to ``as_of``.

    One row per order decided in ``[since, as_of]`` (every logged order up to ``as_of``
    without ``since``) whose event the log kept, in event order: the flat columns
    :data:`TRAINING_FLAT_COLUMNS`, every feature, then :data:`LABEL_COLUMNS` as known at
    ``as_of`` (``labels_as_of``). An order with no label then is genuine with no
    ``label_time`` (NaT): what the trainer counts as genuine, as production would.

    Features are recomputed in batch, as the service computes them
    (:func:`~fraudguard.features.default_extractor`), with the ``reference`` data
    (default: the shipped one): velocity and behaviour replayed in event order over the
    orders decided in the look-back before ``since`` too, feedback from the fraud reports
    known then; the list verdicts are the logged ones. The HMAC key only re-hashes ids that
    are already keyed, and features read ids only for equality, so any key gives the same
    features. ``frame.attrs["without_event"]``: orders in the window logged before the log
    kept events (not in the set); ``frame.attrs["source"]``: ``"decision_log"``, so
    ``train`` checks the set with the ``log_history`` suite (identifiers as the log keeps
    them).
    """
    as_of = _moment(as_of, "as_of")
    if since is not None and _moment(since, "since") >= as_of:
        raise InputError(
            "the training window is invalid", [FieldProblem("since", "must be before as_of")]
        )
    policy = policy or load_label_policy()
    extractor = default_extractor(reference)
    # The history before ``since`` that the window's first orders were scored against.
    look_back = _LOOK_BACK
    if extractor.velocity is not None:
        look_back = max(look_back, timedelta(seconds=extractor.velocity.first_seen_ttl_s))
    read_since = _EPOCH if since is None else since - look_back
    own = isinstance(database_url_or_engine, str)
    engine = (
        create_db_engine(database_url_or_engine)
        if isinstance(database_url_or_engine, str)
        else database_url_or_engine
    )
    try:
        read = read_logged_events(engine, read_since, as_of, count_since=since or _EPOCH)
        labels = labels_as_of(engine, as_of, policy)
        known = (
            None
            if extractor.feedback is None
            else feedback_reports_as_of(engine, as_of, policy, extractor.feedback)
        )
    finally:
        if own:
            engine.dispose()
    return _assemble(read, labels, known, extractor, since)


def _instants(times: pd.Series) -> np.ndarray[Any, Any]:
    """UTC instants as plain datetime64 (an aware column's ``to_numpy`` makes objects)."""
    instants: np.ndarray[Any, Any] = times.dt.tz_convert(None).to_numpy()
    return instants


def _assemble(
    read: LoggedEvents,
    labels: pd.DataFrame,
    known: pd.DataFrame | None,
    extractor: FeatureExtractor,
    since: datetime | None,
) -> pd.DataFrame:
    # Event order, ties in decision order (the order velocity saw them in), then log order.
    order = np.lexsort((_instants(read.frame["decided_at"]), _instants(read.frame["event_time"])))
    flat = read.frame.take(order).reset_index(drop=True)
    lists = read.lists.take(order).reset_index(drop=True)
    reports = None
    if known is not None and extractor.feedback is not None:
        # Keyed again from the reported orders' rebuilt rows (their ids are keys already).
        reported = flat.loc[flat["transaction_id"].isin(known["report_id"]).to_numpy()]
        reports = extractor.feedback.reports_for(reported, known[["report_id", "known_at"]])
    features = extractor.extract_many(flat, reports=reports)
    for name in LIST_FEATURES:
        features[name] = lists[name].to_numpy()
    keep: Any = slice(None)
    if since is not None:
        keep = (flat["decided_at"] >= pd.Timestamp(since)).to_numpy()
    frame: pd.DataFrame = pd.concat(
        [flat.loc[keep, list(TRAINING_FLAT_COLUMNS)], features.loc[keep]], axis=1
    ).reset_index(drop=True)
    known = labels.set_index("transaction_id")
    found = frame["transaction_id"].map(known["is_fraud"])
    frame["is_fraud"] = found.fillna(False).astype(bool).to_numpy()
    frame["label_time"] = (
        frame["transaction_id"].map(known["label_time"]).astype("datetime64[ns, UTC]")
    )
    frame["typology"] = frame["transaction_id"].map(known["typology"]).astype(object)
    frame["typology"] = frame["typology"].where(frame["typology"].notna(), None)
    frame.attrs["without_event"] = read.without_event
    frame.attrs["source"] = DECISION_LOG_SOURCE  # checked by the log_history suite
    return frame
