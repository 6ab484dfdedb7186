"""Legit traffic: ordinary top-ups and the hard negatives that imitate fraud patterns."""

from __future__ import annotations

import random

import numpy as np

from fraudguard.schema import Channel, PaymentMethod
from fraudguard.simulate._behaviour import (
    Context,
    apply_promotions,
    new_user_claims,
    new_user_promotions,
    ordinary_payer,
    set_promotion,
    stranger_network,
    use_kiosk,
)
from fraudguard.simulate._names import plausible_app, plausible_domain, plausible_wechat, shop_url
from fraudguard.simulate._population import (
    CARD_BIN_WEIGHTS,
    CARD_BINS,
    PC_OS,
    PHONE_OS,
    PHONE_OS_WEIGHTS,
    hex_suffix,
    phone_flags,
)
from fraudguard.simulate._rows import (
    TYPOLOGIES,
    Block,
    blank,
    client_flags,
    set_face,
    set_network,
    set_payment,
    set_platform,
)
from fraudguard.simulate._sampling import (
    IntArray,
    burst_offsets,
    categorical,
    group_sizes,
    ip_strings,
    pick,
    row_categorical,
    tokens,
)
from fraudguard.simulate._world import (
    CHANNELS,
    DAY_MS,
    METHOD_MIX,
    METHODS,
    channel_code,
    draw_channels,
    method_code,
)
from fraudguard.simulate.enums import Typology

__all__ = [
    "campaign_claims",
    "corporate_bulk",
    "family_sessions",
    "plain_legit",
    "unlisted_resellers",
]

#: Channel mix of ordinary top-ups (wallet mini programs lead, then the operators' apps).
LEGIT_CHANNELS = {
    Channel.OPERATOR_APP: 0.30,
    Channel.THIRD_PARTY_APP: 0.38,
    Channel.WECHAT_OFFICIAL_ACCOUNT: 0.13,
    Channel.OPERATOR_WEB: 0.09,
    Channel.SELF_SERVICE_TERMINAL: 0.07,
    Channel.UNKNOWN: 0.03,
}
#: Face-value mix of ordinary top-ups: 10/20/30/50/100/200/300/500.
LEGIT_FACES = (0.03, 0.04, 0.08, 0.30, 0.35, 0.12, 0.04, 0.04)
FAMILY_FACES = (0.0, 0.02, 0.15, 0.40, 0.33, 0.10, 0.0, 0.0)
FAMILY_SINGLE = 0.08  # an ordinary top-up is for a family member's number this often
FAMILY_GAP_MS = 90_000
#: Private networks that are not fraud: commercial VPN, corporate proxy, (rarely) Tor.
VPN_CATEGORIES = {"vpn": 0.70, "proxy": 0.25, "tor": 0.05}
FLAG_DETECTED = 0.75  # the client notices the VPN / proxy it runs behind this often
CORPORATE_SIZES = (10, 40)
CORPORATE_GAP_MS = 40_000
CORPORATE_MONTH_START = 0.7  # share of company sessions on days 1-5 when the window has them
CORPORATE_BINS = ("622262", "622202", "621700", "622588")
CORPORATE_WEB = 0.7  # the operator's web hall; the rest through a bank or wallet app
CORPORATE_WIRED = 0.7  # office PC on a cable; the rest on office Wi-Fi
CORPORATE_MACOS = 0.1
OFFICE_HOURS = np.array([0.0] * 9 + [1.0] * 3 + [0.3] + [1.0] * 5 + [0.0] * 6)
RESELLERS_PER_EVENTS = 100_000  # one more honest reseller per this many events
RESELLER_MEMBER_PRICE = 0.3  # share of reseller top-ups at a small member discount
RESELLER_NO_TLS = 0.1


def _vpn(ctx: Context, block: Block, rows: IntArray, channel: IntArray) -> None:
    """Move ``rows`` behind a VPN / proxy / Tor exit, flagged by the client when it notices."""
    rng, world, n = ctx.rng, ctx.world, len(rows)
    names = list(VPN_CATEGORIES)
    category = categorical(rng, n, list(VPN_CATEGORIES.values()))
    codes = np.array([world.intel_category(c) for c in names])[category]
    block["network_ip"][rows] = ip_strings(world.intel_ips(rng, codes))
    seen = rng.random(n) < FLAG_DETECTED
    proxy, vpn = client_flags(
        channel[rows],
        seen & (category == names.index("proxy")),
        seen & (category == names.index("vpn")),
    )
    block["network_proxy"][rows] = proxy
    block["network_vpn"][rows] = vpn
    block["typology"][rows] = TYPOLOGIES.index(Typology.LEGIT_VPN)


def plain_legit(ctx: Context, n: int, n_public_wifi: int, n_vpn: int) -> Block:
    """Ordinary top-ups; ``n_public_wifi`` / ``n_vpn`` of them become those hard negatives."""
    rng, pop, world = ctx.rng, ctx.population, ctx.world
    block = blank(n, Typology.LEGIT)
    payer = pop.draw(rng, n)
    block["time_ms"] = ctx.clock.times(rng, n)
    family = (rng.random(n) < FAMILY_SINGLE) & (pop.n_family[payer] > 0)
    slot = (rng.random(n) * np.maximum(pop.n_family[payer], 1)).astype(np.int64)
    block["msisdn"] = np.where(family, pop.family_msisdn[payer, slot], pop.msisdn[payer])
    operator = np.where(family, pop.family_operator[payer, slot], pop.operator[payer])
    province = np.where(family, pop.family_province[payer, slot], pop.province[payer])

    platform = world.platforms.draw(rng, draw_channels(rng, n, LEGIT_CHANNELS), operator)
    channel = world.platforms.channel[platform]
    set_platform(block, world.platforms, platform)
    face = categorical(rng, n, LEGIT_FACES)
    set_face(block, face)

    traveling = rng.random(n) < ctx.config.travel_rate
    where_now = np.where(traveling, world.draw_provinces(rng, n), pop.province[payer])
    candidates = rng.permutation(
        np.flatnonzero(channel != channel_code(Channel.SELF_SERVICE_TERMINAL))
    )
    public = candidates[:n_public_wifi]
    ordinary_payer(
        ctx,
        block,
        payer,
        channel,
        world.platforms.method_weights[platform],
        where_now,
        platform=platform,
        public=public,
    )
    block["typology"][public] = TYPOLOGIES.index(Typology.LEGIT_PUBLIC_WIFI)
    _vpn(ctx, block, candidates[n_public_wifi : n_public_wifi + n_vpn], channel)
    apply_promotions(ctx, block, operator, province, channel, face)
    return block


def family_sessions(ctx: Context, n: int) -> Block:
    """One payer tops up their own and 1-3 family numbers within minutes, same platform."""
    rng, pop, world = ctx.rng, ctx.population, ctx.world
    block = blank(n, Typology.LEGIT_FAMILY_TOPUPS)
    sizes = group_sizes(rng, n, 2, 4)
    sessions = len(sizes)
    with_family = np.flatnonzero(pop.n_family > 0)
    pool = with_family if len(with_family) else np.arange(pop.size)
    payer_s = pool[rng.integers(0, len(pool), size=sessions)]
    session = np.repeat(np.arange(sessions), sizes)
    position = np.arange(n) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    payer = payer_s[session]
    # Position 0 is the payer's own number, then family members (the last one again when
    # the session is longer than the family).
    slot = np.clip(position - 1, 0, np.maximum(pop.n_family[payer] - 1, 0))
    own = (position == 0) | (pop.n_family[payer] == 0)
    block["msisdn"] = np.where(own, pop.msisdn[payer], pop.family_msisdn[payer, slot])
    operator = np.where(own, pop.operator[payer], pop.family_operator[payer, slot])
    province = np.where(own, pop.province[payer], pop.family_province[payer, slot])
    start = ctx.clock.times(rng, sessions)
    block["time_ms"] = np.minimum(
        np.repeat(start, sizes) + burst_offsets(rng, sizes, FAMILY_GAP_MS), ctx.clock.end_ms - 1
    )
    # Wallet mini programs serve every operator, so the whole family fits one platform.
    third = np.full(sessions, channel_code(Channel.THIRD_PARTY_APP))
    platform = world.platforms.draw(rng, third, pop.operator[payer_s])[session]
    channel = world.platforms.channel[platform]
    set_platform(block, world.platforms, platform)
    face = categorical(rng, n, FAMILY_FACES)
    set_face(block, face)
    # One sitting, one way to pay: the session's draw holds for every row.
    first = np.cumsum(sizes) - sizes
    method_s = row_categorical(rng, world.platforms.method_weights[platform[first]])
    weights = np.eye(len(METHODS))[method_s[session]]
    ordinary_payer(ctx, block, payer, channel, weights, pop.province[payer])
    apply_promotions(ctx, block, operator, province, channel, face)
    return block


def corporate_bulk(ctx: Context, n: int) -> Block:
    """A company card tops up 10-40 employee numbers from the office, early in the month."""
    rng, world, clock = ctx.rng, ctx.world, ctx.clock
    block = blank(n, Typology.LEGIT_CORPORATE_BULK)
    sizes = group_sizes(rng, n, *CORPORATE_SIZES)
    sessions = len(sizes)
    session = np.repeat(np.arange(sessions), sizes)
    operator_s = world.draw_operators(rng, sessions)
    province_s = world.draw_provinces(rng, sessions)
    early = np.flatnonzero(clock.day_of_month <= 5)
    lo = np.full(sessions, clock.start_ms, dtype=np.int64)
    hi = np.full(sessions, clock.end_ms, dtype=np.int64)
    if len(early):
        pinned = rng.random(sessions) < CORPORATE_MONTH_START
        day = early[rng.integers(0, len(early), size=sessions)]
        lo = np.where(pinned, clock.start_ms + day * DAY_MS, lo)
        hi = np.where(pinned, lo + DAY_MS, hi)
    start = clock.times(rng, sessions, lo, hi, hours=OFFICE_HOURS)
    block["time_ms"] = np.minimum(
        np.repeat(start, sizes) + burst_offsets(rng, sizes, CORPORATE_GAP_MS), clock.end_ms - 1
    )
    operator = operator_s[session]
    block["msisdn"], _ = world.numbers.draw(rng, operator, province_s[session])

    web = rng.random(sessions) < CORPORATE_WEB
    channel_s = np.where(
        web, channel_code(Channel.OPERATOR_WEB), channel_code(Channel.THIRD_PARTY_APP)
    )
    platform = world.platforms.draw(rng, channel_s, operator_s)[session]
    channel = world.platforms.channel[platform]
    set_platform(block, world.platforms, platform)
    set_face(block, np.array([3, 4, 5])[rng.integers(0, 3, size=sessions)][session])

    card = tokens(rng, sessions, "tok_")[session]
    bins = pick(CORPORATE_BINS, rng.integers(0, len(CORPORATE_BINS), size=sessions))[session]
    admin = tokens(rng, sessions, "u-", 8)[session]
    method = np.full(n, method_code(PaymentMethod.BANK_CARD))
    set_payment(block, method, card, bins, admin)
    block["device_id"] = tokens(rng, sessions, "dev-")[session]
    macos = (rng.random(sessions) < CORPORATE_MACOS).astype(np.int64)
    block["device_os"] = pick(PC_OS, macos)[session]
    wired = rng.random(sessions) < CORPORATE_WIRED
    office_ip = world.ips(rng, province_s, None)
    ssid = hex_suffix(rng, pick(("Office-", "Corp-"), rng.integers(0, 2, size=sessions)))
    set_network(
        block,
        np.where(wired, "wired", "wifi").astype(object)[session],
        office_ip[session],
        ssid[session],
        np.full(n, "wpa2", dtype=object),
    )
    block["network_tls"] = np.full(n, True, dtype=object)
    no = np.zeros(n, dtype=bool)
    block["network_proxy"], block["network_vpn"] = client_flags(channel, no, no)
    return block


def unlisted_resellers(ctx: Context, n: int) -> Block:
    """Honest small resellers missing from the official list: web shops, apps, WeChat
    accounts on generic names, open for the whole window, at face value or a member price."""
    rng, pop = ctx.rng, ctx.population
    block = blank(n, Typology.LEGIT_UNLISTED_RESELLER)
    rnd = random.Random(int(rng.integers(2**62)))
    count = 6 + ctx.config.events // RESELLERS_PER_EVENTS
    channels: list[Channel] = []
    names: list[str] = []
    ids: list[str | None] = []
    urls: list[str | None] = []
    packages: list[str | None] = []
    accounts: list[str | None] = []
    for _ in range(count):  # per reseller, not per event
        style = rnd.random()
        package, name = plausible_app(rnd)
        if style < 0.6:
            https = rnd.random() >= RESELLER_NO_TLS
            channels.append(Channel.OTHER_WEB)
            ids.append(None)
            urls.append(shop_url(plausible_domain(rnd), rnd, https=https))
            packages.append(None)
            accounts.append(None)
        elif style < 0.8:
            channels.append(Channel.THIRD_PARTY_APP)
            ids.append(None)
            urls.append(None)
            packages.append(package)
            accounts.append(None)
        else:
            name = plausible_wechat(rnd)
            channels.append(Channel.WECHAT_OFFICIAL_ACCOUNT)
            ids.append(f"wx:gh_{rnd.getrandbits(48):012x}")
            urls.append(None)
            packages.append("com.tencent.mm")
            accounts.append(name)
        names.append(name)
    reseller = rng.integers(0, count, size=n)
    channel = np.array([channel_code(c) for c in channels], dtype=np.int64)[reseller]
    block["channel"] = pick([c.value for c in CHANNELS], channel)
    block["platform_id"] = pick(ids, reseller)
    block["platform_name"] = pick(names, reseller)
    block["platform_url"] = pick(urls, reseller)
    block["platform_app_package"] = pick(packages, reseller)
    block["platform_wechat_account"] = pick(accounts, reseller)

    payer = pop.draw(rng, n)
    block["time_ms"] = ctx.clock.times(rng, n)
    block["msisdn"] = pop.msisdn[payer]
    set_face(block, categorical(rng, n, LEGIT_FACES))
    member = np.flatnonzero(rng.random(n) < RESELLER_MEMBER_PRICE)
    ratio = rng.uniform(0.98, 0.995, size=len(member))
    paid = np.round(block["amount"][member] * ratio, 1)
    block["paid_amount"][member] = paid
    block["promotion_discount"][member] = block["amount"][member] - paid
    block["promotion_description"][member] = "会员价"
    block["promotion_source"][member] = "web"
    weights = np.tile(np.array(METHOD_MIX["reseller"]), (n, 1))
    ordinary_payer(ctx, block, payer, channel, weights, pop.province[payer])
    plain_http = np.array([u is not None and u.startswith("http:") for u in urls])[reseller]
    block["network_tls"][plain_http] = False
    return block


def campaign_claims(ctx: Context, n: int) -> Block:
    """Genuine new subscribers claiming a new-user offer once each: deep discount or big
    bonus, on the operator's app or a kiosk, from their own new phone."""
    rng, world = ctx.rng, ctx.world
    block = blank(n, Typology.LEGIT_CAMPAIGN_DEEP_DISCOUNT)
    if n == 0:
        return block
    promos = new_user_promotions(ctx)
    promo = promos[rng.integers(0, len(promos), size=n)]
    claims = new_user_claims(ctx, promo)
    block["time_ms"] = claims.time_ms
    block["msisdn"], _ = world.numbers.draw(rng, claims.operator, claims.province)
    platform = world.platforms.draw(rng, claims.channel, claims.operator)
    channel = world.platforms.channel[platform]
    set_platform(block, world.platforms, platform)
    set_face(block, claims.face_index)

    method = row_categorical(rng, world.platforms.method_weights[platform])
    bins = pick(CARD_BINS, categorical(rng, n, CARD_BIN_WEIGHTS))
    set_payment(block, method, tokens(rng, n, "tok_"), bins, tokens(rng, n, "u-", 8))
    block["device_id"] = tokens(rng, n, "dev-")
    block["device_os"] = pick(PHONE_OS, categorical(rng, n, PHONE_OS_WEIGHTS))
    block["device_rooted"], block["device_emulator"] = phone_flags(
        rng, block["device_os"], ctx.config.legit_rooted_rate, ctx.config.legit_emulator_rate
    )
    stranger_network(ctx, block, channel, claims.province, claims.operator, wifi_share=0.55)
    kiosk = np.flatnonzero(channel == channel_code(Channel.SELF_SERVICE_TERMINAL))
    use_kiosk(ctx, block, kiosk, platform, claims.province)
    set_promotion(ctx, block, np.arange(n), promo, claims.face_index, channel)
    return block
