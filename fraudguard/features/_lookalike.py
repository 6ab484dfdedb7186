"""Is a platform identifier official, authorised, or imitating one that is?

One identifier at a time (a URL or host, an Android package id, a WeChat account id or display
name) gets a :class:`LookalikeVerdict`. Verdicts are cached per identifier (per host for URLs),
so scoring an event costs a few dictionary lookups; the fuzzy matching runs once per new name.

Both sides of every comparison are reduced to a *skeleton* first, so that names which look the
same compare equal:

1. NFKC (full-width ``１００８６`` is ``10086``) and traditional to simplified Chinese with
   OpenCC ``t2s`` (``中国移動`` is ``中国移动``);
2. Unicode's confusables data (UTS #39, as shipped by ``confusable_homoglyphs``): a non-ASCII
   character that looks like an ASCII letter or digit becomes it (Cyrillic ``а`` is ``a``);
3. lower case, then the digit/letter swaps scammers type by hand: ``0/o``, ``1/l/i/|``,
   ``rn/m``, ``vv/w``.

Evidence, strongest first (a verdict keeps the highest score; ``score >= LOOKALIKE_THRESHOLD``
exactly when the identifier is a look-alike):

=================  =====  ===============================================================
kind               score  when
=================  =====  ===============================================================
confusable         1.0    the skeleton equals an official name but the text does not
                          (``l0086.cn``, ``中国移動10086``, ``com.greenpoint...mc10O86...``)
punycode           1.0    the same, reached by decoding ``xn--`` labels (homoglyph IDNs)
typosquat          ≥0.75  official label under another suffix (``10086.com``: 0.9), or one
                          edit away (two for names of 9+ characters): ``chinamoblie.com``
brand_embedding    0.9    a brand token is a whole token (``10086-cz.com``, ``189.cn.x.top``)
                   0.85   a long brand is inside a token (``chinamobile10086pay``)
mixed_script       0.8    a host label mixes scripts outside the UTS #39 "highly
                          restrictive" sets (Latin with Cyrillic, ...), imitating no one known
=================  =====  ===============================================================

Anything else that is not official scores half its best similarity to an official name
(rapidfuzz ``ratio``), below 0.5. Authorised identifiers score 0.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import unquote

import opencc
import tldextract
from confusable_homoglyphs import categories, confusables  # type: ignore[import-untyped]
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from fraudguard.reference import PlatformOwner, ReferenceData
from fraudguard.reference.schemas import Operator, Partner

__all__ = [
    "LOOKALIKE_THRESHOLD",
    "IdentifierKind",
    "LookalikeDetector",
    "LookalikeKind",
    "LookalikeVerdict",
    "offline_tld_extractor",
    "skeleton",
]

LOOKALIKE_THRESHOLD = 0.75
#: Longer inputs are cut: no host, package or account name is this long, and it bounds work.
_MAX_CHARS = 512
#: Brands shorter than this (``wo``, ``qq``, ``jd``) are ordinary syllables: they only count
#: as the whole registrable label (``jd.com.cn``), never as a token of something else.
_MIN_TOKEN = 3
#: ASCII brands at least this long may match inside a token; shorter ones must be the token.
_MIN_SUBSTRING = 5


class IdentifierKind(StrEnum):
    URL = "url"
    APP_PACKAGE = "app_package"
    WECHAT_ACCOUNT = "wechat_account"


class LookalikeKind(StrEnum):
    NONE = "none"
    CONFUSABLE = "confusable"
    PUNYCODE = "punycode"
    TYPOSQUAT = "typosquat"
    BRAND_EMBEDDING = "brand_embedding"
    MIXED_SCRIPT = "mixed_script"


@dataclass(frozen=True, slots=True)
class LookalikeVerdict:
    """What one platform identifier is, as far as the official registry can tell."""

    kind: IdentifierKind
    #: The identifier as compared: the normalised host for a URL.
    value: str
    #: Who it belongs to when it is official (operator) or authorised (partner).
    owner: PlatformOwner | None
    lookalike_kind: LookalikeKind
    #: Whom it imitates, when it is a look-alike of a known operator or partner.
    imitated: PlatformOwner | None
    #: 0 for an authorised identifier; >= LOOKALIKE_THRESHOLD exactly for look-alikes.
    score: float
    registrable_domain: str | None = None
    suspicious_tld: bool = False
    blocklisted: bool = False
    ip_host: bool = False

    @property
    def official(self) -> bool:
        return self.owner is not None and self.owner.is_operator

    @property
    def authorised(self) -> bool:
        return self.owner is not None

    @property
    def lookalike(self) -> bool:
        return self.lookalike_kind is not LookalikeKind.NONE


# --- normalisation -----------------------------------------------------------------------

_BIDI_MARKS = "\u200e\u200f"  # the confusables data wraps right-to-left characters in these


def _unicode_to_ascii() -> dict[int, str]:
    table: dict[int, str] = {}
    data: dict[str, list[dict[str, str]]] = confusables.confusables_data
    for key, glyphs in data.items():
        char = key.strip(_BIDI_MARKS)
        if len(char) != 1 or char.isascii():
            continue
        for glyph in glyphs:
            target = glyph["c"].strip(_BIDI_MARKS)
            if len(target) == 1 and target.isascii() and target.isalnum():
                table[ord(char)] = target.lower()
                break
    # Hosts are lower-cased before they are compared, so a capital that looks like an ASCII
    # letter (Cyrillic "Ь" for "b") must still be caught in its lower-case form.
    for code, target in list(table.items()):
        lower = chr(code).lower()
        if len(lower) == 1 and not lower.isascii():
            table.setdefault(ord(lower), target)
    return table


_UNICODE_TO_ASCII = _unicode_to_ascii()
_ASCII_SWAPS = str.maketrans({"0": "o", "1": "l", "i": "l", "|": "l"})
_T2S = opencc.OpenCC("t2s")


def skeleton(text: str) -> str:
    """What ``text`` looks like, so that look-alikes compare equal.

    >>> skeleton("l0086") == skeleton("10086") == skeleton("1OO86")
    True
    >>> skeleton("chinarnobile") == skeleton("chinamobile"), skeleton("中国移動") == "中国移动"
    (True, True)
    """
    text = unicodedata.normalize("NFKC", text)
    if not text.isascii():
        text = _T2S.convert(text).translate(_UNICODE_TO_ASCII)
    text = text.lower().translate(_ASCII_SWAPS)
    return text.replace("rn", "m").replace("vv", "w")


_SEPARATORS = re.compile(r"[\W_]+")
_DIGIT_RUNS = re.compile(r"\d+|\D+")


def _tokens(parts: Iterable[str]) -> Iterator[tuple[str, bool]]:
    """Skeletons of the separator-delimited tokens of ``parts``, then of their digit and
    non-digit runs (``pay189`` holds ``189``); the flag says whether the token is a run."""
    for part in parts:
        for token in _SEPARATORS.split(part):
            if not token:
                continue
            yield skeleton(token), False
            runs = _DIGIT_RUNS.findall(token)
            if len(runs) > 1:
                for run in runs:
                    yield skeleton(run), True


def _substring_ok(brand: str) -> bool:
    return len(brand) >= (_MIN_TOKEN if not brand.isascii() else _MIN_SUBSTRING)


def _max_edits(text: str) -> int:
    """Edits still counted as a typo: one for names of 5+ characters (4+ in Chinese, where a
    character carries more), two from 9 characters."""
    if len(text) >= 9:
        return 2
    return 1 if len(text) >= (4 if not text.isascii() else _MIN_SUBSTRING) else 0


# Scripts UTS #39 lets share one label at its "highly restrictive" level.
_ALLOWED_SCRIPT_SETS = (
    frozenset({"LATIN", "HAN", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "HAN", "BOPOMOFO"}),
    frozenset({"LATIN", "HAN", "HANGUL"}),
)


def _mixed_script(label: str) -> bool:
    scripts: set[str] = set(categories.unique_aliases(label)) - {"COMMON", "INHERITED"}
    return len(scripts) > 1 and not any(scripts <= allowed for allowed in _ALLOWED_SCRIPT_SETS)


def _decode_label(label: str) -> str:
    if label.startswith("xn--"):
        try:
            return label.encode("ascii").decode("idna")
        except UnicodeError:
            return label
    return label


def host_of(url: str) -> str:
    """The host of a URL or bare host name, as a browser would go to it (lower case, NFKC,
    percent-decoded, no port, user or trailing dot).

    >>> host_of("HTTPS://user@WAP.10086.cn:8443/pay?x=1"), host_of("189.cn.pay-secure.top/a")
    ('wap.10086.cn', '189.cn.pay-secure.top')
    """
    text = url.strip()[:_MAX_CHARS]
    scheme_end = text.find("://")
    if scheme_end != -1:
        text = text[scheme_end + 3 :]
    elif text.startswith("//"):
        text = text[2:]
    for stop in "/?#\\":
        text = text.split(stop, 1)[0]
    text = text.rpartition("@")[2]
    if text.startswith("["):
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    text = unicodedata.normalize("NFKC", unquote(text)).replace("\u3002", ".")
    return text.lower().strip(".")


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@functools.cache
def offline_tld_extractor() -> tldextract.TLDExtract:
    """The Public Suffix List snapshot bundled with tldextract: no download, no cache dir."""
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


# --- the detector ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Evidence:
    kind: LookalikeKind
    imitated: PlatformOwner | None
    score: float


class LookalikeDetector:
    """Classifies identifiers against one :class:`ReferenceData`; build it once and reuse it."""

    def __init__(self, reference: ReferenceData, cache_size: int = 16_384) -> None:
        self._domains = reference.official_domains
        self._packages = reference.official_app_packages
        self._accounts = reference.official_wechat_accounts
        self._blocked = frozenset(entry.value for entry in reference.lists.block.domains)
        self._suspicious_tlds = frozenset(reference.channels.suspicious_tlds)
        self._tld = offline_tld_extractor()

        owners = {owner.id: owner for owner in _owners(reference)}
        # Skeleton -> owner tables; the first owner keeps a shared name (operators come first).
        self._domain_skeletons: dict[str, PlatformOwner] = {}
        self._labels: dict[str, tuple[str, PlatformOwner]] = {}
        self._brands: dict[str, PlatformOwner] = {}
        for domain, owner in self._domains.items():
            self._domain_skeletons.setdefault(skeleton(domain), owner)
            parts = self._tld.extract_str(domain)
            self._labels.setdefault(skeleton(parts.domain), (parts.domain, owner))
            for label in (*parts.subdomain.split("."), parts.domain):
                self._add_brand(label, owner)
        for op in reference.channels.operators:
            for token in op.brand_tokens:
                self._add_brand(token, owners[op.id])
        specs: list[Operator | Partner] = [
            *reference.channels.operators,
            *reference.channels.partners,
        ]
        for spec in specs:
            for app in spec.app_packages:
                self._add_brand(app.name, owners[spec.id])
            for account in spec.wechat_accounts:
                self._add_brand(account.name, owners[spec.id])
            self._add_brand(spec.name, owners[spec.id])
        self._long_brands = {b: o for b, o in self._brands.items() if _substring_ok(b)}
        self._package_skeletons = {skeleton(p): o for p, o in self._packages.items()}
        self._account_skeletons = {_squash(a): o for a, o in self._accounts.items()}
        self._cached_host = functools.lru_cache(maxsize=cache_size)(self._classify_host)
        self._cached_name = functools.lru_cache(maxsize=cache_size)(self._classify_name)

    def _add_brand(self, name: str, owner: PlatformOwner) -> None:
        brand = _squash(name)
        if len(brand) >= _MIN_TOKEN:
            self._brands.setdefault(brand, owner)

    def classify(self, kind: IdentifierKind, value: str) -> LookalikeVerdict:
        """The verdict for one identifier (``value`` must not be blank)."""
        if kind is IdentifierKind.URL:
            return self._cached_host(host_of(value))
        return self._cached_name(kind, value.strip()[:_MAX_CHARS])

    def _classify_host(self, host: str) -> LookalikeVerdict:
        url = IdentifierKind.URL
        if not host or _is_ip(host):
            return LookalikeVerdict(
                url, host, None, LookalikeKind.NONE, None, 0.0, ip_host=bool(host)
            )
        labels = host.split(".")
        parents = [".".join(labels[i:]) for i in range(len(labels))]
        owner = next((self._domains[p] for p in parents if p in self._domains), None)
        parts = self._tld.extract_str(host)
        facts = functools.partial(
            LookalikeVerdict,
            registrable_domain=parts.top_domain_under_public_suffix or None,
            suspicious_tld=labels[-1] in self._suspicious_tlds,
            blocklisted=any(p in self._blocked for p in parents),
        )
        if owner is not None:
            return facts(url, host, owner, LookalikeKind.NONE, None, 0.0)
        decoded = [_decode_label(label) for label in labels]
        n_suffix = len(parts.suffix.split(".")) if parts.suffix else 0
        names = decoded[: len(decoded) - n_suffix]
        label = skeleton(names[-1]) if names else ""
        registrable = ".".join(decoded[len(names) - 1 :]) if names and n_suffix else ""
        # Which kind a skeleton match is: an xn-- label decoded, or characters typed as such.
        swap = LookalikeKind.PUNYCODE if decoded != labels else LookalikeKind.CONFUSABLE
        evidence = [
            _exact(skeleton(registrable), self._domain_skeletons, swap),
            self._suffix_swap(label, names[-1] if names else "", swap),
            self._embedded(names),
            _typo(_long_tokens(names), self._long_brands),
            _Evidence(LookalikeKind.MIXED_SCRIPT, None, 0.8)
            if any(_mixed_script(n) for n in names)
            else None,
        ]
        kind, imitated, score = _decide(evidence, label, self._labels)
        return facts(url, host, None, kind, imitated, score)

    def _suffix_swap(self, label: str, raw: str, swap: LookalikeKind) -> _Evidence | None:
        found = self._labels.get(label) if label else None
        if found is None:
            return None
        official, owner = found
        if official == raw:
            return _Evidence(LookalikeKind.TYPOSQUAT, owner, 0.9)
        return _Evidence(swap, owner, 0.95)

    def _classify_name(self, kind: IdentifierKind, value: str) -> LookalikeVerdict:
        if kind is IdentifierKind.APP_PACKAGE:
            table, skeletons, text = self._packages, self._package_skeletons, skeleton(value)
        else:
            table, skeletons, text = self._accounts, self._account_skeletons, _squash(value)
        owner = table.get(value)
        if owner is not None:
            return LookalikeVerdict(kind, value, owner, LookalikeKind.NONE, None, 0.0)
        evidence = [
            _exact(text, skeletons, LookalikeKind.CONFUSABLE),
            _typo([text], skeletons),
            self._embedded([value]),
            _typo(_long_tokens([value]), self._long_brands),
        ]
        found, imitated, score = _decide(evidence, text, skeletons)
        return LookalikeVerdict(kind, value, None, found, imitated, score)

    def _embedded(self, parts: list[str]) -> _Evidence | None:
        """A brand as a whole token (0.9), or a long brand inside a token (0.85)."""
        inside: _Evidence | None = None
        for token, is_run in _tokens(parts):
            owner = self._brands.get(token)
            if owner is not None:
                return _Evidence(LookalikeKind.BRAND_EMBEDDING, owner, 0.9)
            if inside is None and not is_run:
                brand = next((b for b in self._long_brands if b in token), None)
                if brand is not None:
                    inside = _Evidence(LookalikeKind.BRAND_EMBEDDING, self._brands[brand], 0.85)
        return inside


def _owners(reference: ReferenceData) -> Iterator[PlatformOwner]:
    for op in reference.channels.operators:
        yield PlatformOwner(op.id, op.name, "operator")
    for partner in reference.channels.partners:
        yield PlatformOwner(partner.id, partner.name, partner.kind)


def _long_tokens(parts: list[str]) -> list[str]:
    return [token for token, is_run in _tokens(parts) if not is_run]


def _exact(text: str, skeletons: dict[str, PlatformOwner], kind: LookalikeKind) -> _Evidence | None:
    """The skeleton is an official name's, the text is not (the caller checked that)."""
    owner = skeletons.get(text) if text else None
    return None if owner is None else _Evidence(kind, owner, 1.0)


def _typo(texts: list[str], targets: dict[str, PlatformOwner]) -> _Evidence | None:
    """The first skeleton within a typo's reach of an official one (see :func:`_max_edits`)."""
    for text in texts:
        limit = _max_edits(text)
        if not limit:
            continue
        match = process.extractOne(text, list(targets), scorer=OSA.distance, score_cutoff=limit)
        if match is None or match[1] == 0:
            continue  # equal skeletons are the other kinds' evidence
        name, edits = match[0], match[1]
        score = 1.0 - edits / max(len(text), len(name))
        return _Evidence(LookalikeKind.TYPOSQUAT, targets[name], min(score, 0.9))
    return None


def _decide(
    evidence: list[_Evidence | None], text: str, official: Mapping[str, object]
) -> tuple[LookalikeKind, PlatformOwner | None, float]:
    best: _Evidence | None = None
    for item in evidence:  # listed strongest kind first, so the first keeps a tie
        if item is not None and (best is None or item.score > best.score):
            best = item
    if best is not None:
        return best.kind, best.imitated, best.score
    # Not a look-alike: half its similarity to the nearest official name, below 0.5.
    nearest = process.extractOne(text, list(official), scorer=fuzz.ratio) if text else None
    similarity = 0.0 if nearest is None else min(nearest[1] / 100.0, 0.99)
    return LookalikeKind.NONE, None, round(0.5 * similarity, 4)


def _squash(text: str) -> str:
    """Skeleton without spaces and punctuation: how a display name reads."""
    return _SEPARATORS.sub("", skeleton(text))
