"""The simulated legit population: payers with their numbers, family, devices, instruments,
home network, plus the kiosk terminals; every relation persists for the whole run."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fraudguard.schema import Channel
from fraudguard.simulate._sampling import (
    BoolArray,
    FloatArray,
    GroupedSampler,
    IntArray,
    ObjArray,
    categorical,
    hex_digits,
    pick,
    tokens,
)
from fraudguard.simulate._world import World, channel_code

__all__ = [
    "CARD_BINS",
    "HOME_SECURITY",
    "MAX_FAMILY",
    "PC_OS",
    "PHONE_OS",
    "Population",
    "Terminals",
    "build_population",
    "build_terminals",
    "hex_suffix",
    "phone_flags",
]

MAX_FAMILY = 3
#: How many other family numbers a payer tops up now and then (0-3).
FAMILY_WEIGHTS = (0.62, 0.18, 0.12, 0.08)
FAMILY_SAME_PROVINCE = 0.85
PHONE_OS = ("android", "harmonyos", "ios")
PHONE_OS_WEIGHTS = (0.60, 0.17, 0.23)
PC_OS = ("windows", "macos")
PC_OS_WEIGHTS = (0.8, 0.2)
SECOND_DEVICE_RATE = 0.35  # of payers; such a second device is a PC 60% of the time
SECOND_IS_PC = 0.6
#: Home routers' default SSID stems; ChinaNet-xxxx and CMCC-xxxx are home routers too.
HOME_SSID_STEMS = (
    "TP-LINK_",
    "HUAWEI-",
    "MERCURY_",
    "Xiaomi_",
    "FAST_",
    "Tenda_",
    "ChinaNet-",
    "CMCC-",
    "H3C_",
    "ZTE-",
)
HOME_SSID_WEIGHTS = (0.24, 0.16, 0.1, 0.1, 0.08, 0.06, 0.12, 0.08, 0.03, 0.03)
HOME_SECURITY = ("wpa2", "wpa3", "wpa", "wep", "open")
HOME_SECURITY_WEIGHTS = (0.80, 0.12, 0.05, 0.01, 0.02)
HOME_BROADBAND_ELSEWHERE = 0.08  # moved away: home IP in another province than the number's
#: Issuer BINs of debit and credit cards common in China (ICBC, CCB, ABC, BOC, CMB, ...).
CARD_BINS = (
    "622202",
    "621700",
    "622848",
    "621661",
    "622588",
    "622262",
    "625965",
    "625802",
    "436742",
    "621226",
    "622700",
    "603367",
)
CARD_BIN_WEIGHTS = (0.18, 0.14, 0.14, 0.08, 0.1, 0.06, 0.06, 0.05, 0.04, 0.06, 0.05, 0.04)
KIOSK_OS = ("linux", "android", "windows")
KIOSK_OS_WEIGHTS = (0.4, 0.4, 0.2)
KIOSK_NO_TLS = 0.03  # old terminals that still post over plain HTTP
TERMINAL_EVENTS = 20_000  # one more terminal per (network, province) per this many events


def hex_suffix(rng: np.random.Generator, stems: ObjArray) -> ObjArray:
    """Each stem followed by 4 random upper-case hex digits (``TP-LINK_3F2A``)."""
    digits = hex_digits(rng.integers(0, 65536, size=len(stems)), 4, upper=True)
    result: ObjArray = stems + digits
    return result


def phone_flags(
    rng: np.random.Generator, os: ObjArray, rooted_rate: float, emulator_rate: float
) -> tuple[ObjArray, ObjArray]:
    """``rooted`` and ``emulator`` flags: drawn for Android-like phones, False on iOS."""
    android = os != "ios"
    rooted = np.where(android & (rng.random(len(os)) < rooted_rate), True, False).astype(object)
    emulator = np.where(android & (rng.random(len(os)) < emulator_rate), True, False)
    return rooted, emulator.astype(object)


@dataclass(frozen=True)
class Population:
    """Column ``i`` of every array describes payer ``i``."""

    payer_id: ObjArray
    activity_cum: FloatArray
    by_operator: GroupedSampler  # payers whose own number is on a given operator
    msisdn: IntArray
    operator: IntArray
    province: IntArray
    n_family: IntArray
    family_msisdn: IntArray  # payers × MAX_FAMILY
    family_operator: IntArray
    family_province: IntArray
    phone_id: ObjArray
    phone_os: ObjArray
    phone_rooted: ObjArray
    phone_emulator: ObjArray
    has_second: BoolArray
    second_is_pc: BoolArray
    second_id: ObjArray
    second_os: ObjArray
    alipay: ObjArray
    wechat: ObjArray
    card: ObjArray
    card_bin: ObjArray
    home_ip: IntArray
    home_ssid: ObjArray
    home_security: ObjArray

    @property
    def size(self) -> int:
        return len(self.payer_id)

    def draw(self, rng: np.random.Generator, n: int) -> IntArray:
        """``n`` payers, the busy ones more often (activity is heavy-tailed)."""
        target = rng.random(n) * self.activity_cum[-1]
        payer: IntArray = np.searchsorted(self.activity_cum, target, side="right")
        return payer.astype(np.int64)


def build_population(
    world: World, rng: np.random.Generator, size: int, rooted_rate: float, emulator_rate: float
) -> Population:
    n = max(size, 8)
    operator = world.draw_operators(rng, n)
    province = world.draw_provinces(rng, n)
    msisdn, _ = world.numbers.draw(rng, operator, province)

    n_family = categorical(rng, n, FAMILY_WEIGHTS)
    fam_op = world.draw_operators(rng, n * MAX_FAMILY).reshape(n, MAX_FAMILY)
    fam_prov = np.where(
        rng.random((n, MAX_FAMILY)) < FAMILY_SAME_PROVINCE,
        province[:, None],
        world.draw_provinces(rng, n * MAX_FAMILY).reshape(n, MAX_FAMILY),
    )
    fam_msisdn, _ = world.numbers.draw(rng, fam_op.reshape(-1), fam_prov.reshape(-1))

    phone_os = pick(PHONE_OS, categorical(rng, n, PHONE_OS_WEIGHTS))
    rooted, emulator = phone_flags(rng, phone_os, rooted_rate, emulator_rate)
    has_second = rng.random(n) < SECOND_DEVICE_RATE
    second_is_pc = has_second & (rng.random(n) < SECOND_IS_PC)
    second_os = np.where(
        second_is_pc,
        pick(PC_OS, categorical(rng, n, PC_OS_WEIGHTS)),
        pick(PHONE_OS, categorical(rng, n, PHONE_OS_WEIGHTS)),
    )
    device_ids = tokens(rng, 2 * n, "dev-")
    instrument_ids = tokens(rng, 3 * n, "tok_")

    moved = rng.random(n) < HOME_BROADBAND_ELSEWHERE
    home_prov = np.where(moved, world.draw_provinces(rng, n), province)
    activity = rng.gamma(0.8, 1.0, size=n) + 0.05
    return Population(
        payer_id=tokens(rng, n, "u-", 8),
        activity_cum=np.cumsum(activity),
        by_operator=GroupedSampler(operator, activity, len(world.operators)),
        msisdn=msisdn,
        operator=operator,
        province=province,
        n_family=n_family,
        family_msisdn=fam_msisdn.reshape(n, MAX_FAMILY),
        family_operator=fam_op,
        family_province=fam_prov,
        phone_id=device_ids[:n],
        phone_os=phone_os,
        phone_rooted=rooted,
        phone_emulator=emulator,
        has_second=has_second,
        second_is_pc=second_is_pc,
        second_id=device_ids[n:],
        second_os=second_os,
        alipay=instrument_ids[:n],
        wechat=instrument_ids[n : 2 * n],
        card=instrument_ids[2 * n :],
        card_bin=pick(CARD_BINS, categorical(rng, n, CARD_BIN_WEIGHTS)),
        home_ip=world.ips(rng, home_prov, None),
        home_ssid=hex_suffix(rng, pick(HOME_SSID_STEMS, categorical(rng, n, HOME_SSID_WEIGHTS))),
        home_security=pick(HOME_SECURITY, categorical(rng, n, HOME_SECURITY_WEIGHTS)),
    )


@dataclass(frozen=True)
class Terminals:
    """Kiosk terminals: ``per_cell`` of them for each (kiosk network, province)."""

    kiosk_ordinal: IntArray  # per platform row: its index among kiosk networks, or -1
    per_cell: int
    n_provinces: int
    id: ObjArray
    os: ObjArray
    ip: IntArray
    tls: ObjArray

    def draw(self, rng: np.random.Generator, platform: IntArray, province: IntArray) -> IntArray:
        cell = self.kiosk_ordinal[platform] * self.n_provinces + province
        return cell * self.per_cell + rng.integers(0, self.per_cell, size=len(platform))


def build_terminals(world: World, rng: np.random.Generator, events: int) -> Terminals:
    kiosk = world.platforms.channel == channel_code(Channel.SELF_SERVICE_TERMINAL)
    ordinal = np.where(kiosk, np.cumsum(kiosk) - 1, -1).astype(np.int64)
    per_cell = 1 + events // TERMINAL_EVENTS
    n_prov = len(world.provinces)
    n = max(int(kiosk.sum()), 1) * n_prov * per_cell
    province = (np.arange(n) // per_cell) % n_prov
    return Terminals(
        kiosk_ordinal=ordinal,
        per_cell=per_cell,
        n_provinces=n_prov,
        id=tokens(rng, n, "kiosk-", 8),
        os=pick(KIOSK_OS, categorical(rng, n, KIOSK_OS_WEIGHTS)),
        ip=world.ips(rng, province, None),
        tls=(rng.random(n) >= KIOSK_NO_TLS).astype(object),
    )
