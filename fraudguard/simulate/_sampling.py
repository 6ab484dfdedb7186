"""Vectorised sampling helpers: whole columns at once, never one Python call per event."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "BoolArray",
    "FloatArray",
    "GroupedSampler",
    "IntArray",
    "ObjArray",
    "burst_offsets",
    "categorical",
    "group_sizes",
    "hex_digits",
    "ip_strings",
    "nullify",
    "offsets_within",
    "pick",
    "row_categorical",
    "tokens",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
ObjArray = npt.NDArray[np.object_]


def categorical(rng: np.random.Generator, n: int, weights: Sequence[float]) -> IntArray:
    """``n`` indices into ``weights`` drawn with those (unnormalised) weights."""
    cum = np.cumsum(np.asarray(weights, dtype=np.float64))
    index: IntArray = np.searchsorted(cum, rng.random(n) * cum[-1], side="right").astype(np.int64)
    return index


def row_categorical(rng: np.random.Generator, weights: FloatArray) -> IntArray:
    """One index per row of ``weights`` (rows × options), each row with its own weights."""
    cum = np.cumsum(weights, axis=1)
    target = rng.random(len(weights)) * cum[:, -1]
    index: IntArray = np.minimum((cum <= target[:, None]).sum(axis=1), weights.shape[1] - 1)
    return index.astype(np.int64)


def nullify(values: npt.NDArray[Any], mask: BoolArray) -> ObjArray:
    """An object copy of ``values`` holding ``None`` (unknown) where ``mask`` is set.

    >>> nullify(np.array([True, False]), np.array([False, True])).tolist()
    [True, None]
    """
    out = values.astype(object)
    out[mask] = None
    return out


def pick(values: Sequence[Any], index: IntArray) -> ObjArray:
    """``values[index]`` as an object column (strings stay Python strings, ``None`` stays)."""
    table = np.empty(len(values), dtype=object)
    table[:] = list(values)
    result: ObjArray = table[index]
    return result


class GroupedSampler:
    """Draw a member of a group, weighted, for a whole column of group keys at once.

    Members are sorted by group into one cumulative-weight array; a draw for group ``g`` is a
    ``searchsorted`` inside ``g``'s slice. Keys without members fall back to any member.
    A draw returns the member's position in ``keys``, or ``values[position]`` when given
    (so one item can belong to several groups by appearing once per group).

    >>> sampler = GroupedSampler(np.array([0, 1, 1]), np.array([1.0, 1.0, 3.0]), n_groups=3)
    >>> sorted(set(sampler.sample(np.random.default_rng(1), np.array([1] * 50)).tolist()))
    [1, 2]
    >>> sampler.has_members(np.array([0, 2])).tolist()
    [True, False]
    """

    def __init__(
        self, keys: IntArray, weights: FloatArray, n_groups: int, values: IntArray | None = None
    ) -> None:
        order = np.argsort(keys, kind="stable")
        self._members = (order if values is None else values[order]).astype(np.int64)
        sorted_keys = keys[order]
        self._cum = np.cumsum(weights[order])
        self._lo = np.searchsorted(sorted_keys, np.arange(n_groups), side="left")
        self._hi = np.searchsorted(sorted_keys, np.arange(n_groups), side="right")
        before = np.concatenate(([0.0], self._cum))
        self._base = before[self._lo]
        self._total = before[self._hi] - self._base

    def has_members(self, groups: IntArray) -> BoolArray:
        result: BoolArray = self._total[groups] > 0
        return result

    def sample(self, rng: np.random.Generator, groups: IntArray) -> IntArray:
        u = rng.random(len(groups))
        total = self._total[groups]
        empty = total <= 0
        target = np.where(empty, u * self._cum[-1], self._base[groups] + u * total)
        pos = np.searchsorted(self._cum, target, side="right")
        upper = np.where(empty, len(self._cum), self._hi[groups]) - 1
        pos = np.minimum(pos, upper)
        result: IntArray = self._members[pos]
        return result


def group_sizes(rng: np.random.Generator, total: int, low: int, high: int) -> IntArray:
    """Sizes between ``low`` and ``high`` (inclusive) adding up to exactly ``total``.

    The last group is cut short so the total is exact.

    >>> sizes = group_sizes(np.random.default_rng(0), 100, 5, 20)
    >>> int(sizes.sum()), bool(sizes.max() <= 20)
    (100, True)
    """
    if total <= 0:
        return np.zeros(0, dtype=np.int64)
    sizes = rng.integers(low, high + 1, size=total // max(low, 1) + 1)
    ends = np.cumsum(sizes)
    count = int(np.searchsorted(ends, total, side="left")) + 1
    sizes = sizes[:count].astype(np.int64)
    sizes[-1] -= int(ends[count - 1]) - total
    return sizes


def offsets_within(sizes: IntArray, steps: FloatArray | IntArray) -> IntArray:
    """Running sum of ``steps`` inside each group of consecutive rows, 0 on a group's first row.

    >>> offsets_within(np.array([2, 3]), np.array([5, 5, 1, 2, 3])).tolist()
    [0, 5, 0, 2, 5]
    """
    firsts = np.repeat(np.cumsum(sizes) - sizes, sizes)
    cum = np.cumsum(steps)
    return (cum - cum[firsts]).astype(np.int64)


def burst_offsets(rng: np.random.Generator, sizes: IntArray, mean_gap_ms: float) -> IntArray:
    """Per-row offset (ms) from its group's first event, with exponential gaps between rows."""
    return offsets_within(sizes, rng.exponential(mean_gap_ms, size=int(sizes.sum())))


@lru_cache(maxsize=2)
def _hex4(upper: bool) -> ObjArray:
    """All 65,536 four-digit hex strings, so formatting is table look-ups, not f-strings."""
    table = np.empty(65536, dtype=object)
    table[:] = [f"{v:04X}" if upper else f"{v:04x}" for v in range(65536)]
    return table


def hex_digits(values: IntArray, digits: int, *, upper: bool = False) -> ObjArray:
    """``values`` as zero-padded hex strings of ``digits`` digits (a multiple of 4).

    >>> hex_digits(np.array([255, 3_000_000]), 8).tolist()
    ['000000ff', '002dc6c0']
    """
    table = _hex4(upper)
    out: ObjArray = np.full(len(values), "", dtype=object)
    for shift in range(digits * 4 - 16, -1, -16):
        out = out + table[(values >> shift) & 0xFFFF]
    return out


def tokens(rng: np.random.Generator, n: int, prefix: str, digits: int = 12) -> ObjArray:
    """``n`` distinct random ids such as ``dev-3f9a0c21d4e1``.

    Random rather than sequential so an id never reveals when (or for which typology) its
    entity was created. Collisions are redrawn until every id is distinct.
    """
    values = rng.integers(0, 16**digits, size=n, dtype=np.int64)
    while True:
        order = np.argsort(values, kind="stable")
        ranked = values[order]
        repeats = order[np.flatnonzero(ranked[1:] == ranked[:-1]) + 1]
        if len(repeats) == 0:
            break
        values[repeats] = rng.integers(0, 16**digits, size=len(repeats), dtype=np.int64)
    result: ObjArray = prefix + hex_digits(values, digits)
    return result


def ip_strings(values: IntArray) -> ObjArray:
    """Dotted IPv4 strings for integer addresses; only the distinct values are formatted.

    >>> ip_strings(np.array([606211586, 606211586], dtype=np.int64)).tolist()
    ['36.34.14.2', '36.34.14.2']
    """
    uniques, inverse = np.unique(values, return_inverse=True)
    table = np.empty(len(uniques), dtype=object)
    table[:] = [f"{v >> 24}.{(v >> 16) & 255}.{(v >> 8) & 255}.{v & 255}" for v in uniques.tolist()]
    result: ObjArray = table[inverse.reshape(-1)]
    return result
