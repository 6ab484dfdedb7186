"""Feedback features: the first victim protects the next.

An order known to be fraud (a fraud-kind outcome under the label policy, or a reviewer's
``confirmed_fraud``) is a **report** against the entities of that order: its platform (the
shop's domain, app package or WeChat account), its promotion code, device, payment
instrument and payer. A later order sharing one of them reads how many reports were known
against it, before the order's time, over the last 1, 7 and 30 days
(``fb_<entity>_fraud_<window>``).

Definitions (both paths, held equal by the parity tests):

* **Entity keys** are the decision log's linking keys
  (:func:`fraudguard.decisions.link_keys` calls :func:`entity_keys`): keyed HMACs of
  ``kind:value``; the platform is named by its registrable domain, else the URL's host, the
  app package, the WeChat account, the name or the id, lower-cased, and operator or
  authorised platforms get **no** key (fraud on the official app says nothing about the
  official app). The promotion key is the code as sent, stripped.
* **Known time** of a report: an outcome from when FraudGuard received it (or its
  ``reported_at``, if later: a reporter's fast clock), a disposition from when it was
  recorded. A back-dated report cannot reach orders scored before it arrived, so training
  sees only what scoring could have seen.
* **Counts** of an order at ``t`` over window ``w``: reports of its key known in
  ``(t - w, t]``, one per reported order per longest window
  (:mod:`fraudguard.features.feedback_store`).
* A missing entity (no device id, an official platform) gives NaN; a store that cannot
  answer gives NaN for all (rules on NaN never fire).

Online, :meth:`FeedbackFeatures.transform_one` reads a
:class:`~fraudguard.features.feedback_store.FeedbackStore` (one call, no write: reports
are recorded when they arrive, :meth:`FeedbackFeatures.record`). In batch,
:meth:`FeedbackFeatures.transform_many` computes the same from a frame of reports
(:data:`REPORT_COLUMNS`): from the decision log
(:func:`fraudguard.outcomes.feedback_reports_as_of`) or from a labelled training file
(:meth:`FeedbackFeatures.reports_from_labels`).

>>> import pandas as pd
>>> frame = pd.DataFrame({
...     "transaction_id": ["a", "b", "c"],
...     "event_time": pd.to_datetime(["2026-11-24 09:00", "2026-11-24 15:00",
...                                   "2026-11-26 15:00"]).tz_localize("Asia/Shanghai"),
...     "platform_url": ["https://cheap-189.shop/pay"] * 3,
... })
>>> fb = FeedbackFeatures("doc-key", windows_s=(86_400,))
>>> reports = pd.DataFrame({"report_id": ["a"], "known_at": pd.to_datetime(
...     ["2026-11-24 12:00"]).tz_localize("Asia/Shanghai")})
>>> reports = fb.reports_for(frame.iloc[[0]], reports)
>>> fb.transform_many(frame, reports=reports)["fb_platform_fraud_1d"].tolist()
[0.0, 1.0, 0.0]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache, partial
from typing import TYPE_CHECKING, Any, ClassVar, overload
from urllib.parse import urlsplit

import numpy as np
import pandas as pd
from pydantic import SecretStr

from fraudguard.exceptions import FieldProblem, InputError
from fraudguard.features.base import FeatureKind, FeatureSpec, Row, is_missing
from fraudguard.features.feedback_store import (
    DEFAULT_FEEDBACK_WINDOWS_S,
    FeedbackStore,
    FraudReport,
    InMemoryFeedbackStore,
    check_feedback_windows,
)
from fraudguard.features.platform import PlatformFeatures
from fraudguard.features.velocity import _micros, _micros_column
from fraudguard.privacy import hash_key
from fraudguard.schema import ReasonFamily

if TYPE_CHECKING:
    from fraudguard.features.feedback_redis import RedisFeedbackStore
    from fraudguard.features.redis_store import RedisStateStore

__all__ = [
    "ENTITIES",
    "KEY_COLUMNS",
    "REPORT_COLUMNS",
    "FeedbackFeatures",
    "entity_keys",
    "platform_label",
]

#: Entities reports count against, in feature and key order.
ENTITIES: tuple[str, ...] = ("platform", "promotion", "device", "instrument", "payer")
#: Key columns of a reports frame (the decision log's column names).
KEY_COLUMNS: tuple[str, ...] = tuple(f"{entity}_key" for entity in ENTITIES)
#: A reports frame: the reported order, when it was known (tz-aware), its entity keys.
REPORT_COLUMNS: tuple[str, ...] = ("report_id", "known_at", *KEY_COLUMNS)

_US = 1_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: Flat columns of each entity's raw id (the platform's label is derived).
_ID_COLUMNS = {
    "promotion": "promotion_code",
    "device": "device_id",
    "instrument": "payment_instrument_id",
    "payer": "payment_payer_id",
}
_PLATFORM_COLUMNS = (
    "platform_url",
    "platform_app_package",
    "platform_wechat_account",
    "platform_name",
    "platform_id",
)
#: Stateless features the platform key reads.
_PLATFORM_FEATURES = ("platform_registrable_domain", "platform_official", "platform_authorised")
_LABELS = {
    "platform": ("platform (shop)", "平台(商户)", ReasonFamily.SUSPICIOUS_PLATFORM),
    "promotion": ("promotion code", "优惠码", ReasonFamily.FAKE_DISCOUNT),
    "device": ("device", "设备", ReasonFamily.PAYMENT_RISK),
    "instrument": ("payment instrument", "支付工具", ReasonFamily.PAYMENT_RISK),
    "payer": ("payer", "付款人", ReasonFamily.PAYMENT_RISK),
}
_CACHE = 100_000


# --- entity keys (shared with the decision log) ------------------------------------------


def platform_label(row: Row, features: Mapping[str, Any]) -> str | None:
    """How reviewers name an order's platform: its registrable domain, else the URL's host,
    the app package, the WeChat account, the name or the id the caller sent."""
    domain = features.get("platform_registrable_domain")
    if isinstance(domain, str) and domain not in ("", "unknown"):
        return domain[:255]
    url = row.get("platform_url")
    if isinstance(url, str) and url:
        try:
            host = urlsplit(url).hostname
        except ValueError:  # e.g. an unbalanced IPv6 bracket
            host = None
        if host:
            return host[:255]
    for column in _PLATFORM_COLUMNS[1:]:
        value = row.get(column)
        if isinstance(value, str) and value:
            return value[:255]
    return None


def _key(kind: str, value: Any, hmac_key: str | bytes | SecretStr) -> str | None:
    if is_missing(value) or value == "":
        return None
    return hash_key(f"{kind}:{value}", hmac_key)


def entity_keys(
    row: Row, features: Mapping[str, Any], hmac_key: str | bytes | SecretStr
) -> dict[str, str | None]:
    """``<entity>_key`` of each of :data:`ENTITIES` for one flat row and its stateless
    features (module docstring): the decision log's linking keys."""
    trusted = bool(features.get("platform_official")) or bool(features.get("platform_authorised"))
    label = None if trusted else platform_label(row, features)
    code = row.get("promotion_code")
    return {
        "platform_key": _key("platform", label.lower() if label else None, hmac_key),
        "promotion_key": _key(
            "promotion", code.strip() if isinstance(code, str) else code, hmac_key
        ),
        "device_key": _key("device", row.get("device_id"), hmac_key),
        "instrument_key": _key("instrument", row.get("payment_instrument_id"), hmac_key),
        "payer_key": _key("payer", row.get("payment_payer_id"), hmac_key),
    }


# --- the feature group --------------------------------------------------------------------


def _window_label(seconds: int) -> tuple[str, str, str]:
    if seconds % 86_400 == 0:
        days = seconds // 86_400
        return f"{days}d", f"{days} day{'s' if days > 1 else ''}", f"{days}天"
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h", f"{seconds // 3600} h", f"{seconds // 3600}小时"
    return f"{seconds}s", f"{seconds} s", f"{seconds}秒"


class FeedbackFeatures:
    """Fraud reports known against an order's platform, promotion code, device, instrument
    and payer, per window (module docstring). Shaped like a feature group (``specs``,
    ``inputs``, ``names()``); needs the stateless platform features of the order."""

    inputs: ClassVar[tuple[str, ...]] = (
        "event_time",
        *_PLATFORM_COLUMNS,
        *_ID_COLUMNS.values(),
    )

    def __init__(
        self,
        hmac_key: str | bytes | SecretStr,
        *,
        windows_s: Sequence[int] = DEFAULT_FEEDBACK_WINDOWS_S,
    ) -> None:
        self.windows_s = check_feedback_windows(windows_s)
        secret = hmac_key.get_secret_value() if isinstance(hmac_key, SecretStr) else hmac_key
        self._hmac_key = secret.encode() if isinstance(secret, str) else secret
        hash_key("", self._hmac_key)  # refuse an empty key now, not on the first order
        # Platforms, codes and payers repeat: hash each once, in this process's memory.
        self._hash = lru_cache(maxsize=_CACHE)(partial(hash_key, key=self._hmac_key))
        self._widths_us = tuple(w * _US for w in self.windows_s)
        labels = [_window_label(w) for w in self.windows_s]
        self._columns = {
            entity: tuple(f"fb_{entity}_fraud_{suffix}" for suffix, _, _ in labels)
            for entity in ENTITIES
        }
        self.specs: tuple[FeatureSpec, ...] = tuple(
            FeatureSpec(
                name,
                FeatureKind.INT,
                _LABELS[entity][2],
                f"Orders reported as fraud with the same {_LABELS[entity][0]}, known in the "
                f"last {en} before this order",
                f"同一{_LABELS[entity][1]}在此订单前{cn}内已知的欺诈订单数",
            )
            for entity in ENTITIES
            for name, (_, en, cn) in zip(self._columns[entity], labels, strict=True)
        )
        self._missing = dict.fromkeys(self.names(), math.nan)
        self._platform: PlatformFeatures | None = None  # built on first use

    def names(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self.specs)

    def missing(self) -> dict[str, Any]:
        """Every feedback feature at its missing value (NaN): the store is unavailable."""
        return self._missing.copy()

    @overload
    def new_store(self, redis: None = None) -> InMemoryFeedbackStore: ...
    @overload
    def new_store(self, redis: RedisStateStore) -> RedisFeedbackStore: ...
    def new_store(
        self, redis: RedisStateStore | None = None
    ) -> InMemoryFeedbackStore | RedisFeedbackStore:
        """A store with this group's windows: in this process, or beside the velocity
        store ``redis`` (its client, its key prefix plus ``fb:``, its breaker interval)."""
        if redis is None:
            return InMemoryFeedbackStore(windows_s=self.windows_s)
        from fraudguard.features.feedback_redis import RedisFeedbackStore

        return RedisFeedbackStore(
            redis.client,
            self._hmac_key,
            key_prefix=redis.key_prefix + "fb:",
            windows_s=self.windows_s,
            retry_after_s=redis.retry_after_s,
        )

    # --- keys --------------------------------------------------------------------------

    def keys_one(self, row: Row, features: Mapping[str, Any]) -> tuple[str | None, ...]:
        """Store keys (``entity:<key>``) of one order, :data:`ENTITIES` order."""
        trusted = features.get("platform_official") or features.get("platform_authorised")
        label = None if trusted else platform_label(row, features)
        values: list[Any] = [label.lower() if label else None]
        code = row.get("promotion_code")
        values.append(code.strip() if isinstance(code, str) else code)
        values += [row.get(_ID_COLUMNS[entity]) for entity in ENTITIES[2:]]
        hashed = self._hash
        return tuple(
            None if is_missing(value) or value == "" else f"{entity}:{hashed(f'{entity}:{value}')}"
            for entity, value in zip(ENTITIES, values, strict=True)
        )

    def promotion_key(self, code: Any) -> str | None:
        """The ``promotion_key`` of a promotion code (:func:`entity_keys`)."""
        code = code.strip() if isinstance(code, str) else code
        return None if is_missing(code) or code == "" else self._hash(f"promotion:{code}")

    @staticmethod
    def store_keys(keys: Mapping[str, str | None]) -> tuple[str | None, ...]:
        """Store keys from ``<entity>_key`` values (a decision log row, :func:`entity_keys`)."""
        out: list[str | None] = []
        for entity, column in zip(ENTITIES, KEY_COLUMNS, strict=True):
            value = keys.get(column)
            out.append(f"{entity}:{value}" if isinstance(value, str) and value else None)
        return tuple(out)

    # --- online ------------------------------------------------------------------------

    def transform_one(
        self, row: Row, features: Mapping[str, Any], store: FeedbackStore
    ) -> dict[str, Any]:
        """Feedback features of one flat order row; reads ``store``, records nothing."""
        keys, ts = self.request_one(row, features)
        return self.answer_one(store.counts(keys, ts))

    def request_one(
        self, row: Row, features: Mapping[str, Any]
    ) -> tuple[tuple[str | None, ...], int]:
        """What :meth:`transform_one` asks the store: the order's keys and time (us)."""
        return self.keys_one(row, features), _micros(row.get("event_time"))

    def answer_one(self, answers: Sequence[tuple[int, ...] | None]) -> dict[str, Any]:
        """The features from the store's ``answers`` to :meth:`request_one`'s keys."""
        out: dict[str, Any] = {}
        for entity, counts in zip(ENTITIES, answers, strict=True):
            names = self._columns[entity]
            if counts is None:
                out.update(dict.fromkeys(names, math.nan))
            else:
                out.update(zip(names, counts, strict=True))
        return out

    @staticmethod
    def record(store: FeedbackStore, reports: pd.DataFrame) -> int:
        """Record a reports frame (:data:`REPORT_COLUMNS`) in ``store``, in known-time
        order; returns how many counted (the rest were reported orders already counted)."""
        frame = _checked_reports(reports).sort_values("known_at", kind="stable")
        known = _micros_of(frame["known_at"])
        batch = [
            FraudReport(
                str(report_id),
                int(ts),
                FeedbackFeatures.store_keys(dict(zip(KEY_COLUMNS, keys, strict=True))),
            )
            for report_id, ts, keys in zip(
                frame["report_id"],
                known,
                frame[list(KEY_COLUMNS)].itertuples(index=False),
                strict=True,
            )
        ]
        return store.record(batch)

    # --- batch -------------------------------------------------------------------------

    def keys_many(self, frame: pd.DataFrame, features: pd.DataFrame | None = None) -> pd.DataFrame:
        """``<entity>_key`` columns (:func:`entity_keys`) of every row, index preserved."""
        if features is None and not all(c in frame for c in _PLATFORM_FEATURES):
            features = self._platform_features(frame)
        context = frame if features is None else pd.concat([frame, features], axis=1)
        columns = [c for c in (*_PLATFORM_COLUMNS, *_PLATFORM_FEATURES) if c in context]
        platform = context.reindex(columns=list(_PLATFORM_COLUMNS + _PLATFORM_FEATURES))
        out: dict[str, Any] = {}
        # Platform inputs repeat heavily: derive each distinct combination once.
        combos = platform[columns].astype(object).where(platform[columns].notna(), None)
        codes, uniques = pd.factorize(pd.Series(list(map(tuple, combos.to_numpy()))))
        derived = []
        for combo in uniques:
            values = dict(zip(columns, combo, strict=True))
            row = {c: values.get(c) for c in _PLATFORM_COLUMNS}
            feats = {c: values.get(c) for c in _PLATFORM_FEATURES}
            trusted = bool(feats["platform_official"]) or bool(feats["platform_authorised"])
            label = None if trusted else platform_label(row, feats)
            derived.append(self._hash(f"platform:{label.lower()}") if label else None)
        out["platform_key"] = np.array([*derived, None], dtype=object)[codes]
        for entity in ENTITIES[1:]:
            column = _ID_COLUMNS[entity]
            if column not in frame:
                out[f"{entity}_key"] = np.full(len(frame), None, dtype=object)
                continue
            ids, distinct = pd.factorize(frame[column])
            hashed = []
            for value in distinct:
                if entity == "promotion" and isinstance(value, str):
                    value = value.strip()
                text = None if is_missing(value) else str(value)
                hashed.append(self._hash(f"{entity}:{text}") if text else None)
            out[f"{entity}_key"] = np.array([*hashed, None], dtype=object)[ids]
        return pd.DataFrame(out, index=frame.index, columns=list(KEY_COLUMNS))

    def reports_for(self, frame: pd.DataFrame, known: pd.DataFrame) -> pd.DataFrame:
        """A reports frame for orders of ``frame`` (flat rows with ``transaction_id``):
        ``known`` names the reported orders (``report_id``) and when each was known
        (``known_at``). Keys come from the rows' own ids (stateless platform features are
        computed if ``frame`` lacks them)."""
        keyed = self._with_keys(frame)
        keyed = keyed.drop_duplicates("transaction_id", keep="last")
        merged = known[["report_id", "known_at"]].merge(
            keyed.rename(columns={"transaction_id": "report_id"}), on="report_id", how="inner"
        )
        return merged[list(REPORT_COLUMNS)].reset_index(drop=True)

    def reports_from_labels(self, frame: pd.DataFrame) -> pd.DataFrame:
        """A reports frame from a labelled file: each row with ``is_fraud`` true and a
        ``label_time`` is a report against its own entities, known at ``label_time``; a
        label known no later than its own order counts from just after it, so no order
        sees its own label."""
        for column in ("transaction_id", "event_time", "is_fraud", "label_time"):
            if column not in frame:
                raise InputError(
                    "the labelled frame cannot give fraud reports",
                    [FieldProblem(column, "required (a labelled training file)")],
                )
        label = pd.to_datetime(frame["label_time"], utc=True, errors="coerce")
        is_fraud = frame["is_fraud"].fillna(False).astype(bool).to_numpy()
        labelled = is_fraud & label.notna().to_numpy()
        fraud, label = frame[labelled], label[labelled]
        event = pd.to_datetime(fraud["event_time"], utc=True)
        known = pd.DataFrame(
            {
                "report_id": fraud["transaction_id"].astype(str),
                "known_at": label.where(label > event, event + pd.Timedelta(microseconds=1)),
            }
        )
        return self.reports_for(fraud, known)

    def _with_keys(self, frame: pd.DataFrame) -> pd.DataFrame:
        keys = self.keys_many(frame)
        return pd.concat([frame[["transaction_id"]].astype(str), keys], axis=1)

    def _platform_features(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The platform group's verdicts, for a frame that does not carry them (with the
        shipped reference data; the extractor passes its own)."""
        from fraudguard.reference import load_reference

        if self._platform is None:
            self._platform = PlatformFeatures(load_reference())
        inputs = frame.reindex(columns=list(PlatformFeatures.inputs))
        features: pd.DataFrame = self._platform.transform_many(inputs)
        return features

    def transform_many(
        self,
        frame: pd.DataFrame,
        features: pd.DataFrame | None = None,
        *,
        reports: pd.DataFrame | None = None,
    ) -> pd.DataFrame:
        """Feedback features of every row of a flat frame, index preserved: the counts an
        online store holding ``reports`` (:data:`REPORT_COLUMNS`) would answer.

        ``features``: the rows' stateless platform features, when ``frame`` lacks them.
        Without ``reports`` every present entity counts 0.
        """
        n = len(frame)
        times = _micros_column(frame) if n else np.zeros(0, dtype=np.int64)
        keys = self.keys_many(frame, features)
        counted = _counted_reports(reports, self._widths_us[-1]) if reports is not None else None
        columns: dict[str, np.ndarray[Any, Any]] = {}
        for entity, column in zip(ENTITIES, KEY_COLUMNS, strict=True):
            names = self._columns[entity]
            row_keys = keys[column].to_numpy(dtype=object)
            present = np.array([isinstance(k, str) for k in row_keys], dtype=bool)
            blocks = [np.where(present, 0.0, math.nan) for _ in names]
            if counted is not None and present.any():
                by_key = counted[column]
                hits = np.flatnonzero(present & pd.Series(row_keys).isin(by_key.keys()).to_numpy())
                hit_keys = pd.Series(row_keys[hits], dtype=object)
                for key, positions in hit_keys.groupby(hit_keys, sort=False).indices.items():
                    rows, known = hits[positions], by_key[str(key)]
                    at = times[rows]
                    end = np.searchsorted(known, at, side="right")
                    for block, width in zip(blocks, self._widths_us, strict=True):
                        block[rows] = end - np.searchsorted(known, at - width, side="right")
            columns.update(zip(names, blocks, strict=True))
        return pd.DataFrame(columns, index=frame.index, columns=list(self.names()))


# --- reports frames ----------------------------------------------------------------------


def _checked_reports(reports: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in REPORT_COLUMNS if c not in reports]
    if missing:
        raise InputError(
            "the fraud reports frame is incomplete",
            [FieldProblem(c, "required column of a reports frame") for c in missing],
        )
    if reports["known_at"].isna().any():
        raise InputError(
            "the fraud reports frame is invalid",
            [FieldProblem("known_at", "every report needs the time it became known")],
        )
    return reports


def _micros_of(values: pd.Series) -> np.ndarray[Any, Any]:
    try:
        stamps = pd.to_datetime(values, utc=True, format="ISO8601")
    except (ValueError, TypeError):
        raise InputError(
            "the fraud reports frame is invalid",
            [FieldProblem("known_at", "not a date-time: use ISO 8601 with offset")],
        ) from None
    micros: np.ndarray[Any, Any] = (
        stamps.dt.tz_convert(None).to_numpy(dtype="datetime64[us]").view(np.int64)
    )
    return micros


def _counted_reports(reports: pd.DataFrame, longest_us: int) -> dict[str, dict[str, Any]]:
    """Per key column, ``key -> sorted known times`` of the reports a store would count:
    in known-time order, an order counted again only a longest window after it last was."""
    frame = _checked_reports(reports)
    known = _micros_of(frame["known_at"])
    order = np.argsort(known, kind="stable")
    last: dict[str, int] = {}
    keep = np.zeros(len(frame), dtype=bool)
    ids = frame["report_id"].astype(str).to_numpy()
    for i in order:
        before = last.get(ids[i])
        if before is None or known[i] - before >= longest_us:
            last[ids[i]] = int(known[i])
            keep[i] = True
    result: dict[str, dict[str, Any]] = {}
    for column in KEY_COLUMNS:
        values = frame[column].to_numpy(dtype=object)
        mask = keep & np.array([isinstance(v, str) and bool(v) for v in values], dtype=bool)
        grouped = pd.Series(known[mask]).groupby(values[mask], sort=False)
        result[column] = {key: np.sort(group.to_numpy()) for key, group in grouped}
    return result
