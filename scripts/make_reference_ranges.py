"""Regenerate the illustrative range tables shipped in fraudguard/reference/data/.

The real tables (an operator's licensed number-segment database, a commercial IP
intelligence feed) cannot be redistributed. These files have the same columns, realistic
shapes and sizes, and are deterministic, so tests and the simulator agree on them.
Deployments point ``FRAUDGUARD_NUMBER_SEGMENTS_PATH`` / ``FRAUDGUARD_IP_REGIONS_PATH`` /
``FRAUDGUARD_IP_INTEL_PATH`` at their own files.

    python scripts/make_reference_ranges.py
"""

from __future__ import annotations

import csv
import ipaddress
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[1] / "fraudguard" / "reference" / "data"
SEED = 20261124


def _provinces() -> tuple[list[str], np.ndarray]:
    with (DATA / "provinces.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    weights = np.array([float(r["population_millions"]) for r in rows])
    return [r["code"] for r in rows], weights / weights.sum()


def number_segments(rng: np.random.Generator) -> None:
    codes, weights = _provinces()
    with (DATA / "number_prefixes.csv").open(encoding="utf-8") as f:
        prefixes = [r["prefix"] for r in csv.DictReader(f)]
    rows: list[tuple[str, str, str]] = []
    for prefix in sorted(prefixes):
        free = 7 - len(prefix)
        block = 10 ** (free - 2)  # 100 blocks per prefix
        assigned = rng.choice(len(codes), size=100, p=weights)
        start_block = 0
        for i in range(1, 101):
            if i == 100 or assigned[i] != assigned[start_block]:
                start = f"{prefix}{start_block * block:0{free}d}"
                end = f"{prefix}{i * block - 1:0{free}d}"
                rows.append((start, end, codes[assigned[start_block]]))
                start_block = i
    with (DATA / "number_segments.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["segment_start", "segment_end", "province"])
        writer.writerows(rows)


_CN_FIRST_OCTETS = [
    36,
    39,
    42,
    58,
    59,
    60,
    61,
    101,
    106,
    110,
    111,
    112,
    113,
    114,
    115,
    116,
    117,
    118,
    119,
    120,
    121,
    122,
    123,
    124,
    125,
    175,
    180,
    182,
    183,
    218,
    219,
    220,
    221,
    222,
    223,
]
_ISPS = ["china_telecom", "china_mobile", "china_unicom"]


def ip_regions(rng: np.random.Generator) -> None:
    codes, weights = _provinces()
    with (DATA / "ip_regions.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["cidr", "province", "isp"])
        for first in _CN_FIRST_OCTETS:
            provinces = rng.choice(len(codes), size=256, p=weights)
            isp = _ISPS[first % 3]
            for second in range(256):
                writer.writerow([f"{first}.{second}.0.0/16", codes[provinces[second]], isp])


# Hosting and anonymiser space, disjoint from the residential table above.
_INTEL = {
    "datacenter": ([8, 43, 47, 104, 129, 139, 149, 150, 152, 154, 158, 162], 20, 600),
    "vpn": ([45, 91, 146, 185, 193, 194], 24, 500),
    "proxy": ([5, 23, 37, 62, 77, 88], 24, 500),
    "tor": ([51, 109, 176, 178, 188, 199], 32, 400),
}


def ip_intel(rng: np.random.Generator) -> None:
    rows = []
    for category, (firsts, prefix_len, count) in _INTEL.items():
        seen: set[str] = set()
        while len(seen) < count:
            first = int(rng.choice(firsts))
            address = (first << 24) | int(rng.integers(0, 1 << 24))
            network = ipaddress.ip_network((address, prefix_len), strict=False)
            seen.add(str(network))
        rows += [(cidr, category) for cidr in sorted(seen)]
    with (DATA / "ip_intel.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["cidr", "category", "source"])
        writer.writerows((cidr, category, "illustrative-feed-2026-11") for cidr, category in rows)


if __name__ == "__main__":
    rng = np.random.default_rng(SEED)
    number_segments(rng)
    ip_regions(rng)
    ip_intel(rng)
