"""Fraud typologies. Each one has a signature, and each signature is shared in part with
legit traffic (see the hard negatives in ``_legit``) so no single column gives it away."""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from fraudguard.reference import ReferenceData
from fraudguard.reference.schemas import Operator
from fraudguard.schema import Channel, PaymentMethod
from fraudguard.simulate._behaviour import (
    PUBLIC_SSIDS,
    Context,
    new_user_claims,
    new_user_promotions,
    ordinary_payer,
    payer_instruments,
    random_true,
    set_promotion,
)
from fraudguard.simulate._names import (
    fake_code,
    lookalike_app,
    lookalike_domain,
    lookalike_wechat,
    plausible_app,
    plausible_domain,
    shop_url,
    unofficial,
)
from fraudguard.simulate._population import (
    CARD_BIN_WEIGHTS,
    CARD_BINS,
    HOME_SECURITY,
    HOME_SECURITY_WEIGHTS,
    HOME_SSID_STEMS,
    HOME_SSID_WEIGHTS,
    hex_suffix,
)
from fraudguard.simulate._rows import (
    Block,
    blank,
    client_flags,
    set_face,
    set_network,
    set_payment,
    set_platform,
)
from fraudguard.simulate._sampling import (
    BoolArray,
    FloatArray,
    IntArray,
    ObjArray,
    burst_offsets,
    categorical,
    group_sizes,
    nullify,
    offsets_within,
    pick,
    row_categorical,
    tokens,
)
from fraudguard.simulate._world import (
    CHANNELS,
    DAY_MS,
    HOUR_WEIGHTS,
    METHOD_MIX,
    channel_code,
    draw_channels,
    method_code,
    method_mix,
)
from fraudguard.simulate.enums import Typology

__all__ = [
    "account_takeovers",
    "card_testing",
    "fake_discount_scams",
    "laundering",
    "promotion_abuse",
]

# --- signatures (documented in data/samples/README.md) ---------------------------------
SHOP_SIZES = (15, 120)  # events per scam shop
SHOP_DAYS = (1.0, 5.0)  # a shop appears, sells for 1-5 days, vanishes
SHOP_STYLES = {
    "web_lookalike": 0.45,
    "web_plausible": 0.2,
    "app_lookalike": 0.15,
    "wechat_lookalike": 0.2,
}
SHOP_PRICING = {"deep": 0.8, "mild": 0.1, "full": 0.1}  # 50-80%, 85-95%, 100% of face
SHOP_CODES = {"fake": 0.55, "real": 0.2, "none": 0.25}  # code shown with the offer
SHOP_STOLEN_CARDS = 0.4  # shops that top victims up with stolen cards from a server
SHOP_CARDS = 4  # stolen cards per such shop
SHOP_HTTPS = 0.8
SHOP_FACES = (0.0, 0.0, 0.0, 0.2, 0.45, 0.25, 0.05, 0.05)
SHOP_SOURCES = ("sms", "wechat_group", "qq_group", "web_ad", "douyin")
SHOP_METHODS = {
    "web": METHOD_MIX["reseller"],
    "app": method_mix(bank_card=0.5, alipay=0.25, wechat_pay=0.25),
    "wechat": METHOD_MIX["wechat_official_account"],
}

LAUNDER_BURSTS = (4, 30)  # top-ups per burst, each to a different number
LAUNDER_GAP_MS = 180_000
LAUNDER_CHANNELS = {
    Channel.THIRD_PARTY_APP: 0.45,
    Channel.OPERATOR_APP: 0.25,
    Channel.OPERATOR_WEB: 0.15,
    Channel.WECHAT_OFFICIAL_ACCOUNT: 0.1,
    Channel.UNKNOWN: 0.05,
}
LAUNDER_FACES = (0.0, 0.0, 0.0, 0.05, 0.35, 0.3, 0.15, 0.15)
LAUNDER_NETWORKS = {
    "cellular": 0.38,
    "wifi": 0.28,
    "proxy": 0.11,
    "vpn": 0.08,
    "datacenter": 0.09,
    "stacked": 0.06,
}
LAUNDER_HOURS = np.sqrt(HOUR_WEIGHTS)  # flatter than people: crews work late too

ATO_SIZES = (1, 5)
ATO_GAP_MS = 240_000
ATO_HOURS = np.array([6, 6, 6, 5, 4, 3, 1, 1, 1, 1, 1, 1,
                      1, 1, 1, 1, 1, 1, 1, 1.5, 2, 2.5, 3, 4], dtype=np.float64)  # fmt: skip
ATO_NETWORKS = {
    "proxy": 0.1,
    "vpn": 0.08,
    "tor": 0.04,
    "datacenter": 0.07,
    "stacked": 0.08,
    "open_wifi": 0.18,
    "open_wifi_plain": 0.07,
    "cellular": 0.22,
    "wifi": 0.16,
}
ATO_SAME_PROVINCE = 0.15
ATO_OWN_NUMBER = 0.3
ATO_CHANNELS = {
    Channel.THIRD_PARTY_APP: 0.5,
    Channel.OPERATOR_APP: 0.25,
    Channel.OPERATOR_WEB: 0.1,
    Channel.WECHAT_OFFICIAL_ACCOUNT: 0.1,
    Channel.UNKNOWN: 0.05,
}
ATO_FACES = (0.0, 0.0, 0.0, 0.08, 0.22, 0.3, 0.2, 0.2)

CARD_TEST_SIZES = (8, 40)
CARD_TEST_GAP_MS = 20_000
CARD_TEST_FACES = (0.6, 0.3, 0.1, 0.0, 0.0, 0.0, 0.0, 0.0)
CARD_TEST_CHANNELS = {
    Channel.OPERATOR_WEB: 0.3,
    Channel.THIRD_PARTY_APP: 0.25,
    Channel.OTHER_WEB: 0.2,
    Channel.UNKNOWN: 0.15,
    Channel.OPERATOR_APP: 0.1,
}
CARD_TEST_NETWORKS = {"datacenter": 0.35, "proxy": 0.15, "cellular": 0.3, "wifi": 0.2}
CARD_TEST_REUSE = 0.15  # an attempt retries the previous card
CARD_TEST_NUMBERS = 3  # at most this many target numbers per session

FARM_SIZES = (8, 40)  # new numbers per farm, one claim each
FARM_DAYS = (1.0, 3.0)
FARM_NETWORKS = {"wifi": 0.45, "cellular": 0.2, "datacenter": 0.2, "proxy": 0.15}
FARM_DEVICES = 2  # at most
FARM_INSTRUMENTS = 3  # at most

FLAG_SEEN = 0.5  # the client notices the proxy / VPN it runs behind this often
POPULATION_TARGETS = 0.5  # share of fraud target numbers that belong to real customers
# Device risk of fraudsters' devices: (emulator, rooted, iOS) rates.
DEVICE_RISK = {
    Typology.LAUNDERING: (0.15, 0.2, 0.2),
    Typology.ACCOUNT_TAKEOVER: (0.25, 0.2, 0.2),
    Typology.CARD_TESTING: (0.5, 0.25, 0.1),
    Typology.PROMOTION_ABUSE: (0.45, 0.35, 0.0),
}


@dataclass(frozen=True)
class _Actors:
    """Fraudsters' devices and networks, one entry per group (crew, session, farm)."""

    device_id: ObjArray
    os: ObjArray
    rooted: ObjArray
    emulator: ObjArray
    net_type: ObjArray
    ip: IntArray
    ssid: ObjArray
    security: ObjArray
    proxy: BoolArray
    vpn: BoolArray
    tls: BoolArray


def _actors(
    ctx: Context,
    typology: Typology,
    province: IntArray,
    operator: IntArray,
    networks: dict[str, float],
) -> _Actors:
    """Devices and network situations of ``len(province)`` fraud groups.

    ``cellular`` / ``wifi`` look like anyone's; ``open_wifi`` is a public hotspot;
    ``proxy`` / ``vpn`` / ``tor`` / ``datacenter`` come from the flagged ranges, with the
    client's own flag raised only when it notices (``FLAG_SEEN``); ``idc`` is a server in a
    Chinese hosting centre that no intelligence feed lists; ``stacked`` is a proxy and a VPN
    at once from a data-centre address, both flags raised; ``open_wifi_plain`` is a public
    hotspot on a page served without TLS (a hijacked or phishing session).
    """
    rng, world, n = ctx.rng, ctx.world, len(province)
    emulator_rate, rooted_rate, ios_rate = DEVICE_RISK.get(typology, (0.0, 0.0, 0.2))
    emulator = rng.random(n) < emulator_rate
    ios = ~emulator & (rng.random(n) < ios_rate)
    rooted = ~ios & ~emulator & (rng.random(n) < rooted_rate)
    names = list(networks)
    situation = pick(names, categorical(rng, n, list(networks.values())))

    ip = world.ips(rng, province, None)
    cell = situation == "cellular"
    ip[cell] = world.ips(rng, province[cell], world.cellular_isp[operator[cell]])
    for category in world.intel_categories:
        rows = (situation == category) | ((situation == "stacked") & (category == "datacenter"))
        codes = np.full(int(rows.sum()), world.intel_category(category))
        ip[rows] = world.intel_ips(rng, codes)
    stacked = situation == "stacked"
    wired = (situation == "datacenter") | (situation == "idc") | stacked
    open_wifi = np.isin(situation, ["open_wifi", "open_wifi_plain"])
    on_wifi = (
        np.isin(situation, ["wifi"])
        | open_wifi
        | (np.isin(situation, ["proxy", "vpn", "tor"]) & (rng.random(n) < 0.5))
    )
    net_type = np.where(wired, "wired", np.where(on_wifi, "wifi", "cellular")).astype(object)
    home_ssid = hex_suffix(rng, pick(HOME_SSID_STEMS, categorical(rng, n, HOME_SSID_WEIGHTS)))
    public_ssid = pick(PUBLIC_SSIDS, rng.integers(0, len(PUBLIC_SSIDS), size=n))
    security = pick(HOME_SECURITY, categorical(rng, n, HOME_SECURITY_WEIGHTS))
    seen = rng.random(n) < FLAG_SEEN
    return _Actors(
        device_id=tokens(rng, n, "dev-"),
        os=np.where(ios, "ios", "android").astype(object),
        rooted=rooted.astype(object),
        emulator=emulator.astype(object),
        net_type=net_type,
        ip=ip,
        ssid=np.where(open_wifi, public_ssid, home_ssid),
        security=np.where(open_wifi, "open", security).astype(object),
        proxy=(seen & (situation == "proxy")) | stacked,
        vpn=(seen & ((situation == "vpn") | (situation == "tor"))) | stacked,
        tls=situation != "open_wifi_plain",
    )


def _use_actors(block: Block, actors: _Actors, group: IntArray, channel: IntArray) -> None:
    """Rows of ``group`` were made on that group's device and network."""
    block["device_id"] = actors.device_id[group]
    block["device_os"] = actors.os[group]
    block["device_rooted"] = actors.rooted[group]
    block["device_emulator"] = actors.emulator[group]
    set_network(
        block,
        actors.net_type[group],
        actors.ip[group],
        actors.ssid[group],
        actors.security[group],
    )
    block["network_tls"] = actors.tls[group].astype(object)
    block["network_proxy"], block["network_vpn"] = client_flags(
        channel, actors.proxy[group], actors.vpn[group]
    )


def _targets(ctx: Context, operator: IntArray) -> IntArray:
    """Numbers of ``operator`` that fraud tops up: real customers' (sold discounted top-ups
    on a grey market) or numbers seen nowhere else."""
    rng, pop = ctx.rng, ctx.population
    customer = pop.by_operator.sample(rng, operator)
    fresh, _ = ctx.world.numbers.draw(rng, operator)
    known = rng.random(len(operator)) < POPULATION_TARGETS
    return np.where(known, pop.msisdn[customer], fresh)


def _bursts(
    ctx: Context,
    sizes: IntArray,
    gap_ms: float,
    hours: FloatArray,
    lo: IntArray | None = None,
    hi: IntArray | None = None,
) -> tuple[IntArray, IntArray]:
    """(group of each row, time of each row) for consecutive groups of ``sizes`` rows."""
    clock, rng = ctx.clock, ctx.rng
    group = np.repeat(np.arange(len(sizes)), sizes)
    start = clock.times(rng, len(sizes), lo, hi, hours=hours)
    end = clock.end_ms if hi is None else hi[group]
    time_ms = np.minimum(start[group] + burst_offsets(rng, sizes, gap_ms), end - 1)
    return group, time_ms


# --- fake-discount scam shops ----------------------------------------------------------


@dataclass
class _Shop:
    channel: Channel
    surface: str  # "web", "app" or "wechat": which payment mix the shop offers
    platform_id: str | None
    name: str
    url: str | None
    app_package: str | None
    wechat_account: str | None
    code: str
    code_style: str
    source: str
    advertised_url: str | None


def _shop(
    op: Operator, style: str, code_prefix: str, rnd: random.Random, reference: ReferenceData
) -> _Shop:
    """One look-alike (or plausible-looking) shop imitating ``op``, never an official one."""
    code_style = rnd.choices(list(SHOP_CODES), weights=list(SHOP_CODES.values()))[0]
    code = fake_code(code_prefix, rnd)  # shown when the style is "fake", or no real one fits
    source = rnd.choice(SHOP_SOURCES)
    if style in ("web_lookalike", "web_plausible"):
        lookalike = style == "web_lookalike"
        wallets = tuple(
            p.domains[0] for p in reference.channels.partners if p.protection == "fuzzy"
        )
        domain = unofficial(
            lambda: lookalike_domain(op, rnd, wallets) if lookalike else plausible_domain(rnd),
            reference,
        )
        url = shop_url(domain, rnd, https=rnd.random() < SHOP_HTTPS)
        channel = rnd.choices(
            [Channel.OTHER_WEB, Channel.OPERATOR_WEB, Channel.UNKNOWN],
            weights=[0.7, 0.2, 0.1] if lookalike else [0.9, 0.0, 0.1],
        )[0]
        name = (
            op.name + rnd.choice(("话费充值中心", "充值特惠", "官方充值"))
            if lookalike
            else (plausible_app(rnd)[1])
        )
        advertised = url if rnd.random() < 0.6 else None
        return _Shop(
            channel, "web", None, name, url, None, None, code, code_style, source, advertised
        )
    if style == "app_lookalike":
        package = unofficial(lambda: lookalike_app(op, rnd)[0], reference)
        name = unofficial(lambda: lookalike_app(op, rnd)[1], reference)
        channel = Channel.THIRD_PARTY_APP if rnd.random() < 0.7 else Channel.OPERATOR_APP
        download = f"https://{plausible_domain(rnd)}/download"
        return _Shop(
            channel, "app", None, name, None, package, None, code, code_style, source, download
        )
    account = unofficial(lambda: lookalike_wechat(op, rnd), reference)
    return _Shop(
        Channel.WECHAT_OFFICIAL_ACCOUNT,
        "wechat",
        f"wx:gh_{rnd.getrandbits(48):012x}",
        account,
        None,
        "com.tencent.mm",
        account,
        code,
        code_style,
        source,
        None,
    )


def _code_prefixes(ctx: Context) -> dict[str, str]:
    """Operator id -> the prefix its real codes use (DX, YD, LT), to fake them convincingly."""
    prefixes: dict[str, str] = {}
    for promo in ctx.world.promotions.promotions:
        prefixes.setdefault(promo.issuer, promo.code.split("-")[0])
    return prefixes


def fake_discount_scams(ctx: Context, n: int) -> Block:
    """Short-lived unofficial shops selling an operator's top-ups far below face value."""
    rng, world, pop, clock = ctx.rng, ctx.world, ctx.population, ctx.clock
    block = blank(n, Typology.FAKE_DISCOUNT_SCAM)
    sizes = group_sizes(rng, n, *SHOP_SIZES)
    shops = len(sizes)
    rnd = random.Random(int(rng.integers(2**62)))
    operator_s = world.draw_operators(rng, shops)
    style_s = pick(list(SHOP_STYLES), categorical(rng, shops, list(SHOP_STYLES.values())))
    prefixes = _code_prefixes(ctx)
    operators = world.reference.channels.operators
    made = [
        _shop(operators[k], style, prefixes.get(operators[k].id, "HF"), rnd, world.reference)
        for k, style in zip(operator_s.tolist(), style_s.tolist(), strict=True)
    ]  # one per shop, not per event
    opens = clock.start_ms + (rng.random(shops) * clock.days * DAY_MS).astype(np.int64)
    closes = np.minimum(
        opens + (rng.uniform(*SHOP_DAYS, size=shops) * DAY_MS).astype(np.int64), clock.end_ms
    )
    shop = np.repeat(np.arange(shops), sizes)
    block["time_ms"] = clock.times(rng, n, opens[shop], closes[shop])

    channel = np.array([channel_code(s.channel) for s in made], dtype=np.int64)[shop]
    block["channel"] = pick([c.value for c in CHANNELS], channel)
    for column, values in (
        ("platform_id", [s.platform_id for s in made]),
        ("platform_name", [s.name for s in made]),
        ("platform_url", [s.url for s in made]),
        ("platform_app_package", [s.app_package for s in made]),
        ("platform_wechat_account", [s.wechat_account for s in made]),
        ("promotion_source", [s.source for s in made]),
        ("promotion_advertised_url", [s.advertised_url for s in made]),
    ):
        block[column] = pick(values, shop)

    # Victims: real customers of the imitated operator, on their own phone and network.
    victim = pop.by_operator.sample(rng, operator_s[shop])
    block["msisdn"] = pop.msisdn[victim]
    face = categorical(rng, n, SHOP_FACES)
    set_face(block, face)
    _scam_prices(ctx, block, made, shop)
    surfaces = {"web": 0, "app": 1, "wechat": 2}
    mix = np.array([SHOP_METHODS[s] for s in surfaces], dtype=np.float64)
    surface = np.array([surfaces[s.surface] for s in made], dtype=np.int64)[shop]
    ordinary_payer(ctx, block, victim, channel, mix[surface], pop.province[victim])
    plain_http = np.array([s.url is not None and s.url.startswith("http:") for s in made])[shop]
    block["network_tls"][plain_http] = False

    _server_top_ups(ctx, block, shop, operator_s, channel)
    return block


def _server_top_ups(
    ctx: Context, block: Block, shop: IntArray, operator_s: IntArray, channel: IntArray
) -> None:
    """Some shops take the victim's money and top up with stolen cards from their server:
    their rows get the server's line, no phone, and the shop's cards and account."""
    rng, world, shops = ctx.rng, ctx.world, len(operator_s)
    stolen_s = rng.random(shops) < SHOP_STOLEN_CARDS
    rows = np.flatnonzero(stolen_s[shop])
    if len(rows) == 0:
        return
    servers = _actors(
        ctx,
        Typology.FAKE_DISCOUNT_SCAM,
        world.draw_provinces(rng, shops),
        operator_s,
        {"datacenter": 0.6, "idc": 0.4},
    )
    sub = blank(len(rows), Typology.FAKE_DISCOUNT_SCAM)
    _use_actors(sub, servers, shop[rows], channel[rows])
    cards = tokens(rng, shops * SHOP_CARDS, "tok_")
    card = shop[rows] * SHOP_CARDS + rng.integers(0, SHOP_CARDS, size=len(rows))
    bins = pick(CARD_BINS, categorical(rng, shops * SHOP_CARDS, CARD_BIN_WEIGHTS))
    accounts = tokens(rng, shops, "u-", 8)
    method = np.full(len(rows), method_code(PaymentMethod.BANK_CARD))
    set_payment(sub, method, cards[card], bins[card], accounts[shop[rows]])
    sub["device_id"][rng.random(len(rows)) < 0.5] = None  # half the shops' APIs send none
    for column in ("device_os", "device_rooted", "device_emulator"):
        sub[column][:] = None
    for column in sub:
        if column.startswith(("device_", "network_", "payment_")):
            block[column][rows] = sub[column]


def _scam_prices(ctx: Context, block: Block, made: list[_Shop], shop: IntArray) -> None:
    """Price far below face (or not), and the promotion the shop claims for it."""
    rng, table, n = ctx.rng, ctx.world.promotions, len(shop)
    shops = len(made)
    pricing = categorical(rng, shops, list(SHOP_PRICING.values()))
    center = np.where(
        pricing == 0,
        rng.uniform(0.5, 0.8, size=shops),
        np.where(pricing == 1, rng.uniform(0.85, 0.95, size=shops), 1.0),
    )
    full = (pricing == 2)[shop]
    ratio = np.clip(center[shop] + rng.uniform(-0.03, 0.03, size=n), 0.45, 0.97)
    face = block["amount"]
    paid = np.where(full, face, np.round(face * ratio))
    block["paid_amount"] = paid
    discounted = paid < face
    block["promotion_discount"] = np.where(discounted, face - paid, np.nan)
    block["promotion_description"] = np.where(
        discounted,
        np.char.add(
            np.char.add(face.astype(int).astype(str), "元话费只要"),
            np.char.add(paid.astype(int).astype(str), "元"),
        ).astype(object),
        pick(("官方直充", "秒到账", None), rng.integers(0, 3, size=n)),
    )
    style = np.array([s.code_style for s in made], dtype=object)[shop]
    code = nullify(pick([s.code for s in made], shop), style == "none")
    # "real": a genuine code that is open right now, borrowed for an offer it never covered.
    real = np.flatnonzero(style == "real")
    active = table.active(block["time_ms"][real])
    has = active.any(axis=1)
    borrowed = random_true(rng, active[has])
    code[real[has]] = pick([p.code for p in table.promotions], borrowed)
    block["promotion_code"] = code
    bare = full & (style == "none")
    for column in ("promotion_description", "promotion_source", "promotion_advertised_url"):
        block[column][bare] = None


# --- laundering ------------------------------------------------------------------------


def laundering(ctx: Context, n: int) -> Block:
    """Stolen cards top up many unrelated numbers in bursts, at face value, on official
    platforms: the money comes out as sold top-ups."""
    rng, world = ctx.rng, ctx.world
    block = blank(n, Typology.LAUNDERING)
    sizes = group_sizes(rng, n, *LAUNDER_BURSTS)
    bursts = len(sizes)
    # Each stolen card is burnt in 1-3 bursts.
    card_of_burst = np.repeat(np.arange(bursts), rng.integers(1, 4, size=bursts))[:bursts]
    cards = int(card_of_burst.max()) + 1
    crew_province = world.draw_provinces(rng, cards)
    crew = _actors(
        ctx, Typology.LAUNDERING, crew_province, world.draw_operators(rng, cards), LAUNDER_NETWORKS
    )
    burst, block["time_ms"] = _bursts(ctx, sizes, LAUNDER_GAP_MS, LAUNDER_HOURS)
    card = card_of_burst[burst]

    channel_b = draw_channels(rng, bursts, LAUNDER_CHANNELS)
    operator_b = world.draw_operators(rng, bursts)
    # Operator apps and pages top up their own operator's numbers; wallets any.
    own_operator = np.isin(
        channel_b, [channel_code(Channel.OPERATOR_APP), channel_code(Channel.OPERATOR_WEB)]
    )[burst]
    operator = np.where(own_operator, operator_b[burst], world.draw_operators(rng, n))
    block["msisdn"] = _targets(ctx, operator)
    platform = world.platforms.draw(rng, channel_b, operator_b)[burst]
    channel = world.platforms.channel[platform]
    set_platform(block, world.platforms, platform)
    set_face(block, categorical(rng, n, LAUNDER_FACES))
    bins = pick(CARD_BINS, categorical(rng, cards, CARD_BIN_WEIGHTS))
    set_payment(
        block,
        np.full(n, method_code(PaymentMethod.BANK_CARD)),
        tokens(rng, cards, "tok_")[card],
        bins[card],
        tokens(rng, cards, "u-", 8)[card],
    )
    _use_actors(block, crew, card, channel)
    return block


# --- account takeover ------------------------------------------------------------------


def account_takeovers(ctx: Context, n: int) -> Block:
    """A payer's account, with its saved instruments, used from the attacker's new device,
    often on an unsafe network, at night, from another province, for larger amounts."""
    rng, world, pop = ctx.rng, ctx.world, ctx.population
    block = blank(n, Typology.ACCOUNT_TAKEOVER)
    sizes = group_sizes(rng, n, *ATO_SIZES)
    incidents = len(sizes)
    victim_i = pop.draw(rng, incidents)
    home = pop.province[victim_i]
    n_prov = len(world.provinces)
    away = (home + 1 + rng.integers(0, max(n_prov - 1, 1), size=incidents)) % n_prov
    province_i = np.where(rng.random(incidents) < ATO_SAME_PROVINCE, home, away)
    attacker = _actors(
        ctx,
        Typology.ACCOUNT_TAKEOVER,
        province_i,
        world.draw_operators(rng, incidents),
        ATO_NETWORKS,
    )
    incident, block["time_ms"] = _bursts(ctx, sizes, ATO_GAP_MS, ATO_HOURS)
    victim = victim_i[incident]

    own = rng.random(incidents) < ATO_OWN_NUMBER
    target_op = np.where(own, pop.operator[victim_i], world.draw_operators(rng, incidents))
    target = _targets(ctx, target_op)
    block["msisdn"] = np.where(own, pop.msisdn[victim_i], target)[incident]
    platform_i = world.platforms.draw(rng, draw_channels(rng, incidents, ATO_CHANNELS), target_op)
    platform = platform_i[incident]
    channel = world.platforms.channel[platform]
    set_platform(block, world.platforms, platform)
    set_face(block, categorical(rng, n, ATO_FACES))
    weights = world.platforms.method_weights[platform_i].copy()
    weights[:, method_code(PaymentMethod.CASH)] = 0.0
    method = row_categorical(rng, weights + (weights.sum(axis=1, keepdims=True) == 0))[incident]
    set_payment(block, method, *payer_instruments(pop, victim, method))
    _use_actors(block, attacker, incident, channel)
    return block


# --- card testing ----------------------------------------------------------------------


def card_testing(ctx: Context, n: int) -> Block:
    """One device tries many cards (often of one or two BINs) with 10-30 top-ups to a few
    numbers within minutes; most attempts are declined."""
    rng, world = ctx.rng, ctx.world
    block = blank(n, Typology.CARD_TESTING)
    sizes = group_sizes(rng, n, *CARD_TEST_SIZES)
    sessions = len(sizes)
    operator_s = world.draw_operators(rng, sessions)
    tester = _actors(
        ctx,
        Typology.CARD_TESTING,
        world.draw_provinces(rng, sessions),
        operator_s,
        CARD_TEST_NETWORKS,
    )
    session, block["time_ms"] = _bursts(ctx, sizes, CARD_TEST_GAP_MS, np.ones(24))
    numbers = _targets(ctx, np.repeat(operator_s, CARD_TEST_NUMBERS))
    used = rng.integers(1, CARD_TEST_NUMBERS + 1, size=sessions)[session]
    slot = (rng.random(n) * used).astype(np.int64)
    block["msisdn"] = numbers[session * CARD_TEST_NUMBERS + slot]

    channel_s = draw_channels(rng, sessions, CARD_TEST_CHANNELS)
    platform = world.platforms.draw(rng, channel_s, operator_s)[session]
    set_platform(block, world.platforms, platform)
    # Testers also hit unlisted merchant pages; those look like any small reseller's.
    merchant = np.flatnonzero(channel_s == channel_code(Channel.OTHER_WEB))
    rnd = random.Random(int(rng.integers(2**62)))
    urls = [shop_url(plausible_domain(rnd), rnd, https=True) for _ in merchant]
    names = [plausible_app(rnd)[1] for _ in merchant]
    web = np.flatnonzero(np.isin(session, merchant))
    where = np.searchsorted(merchant, session[web])
    for column in ("platform_id", "platform_app_package", "platform_wechat_account"):
        block[column][web] = None
    block["channel"][web] = Channel.OTHER_WEB.value
    block["platform_url"][web] = pick(urls, where)
    block["platform_name"][web] = pick(names, where)
    channel = np.where(
        np.isin(session, merchant),
        channel_code(Channel.OTHER_WEB),
        world.platforms.channel[platform],
    )
    set_face(block, categorical(rng, n, CARD_TEST_FACES))

    cards = tokens(rng, n, "tok_")
    retry = np.flatnonzero(
        (rng.random(n) < CARD_TEST_REUSE) & (offsets_within(sizes, np.ones(n)) > 0)
    )
    cards[retry] = cards[retry - 1]
    session_bins = pick(CARD_BINS, categorical(rng, 2 * sessions, CARD_BIN_WEIGHTS))
    bins = session_bins[2 * session + rng.integers(0, 2, size=n)]
    accounts = tokens(rng, sessions, "u-", 8)
    payer = nullify(accounts, rng.random(sessions) >= 0.7)[session]  # 30% guest checkout
    set_payment(block, np.full(n, method_code(PaymentMethod.BANK_CARD)), cards, bins, payer)
    _use_actors(block, tester, session, channel)
    return block


# --- promotion abuse -------------------------------------------------------------------


def promotion_abuse(ctx: Context, n: int) -> Block:
    """A farm of 1-2 devices (often emulated or rooted) claims a new-user offer for dozens
    of fresh, nearly consecutive numbers bought in bulk, over 1-3 days."""
    rng, world, table, clock = ctx.rng, ctx.world, ctx.world.promotions, ctx.clock
    block = blank(n, Typology.PROMOTION_ABUSE)
    sizes = group_sizes(rng, n, *FARM_SIZES)
    farms = len(sizes)
    farm = np.repeat(np.arange(farms), sizes)
    promos = new_user_promotions(ctx)
    promo_f = promos[rng.integers(0, len(promos), size=farms)]
    op_weights = table.operator_mask[promo_f] * world.operator_weights[None, :]
    operator_f = row_categorical(rng, op_weights.astype(np.float64))
    opens = clock.times(rng, farms)
    closes = np.minimum(
        opens + (rng.uniform(*FARM_DAYS, size=farms) * DAY_MS).astype(np.int64), clock.end_ms
    )
    claims = new_user_claims(
        ctx,
        promo_f[farm],
        operator=operator_f[farm],
        lo=opens[farm],
        hi=closes[farm],
        claim_channels={Channel.OPERATOR_APP: 1.0},
    )
    block["time_ms"] = claims.time_ms
    # Bulk SIMs: one 7-digit segment, numbers a few apart.
    first, segment = world.numbers.draw(rng, operator_f)
    first = first - first % 10_000 + rng.integers(0, 9_000, size=farms)
    block["msisdn"] = first[farm] + offsets_within(sizes, rng.integers(1, 4, size=n))
    province_f = world.numbers.province[segment]

    platform = world.platforms.draw(rng, claims.channel, operator_f[farm])
    channel = world.platforms.channel[platform]
    set_platform(block, world.platforms, platform)
    set_face(block, claims.face_index)
    devices = _actors(
        ctx,
        Typology.PROMOTION_ABUSE,
        np.repeat(province_f, FARM_DEVICES),
        np.repeat(operator_f, FARM_DEVICES),
        FARM_NETWORKS,
    )
    used = rng.integers(1, FARM_DEVICES + 1, size=farms)[farm]
    device = farm * FARM_DEVICES + (rng.random(n) * used).astype(np.int64)
    # One farm, one network: every device of a farm shares the first device's connection.
    shared = np.repeat(np.arange(farms) * FARM_DEVICES, FARM_DEVICES)
    for field in ("net_type", "ip", "ssid", "security", "proxy", "vpn"):
        getattr(devices, field)[:] = getattr(devices, field)[shared]
    _use_actors(block, devices, device, channel)

    slots = farms * FARM_INSTRUMENTS
    instruments = tokens(rng, slots, "tok_")
    accounts = tokens(rng, slots, "u-", 8)
    bins = pick(CARD_BINS, categorical(rng, slots, CARD_BIN_WEIGHTS))
    held = rng.integers(1, FARM_INSTRUMENTS + 1, size=farms)[farm]
    slot = farm * FARM_INSTRUMENTS + (rng.random(n) * held).astype(np.int64)
    weights = world.platforms.method_weights[platform].copy()
    weights[:, method_code(PaymentMethod.CASH)] = 0.0
    method = row_categorical(rng, weights + (weights.sum(axis=1, keepdims=True) == 0))
    set_payment(block, method, instruments[slot], bins[slot], accounts[slot])
    set_promotion(ctx, block, np.arange(n), claims.promo, claims.face_index, channel)
    return block
