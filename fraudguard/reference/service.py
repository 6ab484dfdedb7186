"""Load the reference data once and answer the lookups features, rules and the simulator need."""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from importlib import resources
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from fraudguard.config import Settings
from fraudguard.exceptions import FieldProblem, ReferenceDataError
from fraudguard.reference.files import read_csv_rows, read_yaml_model
from fraudguard.reference.ranges import CidrTable
from fraudguard.reference.schemas import (
    ChannelsFile,
    GenuineSitesFile,
    IpIntelRow,
    IpRegionRow,
    ListsFile,
    NetworkFile,
    NumberPrefixRow,
    NumberSegmentRow,
    OfficialPromotion,
    Operator,
    Partner,
    PromotionsFile,
    ProvinceRow,
)
from fraudguard.schema import Channel

__all__ = ["DEFAULT_DATA_DIR", "ReferenceData", "ReferencePaths", "load_reference"]

DEFAULT_DATA_DIR = Path(str(resources.files("fraudguard.reference") / "data"))


#: Tables edited as operations need (allow / block lists, the campaign registry): a model
#: stays valid when they change, so they are not part of ``features_version``.
OPERATIONAL_TABLES = frozenset({"lists", "promotions"})


@dataclass(frozen=True, slots=True)
class ReferencePaths:
    """Where each reference file lives; defaults are the files shipped with the package."""

    channels: Path = DEFAULT_DATA_DIR / "channels.yaml"
    network: Path = DEFAULT_DATA_DIR / "network.yaml"
    promotions: Path = DEFAULT_DATA_DIR / "promotions.yaml"
    lists: Path = DEFAULT_DATA_DIR / "lists.yaml"
    provinces: Path = DEFAULT_DATA_DIR / "provinces.csv"
    number_prefixes: Path = DEFAULT_DATA_DIR / "number_prefixes.csv"
    number_segments: Path = DEFAULT_DATA_DIR / "number_segments.csv"
    ip_regions: Path = DEFAULT_DATA_DIR / "ip_regions.csv"
    ip_intel: Path = DEFAULT_DATA_DIR / "ip_intel.csv"
    genuine_sites: Path = DEFAULT_DATA_DIR / "genuine_sites.yaml"

    @classmethod
    def from_settings(cls, settings: Settings) -> ReferencePaths:
        defaults = cls()
        return cls(
            channels=settings.channels_path or defaults.channels,
            promotions=settings.promotions_path or defaults.promotions,
            lists=settings.lists_path or defaults.lists,
            number_prefixes=settings.number_prefixes_path or defaults.number_prefixes,
            number_segments=settings.number_segments_path or defaults.number_segments,
            ip_regions=settings.ip_regions_path or defaults.ip_regions,
            ip_intel=settings.ip_intel_path or defaults.ip_intel,
        )

    def files(self) -> list[Path]:
        return [getattr(self, name) for name in self.__slots__]

    def feature_files(self) -> list[Path]:
        """The files a model learns from: all but :data:`OPERATIONAL_TABLES`."""
        return [getattr(self, n) for n in self.__slots__ if n not in OPERATIONAL_TABLES]

    def overrides(self) -> dict[str, str]:
        """The tables that are not the shipped ones: table name -> file."""
        shipped = ReferencePaths()
        return {
            name: str(getattr(self, name))
            for name in self.__slots__
            if getattr(self, name) != getattr(shipped, name)
        }

    # A fitted model carries its ReferencePaths: the shipped tables are stored as "shipped",
    # not as this installation's path, so the model file loads (and finds them) wherever the
    # package is installed; overridden tables keep their path.
    def __getstate__(self) -> dict[str, str | None]:
        overrides = self.overrides()
        return {name: overrides.get(name) for name in self.__slots__}

    def __setstate__(self, state: dict[str, str | None]) -> None:
        shipped = ReferencePaths()
        for name in self.__slots__:
            value = state.get(name)
            path = getattr(shipped, name) if value is None else Path(value)
            object.__setattr__(self, name, path)


@dataclass(frozen=True, slots=True)
class PlatformOwner:
    """Who an official domain, app package or WeChat account belongs to."""

    id: str
    name: str
    kind: str  # "operator" or the partner's kind ("wallet", "bank", ...)

    @property
    def is_operator(self) -> bool:
        return self.kind == "operator"


@dataclass(frozen=True, repr=False)
class ReferenceData:
    """Everything FraudGuard knows about the legitimate top-up world, immutable once loaded."""

    channels: ChannelsFile
    network: NetworkFile
    promotions: PromotionsFile
    lists: ListsFile
    provinces: list[ProvinceRow]
    number_prefixes: list[NumberPrefixRow]
    number_segments: list[NumberSegmentRow]
    ip_regions: CidrTable
    ip_intel: CidrTable
    version: str = field(default="")
    #: Version of the tables a model's features are fitted on: every file but the
    #: operational ones (:data:`OPERATIONAL_TABLES`), which change as operations need.
    features_version: str = field(default="")
    #: Large genuine sites, apps and accounts that similarity alone never flags.
    genuine: GenuineSitesFile = field(
        default_factory=lambda: GenuineSitesFile(version="none", domains=[])
    )

    def __repr__(self) -> str:
        return f"ReferenceData(version={self.version!r})"

    # --- numbers -------------------------------------------------------------------------

    @cached_property
    def _prefix_to_operator(self) -> dict[str, str]:
        return {row.prefix: row.operator for row in self.number_prefixes}

    @cached_property
    def _segment_index(self) -> tuple[list[int], list[int], list[str]]:
        rows = sorted(self.number_segments, key=lambda r: r.segment_start)
        return (
            [int(r.segment_start) for r in rows],
            [int(r.segment_end) for r in rows],
            [r.province for r in rows],
        )

    def operator_of(self, msisdn: str) -> str | None:
        """Operator of an 11-digit number by its longest known prefix.

        >>> load_reference().operator_of("18912345678")
        'china_telecom'
        """
        table = self._prefix_to_operator
        return table.get(msisdn[:4]) or table.get(msisdn[:3])

    def province_of(self, msisdn: str) -> str | None:
        """Home province of a number from its 7-digit segment, ``None`` when unknown."""
        if len(msisdn) < 7 or not msisdn[:7].isdigit():
            return None
        starts, ends, provinces = self._segment_index
        segment = int(msisdn[:7])
        i = bisect_right(starts, segment) - 1
        if i >= 0 and segment <= ends[i]:
            return provinces[i]
        return None

    def operators_of(self, numbers: pd.Series) -> npt.NDArray[np.object_]:
        """Vectorised :meth:`operator_of` over 11-digit strings (``None`` if unknown)."""
        text = numbers.astype("string").fillna("")
        table = self._prefix_to_operator
        found = text.str[:4].map(table).fillna(text.str[:3].map(table))
        return found.astype(object).where(found.notna(), None).to_numpy()

    def provinces_of(self, numbers: pd.Series) -> npt.NDArray[np.object_]:
        """Vectorised :meth:`province_of` over a column of 11-digit strings."""
        starts, ends, provinces = (np.asarray(c) for c in self._segment_index)
        segment = pd.to_numeric(numbers.astype("string").str[:7], errors="coerce")
        values = segment.fillna(-1).to_numpy(np.int64)
        idx = np.searchsorted(starts, values, side="right") - 1
        safe = np.clip(idx, 0, None)
        found = (idx >= 0) & (values <= ends[safe])
        out = np.full(len(values), None, dtype=object)
        out[found] = provinces[safe[found]]
        return out

    # --- platforms -----------------------------------------------------------------------

    @cached_property
    def official_domains(self) -> dict[str, PlatformOwner]:
        """Registrable domain -> owner, for operators and authorised partners."""
        return {d: owner for owner, spec in self._owners() for d in spec.domains}

    @cached_property
    def official_app_packages(self) -> dict[str, PlatformOwner]:
        return {a.id: owner for owner, spec in self._owners() for a in spec.app_packages}

    @cached_property
    def official_wechat_accounts(self) -> dict[str, PlatformOwner]:
        """WeChat account id *and* display name -> owner."""
        table: dict[str, PlatformOwner] = {}
        for owner, spec in self._owners():
            for account in spec.wechat_accounts:
                table[account.id] = owner
                table[account.name] = owner
        return table

    def _owners(self) -> Iterable[tuple[PlatformOwner, Operator | Partner]]:
        for op in self.channels.operators:
            yield PlatformOwner(op.id, op.name, "operator"), op
        for partner in self.channels.partners:
            yield PlatformOwner(partner.id, partner.name, partner.kind), partner

    # --- promotions ----------------------------------------------------------------------

    @cached_property
    def promotions_by_code(self) -> dict[str, OfficialPromotion]:
        return {p.code: p for p in self.promotions.promotions}

    def active_promotions(
        self,
        when: datetime,
        *,
        operator: str | None = None,
        province: str | None = None,
        channel: Channel | None = None,
        face_value: float | None = None,
    ) -> list[OfficialPromotion]:
        """Catalogue entries that a payer could genuinely be offered in this situation."""
        found = []
        for promo in self.promotions.promotions:
            if not promo.valid_from <= when < promo.valid_to:
                continue
            if operator is not None and operator not in promo.operators:
                continue
            if (
                province is not None
                and "*" not in promo.provinces
                and (province not in promo.provinces)
            ):
                continue
            if channel is not None and channel not in promo.channels:
                continue
            if face_value is not None and all(o.face_value != face_value for o in promo.offers):
                continue
            found.append(promo)
        return found

    # --- network -------------------------------------------------------------------------

    def ip_province(self, ip: str | None) -> str | None:
        label = self.ip_regions.lookup(ip)
        return None if label is None else label.split("|", 1)[0]

    def ip_provinces(self, ips: list[str | None]) -> npt.NDArray[np.object_]:
        """Vectorised :meth:`ip_province`."""
        labels = self.ip_regions.lookup_many(ips)
        return np.array(
            [None if lbl is None else lbl.split("|", 1)[0] for lbl in labels], dtype=object
        )

    def ip_category(self, ip: str | None) -> str | None:
        """``datacenter``, ``proxy``, ``vpn``, ``tor`` or ``None`` for a flagged range."""
        return self.ip_intel.lookup(ip)


def _hash_files(paths: Iterable[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        try:
            digest.update(path.read_bytes())
        except OSError:
            continue  # the loader reports the unreadable file with its path
    return "sha256:" + digest.hexdigest()[:16]


def _check_consistency(data: ReferenceData, paths: ReferencePaths) -> None:
    provinces = {p.code for p in data.provinces}
    operators = {o.id for o in data.channels.operators}
    issuers = operators | {p.id for p in data.channels.partners}
    problems = []
    for row in data.number_prefixes:
        if row.operator not in operators:
            problems.append(
                FieldProblem(
                    f"{paths.number_prefixes}: prefix {row.prefix}",
                    f"unknown operator {row.operator!r}; add it to {paths.channels.name}",
                )
            )
    for segment in data.number_segments:
        if segment.province not in provinces:
            problems.append(
                FieldProblem(
                    f"{paths.number_segments}: segment {segment.segment_start}",
                    f"unknown province {segment.province!r}; "
                    f"use a code from {paths.provinces.name}",
                )
            )
    for promo in data.promotions.promotions:
        where = f"{paths.promotions}: {promo.code}"
        if promo.issuer not in issuers:
            problems.append(
                FieldProblem(where, f"issuer {promo.issuer!r} is neither an operator nor a partner")
            )
        for unknown in sorted(set(promo.operators) - operators):
            problems.append(FieldProblem(where, f"unknown operator {unknown!r}"))
        for unknown in sorted(set(promo.provinces) - provinces - {"*"}):
            problems.append(FieldProblem(where, f"unknown province {unknown!r}"))
    if problems:
        raise ReferenceDataError("reference files disagree with each other", problems[:20])


def load_reference(paths: ReferencePaths | None = None) -> ReferenceData:
    """Load and cross-check every reference file; raises :class:`ReferenceDataError`."""
    paths = paths or ReferencePaths()
    return _load_cached(paths)


def _load_cached(paths: ReferencePaths) -> ReferenceData:
    key = (paths, tuple(_mtime(p) for p in paths.files()))
    cached = _CACHE.get(key)
    if cached is None:
        cached = _load(paths)
        _CACHE.clear()  # keep one: reference files are swapped, not accumulated
        _CACHE[key] = cached
    return cached


_CACHE: dict[object, ReferenceData] = {}


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return -1.0


def _load(paths: ReferencePaths) -> ReferenceData:
    err = ReferenceDataError
    regions = read_csv_rows(paths.ip_regions, IpRegionRow, err)
    intel = read_csv_rows(paths.ip_intel, IpIntelRow, err)
    data = ReferenceData(
        channels=read_yaml_model(paths.channels, ChannelsFile, err),
        network=read_yaml_model(paths.network, NetworkFile, err),
        promotions=read_yaml_model(paths.promotions, PromotionsFile, err),
        lists=read_yaml_model(paths.lists, ListsFile, err),
        provinces=read_csv_rows(paths.provinces, ProvinceRow, err),
        number_prefixes=read_csv_rows(paths.number_prefixes, NumberPrefixRow, err),
        number_segments=read_csv_rows(paths.number_segments, NumberSegmentRow, err),
        ip_regions=CidrTable.build((r.cidr, f"{r.province}|{r.isp}") for r in regions),
        ip_intel=CidrTable.build((r.cidr, r.category) for r in intel),
        version=_hash_files(paths.files()),
        features_version=_hash_files(paths.feature_files()),
        genuine=read_yaml_model(paths.genuine_sites, GenuineSitesFile, err),
    )
    _check_consistency(data, paths)
    return data
