"""Longest-prefix lookup of IP addresses in CIDR tables, one address or a whole column.

CIDR blocks either nest or are disjoint, so one sweep flattens any table into sorted,
disjoint intervals labelled by their most specific block; a lookup is then a binary
search (``bisect`` online, ``numpy.searchsorted`` in batch) and stays fast at 100k+ ranges.

>>> table = CidrTable.build([("10.0.0.0/8", "corp"), ("10.1.0.0/16", "lab")])
>>> table.lookup("10.1.2.3"), table.lookup("10.2.0.1"), table.lookup("11.0.0.1")
('lab', 'corp', None)
>>> table.lookup_many(["10.1.0.9", "not an ip", None]).tolist()
['lab', None, None]
"""

from __future__ import annotations

import ipaddress
import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["CidrTable", "ParsedAddress", "parse_address"]

_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
#: An IPv4 address as ``ipaddress.ip_address`` reads one: ASCII digits, no leading zeros.
_DOTTED_QUAD = re.compile(r"\.".join([_OCTET] * 4), re.ASCII)


#: ``(version, integer value)`` of an IP address.
ParsedAddress = tuple[int, int]


def parse_address(address: object) -> ParsedAddress | None:
    """``(4 or 6, value)`` of an address as ``ipaddress.ip_address`` reads it; ``None`` if it
    is not one (a missing value, NaN from a frame, text that is no address). Dotted quads
    (nearly every address) skip ``ipaddress``, which costs several times more, so one parse
    can serve every table an address is looked up in.

    >>> parse_address("10.0.0.1"), parse_address("::1"), parse_address("010.0.0.1")
    ((4, 167772161), (6, 1), None)
    >>> parse_address(float("nan")) is None
    True
    """
    if isinstance(address, str):
        return _parse_text(str(address))  # str(): a subclass is read as its text
    if not address:
        return None
    return _parse_other(address)


# Features and rules look the same address up in several tables per event: parse it once.
@lru_cache(maxsize=65_536)
def _parse_text(address: str) -> ParsedAddress | None:
    quad = _DOTTED_QUAD.fullmatch(address)
    if quad is not None:
        a, b, c, d = quad.groups()
        return 4, (int(a) << 24) | (int(b) << 16) | (int(c) << 8) | int(d)
    if ":" not in address:
        return None  # not a dotted quad (nor empty), so no IPv4 address ipaddress accepts
    return _parse_other(address)


def _parse_other(address: object) -> ParsedAddress | None:
    try:
        ip = ipaddress.ip_address(address)  # type: ignore[arg-type]  # refuses what it cannot read
    except (ValueError, TypeError):
        return None
    return ip.version, int(ip)


def _flatten(blocks: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Disjoint intervals from laminar (nested or disjoint) blocks; the innermost label wins."""
    blocks.sort(key=lambda b: (b[0], -b[1]))
    out: list[tuple[int, int, str]] = []
    stack: list[tuple[int, int, str]] = []
    cursor = 0

    def emit(start: int, end: int, label: str) -> None:
        if start <= end:
            out.append((start, end, label))

    for start, end, label in blocks:
        while stack and stack[-1][1] < start:
            s_end, s_label = stack[-1][1], stack[-1][2]
            emit(cursor, s_end, s_label)
            cursor = s_end + 1
            stack.pop()
        if stack:
            emit(cursor, start - 1, stack[-1][2])
        cursor = start
        stack.append((start, end, label))
    while stack:
        s_end, s_label = stack[-1][1], stack[-1][2]
        emit(cursor, s_end, s_label)
        cursor = s_end + 1
        stack.pop()
    return out


class CidrTable:
    """An immutable map from IP address to label, built from ``(cidr, label)`` pairs."""

    def __init__(self, v4: list[tuple[int, int, str]], v6: list[tuple[int, int, str]]) -> None:
        self._v4_starts = np.array([s for s, _, _ in v4], dtype=np.uint32)
        self._v4_ends = np.array([e for _, e, _ in v4], dtype=np.uint32)
        self._v4_labels = np.array([lbl for _, _, lbl in v4], dtype=object)
        self._v4_start_list = [s for s, _, _ in v4]
        self._v4_end_list = [e for _, e, _ in v4]
        self._v4_label_list = [lbl for _, _, lbl in v4]
        self._v6 = v6
        self._v6_starts = [s for s, _, _ in v6]

    @classmethod
    def build(cls, pairs: Iterable[tuple[str, str]]) -> CidrTable:
        v4: list[tuple[int, int, str]] = []
        v6: list[tuple[int, int, str]] = []
        for cidr, label in pairs:
            network = ipaddress.ip_network(cidr, strict=False)
            start = int(network.network_address)
            block = (start, start + network.num_addresses - 1, label)
            (v4 if network.version == 4 else v6).append(block)
        return cls(_flatten(v4), _flatten(v6))

    def __len__(self) -> int:
        return len(self._v4_start_list) + len(self._v6)

    def lookup(self, address: object) -> str | None:
        """The label of the most specific block holding ``address``; ``None`` if none does."""
        parsed = parse_address(address)
        return None if parsed is None else self.lookup_parsed(parsed)

    def lookup_parsed(self, address: ParsedAddress) -> str | None:
        """:meth:`lookup` of an address already read by :func:`parse_address`."""
        version, value = address
        if version == 4:
            i = bisect_right(self._v4_start_list, value) - 1
            if i >= 0 and value <= self._v4_end_list[i]:
                return self._v4_label_list[i]
            return None
        j = bisect_right(self._v6_starts, value) - 1
        if j >= 0 and value <= self._v6[j][1]:
            return self._v6[j][2]
        return None

    def lookup_many(self, addresses: Sequence[str | None]) -> npt.NDArray[np.object_]:
        """Vectorised :meth:`lookup` over a column: each distinct address is parsed once,
        then IPv4 addresses are looked up together with ``searchsorted``."""
        column = pd.Series(list(addresses), dtype=object)
        codes, distinct = pd.factorize(column, use_na_sentinel=True)
        values = np.zeros(len(distinct), dtype=np.uint32)
        is_v4 = np.zeros(len(distinct), dtype=bool)
        labels = np.full(len(distinct) + 1, None, dtype=object)  # the last slot: missing
        for i, address in enumerate(distinct):
            if not isinstance(address, str):
                continue
            parsed = parse_address(address)
            if parsed is None:
                continue
            if parsed[0] == 4:
                values[i] = parsed[1]
                is_v4[i] = True
            else:
                labels[i] = self.lookup_parsed(parsed)
        if len(self._v4_start_list) and is_v4.any():
            idx = np.searchsorted(self._v4_starts, values, side="right") - 1
            safe = np.clip(idx, 0, None)
            hit = is_v4 & (idx >= 0) & (values <= self._v4_ends[safe])
            labels[: len(distinct)][hit] = self._v4_labels[safe[hit]]
        return labels[codes]  # code -1 (missing) takes the last slot
