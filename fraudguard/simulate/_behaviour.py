"""How an ordinary payer tops up: own device, own networks, own instruments, official
promotions. Legit generators use all of it; fraud generators reuse parts (a scam victim is
an ordinary payer on a bad platform; a taken-over account keeps its owner's instruments)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from fraudguard.exceptions import InputError
from fraudguard.schema import Channel, PaymentMethod
from fraudguard.simulate._population import (
    HOME_SECURITY,
    HOME_SECURITY_WEIGHTS,
    HOME_SSID_STEMS,
    HOME_SSID_WEIGHTS,
    Population,
    Terminals,
    hex_suffix,
)
from fraudguard.simulate._rows import Block, client_flags, set_network, set_payment
from fraudguard.simulate._sampling import (
    BoolArray,
    FloatArray,
    IntArray,
    ObjArray,
    categorical,
    ip_strings,
    nullify,
    pick,
    row_categorical,
)
from fraudguard.simulate._world import (
    CHANNELS,
    FACE_VALUES,
    SHANGHAI,
    Clock,
    World,
    channel_code,
    method_code,
)
from fraudguard.simulate.schemas import SimulationConfig

__all__ = [
    "CELLULAR",
    "HOME_WIFI",
    "HOME_WIRED",
    "PUBLIC_WIFI",
    "WORK_WIFI",
    "Context",
    "apply_promotions",
    "new_user_claims",
    "ordinary_payer",
    "own_device",
    "own_network",
    "payer_instruments",
    "random_true",
    "set_promotion",
    "stranger_network",
    "use_kiosk",
]

# Network situations of an ordinary payer.
HOME_WIFI, HOME_WIRED, CELLULAR, WORK_WIFI, PUBLIC_WIFI = range(5)
_KIND_TYPE = ("wifi", "wired", "cellular", "wifi", "wifi")
#: Where a phone is when its owner tops up at home vs away from the home province.
AT_HOME_KINDS = (0.55, 0.0, 0.39, 0.06)
TRAVEL_KINDS = (0.0, 0.0, 0.8, 0.2)
PC_WIRED = 0.4  # PCs at home: wired instead of Wi-Fi
SECOND_PHONE_USE = 0.4  # payers with two phones use the second one this often
LEGACY_NO_TLS = 0.002  # old app builds posting over plain HTTP

#: Public hotspots: operator portals, airports, stations, chains; most are open.
PUBLIC_SSIDS = (
    "CMCC-WEB",
    "CMCC-FREE",
    "ChinaNet-Free",
    "ChinaUnicom",
    "i-Shanghai",
    "Airport-Free",
    "Airport-Free-WiFi",
    "Starbucks",
    "Starbucks-WiFi",
    "luckin_coffee",
    "KFC FREE WiFi",
    "McDonalds-Free",
    "12306-WiFi",
    "Metro-Free",
    "Hilton-Guest",
    "Wanda-Plaza",
)
PUBLIC_OPEN = 0.75  # the rest are captive portals with a shared WPA2 password
WORK_SSID_STEMS = ("Office-", "Staff-", "Corp-", "HQ-")
WORK_WPA3 = 0.15

#: Where a promotion was advertised, by channel; official SMS marketing on top.
PROMO_SOURCE = {
    Channel.OPERATOR_APP: "app",
    Channel.THIRD_PARTY_APP: "app",
    Channel.OPERATOR_WEB: "web",
    Channel.WECHAT_OFFICIAL_ACCOUNT: "wechat",
    Channel.SELF_SERVICE_TERMINAL: "kiosk",
    Channel.OTHER_WEB: "web",
    Channel.UNKNOWN: "app",
}
#: Official offers also reach payers outside the channel: operator SMS, friends sharing
#: the link in WeChat groups, official ads on Douyin and the web (scam shops use these too).
PROMO_ELSEWHERE = {
    "sms": 0.18,
    "wechat_group": 0.05,
    "douyin": 0.03,
    "web_ad": 0.02,
    "qq_group": 0.01,
}
PROMO_LANDING_URL = 0.25


@dataclass(frozen=True)
class Context:
    """Everything a generator needs: the config, the world, the calendar, the rng, people."""

    config: SimulationConfig
    world: World
    clock: Clock
    rng: np.random.Generator
    population: Population
    terminals: Terminals


def payer_instruments(
    pop: Population, payer: IntArray, method: IntArray
) -> tuple[ObjArray, ObjArray, ObjArray]:
    """(instrument, card BIN, payer id) of each payer for the method the platform used."""
    instrument = np.full(len(payer), None, dtype=object)
    for m, source in (
        (PaymentMethod.BANK_CARD, pop.card),
        (PaymentMethod.ALIPAY, pop.alipay),
        (PaymentMethod.WECHAT_PAY, pop.wechat),
    ):
        rows = method == method_code(m)
        instrument[rows] = source[payer[rows]]
    return instrument, pop.card_bin[payer], pop.payer_id[payer]


def own_device(ctx: Context, block: Block, payer: IntArray, channel: IntArray) -> BoolArray:
    """The payer's phone, or their PC for web pages. Returns which rows used a PC."""
    pop, n = ctx.population, len(payer)
    web = np.isin(channel, [channel_code(Channel.OPERATOR_WEB), channel_code(Channel.OTHER_WEB)])
    on_pc = web & pop.second_is_pc[payer]
    second_phone = (
        ~web
        & pop.has_second[payer]
        & ~pop.second_is_pc[payer]
        & (ctx.rng.random(n) < SECOND_PHONE_USE)
    )
    second = on_pc | second_phone
    block["device_id"] = np.where(second, pop.second_id[payer], pop.phone_id[payer])
    block["device_os"] = np.where(second, pop.second_os[payer], pop.phone_os[payer])
    # A second phone is assumed clean; a PC reports neither flag.
    for column, flags in (
        ("device_rooted", pop.phone_rooted),
        ("device_emulator", pop.phone_emulator),
    ):
        values = flags[payer]
        values[second_phone] = False
        block[column] = nullify(values, on_pc)
    return on_pc


def draw_kinds(ctx: Context, on_pc: BoolArray, traveling: BoolArray) -> IntArray:
    """Network situation of ordinary payers: home, cellular, work; PCs stay home."""
    rng, n = ctx.rng, len(on_pc)
    kind = categorical(rng, n, AT_HOME_KINDS)
    kind = np.where(traveling, categorical(rng, n, TRAVEL_KINDS), kind)
    return np.where(on_pc, np.where(rng.random(n) < PC_WIRED, HOME_WIRED, HOME_WIFI), kind)


def own_network(
    ctx: Context,
    block: Block,
    payer: IntArray,
    channel: IntArray,
    kind: IntArray,
    where_now: IntArray,
) -> None:
    """Addresses and Wi-Fi details for each row's network situation ``kind``."""
    rng, pop, world, n = ctx.rng, ctx.population, ctx.world, len(payer)
    ip = np.zeros(n, dtype=np.int64)
    home = (kind == HOME_WIFI) | (kind == HOME_WIRED)
    ip[home] = pop.home_ip[payer[home]]
    cell = kind == CELLULAR
    ip[cell] = world.ips(rng, where_now[cell], world.cellular_isp[pop.operator[payer[cell]]])
    elsewhere = ~home & ~cell
    ip[elsewhere] = world.ips(rng, where_now[elsewhere], None)

    ssid = pop.home_ssid[payer]
    security = pop.home_security[payer]
    work = np.flatnonzero(kind == WORK_WIFI)
    ssid[work] = hex_suffix(rng, pick(WORK_SSID_STEMS, rng.integers(0, 4, size=len(work))))
    security[work] = np.where(rng.random(len(work)) < WORK_WPA3, "wpa3", "wpa2")
    public = np.flatnonzero(kind == PUBLIC_WIFI)
    ssid[public] = pick(PUBLIC_SSIDS, rng.integers(0, len(PUBLIC_SSIDS), size=len(public)))
    security[public] = np.where(rng.random(len(public)) < PUBLIC_OPEN, "open", "wpa2")
    set_network(block, pick(_KIND_TYPE, kind), ip, ssid, security)
    block["network_tls"] = (rng.random(n) >= LEGACY_NO_TLS).astype(object)
    no = np.zeros(n, dtype=bool)
    block["network_proxy"], block["network_vpn"] = client_flags(channel, no, no)


def use_kiosk(
    ctx: Context, block: Block, rows: IntArray, platform: IntArray, province: IntArray
) -> None:
    """``rows`` were paid at a terminal of their kiosk network in ``province``: its device
    and wired line replace whatever the payer carried."""
    terminals = ctx.terminals
    t = terminals.draw(ctx.rng, platform[rows], province[rows])
    block["device_id"][rows] = terminals.id[t]
    block["device_os"][rows] = terminals.os[t]
    block["device_rooted"][rows] = False
    block["device_emulator"][rows] = False
    block["network_type"][rows] = "wired"
    block["network_ip"][rows] = ip_strings(terminals.ip[t])
    block["network_ssid"][rows] = None
    block["network_wifi_security"][rows] = None
    block["network_tls"][rows] = terminals.tls[t]
    block["network_proxy"][rows] = None
    block["network_vpn"][rows] = None


def stranger_network(
    ctx: Context,
    block: Block,
    channel: IntArray,
    province: IntArray,
    operator: IntArray,
    wifi_share: float,
) -> None:
    """Someone outside the population (new subscriber, fraudster) at their own place: a home
    router on Wi-Fi or their phone's cellular line, in ``province``."""
    rng, world, n = ctx.rng, ctx.world, len(channel)
    wifi = rng.random(n) < wifi_share
    ip = np.where(
        wifi,
        world.ips(rng, province, None),
        world.ips(rng, province, world.cellular_isp[operator]),
    )
    ssid = hex_suffix(rng, pick(HOME_SSID_STEMS, categorical(rng, n, HOME_SSID_WEIGHTS)))
    security = pick(HOME_SECURITY, categorical(rng, n, HOME_SECURITY_WEIGHTS))
    set_network(block, np.where(wifi, "wifi", "cellular").astype(object), ip, ssid, security)
    block["network_tls"] = np.full(n, True, dtype=object)
    no = np.zeros(n, dtype=bool)
    block["network_proxy"], block["network_vpn"] = client_flags(channel, no, no)


def random_true(rng: np.random.Generator, mask: BoolArray) -> IntArray:
    """Per row, the column of one ``True`` of ``mask`` chosen uniformly (rows need one)."""
    cum = np.cumsum(mask, axis=1, dtype=np.int32)
    r = (rng.random(len(mask)) * cum[:, -1]).astype(np.int32)
    column: IntArray = np.argmax(cum > r[:, None], axis=1).astype(np.int64)
    return column


def set_promotion(
    ctx: Context,
    block: Block,
    rows: IntArray,
    promo: IntArray,
    face_index: IntArray,
    channel: IntArray,
) -> None:
    """Apply catalogue promotion ``promo`` to ``rows``: offer price, discount, code, source."""
    table, rng, n = ctx.world.promotions, ctx.rng, len(rows)
    price = table.prices[promo, face_index]
    block["paid_amount"][rows] = price
    block["promotion_discount"][rows] = (
        FACE_VALUES[face_index] - price + table.bonuses[promo, face_index]
    )
    block["promotion_code"][rows] = pick([p.code for p in table.promotions], promo)
    block["promotion_description"][rows] = pick([p.title for p in table.promotions], promo)
    source = pick([PROMO_SOURCE[c] for c in CHANNELS], channel)
    # The last option means "where the channel itself showed it".
    shares = [*PROMO_ELSEWHERE.values(), 1.0 - sum(PROMO_ELSEWHERE.values())]
    where = categorical(rng, n, shares)
    outside = pick([*PROMO_ELSEWHERE, ""], where)
    block["promotion_source"][rows] = np.where(where == len(PROMO_ELSEWHERE), source, outside)
    landing = pick(table.landing, promo)
    block["promotion_advertised_url"][rows] = nullify(landing, rng.random(n) >= PROMO_LANDING_URL)


def apply_promotions(
    ctx: Context,
    block: Block,
    operator: IntArray,
    province: IntArray,
    channel: IntArray,
    face_index: IntArray,
) -> None:
    """Some rows that qualify for an always-open official promotion use it (never new-user
    offers: those are for new subscribers only, see :func:`new_user_claims`)."""
    trying = np.flatnonzero(ctx.rng.random(len(operator)) < ctx.config.promotion_uptake_rate)
    eligible = ctx.world.promotions.eligible(
        block["time_ms"][trying],
        operator[trying],
        province[trying],
        channel[trying],
        face_index[trying],
        new_users=False,
    )
    found = eligible.any(axis=1)
    rows = trying[found]
    promo = random_true(ctx.rng, eligible[found])
    set_promotion(ctx, block, rows, promo, face_index[rows], channel[rows])


@dataclass(frozen=True)
class Claims:
    """New-user promotion claims: which promotion, when, for which operator and channel."""

    promo: IntArray
    time_ms: IntArray
    operator: IntArray
    province: IntArray
    channel: IntArray
    face_index: IntArray


def new_user_promotions(ctx: Context) -> IntArray:
    """Catalogue entries for new subscribers that are open at some point in the window."""
    table, clock = ctx.world.promotions, ctx.clock
    found = np.flatnonzero(
        table.new_users_only & (table.valid_from < clock.end_ms) & (table.valid_to > clock.start_ms)
    )
    if len(found) == 0:
        first = datetime.fromtimestamp(clock.start_ms / 1000, SHANGHAI).date()
        raise InputError(
            f"no new-user promotion in the catalogue is open during the {clock.days} days from "
            f"{first}; move the window, add one, or set promotion_abuse_rate and "
            "legit_campaign_deep_discount_rate to 0"
        )
    return found


#: Channels a new subscriber claims from, when the promotion allows them.
CLAIM_CHANNEL_WEIGHTS = {Channel.OPERATOR_APP: 0.75, Channel.SELF_SERVICE_TERMINAL: 0.25}


def new_user_claims(
    ctx: Context,
    promo: IntArray,
    *,
    operator: IntArray | None = None,
    lo: IntArray | None = None,
    hi: IntArray | None = None,
    claim_channels: dict[Channel, float] = CLAIM_CHANNEL_WEIGHTS,
) -> Claims:
    """Claims of new-user promotions ``promo`` that are genuine in every respect but intent:
    inside the window, for an operator, province, channel and face value the offer covers."""
    world, rng, table, clock = ctx.world, ctx.rng, ctx.world.promotions, ctx.clock
    n = len(promo)
    if operator is None:
        op_weights = table.operator_mask[promo] * world.operator_weights[None, :]
        operator = row_categorical(rng, op_weights.astype(np.float64))
    prov_weights = table.province_mask[promo] * world.province_weights[None, :]
    province = row_categorical(rng, prov_weights.astype(np.float64))
    wanted = np.zeros(len(CHANNELS))
    for ch, w in claim_channels.items():
        wanted[channel_code(ch)] = w
    allowed = table.channel_mask[promo] & world.platforms.serves(
        np.arange(len(CHANNELS))[None, :], operator[:, None]
    )
    weights = allowed * np.where(wanted > 0, wanted, 0.01)[None, :]
    channel = row_categorical(rng, weights + (weights.sum(axis=1, keepdims=True) == 0))
    face_index = random_true(rng, ~np.isnan(table.prices[promo]))
    low = np.maximum(table.valid_from[promo], clock.start_ms if lo is None else lo)
    high = np.minimum(table.valid_to[promo], clock.end_ms if hi is None else hi)
    # A farm window may miss the promotion's window; then it claims in the promotion's window.
    empty = high <= low
    low = np.where(empty, np.maximum(table.valid_from[promo], clock.start_ms), low)
    high = np.where(empty, np.minimum(table.valid_to[promo], clock.end_ms), high)
    time_ms = clock.times(rng, n, low, high)
    return Claims(promo, time_ms, operator, province, channel, face_index)


def ordinary_payer(
    ctx: Context,
    block: Block,
    payer: IntArray,
    channel: IntArray,
    method_weights: FloatArray,
    where_now: IntArray,
    *,
    platform: IntArray | None = None,
    public: IntArray | None = None,
) -> None:
    """Payment, device and network of ordinary payers (``public`` rows on a hotspot)."""
    method = row_categorical(ctx.rng, method_weights)
    set_payment(block, method, *payer_instruments(ctx.population, payer, method))
    on_pc = own_device(ctx, block, payer, channel)
    traveling = where_now != ctx.population.province[payer]
    kind = draw_kinds(ctx, on_pc, traveling)
    if public is not None:
        kind[public] = PUBLIC_WIFI
    own_network(ctx, block, payer, channel, kind, where_now)
    if platform is not None:
        kiosk = np.flatnonzero(channel == channel_code(Channel.SELF_SERVICE_TERMINAL))
        use_kiosk(ctx, block, kiosk, platform, where_now)
