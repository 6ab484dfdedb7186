"""Blocks of simulated rows as plain numpy columns, and the setters generators share.

A block holds every flat contract column except ``transaction_id`` / ``event_time`` /
``currency`` (filled once the blocks are merged and sorted), with time as epoch
milliseconds, the number as an integer, and the label side (typology, decline).
Strings and tri-state booleans are object columns holding ``None`` when unknown.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from fraudguard.schema import FLAT_COLUMNS, Channel
from fraudguard.simulate._sampling import BoolArray, IntArray, ObjArray, ip_strings, nullify, pick
from fraudguard.simulate._world import CHANNELS, FACE_VALUES, METHODS, PlatformTable
from fraudguard.simulate.enums import Typology

__all__ = [
    "APP_CHANNELS",
    "BOOL_COLUMNS",
    "FLOAT_COLUMNS",
    "OBJECT_COLUMNS",
    "TYPOLOGIES",
    "Block",
    "blank",
    "concat",
    "set_network",
    "set_platform",
]

Block = dict[str, npt.NDArray[Any]]
TYPOLOGIES: tuple[Typology, ...] = tuple(Typology)
FLOAT_COLUMNS = ("amount", "paid_amount", "promotion_discount")
BOOL_COLUMNS = ("device_rooted", "device_emulator", "network_tls", "network_proxy", "network_vpn")
_FILLED_LATER = ("transaction_id", "event_time", "currency", "msisdn")
OBJECT_COLUMNS = tuple(
    c for c in FLAT_COLUMNS if c not in FLOAT_COLUMNS + BOOL_COLUMNS + _FILLED_LATER
)
#: Channels whose client SDK reports proxy / VPN flags; web pages and kiosks do not.
APP_CHANNELS = frozenset(
    CHANNELS.index(c)
    for c in (Channel.OPERATOR_APP, Channel.THIRD_PARTY_APP, Channel.WECHAT_OFFICIAL_ACCOUNT)
)


def blank(n: int, typology: Typology) -> Block:
    """``n`` rows of ``typology`` with every optional field unknown."""
    block: Block = {c: np.full(n, None, dtype=object) for c in OBJECT_COLUMNS + BOOL_COLUMNS}
    block.update({c: np.full(n, np.nan) for c in FLOAT_COLUMNS})
    block["time_ms"] = np.zeros(n, dtype=np.int64)
    block["msisdn"] = np.zeros(n, dtype=np.int64)
    block["typology"] = np.full(n, TYPOLOGIES.index(typology), dtype=np.int64)
    return block


def concat(blocks: list[Block]) -> Block:
    return {c: np.concatenate([b[c] for b in blocks]) for c in blocks[0]}


def set_face(block: Block, face_index: IntArray) -> None:
    """Face value and, until a promotion says otherwise, a full-price payment."""
    block["amount"] = FACE_VALUES[face_index]
    block["paid_amount"] = block["amount"].copy()


def set_platform(block: Block, table: PlatformTable, platform: IntArray) -> None:
    block["channel"] = pick([c.value for c in CHANNELS], table.channel[platform])
    block["platform_id"] = pick(table.id, platform)
    block["platform_name"] = pick(table.name, platform)
    block["platform_url"] = pick(table.url, platform)
    block["platform_app_package"] = pick(table.app_package, platform)
    block["platform_wechat_account"] = pick(table.wechat_account, platform)


def set_payment(
    block: Block,
    method: IntArray,
    instrument: ObjArray,
    card_bin: ObjArray,
    payer_id: ObjArray,
) -> None:
    """Method and instrument; BIN only for cards; cash has neither instrument nor payer."""
    names = pick([m.value for m in METHODS], method)
    block["payment_method"] = names
    anonymous = names == "cash"
    block["payment_instrument_id"] = nullify(instrument, anonymous)
    block["payment_card_bin"] = nullify(card_bin, names != "bank_card")
    block["payment_payer_id"] = nullify(payer_id, anonymous)


def client_flags(channel: IntArray, proxy: BoolArray, vpn: BoolArray) -> tuple[ObjArray, ObjArray]:
    """Proxy / VPN flags as the client reports them: booleans from apps, unknown elsewhere."""
    silent = ~np.isin(channel, list(APP_CHANNELS))
    return nullify(proxy, silent), nullify(vpn, silent)


def set_network(
    block: Block,
    kind: ObjArray,
    ip: IntArray,
    ssid: ObjArray,
    security: ObjArray,
) -> None:
    """Network type and addressing; SSID and security only where the type is Wi-Fi."""
    wifi = kind == "wifi"
    block["network_type"] = kind
    block["network_ip"] = ip_strings(ip)
    block["network_ssid"] = nullify(ssid, ~wifi)
    block["network_wifi_security"] = nullify(security, ~wifi)
