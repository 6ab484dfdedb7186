"""Velocity features: how often, how much and with how many counterparts an entity was
seen in the last 10 minutes, hour and day, and how long ago it was first seen.

What they reveal: card testing (many small top-ups on one instrument or device), laundering
through "discount top-ups" (one payer topping up many numbers, one number topped up by many
payers), promotion-abuse farms (one device, many phone numbers or accounts, all new), and
look-alike platforms (a platform never seen before).

Two paths compute the same values (the parity tests hold them equal, bit for bit):

* :meth:`VelocityFeatures.transform_one` scores one event online: it hashes the event's
  ids, makes **one** :meth:`~fraudguard.features.store.StateStore.observe` call that reads
  and records every entity at once, and turns the answers into features.
* :meth:`VelocityFeatures.transform_many` computes a whole DataFrame without a store,
  vectorised, as if its events had been streamed in ``event_time`` order (a stable sort,
  so rows with equal times keep their frame order).

Definitions (the store's contract, :mod:`fraudguard.features.store`):

* Counts, sums and distinct counts are over the entity's **earlier** events whose time is
  ``> t - w``: the event itself is never included, an event exactly ``w`` old has left the
  window, and an earlier event with the same timestamp is included.
* Sums are face value in CNY, summed exactly in fen; an amount that is missing or not a
  valid face value (``<= 0``, above :data:`~fraudguard.schema.MAX_AMOUNT`) adds 0.
* Distinct counts count the counterparts of those earlier events; an unknown counterpart
  adds nothing, and this event's own counterpart is not included.
* ``age_<entity>_first_seen_s`` is the time since the entity was first seen (``0.0`` for a
  second event in the same microsecond), NaN when it is new; ``<entity>_is_new`` is true
  when it has no event within the first-seen TTL (30 days by default).
* A missing id gives NaN / ``False`` for its features and records nothing.
* The **platform** is identified by the most specific thing the payer actually touched:
  the app package, else the host name of the URL (lower-cased, exact: ``189.cn.pay.top``
  is not ``189.cn``), else the WeChat account, else the caller's ``platform_id``. Platforms
  only get first-seen features: official apps carry most traffic, so their event logs would
  be huge and their counts say little, while a look-alike gives itself away by being new.

>>> import pandas as pd
>>> frame = pd.DataFrame({
...     "event_time": pd.to_datetime(["2026-11-24 09:30", "2026-11-24 09:35",
...                                   "2026-11-24 09:50"]).tz_localize("Asia/Shanghai"),
...     "amount": [100.0, 50.0, 30.0],
...     "msisdn": ["18912345678", "18912345679", "18912345678"],
...     "payment_payer_id": ["u-1", "u-1", "u-1"],
... })
>>> features = VelocityFeatures("dev-key")
>>> batch = features.transform_many(frame)
>>> batch[["vel_payer_count_10m", "vel_payer_count_1h", "vel_payer_amount_1h"]].to_numpy()
array([[  0.,   0.,   0.],
       [  1.,   1., 100.],
       [  0.,   2., 150.]])
>>> batch["vel_payer_distinct_msisdn_1h"].tolist(), batch["payer_is_new"].tolist()
([0.0, 1.0, 2.0], [True, False, False])
>>> store = features.new_store()
>>> online = [features.transform_one(row, store) for row in frame.to_dict("records")]
>>> [row["vel_payer_amount_1h"] for row in online], online[2]["age_payer_first_seen_s"]
([0.0, 100.0, 150.0], 1200.0)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache, partial
from typing import Any, ClassVar
from urllib.parse import urlsplit

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import SecretStr

from fraudguard.exceptions import ConfigError, FieldProblem, InputError
from fraudguard.features._velocity_online import EntityPlan, EventPlan
from fraudguard.features.base import FeatureKind, FeatureSpec, Row, is_missing
from fraudguard.features.store import (
    DEFAULT_FIRST_SEEN_TTL_S,
    DEFAULT_WINDOWS_S,
    StateStore,
    check_horizons,
    make_store,
)
from fraudguard.privacy import hash_key
from fraudguard.schema import MAX_AMOUNT, ReasonFamily

__all__ = ["VelocityFeatures"]

Ints = npt.NDArray[np.int64]
_US = 1_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
_MAX_FEN = round(MAX_AMOUNT * 100)
#: Microseconds per tick of a coarser pandas Timestamp unit.
_PER_UNIT_US = {"us": 1, "ms": 1000, "s": _US}


@dataclass(frozen=True, slots=True)
class _Entity:
    name: str
    #: Flat column holding its id; ``None`` for the platform, derived from four columns.
    column: str | None
    label: str
    label_zh: str
    windowed: bool
    amounts: bool
    #: Entities whose distinct values among this one's earlier events are counted.
    counterparts: tuple[str, ...]
    #: Family of the first-seen features; ``None`` for no first-seen features.
    first_seen: ReasonFamily | None


_V, _PA, _SP = (
    ReasonFamily.VELOCITY,
    ReasonFamily.PROMOTION_ABUSE,
    ReasonFamily.SUSPICIOUS_PLATFORM,
)
_ENTITIES: tuple[_Entity, ...] = (
    # Laundering: one payer, many numbers. Fresh accounts are what bonus farms create.
    _Entity(
        "payer", "payment_payer_id", "payer", "付款人",
        windowed=True, amounts=True, counterparts=("msisdn",), first_seen=_PA,
    ),
    # Card testing: many attempts on one instrument; stolen cards are fresh.
    _Entity(
        "instrument", "payment_instrument_id", "payment instrument", "支付工具",
        windowed=True, amounts=True, counterparts=("msisdn",), first_seen=_V,
    ),
    # Farms: one device cycling numbers, accounts and cards, reset to look new.
    _Entity(
        "device", "device_id", "device", "设备",
        windowed=True, amounts=False, counterparts=("msisdn", "payer", "instrument"),
        first_seen=_PA,
    ),
    # Laundering the other way: one number topped up by many payers.
    _Entity(
        "msisdn", "msisdn", "phone number", "手机号",
        windowed=True, amounts=True, counterparts=("payer",), first_seen=None,
    ),
    # Scripts and farms behind one address.
    _Entity(
        "ip", "network_ip", "IP address", "IP地址",
        windowed=True, amounts=False, counterparts=("msisdn",), first_seen=None,
    ),
    # Look-alikes are new; see the module docstring for why there are no counts.
    _Entity(
        "platform", None, "platform", "平台",
        windowed=False, amounts=False, counterparts=(), first_seen=_SP,
    ),
)  # fmt: skip
_POSITION = {entity.name: i for i, entity in enumerate(_ENTITIES)}
#: Column of each entity's id, ``None`` for the platform (derived, see ``_platform_key``).
_ID_COLUMNS = tuple(entity.column for entity in _ENTITIES)
#: Counterparts of a device point at farms rather than at plain velocity.
_DISTINCT_FAMILY = {("device", "msisdn"): _PA, ("device", "payer"): _PA}
_PLURAL = {
    "msisdn": ("phone numbers", "手机号"),
    "payer": ("payers", "付款人"),
    "instrument": ("payment instruments", "支付工具"),
}
#: Platform identity, most specific first, with a prefix so an app and a host never meet.
_PLATFORM_PARTS = (
    ("platform_app_package", "app:"),
    ("platform_url", "host:"),
    ("platform_wechat_account", "wechat:"),
    ("platform_id", "id:"),
)


@dataclass(frozen=True, slots=True)
class _Names:
    """Feature names of one entity: ``count[w]``, ``amount[w]``, ``distinct[c][w]``."""

    count: tuple[str, ...]
    amount: tuple[str, ...]
    distinct: tuple[tuple[str, ...], ...]
    age: str | None
    is_new: str | None


def _plan(position: int, entity: _Entity, names: _Names) -> EntityPlan:
    """How the online path asks the store about one entity and names the answers."""
    ages = () if names.age is None or names.is_new is None else (names.age, names.is_new)
    counted = (*names.count, *names.amount, *(c for row in names.distinct for c in row))
    # The outputs of a key the store has not seen within the TTL: zeros, NaN age, new.
    fresh: dict[str, Any] = dict.fromkeys(counted, 0)
    fresh.update(dict.fromkeys(names.amount, 0.0))
    fresh.update(zip(ages, (math.nan, True), strict=False))  # no ages: nothing
    return EntityPlan(
        position,
        f"{entity.name}:",
        entity.windowed,
        tuple(_POSITION[c] for c in entity.counterparts),
        bool(names.amount),
        bool(ages),
        (*counted, *ages),
        fresh,
    )


_HASH_CACHE_SIZE = 200_000


class VelocityFeatures:
    """Windowed counters per payer, instrument, device, phone number and IP, and first-seen
    age of payer, instrument, device and platform.

    Stateful, so not a :class:`~fraudguard.features.base.FeatureGroup`, but shaped like one
    (``specs``, ``inputs``, ``names()``); specs depend on the configured windows, so they are
    per instance. ``hmac_key`` pseudonymises ids before they reach the store.
    """

    inputs: ClassVar[tuple[str, ...]] = (
        "event_time",
        "amount",
        *(entity.column for entity in _ENTITIES if entity.column is not None),
        *(column for column, _ in _PLATFORM_PARTS),
    )

    def __init__(
        self,
        hmac_key: str | bytes | SecretStr,
        *,
        windows_s: Sequence[int] = DEFAULT_WINDOWS_S,
        first_seen_ttl_s: int = DEFAULT_FIRST_SEEN_TTL_S,
    ) -> None:
        self.windows_s = check_horizons(windows_s, first_seen_ttl_s)
        self.first_seen_ttl_s = first_seen_ttl_s
        secret = hmac_key.get_secret_value() if isinstance(hmac_key, SecretStr) else hmac_key
        self._hmac_key = secret.encode() if isinstance(secret, str) else secret
        hash_key("", self._hmac_key)  # refuse an empty key now, not on the first event
        # Payers, devices and numbers repeat: hash each once. The cache lives only in this
        # process's memory, like the request that carried the id.
        self._hash = lru_cache(maxsize=_HASH_CACHE_SIZE)(partial(hash_key, key=self._hmac_key))
        self._windows_us = tuple(w * _US for w in self.windows_s)
        self._ttl_us = first_seen_ttl_s * _US
        labels = [_window_label(w) for w in self.windows_s]
        self._names = {e.name: _names(e, [suffix for suffix, _, _ in labels]) for e in _ENTITIES}
        specs = [spec for e in _ENTITIES for spec in _specs(e, labels, first_seen_ttl_s)]
        # Numbers first, flags last: the batch path fills one float and one bool block and
        # hands them to pandas without copying or reordering.
        self.specs: tuple[FeatureSpec, ...] = tuple(
            sorted(specs, key=lambda spec: spec.kind is FeatureKind.BOOL)
        )
        self._missing = {spec.name: spec.missing for spec in self.specs}
        self._plan = EventPlan(
            [_plan(i, e, self._names[e.name]) for i, e in enumerate(_ENTITIES)], self._missing
        )
        self._checked_store: StateStore | None = None

    def names(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self.specs)

    def missing(self) -> dict[str, Any]:
        """Every velocity feature at its missing value (NaN counts, ``False`` flags): what
        scoring uses while the state store is unavailable."""
        return self._missing.copy()

    def new_store(self, state_url: str = "memory://") -> StateStore:
        """A store configured with this group's windows and TTL."""
        return make_store(
            state_url, windows_s=self.windows_s, first_seen_ttl_s=self.first_seen_ttl_s
        )

    # --- online ----------------------------------------------------------------------

    def transform_one(self, row: Row, store: StateStore) -> dict[str, Any]:
        """Features of one flat event row; records the event in ``store`` (one call)."""
        if store is not self._checked_store:  # a service keeps one store: check it once
            if store.windows_s != self.windows_s or store.first_seen_ttl_s != self.first_seen_ttl_s:
                raise ConfigError(
                    "the state store and the velocity features disagree",
                    [FieldProblem("state store", "build it with VelocityFeatures.new_store()")],
                )
            self._checked_store = store
        ts = _micros(row.get("event_time"))
        fen = _fen(row.get("amount"))
        hash_id = self._hash
        # One hashed id per entity, in _ENTITIES order (None: missing, records nothing).
        hashed: list[str | None] = []
        for column in _ID_COLUMNS:
            value = row.get(column) if column is not None else _platform_key(row)
            if type(value) is not str:
                value = _identity(value)
            hashed.append(None if value is None else hash_id(value))
        # Observations and the feature row are built by compiled code (_velocity_online).
        return self._plan.features(store, hashed, ts, fen)

    # --- batch -----------------------------------------------------------------------

    def transform_many(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Features of every row, in the frame's index order, computed without a store."""
        n = len(frame)
        times = _micros_column(frame)
        order = np.argsort(times, kind="stable")
        ts = times[order]
        fen = _fen_column(frame)[order]
        codes = {e.name: _entity_codes(frame, e)[order] for e in _ENTITIES}
        # Per window, the first position (in time order) still inside each row's window.
        lows = [np.searchsorted(ts, ts - w, side="right") for w in self._windows_us]
        numbers = [spec.name for spec in self.specs if spec.kind is not FeatureKind.BOOL]
        flags = [spec.name for spec in self.specs if spec.kind is FeatureKind.BOOL]
        number_block = np.full((len(numbers), n), math.nan)
        flag_block = np.zeros((len(flags), n), dtype=bool)
        columns = dict(zip(numbers, number_block, strict=True))
        columns.update(zip(flags, flag_block, strict=True))

        for entity in _ENTITIES:
            names = self._names[entity.name]
            # rows: positions in time order, grouped by entity, time order kept inside.
            code = codes[entity.name]
            rows = np.flatnonzero(code >= 0)
            rows = rows[np.argsort(code[rows], kind="stable")]
            group = code[rows]
            target = order[rows]  # where each grouped row goes in the output
            if entity.windowed:
                here = np.arange(len(rows))
                position = group * n + rows  # sorted: (entity, time position)
                cumulative = np.concatenate(([0], np.cumsum(fen[rows])))
                partners = [codes[c][rows] for c in entity.counterparts]
                for w, low in enumerate(lows):
                    start = np.searchsorted(position, group * n + low[rows])
                    columns[names.count[w]][target] = here - start
                    if entity.amounts:
                        total = cumulative[here] - cumulative[start]
                        columns[names.amount[w]][target] = total / 100
                    for c, partner in enumerate(partners):
                        columns[names.distinct[c][w]][target] = _distinct(start, group, partner)
            if names.age is not None and names.is_new is not None:
                age, new = _first_seen(ts[rows], group, self._ttl_us)
                columns[names.age][target] = age
                columns[names.is_new][target] = new
        parts = [
            pd.DataFrame(number_block.T, index=frame.index, columns=numbers, copy=False),
            pd.DataFrame(flag_block.T, index=frame.index, columns=flags, copy=False),
        ]
        return pd.concat(parts, axis=1)


# --- batch kernels ---------------------------------------------------------------------


def _distinct(start: Ints, group: Ints, partner: Ints) -> Ints:
    """Distinct counterparts among each row's earlier in-window rows of the same entity.

    Rows are grouped by entity and in time order; row ``i``'s window is rows
    ``start[i] .. i-1``. An earlier row ``j`` counts for ``i`` iff it is in the window and the
    next row with the same counterpart is at or after ``i`` (``j`` is that value's latest
    occurrence). ``start`` never decreases, so the rows that count ``j`` form one interval
    ``(j, min(next[j], reach[j])]`` where ``reach[j]`` is the last row whose window still
    starts at or before ``j``: a difference array and a cumulative sum count them all in
    O(n log n), however crowded the windows.
    """
    m = len(start)
    valid = np.flatnonzero(partner >= 0)
    if valid.size == 0:
        return np.zeros(m, dtype=np.int64)
    pair = group[valid] * (int(partner.max()) + 1) + partner[valid]
    by_pair = np.argsort(pair, kind="stable")
    same = pair[by_pair][1:] == pair[by_pair][:-1]
    ordered = valid[by_pair]
    following = np.full(m, m, dtype=np.int64)  # m: no later occurrence
    following[ordered[:-1][same]] = ordered[1:][same]
    reach = np.searchsorted(start, valid, side="right") - 1
    last = np.minimum(following[valid], reach)
    change = np.bincount(valid + 1, minlength=m + 1) - np.bincount(last + 1, minlength=m + 1)
    return np.cumsum(change[:m])


def _first_seen(
    times: Ints, group: Ints, ttl_us: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Age in seconds since first seen (NaN when new) and the is-new flag, per grouped row."""
    new = np.ones(len(times), dtype=bool)
    # A row is new when it starts its entity or follows a silence of at least the TTL.
    new[1:] = (group[1:] != group[:-1]) | (times[1:] - times[:-1] >= ttl_us)
    first = times[new][np.cumsum(new) - 1]
    age = np.where(new, math.nan, (times - first) / _US)
    return age, new


def _micros_column(frame: pd.DataFrame) -> Ints:
    if "event_time" not in frame:
        raise _no_time()
    try:
        stamps = pd.to_datetime(frame["event_time"], utc=True, format="ISO8601")
        if stamps.isna().any():
            raise _no_time()
        # Casting to microseconds floors, like the online path.
        micros = stamps.dt.tz_convert(None).to_numpy(dtype="datetime64[us]")
    except (ValueError, TypeError):
        raise _bad_time() from None
    return micros.view(np.int64)


def _fen_column(frame: pd.DataFrame) -> Ints:
    if "amount" not in frame:
        return np.zeros(len(frame), dtype=np.int64)
    fen = np.rint(pd.to_numeric(frame["amount"]).to_numpy(dtype=float, na_value=math.nan) * 100)
    valid = (fen > 0) & (fen <= _MAX_FEN)  # False for NaN
    return np.where(valid, fen, 0).astype(np.int64)


def _entity_codes(frame: pd.DataFrame, entity: _Entity) -> Ints:
    """Integer code per row of the entity's identity (``-1`` when missing)."""
    if entity.column is None:
        return _platform_codes(frame)
    if entity.column not in frame:
        return np.full(len(frame), -1, dtype=np.int64)
    codes, uniques = pd.factorize(frame[entity.column])
    codes = codes.astype(np.int64)
    if pd.api.types.is_string_dtype(uniques):
        return codes
    # Mixed types: the online path sees str(value), so 5 and "5" are one id here too.
    merged, _ = pd.factorize(np.array([str(value) for value in uniques], dtype=object))
    return np.append(merged.astype(np.int64), -1)[codes]  # code -1 picks the appended -1


def _platform_codes(frame: pd.DataFrame) -> Ints:
    """Integer code per row of the platform key; each distinct value is converted once."""
    vocabulary: dict[str, int] = {}
    codes = np.full(len(frame), -1, dtype=np.int64)
    for column, prefix in reversed(_PLATFORM_PARTS):  # most specific applied last, wins
        if column not in frame:
            continue
        rows, uniques = pd.factorize(frame[column])
        ids = [
            -1
            if (part := _platform_part(prefix, str(value))) is None
            else vocabulary.setdefault(part, len(vocabulary))
            for value in uniques
        ]
        found = np.array([*ids, -1], dtype=np.int64)[rows]  # code -1 picks the last -1
        codes = np.where(found >= 0, found, codes)
    return codes


# --- online helpers --------------------------------------------------------------------


def _identity(value: Any) -> str | None:
    return None if is_missing(value) else str(value)


def _platform_key(row: Row) -> str | None:
    for column, prefix in _PLATFORM_PARTS:
        value = row.get(column)
        if not is_missing(value):
            part = _platform_part(prefix, str(value))
            if part is not None:
                return part
    return None


@lru_cache(maxsize=_HASH_CACHE_SIZE)  # platforms repeat: parse each URL once
def _platform_part(prefix: str, value: str) -> str | None:
    if prefix != "host:":
        return prefix + value
    try:
        host = urlsplit(value if "//" in value else "//" + value).hostname
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        return None
    host = (host or "").rstrip(".")
    return prefix + host if host else None


def _micros(value: Any) -> int:
    if type(value) is datetime and value.tzinfo is not None:  # a validated event's time
        return (value - _EPOCH) // _ONE_US
    if type(value) is pd.Timestamp:
        # Ticks since the epoch in the stamp's own unit (UTC for an aware time, wall time
        # for a naive one, as below); nanoseconds are floored like the batch path.
        try:
            return int(value.value) // 1000
        except OverflowError:  # beyond nanoseconds' range (past 2262): its own unit
            return int(value.asm8.view(np.int64)) * _PER_UNIT_US[value.unit]
    if not isinstance(value, datetime) and not is_missing(value):  # str, numpy.datetime64
        try:
            value = pd.Timestamp(value)
        except (ValueError, TypeError):
            raise _bad_time() from None
    if is_missing(value):
        raise _no_time()
    if isinstance(value, pd.Timestamp):
        # Floors nanoseconds as the batch path does; datetime arithmetic covers any year.
        value = value.as_unit("us").to_pydatetime()
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return int((aware - _EPOCH) // _ONE_US)


def _fen(value: Any) -> int:
    if type(value) is not float and is_missing(value):
        return 0
    scaled = float(value) * 100
    fen = round(scaled) if math.isfinite(scaled) else 0
    return fen if 0 < fen <= _MAX_FEN else 0


def _no_time() -> InputError:
    return InputError(
        "velocity features need the event time",
        [FieldProblem("event_time", "required: ISO 8601 with offset")],
    )


def _bad_time() -> InputError:
    return InputError(
        "velocity features need the event time",
        [FieldProblem("event_time", "not a date-time: use ISO 8601 with offset")],
    )


# --- specs -----------------------------------------------------------------------------


def _window_label(seconds: int) -> tuple[str, str, str]:
    """Name suffix, English and Chinese for a window: ``("1h", "1 h", "1小时")``."""
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h", f"{seconds // 3600} h", f"{seconds // 3600}小时"
    if seconds % 60 == 0:
        return f"{seconds // 60}m", f"{seconds // 60} min", f"{seconds // 60}分钟"
    return f"{seconds}s", f"{seconds} s", f"{seconds}秒"


def _names(entity: _Entity, suffixes: Sequence[str]) -> _Names:
    base = f"vel_{entity.name}"
    windowed = suffixes if entity.windowed else ()
    return _Names(
        count=tuple(f"{base}_count_{s}" for s in windowed),
        amount=tuple(f"{base}_amount_{s}" for s in windowed if entity.amounts),
        distinct=tuple(
            tuple(f"{base}_distinct_{c}_{s}" for s in windowed) for c in entity.counterparts
        ),
        age=None if entity.first_seen is None else f"age_{entity.name}_first_seen_s",
        is_new=None if entity.first_seen is None else f"{entity.name}_is_new",
    )


def _specs(
    entity: _Entity, labels: Sequence[tuple[str, str, str]], ttl_s: int
) -> list[FeatureSpec]:
    names = _names(entity, [suffix for suffix, _, _ in labels])
    the, zh = entity.label, entity.label_zh
    specs = [
        FeatureSpec(
            name,
            FeatureKind.INT,
            _V,
            f"Earlier top-ups with the same {the} in the last {en}",
            f"同一{zh}在过去{cn}内的此前充值笔数",
        )
        for name, (_, en, cn) in zip(names.count, labels, strict=False)
    ]
    specs += [
        FeatureSpec(
            name,
            FeatureKind.FLOAT,
            _V,
            f"Face value (CNY) of earlier top-ups with the same {the} in the last {en}",
            f"同一{zh}在过去{cn}内此前充值的面额合计（元）",
        )
        for name, (_, en, cn) in zip(names.amount, labels, strict=False)
    ]
    for counterpart, row in zip(entity.counterparts, names.distinct, strict=True):
        plural, plural_zh = _PLURAL[counterpart]
        family = _DISTINCT_FAMILY.get((entity.name, counterpart), _V)
        specs += [
            FeatureSpec(
                name,
                FeatureKind.INT,
                family,
                f"Distinct {plural} in earlier top-ups with the same {the} in the last {en}",
                f"同一{zh}在过去{cn}内此前充值涉及的不同{plural_zh}数",
            )
            for name, (_, en, cn) in zip(row, labels, strict=True)
        ]
    if entity.first_seen is not None and names.age is not None and names.is_new is not None:
        days = f"{ttl_s / 86_400:g}"
        specs += [
            FeatureSpec(
                names.age,
                FeatureKind.FLOAT,
                entity.first_seen,
                f"Seconds since this {the} was first seen; NaN when new",
                f"距首次出现该{zh}的秒数；首次出现时为空",
            ),
            FeatureSpec(
                names.is_new,
                FeatureKind.BOOL,
                entity.first_seen,
                f"This {the} has not been seen in the last {days} days",
                f"该{zh}在过去{days}天内未出现过（新出现）",
            ),
        ]
    return specs
