"""Derive fraudguard/reference/data/cjk_variants.tsv from Unicode's Unihan_Variants.txt.

The look-alike skeleton (fraudguard/features/_lookalike.py) folds CJK characters that Unihan
records as the same character drawn differently (kZVariant), interchangeable forms
(kSemanticVariant) or spoofing look-alikes (kSpoofingVariant): 囯 is 國, 迻 is 移. Traditional
and simplified forms are OpenCC's job (t2s) and are left out, as are the "specialized"
semantic variants, which share a meaning only in some contexts and do not look alike.

    python scripts/make_cjk_variants.py path/to/Unihan_Variants.txt

Unihan_Variants.txt is in Unihan.zip of every Unicode release (www.unicode.org/Public/);
the shipped table was made from Unicode 14.0.0.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

FIELDS = ("kZVariant", "kSemanticVariant", "kSpoofingVariant")
OUT = Path(__file__).resolve().parents[1] / "fraudguard" / "reference" / "data" / "cjk_variants.tsv"


def main(source: Path) -> None:
    version = "unknown"
    pairs: dict[str, set[str]] = {}
    for line in source.read_text(encoding="utf-8").splitlines():
        if line.startswith("# Unicode version:"):
            version = line.split(":", 1)[1].strip()
        if not line.startswith("U+"):
            continue
        code, field, values = line.split("\t")
        if field not in FIELDS:
            continue
        char = chr(int(code[2:], 16))
        for value in values.split():
            other = chr(int(re.sub(r"<.*", "", value)[2:], 16))
            if other != char:
                pairs.setdefault(char, set()).add(other)
    lines = [
        f"# CJK variant forms from the Unicode Unihan database {version}, Unihan_Variants.txt",
        f"# fields {', '.join(FIELDS)}; made by scripts/make_cjk_variants.py. Do not edit.",
        "# character<TAB>its variants",
    ]
    lines += [f"{char}\t{''.join(sorted(others))}" for char, others in sorted(pairs.items())]
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(pairs)} characters -> {OUT}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
