"""Unsafe-network features: open Wi-Fi, public hotspots, no TLS, proxies, flagged IP ranges,
rooted or emulated devices, and an IP far from the number's home province.

>>> from fraudguard.reference import load_reference
>>> group = ConnectionFeatures(load_reference())
>>> features = group.transform_one({"network_type": "wifi", "network_ssid": "Airport-Free",
...     "network_wifi_security": "open", "network_tls": False})
>>> features["net_wifi_open"], features["net_public_hotspot"], features["net_unsafe_signals"]
(True, True, 3.0)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cached_property, lru_cache
from typing import Any

import numpy as np
import pandas as pd

from fraudguard.features.base import (
    FeatureGroup,
    FeatureKind,
    FeatureSpec,
    PerReference,
    Row,
    is_missing,
)
from fraudguard.reference import CidrTable, ReferenceData, parse_address
from fraudguard.schema import ReasonFamily

__all__ = [
    "ConnectionFeatures",
    "IpFeatures",
    "NumberFeatures",
    "ReferenceLookups",
    "lookups_for",
]

_NET = ReasonFamily.UNSAFE_NETWORK
_B, _F, _C = FeatureKind.BOOL, FeatureKind.FLOAT, FeatureKind.CATEGORY


#: Distinct addresses and number segments remembered per process.
_LOOKUP_CACHE_SIZE = 65_536


class ReferenceLookups:
    """Per-address and per-number-segment reference lookups, cached and shared by the
    feature groups that need them (one CIDR search serves both the IP and the number
    groups, and one segment search both the number and the promotion groups).

    Get it with :func:`lookups_for`; the results are exactly the reference data's.
    """

    def __init__(self, reference: ReferenceData) -> None:
        self.reference = reference
        blocked = CidrTable.build((e.value, "blocked") for e in reference.lists.block.ips)
        self.blocked = blocked

        @lru_cache(maxsize=_LOOKUP_CACHE_SIZE)
        def ip(address: str) -> tuple[str | None, str | None, str | None]:
            parsed = parse_address(address)  # once for the three tables
            if parsed is None:
                return None, None, None
            return (
                reference.ip_intel.lookup_parsed(parsed),
                reference.ip_regions.lookup_parsed(parsed),
                blocked.lookup_parsed(parsed),
            )

        @lru_cache(maxsize=_LOOKUP_CACHE_SIZE)
        def segment(prefix: str) -> tuple[str | None, str | None]:
            # Operator (first 3-4 digits) and province (first 7) need only these 7.
            return reference.operator_of(prefix), reference.province_of(prefix)

        #: ``(category, region label, blocked label)`` of an address, ``None`` each if unknown.
        self.ip = ip
        self._segment = segment

    def number(self, msisdn: str) -> tuple[str | None, str | None]:
        """Operator and home province of a number (``None`` each when unknown)."""
        return self._segment(msisdn[:7])

    def ip_province(self, address: str | None) -> str | None:
        """Same as :meth:`ReferenceData.ip_province`."""
        if not address:
            return None
        region = self.ip(address)[1]
        return None if region is None else region.split("|", 1)[0]


_LOOKUPS = PerReference(ReferenceLookups)


def lookups_for(reference: ReferenceData) -> ReferenceLookups:
    """One set of cached lookups per reference data."""
    return _LOOKUPS(reference)


def _true(value: Any) -> bool:
    if value is True or value is False or value is None:  # a validated event's flags
        return value is True
    return not is_missing(value) and bool(value)


def _false(value: Any) -> bool:
    """Explicitly false: unknown is not the same as "no TLS"."""
    if value is True or value is False or value is None:
        return value is False
    return not is_missing(value) and not bool(value)


class ConnectionFeatures(FeatureGroup):
    """What the payer's own connection and device say."""

    specs = (
        FeatureSpec(
            "net_wifi_open",
            _B,
            _NET,
            "Paid on open (unencrypted) Wi-Fi",
            "在开放(无加密)Wi-Fi 下支付",
        ),
        FeatureSpec(
            "net_wifi_weak",
            _B,
            _NET,
            "Paid on Wi-Fi with broken WEP encryption",
            "在 WEP 弱加密 Wi-Fi 下支付",
        ),
        FeatureSpec(
            "net_public_hotspot",
            _B,
            _NET,
            "Wi-Fi name matches a public hotspot (airport, station, cafe, CMCC-WEB ...)",
            "Wi-Fi 名称属于公共热点(机场、车站、咖啡店、CMCC-WEB 等)",
        ),
        FeatureSpec(
            "net_no_tls",
            _B,
            _NET,
            "The payment page was not served over TLS",
            "支付页面未使用 TLS 加密",
        ),
        FeatureSpec("net_proxy", _B, _NET, "The client reports a proxy", "客户端使用代理"),
        FeatureSpec("net_vpn", _B, _NET, "The client reports a VPN", "客户端使用 VPN"),
        FeatureSpec(
            "dev_rooted", _B, _NET, "The device is rooted or jailbroken", "设备已 root 或越狱"
        ),
        FeatureSpec("dev_emulator", _B, _NET, "The device is an emulator", "设备为模拟器"),
        FeatureSpec(
            "net_unsafe_signals",
            _F,
            _NET,
            "How many of the unsafe-network and device signals above are present",
            "上述不安全网络与设备信号的数量",
        ),
    )
    inputs = (
        "network_type",
        "network_ssid",
        "network_wifi_security",
        "network_tls",
        "network_proxy",
        "network_vpn",
        "device_rooted",
        "device_emulator",
    )

    @cached_property
    def _hotspot_patterns(self) -> list[re.Pattern[str]]:
        return [re.compile(p) for p in self.reference.network.public_hotspot_ssids]

    def _is_hotspot(self, ssid: Any) -> bool:
        if is_missing(ssid) or not ssid:
            return False
        return self._hotspot_name(str(ssid))

    @cached_property
    def _hotspot_name(self) -> Callable[[str], bool]:
        # Hotspot names repeat (every airport's "Airport-Free"): match each one once.
        patterns = self._hotspot_patterns

        @lru_cache(maxsize=_LOOKUP_CACHE_SIZE)
        def matches(ssid: str) -> bool:
            return any(p.search(ssid) for p in patterns)

        return matches

    def transform_one(self, row: Row) -> dict[str, Any]:
        on_wifi = row.get("network_type") == "wifi"
        security = row.get("network_wifi_security")
        out: dict[str, Any] = {
            "net_wifi_open": on_wifi and security == "open",
            "net_wifi_weak": on_wifi and security == "wep",
            "net_public_hotspot": on_wifi and self._is_hotspot(row.get("network_ssid")),
            "net_no_tls": _false(row.get("network_tls")),
            "net_proxy": _true(row.get("network_proxy")),
            "net_vpn": _true(row.get("network_vpn")),
            "dev_rooted": _true(row.get("device_rooted")),
            "dev_emulator": _true(row.get("device_emulator")),
        }
        out["net_unsafe_signals"] = float(sum(out.values()))
        return out


class IpFeatures(FeatureGroup):
    """What FraudGuard's IP intelligence and block lists say about the client's address."""

    specs = (
        FeatureSpec(
            "net_ip_category",
            _C,
            _NET,
            "IP intelligence category: datacenter, proxy, vpn, tor, clean or unknown",
            "IP 情报类别:数据中心、代理、VPN、Tor、正常或未知",
        ),
        FeatureSpec(
            "net_ip_anonymiser",
            _B,
            _NET,
            "IP belongs to a proxy, VPN or Tor range",
            "IP 属于代理、VPN 或 Tor 网段",
        ),
        FeatureSpec(
            "net_ip_datacenter",
            _B,
            _NET,
            "IP belongs to a data-centre / hosting range",
            "IP 属于数据中心/托管网段",
        ),
        FeatureSpec("net_ip_tor", _B, _NET, "IP is a Tor exit", "IP 为 Tor 出口节点"),
        FeatureSpec(
            "net_ip_blocklisted",
            _B,
            ReasonFamily.PAYMENT_RISK,
            "IP is in a blocked range",
            "IP 在黑名单网段中",
        ),
        FeatureSpec("net_ip_province", _C, None, "Province the IP is registered in", "IP 所属省份"),
    )
    inputs = ("network_ip",)

    def __init__(self, reference: ReferenceData) -> None:
        super().__init__(reference)
        self._lookups = lookups_for(reference)

    @property
    def _blocked(self) -> CidrTable:
        return self._lookups.blocked

    def _features(self, ip: Any, category: Any, region: Any, blocked: Any) -> dict[str, Any]:
        if is_missing(ip) or not ip:
            return {s.name: s.missing for s in self.specs}
        return {
            "net_ip_category": category or "clean",
            "net_ip_anonymiser": category in ("proxy", "vpn", "tor"),
            "net_ip_datacenter": category == "datacenter",
            "net_ip_tor": category == "tor",
            "net_ip_blocklisted": blocked is not None,
            "net_ip_province": region.split("|", 1)[0] if region else "unknown",
        }

    def transform_one(self, row: Row) -> dict[str, Any]:
        ip = row.get("network_ip")
        return dict(self._for_address(None if is_missing(ip) else str(ip)))

    @cached_property
    def _for_address(self) -> Callable[[str | None], dict[str, Any]]:
        # Payers come back from the same addresses: three range lookups once per address.
        lookup = self._lookups.ip

        @lru_cache(maxsize=_LOOKUP_CACHE_SIZE)
        def features(address: str | None) -> dict[str, Any]:
            if not address:
                return self._features(address, None, None, None)
            return self._features(address, *lookup(address))

        return features

    def transform_many(self, frame: pd.DataFrame) -> pd.DataFrame:
        ips = frame["network_ip"].astype(object).where(frame["network_ip"].notna(), None)
        addresses = ips.tolist()
        category = self.reference.ip_intel.lookup_many(addresses)
        region = self.reference.ip_regions.lookup_many(addresses)
        blocked = self._blocked.lookup_many(addresses)
        rows = [self._features(*v) for v in zip(addresses, category, region, blocked, strict=True)]
        return pd.DataFrame.from_records(rows, index=frame.index, columns=list(self.names()))


class NumberFeatures(FeatureGroup):
    """The recharged number's operator and home province, and where the payer connects from."""

    specs = (
        FeatureSpec(
            "number_operator", _C, None, "Operator of the recharged number", "充值号码所属运营商"
        ),
        FeatureSpec(
            "number_province", _C, None, "Home province of the recharged number", "充值号码归属省份"
        ),
        FeatureSpec(
            "net_ip_province_mismatch",
            _B,
            _NET,
            "The IP is in another province than the number's home province",
            "IP 所在省份与号码归属地不一致",
        ),
    )
    inputs = ("msisdn", "network_ip")

    def __init__(self, reference: ReferenceData) -> None:
        super().__init__(reference)
        self._lookups = lookups_for(reference)

    def transform_one(self, row: Row) -> dict[str, Any]:
        msisdn = row.get("msisdn")
        number = "" if is_missing(msisdn) else str(msisdn)
        ip = row.get("network_ip")
        ip_province = self._lookups.ip_province(None if is_missing(ip) else str(ip))
        operator, home = self._lookups.number(number) if number else (None, None)
        return {
            "number_operator": operator or "unknown",
            "number_province": home or "unknown",
            "net_ip_province_mismatch": bool(home and ip_province and home != ip_province),
        }

    def transform_many(self, frame: pd.DataFrame) -> pd.DataFrame:
        home = self.reference.provinces_of(frame["msisdn"])
        ips = frame["network_ip"].astype(object).where(frame["network_ip"].notna(), None)
        ip_province = self.reference.ip_provinces(ips.tolist())
        known = pd.notna(home) & pd.notna(ip_province)
        operator = self.reference.operators_of(frame["msisdn"])
        return pd.DataFrame(
            {
                "number_operator": np.where(pd.isna(operator), "unknown", operator),
                "number_province": np.where(pd.isna(home), "unknown", home),
                "net_ip_province_mismatch": known & (home != ip_province),
            },
            index=frame.index,
        )
