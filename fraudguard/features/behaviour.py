"""Behaviour baselines: an entity's own 7- and 30-day history of amounts, and this order's
amount against it.

What they reveal: long, quiet abuse that the 24-hour velocity windows cannot see - a
compromised card spending five times its usual amount for two weeks, a payer or number
whose pattern changed, a device or platform that suddenly carries big top-ups.

Definitions (per payer, instrument, phone number, device and platform - the platform key
as :mod:`fraudguard.features.velocity` defines it):

* Days are **UTC days**. The 7-day (30-day) baseline of an event on day ``d`` holds the
  entity's **earlier** events on day ``d`` plus those of the previous 6 (29) whole days;
  the event itself is never included. "Earlier" is arrival order online and a stable sort
  on ``event_time`` in batch, as for velocity; an event dated before the entity's newest
  recorded day counts as on that day (per-entity clamp, as in the store contract,
  :mod:`fraudguard.features.behaviour_store`).
* Only events with a valid face value (``0 < amount <= MAX_AMOUNT``) are part of a
  baseline: an event without one gets features but adds nothing.
* ``count_7d`` / ``count_30d``: those events; ``days_active_30d``: the UTC days among
  them; ``mean_7d`` / ``mean_30d``: their mean amount (CNY), NaN without events;
  ``std_30d``: the sample standard deviation, NaN below two events.
* ``amount_ratio_30d``: this order's amount over ``mean_30d``; ``amount_z_30d``:
  ``(amount - mean_30d) / std_30d``, NaN below :data:`MIN_Z_EVENTS` events or with a
  standard deviation of 0 (the ratio still speaks then). Both NaN without a valid amount.
* A missing id gives NaN for every feature of that entity and records nothing.

Arithmetic, identical on both paths so they agree bit for bit: sums are exact integers of
fen (fen squared for the spread); means and spread are float64 from those sums, the
variance as ``(q - s * s / n) / (n - 1)`` clipped at 0.

>>> import pandas as pd
>>> frame = pd.DataFrame({
...     "event_time": pd.to_datetime(["2026-11-20 09:30", "2026-11-23 10:00",
...                                   "2026-11-24 09:50"], utc=True),
...     "amount": [100.0, 50.0, 300.0],
...     "payment_payer_id": ["u-1", "u-1", "u-1"],
... })
>>> features = BehaviourFeatures("dev-key")
>>> batch = features.transform_many(frame)
>>> batch[["beh_payer_count_30d", "beh_payer_mean_30d", "beh_payer_amount_ratio_30d"]].to_numpy()
array([[  0. ,   nan,   nan],
       [  1. , 100. ,   0.5],
       [  2. ,  75. ,   4. ]])
>>> store = features.new_store()
>>> online = [features.transform_one(row, store) for row in frame.to_dict("records")]
>>> round(online[2]["beh_payer_std_30d"], 4), online[2]["beh_payer_std_30d"] == float(
...     batch["beh_payer_std_30d"].iloc[2])
(35.3553, True)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Any, ClassVar, NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import SecretStr

from fraudguard.features.base import FeatureKind, FeatureSpec, Row
from fraudguard.features.behaviour_store import (
    DEFAULT_HORIZON_DAYS,
    Bucket,
    DailyStore,
    DayObservation,
    make_daily_store,
)
from fraudguard.features.velocity import (
    _ENTITIES,
    _entity_codes,
    _fen,
    _fen_column,
    _identity,
    _micros,
    _micros_column,
    _platform_key,
)
from fraudguard.privacy import hash_key
from fraudguard.schema import ReasonFamily

__all__ = ["CONTEXT_ONLY", "MIN_Z_EVENTS", "BehaviourFeatures", "DailyRequest"]

Floats = npt.NDArray[np.float64]
#: Fewest events in the 30-day baseline for a z-score.
MIN_Z_EVENTS = 5
_SHORT_DAYS = 7
_LONG_DAYS = DEFAULT_HORIZON_DAYS
_DAY_US = 86_400 * 1_000_000
_VELOCITY = {entity.name: entity for entity in _ENTITIES}


class DailyRequest(NamedTuple):
    """What one event asks the daily store (:meth:`BehaviourFeatures.request_one`)."""

    #: The entities present, in the order of ``observations``.
    entities: list[str]
    observations: list[DayObservation]
    #: The event's face value in fen.
    fen: int


@dataclass(frozen=True, slots=True)
class _Entity:
    name: str
    label: str
    label_zh: str
    family: ReasonFamily


_V, _PR, _SP = ReasonFamily.VELOCITY, ReasonFamily.PAYMENT_RISK, ReasonFamily.SUSPICIOUS_PLATFORM
_ENTITIES_BEH: tuple[_Entity, ...] = (
    _Entity("payer", "payer", "付款人", _V),
    # A compromised card keeps spending above its own habit.
    _Entity("instrument", "payment instrument", "支付工具", _PR),
    _Entity("msisdn", "phone number", "手机号", _V),
    _Entity("device", "device", "设备", _V),
    _Entity("platform", "platform", "平台", _SP),
)
#: Feature name suffixes, in output order.
_SUFFIXES = (
    "count_7d",
    "count_30d",
    "days_active_30d",
    "mean_7d",
    "mean_30d",
    "std_30d",
    "amount_ratio_30d",
    "amount_z_30d",
)
#: Features for rules and reviewers that the model leaves out: with them the model did
#: worse on the simulator's holdout than with the rest alone (benchmarks history).
CONTEXT_ONLY = frozenset(
    f"beh_{entity.name}_{suffix}"
    for entity in _ENTITIES_BEH
    for suffix in ("count_7d", "mean_7d", "std_30d")
)


def _describe(suffix: str, the: str, zh: str) -> tuple[FeatureKind, str, str]:
    """Kind, English and Chinese description of one feature of an entity."""
    earlier = f"earlier top-ups with the same {the}"
    table = {
        "count_7d": (FeatureKind.INT, f"Number of {earlier} today and the previous 6 UTC days",
                     f"同一{zh}当天及前6天（UTC）此前的充值笔数"),
        "count_30d": (FeatureKind.INT, f"Number of {earlier} today and the previous 29 UTC days",
                      f"同一{zh}当天及前29天（UTC）此前的充值笔数"),
        "days_active_30d": (FeatureKind.INT, f"UTC days with {earlier} in the last 30 days",
                            f"同一{zh}过去30天内有充值的天数"),
        "mean_7d": (FeatureKind.FLOAT, f"Mean face value (CNY) of {earlier} in the last 7 days",
                    f"同一{zh}过去7天此前充值的平均面额（元）"),
        "mean_30d": (FeatureKind.FLOAT,
                     f"Mean face value (CNY) of {earlier} in the last 30 days",
                     f"同一{zh}过去30天此前充值的平均面额（元）"),
        "std_30d": (FeatureKind.FLOAT,
                    f"Standard deviation of face value (CNY) of {earlier} in the last 30 days",
                    f"同一{zh}过去30天此前充值面额的标准差（元）"),
        "amount_ratio_30d": (FeatureKind.FLOAT,
                             f"This order's amount over the 30-day mean of the {the}",
                             f"本单面额与该{zh}30天平均面额之比"),
        "amount_z_30d": (FeatureKind.FLOAT,
                         f"This order's amount in standard deviations from the {the}'s "
                         f"30-day mean; NaN below {MIN_Z_EVENTS} top-ups",
                         f"本单面额偏离该{zh}30天平均面额的标准差倍数；不足{MIN_Z_EVENTS}笔时为空"),
    }  # fmt: skip
    return table[suffix]


_HASH_CACHE_SIZE = 200_000


class BehaviourFeatures:
    """7- and 30-day amount baselines per payer, instrument, phone number, device and
    platform (definitions in the module docstring).

    Stateful like :class:`~fraudguard.features.velocity.VelocityFeatures` and shaped the
    same way (``specs``, ``inputs``, ``names()``, ``transform_one`` with a store,
    ``transform_many`` without one). ``hmac_key`` pseudonymises ids before the store.
    """

    inputs: ClassVar[tuple[str, ...]] = (
        "event_time",
        "amount",
        "payment_payer_id",
        "payment_instrument_id",
        "msisdn",
        "device_id",
        "platform_app_package",
        "platform_url",
        "platform_wechat_account",
        "platform_id",
    )

    def __init__(self, hmac_key: str | bytes | SecretStr) -> None:
        secret = hmac_key.get_secret_value() if isinstance(hmac_key, SecretStr) else hmac_key
        key = secret.encode() if isinstance(secret, str) else secret
        hash_key("", key)  # refuse an empty key now, not on the first event
        self._hash = lru_cache(maxsize=_HASH_CACHE_SIZE)(partial(hash_key, key=key))
        self._names = {
            e.name: tuple(f"beh_{e.name}_{suffix}" for suffix in _SUFFIXES) for e in _ENTITIES_BEH
        }
        specs = []
        for entity in _ENTITIES_BEH:
            for name, suffix in zip(self._names[entity.name], _SUFFIXES, strict=True):
                kind, en, zh = _describe(suffix, entity.label, entity.label_zh)
                specs.append(FeatureSpec(name, kind, entity.family, en, zh))
        self.specs: tuple[FeatureSpec, ...] = tuple(specs)
        self._missing: dict[str, Any] = {spec.name: math.nan for spec in self.specs}

    def names(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self.specs)

    def missing(self) -> dict[str, Any]:
        """Every behaviour feature at its missing value (NaN): what scoring uses while the
        state store is unavailable."""
        return self._missing.copy()

    def new_store(self, state_url: str = "memory://") -> DailyStore:
        """A daily store for these features (``memory://`` or a Redis URL)."""
        return make_daily_store(state_url, horizon_days=_LONG_DAYS)

    # --- online ----------------------------------------------------------------------

    def transform_one(self, row: Row, store: DailyStore) -> dict[str, Any]:
        """Features of one flat event row; records the event in ``store`` (one call)."""
        request = self.request_one(row)
        if not request.observations:
            return self._missing.copy()
        return self.answer_one(request, store.observe(request.observations))

    def request_one(self, row: Row) -> DailyRequest:
        """What :meth:`transform_one` asks the store for one flat event row."""
        day = _micros(row.get("event_time")) // _DAY_US
        fen = _fen(row.get("amount"))
        present: list[str] = []
        observations: list[DayObservation] = []
        for entity in _ENTITIES_BEH:
            column = _VELOCITY[entity.name].column
            value = row.get(column) if column is not None else _platform_key(row)
            if type(value) is not str:
                value = _identity(value)
            if value is None:
                continue
            present.append(entity.name)
            observations.append(DayObservation(f"{entity.name}:{self._hash(value)}", day, fen))
        return DailyRequest(present, observations, fen)

    def answer_one(
        self, request: DailyRequest, answers: Sequence[tuple[Bucket, ...]]
    ) -> dict[str, Any]:
        """The features from the store's ``answers`` to ``request`` (:meth:`request_one`)."""
        out = self._missing.copy()
        fen = request.fen
        for name, buckets in zip(request.entities, answers, strict=True):
            out.update(zip(self._names[name], _one(buckets, fen), strict=True))
        return out

    # --- batch -----------------------------------------------------------------------

    def transform_many(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Features of every row, in the frame's index order, computed without a store."""
        n = len(frame)
        times = _micros_column(frame)
        order = np.argsort(times, kind="stable")
        days = times[order] // _DAY_US
        fen = _fen_column(frame)[order]
        block = np.full((len(self.specs), n), math.nan)
        for e, entity in enumerate(_ENTITIES_BEH):
            code = _entity_codes(frame, _VELOCITY[entity.name])[order]
            rows = np.flatnonzero(code >= 0)
            rows = rows[np.argsort(code[rows], kind="stable")]
            if rows.size == 0:
                continue
            values = _many(code[rows], days[rows], fen[rows])
            first = e * len(_SUFFIXES)
            block[first : first + len(_SUFFIXES), order[rows]] = values
        return pd.DataFrame(block.T, index=frame.index, columns=list(self.names()), copy=False)


# --- the two computations --------------------------------------------------------------


def _one(buckets: tuple[Bucket, ...], fen: int) -> tuple[float, ...]:
    """One entity's features from its store answer (the event's own fen)."""
    c7 = s7 = c30 = s30 = q30 = 0
    for age, count, total, squares in buckets:
        if age >= _LONG_DAYS:
            continue
        c30 += count
        s30 += total
        q30 += squares
        if age < _SHORT_DAYS:
            c7 += count
            s7 += total
    active = sum(1 for bucket in buckets if bucket[0] < _LONG_DAYS)
    mean7 = float(s7) / float(c7) if c7 else math.nan
    mean30 = float(s30) / float(c30) if c30 else math.nan
    std = math.nan
    if c30 >= 2:
        sf = float(s30)
        std = math.sqrt(max((float(q30) - sf * sf / float(c30)) / float(c30 - 1), 0.0))
    ratio = float(fen) / mean30 if fen > 0 and c30 else math.nan
    z = (float(fen) - mean30) / std if fen > 0 and c30 >= MIN_Z_EVENTS and std > 0 else math.nan
    return (c7, c30, active, mean7 / 100, mean30 / 100, std / 100, ratio, z)


def _many(
    group: npt.NDArray[np.int64], day: npt.NDArray[np.int64], fen: npt.NDArray[np.int64]
) -> Floats:
    """Every feature of rows grouped by entity, time order kept inside each entity
    (one row of the result per feature)."""
    m = len(group)
    valid = fen > 0
    base = int(day.min()) - _LONG_DAYS
    span = int(day.max()) - base + 1
    # (entity, day) as one sorted integer, so a window start is one binary search.
    position = group * span + (day - base)
    here = np.arange(m)

    def cumulative(values: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        # int64 sums may wrap over a long history; window differences stay exact.
        return np.concatenate(([0], np.cumsum(values, dtype=np.int64)))

    counts = cumulative(valid.astype(np.int64))
    sums = cumulative(fen)
    squares = cumulative(fen * fen)
    # The first valid event of each (entity, day): counting them counts active days.
    firsts = np.zeros(m, dtype=np.int64)
    valid_rows = np.flatnonzero(valid)
    if valid_rows.size:
        keys = position[valid_rows]
        new = np.ones(valid_rows.size, dtype=bool)
        new[1:] = keys[1:] != keys[:-1]
        firsts[valid_rows[new]] = 1
    active = cumulative(firsts)

    def window(days: int) -> npt.NDArray[np.int64]:
        return np.searchsorted(position, position - (days - 1), side="left")

    start7, start30 = window(_SHORT_DAYS), window(_LONG_DAYS)
    c7 = (counts[here] - counts[start7]).astype(float)
    s7 = (sums[here] - sums[start7]).astype(float)
    c30 = (counts[here] - counts[start30]).astype(float)
    s30 = (sums[here] - sums[start30]).astype(float)
    q30 = (squares[here] - squares[start30]).astype(float)
    days_active = (active[here] - active[start30]).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean7 = np.where(c7 > 0, s7 / c7, math.nan)
        mean30 = np.where(c30 > 0, s30 / c30, math.nan)
        variance = np.maximum((q30 - s30 * s30 / c30) / (c30 - 1), 0.0)
        std = np.where(c30 >= 2, np.sqrt(variance), math.nan)
        amount = fen.astype(float)
        ratio = np.where(valid & (c30 > 0), amount / mean30, math.nan)
        z = np.where(valid & (c30 >= MIN_Z_EVENTS) & (std > 0), (amount - mean30) / std, math.nan)
    return np.stack([c7, c30, days_active, mean7 / 100, mean30 / 100, std / 100, ratio, z])
