"""The legitimate top-up world as arrays: numbers, IP ranges, platforms, promotions, calendar.

Everything here is derived from the reference data (so a custom catalogue or channel list
changes the simulation too) and is independent of the seed, so it is built once and cached.
"""

from __future__ import annotations

import csv
import ipaddress
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo

import numpy as np

from fraudguard.exceptions import InputError
from fraudguard.reference import OfficialPromotion, ReferenceData, ReferencePaths, load_reference
from fraudguard.schema import Channel, PaymentMethod
from fraudguard.simulate._sampling import (
    BoolArray,
    FloatArray,
    GroupedSampler,
    IntArray,
    categorical,
)

__all__ = [
    "CHANNELS",
    "DAY_MS",
    "HOUR_MS",
    "HOUR_WEIGHTS",
    "METHODS",
    "SHANGHAI",
    "Clock",
    "Numbers",
    "PlatformTable",
    "PromotionTable",
    "World",
    "channel_code",
    "draw_channels",
    "method_code",
    "method_mix",
    "world_for",
]

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
CHANNELS: tuple[Channel, ...] = tuple(Channel)
METHODS: tuple[PaymentMethod, ...] = tuple(PaymentMethod)

#: Share of mobile subscribers per operator (MIIT 2025 order of magnitude); others get 0.02.
OPERATOR_SHARE = {
    "china_mobile": 0.58,
    "china_telecom": 0.22,
    "china_unicom": 0.19,
    "china_broadnet": 0.01,
}
#: Which carrier's IP ranges a subscriber's phone uses on cellular (Broadnet rides on Mobile).
CELLULAR_ISP = {"china_broadnet": "china_mobile"}

#: Relative top-up volume by local hour: evening peak, quiet 1-6 am.
HOUR_WEIGHTS = np.array(
    [1.2, 0.6, 0.3, 0.2, 0.2, 0.3, 0.8, 2.0, 3.5, 4.5, 4.8, 4.8,
     5.0, 4.5, 4.2, 4.2, 4.3, 4.6, 5.2, 6.2, 7.0, 7.2, 5.5, 3.0],
    dtype=np.float64,
)  # fmt: skip
#: Monday first: a little more on Friday and the weekend.
WEEKDAY_WEIGHTS = (1.0, 0.97, 0.97, 1.0, 1.05, 1.1, 1.08)
MONTH_START_BOOST = 1.35  # days 1-3: plans renew, balances run out
PAYDAY_BOOST = 1.15  # the 10th and the 15th
CAMPAIGN_BOOST = 1.2  # a short official campaign is running
CAMPAIGN_LAST_DAY_BOOST = 1.6  # e.g. 11 November, the last day of the Double-11 offers
#: Campaigns at most this long move traffic; always-on discounts do not.
SHORT_CAMPAIGN_DAYS = 31

#: Official top-up pages, where the reference only knows the domain.
WEB_PAGES = {
    "189.cn": "https://www.189.cn/chongzhi/",
    "10086.cn": "https://shop.10086.cn/i/?f=rechargecredit",
    "10010.com": "https://upay.10010.com/npfweb/npfcellweb/phone_recharge_fill.htm",
    "10099.com.cn": "https://www.10099.com.cn/recharge/",
}


def channel_code(channel: Channel) -> int:
    return CHANNELS.index(channel)


def method_code(method: PaymentMethod) -> int:
    return METHODS.index(method)


def draw_channels(rng: np.random.Generator, n: int, mix: dict[Channel, float]) -> IntArray:
    """``n`` channel codes drawn with the shares in ``mix``."""
    codes = np.array([channel_code(c) for c in mix], dtype=np.int64)
    return codes[categorical(rng, n, list(mix.values()))]


def method_mix(**weights: float) -> list[float]:
    """Weights over :data:`METHODS` from ``method=weight`` pairs (others 0)."""
    return [weights.get(m.value, 0.0) for m in METHODS]


#: Payment-method mix per kind of platform (DESIGN.md section 1 and the seed article).
METHOD_MIX = {
    "operator_app": method_mix(
        bank_card=0.30, alipay=0.25, wechat_pay=0.30, operator_balance=0.10, other=0.05
    ),
    "operator_wallet": method_mix(bank_card=0.45, operator_balance=0.45, other=0.10),
    "operator_web": method_mix(bank_card=0.40, alipay=0.35, wechat_pay=0.25),
    "wechat_official_account": method_mix(wechat_pay=0.92, bank_card=0.08),
    "alipay": method_mix(alipay=0.85, bank_card=0.15),
    "wechat_pay": method_mix(wechat_pay=0.88, bank_card=0.12),
    "wallet": method_mix(bank_card=1.0),
    "bank": method_mix(bank_card=1.0),
    "marketplace": method_mix(alipay=0.35, wechat_pay=0.35, bank_card=0.30),
    "reseller": method_mix(alipay=0.5, wechat_pay=0.5),
    "kiosk": method_mix(cash=0.40, bank_card=0.35, alipay=0.12, wechat_pay=0.13),
    "unknown": method_mix(bank_card=0.3, alipay=0.3, wechat_pay=0.3, other=0.1),
}
#: Relative popularity of third-party platforms inside the third_party_app channel.
PARTNER_WEIGHT = {"alipay": 45.0, "wechat_pay": 35.0, "unionpay": 4.0}
PARTNER_KIND_WEIGHT = {"wallet": 2.0, "bank": 1.5, "marketplace": 2.0, "reseller": 1.0}


@dataclass(frozen=True)
class Clock:
    """The simulated window in epoch milliseconds, and when people top up inside it."""

    start_ms: int
    days: int
    day_weights: FloatArray
    day_of_month: IntArray

    @property
    def end_ms(self) -> int:
        return self.start_ms + self.days * DAY_MS

    def hour(self, t: IntArray) -> IntArray:
        """Local (UTC+8, no daylight saving) hour of each timestamp."""
        return ((t - self.start_ms) // HOUR_MS) % 24

    def day(self, t: IntArray) -> IntArray:
        return np.clip((t - self.start_ms) // DAY_MS, 0, self.days - 1)

    def times(
        self,
        rng: np.random.Generator,
        n: int,
        lo: IntArray | None = None,
        hi: IntArray | None = None,
        hours: FloatArray = HOUR_WEIGHTS,
    ) -> IntArray:
        """``n`` times in ``[lo, hi)`` (default: the window) following the hour and day rhythm.

        Rejection sampling, vectorised: draw uniformly, keep a draw with probability
        ``weight / max weight``, redraw the rest. Narrow windows at quiet hours give up after
        a few dozen rounds and keep their uniform draw, which is still inside the window.
        """
        low = np.full(n, self.start_ms, dtype=np.int64) if lo is None else lo
        high = np.full(n, self.end_ms, dtype=np.int64) if hi is None else hi
        span = np.maximum(high - low, 1).astype(np.float64)
        hour_p = hours / hours.max()
        day_p = self.day_weights / self.day_weights.max()
        out = np.empty(n, dtype=np.int64)
        todo = np.arange(n)
        for _ in range(48):
            t = low[todo] + (rng.random(len(todo)) * span[todo]).astype(np.int64)
            keep = rng.random(len(todo)) < hour_p[self.hour(t)] * day_p[self.day(t)]
            out[todo[keep]] = t[keep]
            todo = todo[~keep]
            if len(todo) == 0:
                return out
        out[todo] = low[todo] + (rng.random(len(todo)) * span[todo]).astype(np.int64)
        return out


@dataclass(frozen=True)
class Numbers:
    """7-digit number segments with operator and home province, for drawing msisdns."""

    start7: IntArray
    width: IntArray
    operator: IntArray
    province: IntArray
    by_operator_province: GroupedSampler
    by_operator: GroupedSampler
    n_provinces: int

    def draw(
        self, rng: np.random.Generator, operator: IntArray, province: IntArray | None = None
    ) -> tuple[IntArray, IntArray]:
        """Random numbers of the given operators (and home provinces where possible).

        Returns the 11-digit numbers and the index of the segment each came from.
        """
        if province is None:
            seg = self.by_operator.sample(rng, operator)
        else:
            key = operator * self.n_provinces + province
            seg = self.by_operator_province.sample(rng, key)
            missing = ~self.by_operator_province.has_members(key)
            if missing.any():
                seg[missing] = self.by_operator.sample(rng, operator[missing])
        seven = self.start7[seg] + (rng.random(len(seg)) * self.width[seg]).astype(np.int64)
        return seven * 10_000 + rng.integers(0, 10_000, size=len(seg)), seg


@dataclass(frozen=True)
class PlatformTable:
    """Official and authorised platforms, one row each, with their payment-method mix."""

    channel: IntArray
    id: tuple[str | None, ...]
    name: tuple[str | None, ...]
    url: tuple[str | None, ...]
    app_package: tuple[str | None, ...]
    wechat_account: tuple[str | None, ...]
    method_weights: FloatArray
    sampler: GroupedSampler
    n_operators: int

    def draw(self, rng: np.random.Generator, channel: IntArray, operator: IntArray) -> IntArray:
        """A platform of ``channel`` that can top up a number of ``operator``, per row."""
        return self.sampler.sample(rng, channel * self.n_operators + operator)

    def serves(self, channel: IntArray, operator: IntArray) -> BoolArray:
        return self.sampler.has_members(channel * self.n_operators + operator)


@dataclass(frozen=True)
class PromotionTable:
    """The promotion catalogue as masks, to find eligible promotions for a column of rows."""

    promotions: tuple[OfficialPromotion, ...]
    valid_from: IntArray
    valid_to: IntArray
    new_users_only: BoolArray
    operator_mask: BoolArray  # promotions × operators
    province_mask: BoolArray  # promotions × provinces
    channel_mask: BoolArray  # promotions × channels
    prices: FloatArray  # promotions × face values in FACE_VALUES (NaN: no offer)
    bonuses: FloatArray
    landing: tuple[str | None, ...]  # the issuer's campaign page, when it has a domain

    def eligible(
        self,
        t: IntArray,
        operator: IntArray,
        province: IntArray,
        channel: IntArray,
        face_index: IntArray,
        *,
        new_users: bool,
    ) -> BoolArray:
        """rows × promotions: which catalogue entries genuinely apply to each row."""
        out = np.zeros((len(t), len(self.promotions)), dtype=bool)
        for p in range(len(self.promotions)):
            if self.new_users_only[p] != new_users:
                continue
            out[:, p] = (
                (t >= self.valid_from[p])
                & (t < self.valid_to[p])
                & self.operator_mask[p, operator]
                & self.province_mask[p, province]
                & self.channel_mask[p, channel]
                & ~np.isnan(self.prices[p, face_index])
            )
        return out

    def active(self, t: IntArray) -> BoolArray:
        """rows × promotions: which catalogue entries are inside their window at ``t``."""
        return (t[:, None] >= self.valid_from[None, :]) & (t[:, None] < self.valid_to[None, :])


#: Real face values, smallest first; ``face_index`` columns index into this.
FACE_VALUES = np.array([10, 20, 30, 50, 100, 200, 300, 500], dtype=np.float64)


@dataclass(frozen=True)
class World:
    """Reference data as arrays, plus the IP ranges by province/carrier and by risk category."""

    reference: ReferenceData
    operators: tuple[str, ...]
    operator_weights: FloatArray
    provinces: tuple[str, ...]
    province_weights: FloatArray
    numbers: Numbers
    ip_start: IntArray
    ip_size: IntArray
    ip_by_province_isp: GroupedSampler
    ip_by_province: GroupedSampler
    cellular_isp: IntArray  # per operator: index of the carrier whose ranges its phones use
    isps: tuple[str, ...]
    intel_categories: tuple[str, ...]
    intel_start: IntArray
    intel_size: IntArray
    intel_by_category: GroupedSampler
    platforms: PlatformTable
    promotions: PromotionTable

    def clock(self, start: date, days: int) -> Clock:
        begin = datetime(start.year, start.month, start.day, tzinfo=SHANGHAI)
        weights = np.empty(days, dtype=np.float64)
        day_of_month = np.empty(days, dtype=np.int64)
        short = [
            p
            for p in self.promotions.promotions
            if not p.new_users_only and p.valid_to - p.valid_from <= timedelta(SHORT_CAMPAIGN_DAYS)
        ]
        for i in range(days):  # one iteration per calendar day, not per event
            day = begin + timedelta(days=i)
            w = WEEKDAY_WEIGHTS[day.weekday()]
            if day.day <= 3:
                w *= MONTH_START_BOOST
            elif day.day in (10, 15):
                w *= PAYDAY_BOOST
            noon = day + timedelta(hours=12)
            if any(p.valid_from <= noon < p.valid_to for p in short):
                last = any(
                    p.valid_from <= noon < p.valid_to <= noon + timedelta(hours=12) for p in short
                )
                w *= CAMPAIGN_LAST_DAY_BOOST if last else CAMPAIGN_BOOST
            weights[i] = w
            day_of_month[i] = day.day
        return Clock(int(begin.timestamp() * 1000), days, weights, day_of_month)

    def ips(self, rng: np.random.Generator, province: IntArray, isp: IntArray | None) -> IntArray:
        """Random host addresses in the given provinces (and carriers, when given)."""
        ranges = self.ip_by_province.sample(rng, province)
        if isp is not None:
            key = province * len(self.isps) + isp
            known = self.ip_by_province_isp.has_members(key)
            ranges[known] = self.ip_by_province_isp.sample(rng, key[known])
        return _host_in(rng, self.ip_start[ranges], self.ip_size[ranges])

    def intel_ips(self, rng: np.random.Generator, category: IntArray) -> IntArray:
        """Random addresses in flagged ranges of the given categories (datacenter, vpn, ...)."""
        ranges = self.intel_by_category.sample(rng, category)
        return _host_in(rng, self.intel_start[ranges], self.intel_size[ranges])

    def intel_category(self, name: str) -> int:
        return self.intel_categories.index(name)

    def draw_operators(self, rng: np.random.Generator, n: int) -> IntArray:
        return categorical(rng, n, self.operator_weights.tolist())

    def draw_provinces(self, rng: np.random.Generator, n: int) -> IntArray:
        return categorical(rng, n, self.province_weights.tolist())


def _host_in(rng: np.random.Generator, start: IntArray, size: IntArray) -> IntArray:
    """A host address inside each range, avoiding network and broadcast addresses."""
    usable = np.maximum(size - 2, 1)
    return start + np.minimum(1 + (rng.random(len(start)) * usable).astype(np.int64), size - 1)


def _ipv4_ranges(
    path: Path, label_columns: tuple[str, ...]
) -> list[tuple[int, int, tuple[str, ...]]]:
    """(first address, size, labels) of every IPv4 range in a reference CSV (IPv6 is skipped)."""
    rows = []
    with path.open(encoding="utf-8", newline="") as handle:
        for record in csv.DictReader(handle):
            network = ipaddress.ip_network(record["cidr"].strip(), strict=False)
            if network.version == 4:
                labels = tuple(record[c].strip() for c in label_columns)
                rows.append((int(network.network_address), network.num_addresses, labels))
    return rows


def _index(values: list[str], table: tuple[str, ...]) -> IntArray:
    lookup = {v: i for i, v in enumerate(table)}
    return np.array([lookup[v] for v in values], dtype=np.int64)


def _numbers(
    data: ReferenceData, operators: tuple[str, ...], provinces: tuple[str, ...]
) -> Numbers:
    starts, widths, ops, provs = [], [], [], []
    for row in data.number_segments:
        operator = data.operator_of(row.segment_start + "0000")
        if operator is None or operator != data.operator_of(row.segment_end + "0000"):
            continue  # a segment straddling two operators' prefixes cannot be attributed
        starts.append(int(row.segment_start))
        widths.append(int(row.segment_end) - int(row.segment_start) + 1)
        ops.append(operator)
        provs.append(row.province)
    op = _index(ops, operators)
    prov = _index(provs, provinces)
    width = np.array(widths, dtype=np.int64)
    n_prov = len(provinces)
    return Numbers(
        start7=np.array(starts, dtype=np.int64),
        width=width,
        operator=op,
        province=prov,
        by_operator_province=GroupedSampler(
            op * n_prov + prov, width.astype(np.float64), len(operators) * n_prov
        ),
        by_operator=GroupedSampler(op, width.astype(np.float64), len(operators)),
        n_provinces=n_prov,
    )


class _Platform(NamedTuple):
    channel: Channel
    id: str | None
    name: str | None
    owner: int  # operator index, -1 for every operator
    mix: str  # key of METHOD_MIX
    weight: float
    url: str | None = None
    app_package: str | None = None
    wechat_account: str | None = None


def _platforms(data: ReferenceData, operators: tuple[str, ...]) -> PlatformTable:
    rows: list[_Platform] = []
    for k, op in enumerate(data.channels.operators):
        for i, app in enumerate(op.app_packages):
            mix = "operator_wallet" if "支付" in app.name else "operator_app"
            weight = 0.65 if i == 0 else 0.35 / max(len(op.app_packages) - 1, 1)
            rows.append(
                _Platform(
                    Channel.OPERATOR_APP,
                    f"app:{app.id}",
                    app.name,
                    k,
                    mix,
                    weight,
                    app_package=app.id,
                )
            )
        if op.domains:
            domain = op.domains[0]
            url = WEB_PAGES.get(domain, f"https://www.{domain}/recharge/")
            rows.append(
                _Platform(
                    Channel.OPERATOR_WEB,
                    f"web:{domain}",
                    f"{op.name}网上营业厅",
                    k,
                    "operator_web",
                    1.0,
                    url=url,
                )
            )
        rows.extend(_wechat(account.id, account.name, k, 1.0) for account in op.wechat_accounts)
    for partner in data.channels.partners:
        weight = PARTNER_WEIGHT.get(partner.id, PARTNER_KIND_WEIGHT.get(partner.kind, 1.0))
        mix = partner.id if partner.id in METHOD_MIX else partner.kind
        surface = "mini" if partner.kind == "wallet" else "app"
        rows.extend(
            _Platform(
                Channel.THIRD_PARTY_APP,
                f"{surface}:{partner.id}",
                app.name,
                -1,
                mix,
                weight,
                app_package=app.id,
            )
            for app in partner.app_packages[:1]
        )
        rows.extend(
            _wechat(account.id, account.name, -1, 0.5) for account in partner.wechat_accounts
        )
    for kiosk in data.channels.kiosk_networks:
        owner = -1 if kiosk.operator is None else operators.index(kiosk.operator)
        rows.append(
            _Platform(
                Channel.SELF_SERVICE_TERMINAL,
                f"kiosk:{kiosk.id}",
                kiosk.name,
                owner,
                "kiosk",
                0.7 if owner >= 0 else 0.3,
            )
        )
    rows.append(_Platform(Channel.UNKNOWN, None, None, -1, "unknown", 1.0))

    n_ops = len(operators)
    keys, members, weights = [], [], []
    for index, row in enumerate(rows):
        # A platform serving every operator belongs to every operator's group.
        for k in range(n_ops) if row.owner < 0 else (row.owner,):
            keys.append(channel_code(row.channel) * n_ops + k)
            members.append(index)
            weights.append(row.weight)
    sampler = GroupedSampler(
        np.array(keys, dtype=np.int64),
        np.array(weights),
        len(CHANNELS) * n_ops,
        values=np.array(members, dtype=np.int64),
    )
    return PlatformTable(
        channel=np.array([channel_code(r.channel) for r in rows], dtype=np.int64),
        id=tuple(r.id for r in rows),
        name=tuple(r.name for r in rows),
        url=tuple(r.url for r in rows),
        app_package=tuple(r.app_package for r in rows),
        wechat_account=tuple(r.wechat_account for r in rows),
        method_weights=np.array([METHOD_MIX[r.mix] for r in rows], dtype=np.float64),
        sampler=sampler,
        n_operators=n_ops,
    )


def _wechat(account_id: str, name: str, owner: int, weight: float) -> _Platform:
    """An official account: it runs inside WeChat, so the app package is WeChat's."""
    return _Platform(
        Channel.WECHAT_OFFICIAL_ACCOUNT,
        f"wx:{account_id}",
        name,
        owner,
        "wechat_official_account",
        weight,
        app_package="com.tencent.mm",
        wechat_account=name,
    )


def _promotions(
    data: ReferenceData, operators: tuple[str, ...], provinces: tuple[str, ...]
) -> PromotionTable:
    promos = tuple(data.promotions.promotions)
    n = len(promos)
    prices = np.full((n, len(FACE_VALUES)), np.nan)
    bonuses = np.zeros((n, len(FACE_VALUES)))
    op_mask = np.zeros((n, len(operators)), dtype=bool)
    prov_mask = np.zeros((n, len(provinces)), dtype=bool)
    ch_mask = np.zeros((n, len(CHANNELS)), dtype=bool)
    for p, promo in enumerate(promos):
        for offer in promo.offers:
            hit = np.flatnonzero(offer.face_value == FACE_VALUES)
            prices[p, hit] = offer.price
            bonuses[p, hit] = offer.bonus
        op_mask[p] = [o in promo.operators for o in operators]
        prov_mask[p] = ["*" in promo.provinces or q in promo.provinces for q in provinces]
        ch_mask[p] = [c in promo.channels for c in CHANNELS]
    domains = {o.id: o.domains for o in data.channels.operators}
    domains.update({o.id: o.domains for o in data.channels.partners})
    landing = tuple(
        f"https://www.{domains[p.issuer][0]}/act/{p.code.lower()}"
        if domains.get(p.issuer)
        else None
        for p in promos
    )
    return PromotionTable(
        promotions=promos,
        valid_from=np.array([int(p.valid_from.timestamp() * 1000) for p in promos], dtype=np.int64),
        valid_to=np.array([int(p.valid_to.timestamp() * 1000) for p in promos], dtype=np.int64),
        new_users_only=np.array([p.new_users_only for p in promos], dtype=bool),
        operator_mask=op_mask,
        province_mask=prov_mask,
        channel_mask=ch_mask,
        prices=prices,
        bonuses=bonuses,
        landing=landing,
    )


@lru_cache(maxsize=2)
def world_for(paths: ReferencePaths) -> World:
    """The world for a set of reference files (cached; the files are validated on load)."""
    data = load_reference(paths)
    operators = tuple(op.id for op in data.channels.operators)
    provinces = tuple(p.code for p in data.provinces)
    region_rows = _ipv4_ranges(paths.ip_regions, ("province", "isp"))
    isps = tuple(sorted({labels[1] for _, _, labels in region_rows}))
    region_prov = _index([labels[0] for _, _, labels in region_rows], provinces)
    region_isp = _index([labels[1] for _, _, labels in region_rows], isps)
    region_size = np.array([size for _, size, _ in region_rows], dtype=np.int64)
    intel_rows = _ipv4_ranges(paths.ip_intel, ("category",))
    if not region_rows or not intel_rows:
        raise InputError(
            "the simulator needs IPv4 ranges in both the IP regions and the IP intelligence "
            f"files; add some to {paths.ip_regions.name} and {paths.ip_intel.name}"
        )
    categories = ("datacenter", "proxy", "vpn", "tor")
    intel_cat = _index([labels[0] for _, _, labels in intel_rows], categories)
    intel_size = np.array([size for _, size, _ in intel_rows], dtype=np.int64)
    cellular = [CELLULAR_ISP.get(op, op) for op in operators]
    return World(
        reference=data,
        operators=operators,
        operator_weights=np.array([OPERATOR_SHARE.get(op, 0.02) for op in operators]),
        provinces=provinces,
        province_weights=np.array([p.population_millions for p in data.provinces]),
        numbers=_numbers(data, operators, provinces),
        ip_start=np.array([start for start, _, _ in region_rows], dtype=np.int64),
        ip_size=region_size,
        ip_by_province_isp=GroupedSampler(
            region_prov * len(isps) + region_isp,
            region_size.astype(np.float64),
            len(provinces) * len(isps),
        ),
        ip_by_province=GroupedSampler(region_prov, region_size.astype(np.float64), len(provinces)),
        cellular_isp=np.array([isps.index(c) if c in isps else 0 for c in cellular]),
        isps=isps,
        intel_categories=categories,
        intel_start=np.array([start for start, _, _ in intel_rows], dtype=np.int64),
        intel_size=intel_size,
        intel_by_category=GroupedSampler(intel_cat, intel_size.astype(np.float64), len(categories)),
        platforms=_platforms(data, operators),
        promotions=_promotions(data, operators, provinces),
    )
