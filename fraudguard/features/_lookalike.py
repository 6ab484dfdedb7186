"""Is a platform identifier official, authorised, or imitating one that is?

One identifier at a time (a URL or host, an Android package id, a WeChat account id or display
name) gets a :class:`LookalikeVerdict`. Verdicts are cached per identifier (per host for URLs),
so scoring an event costs a few dictionary lookups; the matching runs once per new name.

Both sides of every comparison are reduced to a *skeleton* first, so that names which look the
same compare equal:

1. NFKC (full-width ``１００８６`` is ``10086``), traditional to simplified Chinese with
   OpenCC ``t2s`` (``中国移動`` is ``中国移动``), and CJK variant forms folded with Unicode's
   Unihan data (``cjk_variants.tsv``: ``囯`` is ``国``, ``迻`` is ``移``);
2. combining marks dropped (``ţ ů ṅ ṕ`` are ``t u n p``), then Unicode's confusables data
   (UTS #39, as shipped by ``confusable_homoglyphs``) and Unicode's character names for Latin
   letters that do not decompose (``ł`` is LATIN SMALL LETTER L WITH STROKE): a character that
   looks like an ASCII letter or digit becomes it (Cyrillic ``а`` is ``a``);
3. lower case, then the look-alikes scammers type in plain ASCII: ``0/o``, ``1/l/i/|``,
   ``rn/m``, ``vv/w``, ``cl/d``.

Fuzzy comparisons (typos) use a *loose* skeleton that also folds the ASCII letters that differ
by a stroke (``c/e``, ``u/v``, ``m/n/nn``, ``g/q``): ``ţcnpay`` is ``tenpay``, ``vmionpay`` is
``unionpay``, ``cnnpay`` is ``cmpay``. Their edit budget grows with the brand's length (none
below 5 characters, one up to 7, two from 8), so short names never match by accident.

Evidence, strongest first (a verdict keeps the highest score; ``score >= LOOKALIKE_THRESHOLD``
exactly when the identifier is a look-alike):

=================  =====  ===============================================================
kind               score  when
=================  =====  ===============================================================
confusable         1.0    the skeleton equals an official name but the text does not
                          (``l0086.cn``, ``ałiṕay.com``, ``中国移動10086``)
punycode           1.0    the same, reached by decoding ``xn--`` labels (homoglyph IDNs)
brand_embedding    0.95   an official domain inside the host (``189.cn.pay-secure.top``),
                          an official package id with a suffix (``com.ct.client.pay``)
confusable         0.95   the loose skeleton equals an official name (``vmionpay.com``)
typosquat          0.9    official label under another suffix (``10086.com``), a brand
                          split by hyphens or dots (``china-mobile.com``, ``10.086.cn``),
                          or one edit away (two for names of 8+ characters); short numeric
                          brands: one digit omitted, added or changed (``1008.cn``)
brand_embedding    0.9    a brand token is a whole token (``10086-cz.com``, ``hf189.top``)
                   0.85   a long brand inside a token (``chinamobile10086pay``), or a
                          partner's name beside a top-up word (``支付宝充值中心``)
                   0.8    a generic brand word or Chinese short name beside a top-up lure
                          (``unicom-jf.top``, ``移动话费充值``, ``电信话费5折``), a long
                          brand misspelt inside a token (``alpayobjects.com``)
mixed_script       0.8    a host label mixes scripts outside the UTS #39 "highly
                          restrictive" sets (Latin with Cyrillic, ...), imitating no one known
=================  =====  ===============================================================

Never look-alikes: official and authorised identifiers, the large genuine sites, apps and
accounts of ``genuine_sites.yaml`` (``vmall.com``, ``188.com``), and a display name equal to a
partner's own name when the partner's account list is not complete (unknown is not fraud).

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
from pathlib import Path
from urllib.parse import unquote

import opencc
import tldextract
from confusable_homoglyphs import categories, confusables  # type: ignore[import-untyped]
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from fraudguard.reference import DEFAULT_DATA_DIR, PlatformOwner, ReferenceData
from fraudguard.reference.schemas import Operator, Partner

__all__ = [
    "LOOKALIKE_THRESHOLD",
    "IdentifierKind",
    "LookalikeDetector",
    "LookalikeKind",
    "LookalikeVerdict",
    "edit_budget",
    "loose_skeleton",
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
#: ASCII brands at least this long are also found misspelt inside a longer token.
_MIN_FUZZY_SUBSTRING = 6


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
    #: A large genuine site, app or account (``genuine_sites.yaml``): never a look-alike.
    genuine: bool = False

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
#: Unicode names of Latin letters that keep their base letter visible: "LATIN SMALL LETTER L
#: WITH STROKE", "LATIN LETTER SMALL CAPITAL R", "LATIN SMALL LETTER DOTLESS I".
_LATIN_NAME = re.compile(
    r"^LATIN (?:SMALL |CAPITAL )?LETTER (?:SMALL CAPITAL |DOTLESS |SCRIPT )?([A-Z])(?: WITH .+)?$"
)
#: Latin blocks beyond ASCII: Latin-1, Extended-A/B, IPA, phonetic extensions, Extended
#: Additional, Extended-C/D/E.
_LATIN_BLOCKS = (
    (0x00C0, 0x0250),
    (0x0250, 0x02B0),
    (0x1D00, 0x1DC0),
    (0x1E00, 0x1F00),
    (0x2C60, 0x2C80),
    (0xA720, 0xA800),
    (0xAB30, 0xAB70),
)


_T2S = opencc.OpenCC("t2s")


def _strip_marks(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFD", text) if not unicodedata.combining(ch))


def _unicode_to_ascii() -> dict[int, str]:
    table: dict[int, str] = {}
    data: dict[str, list[dict[str, str]]] = confusables.confusables_data
    for key, glyphs in data.items():
        char = key.strip(_BIDI_MARKS)
        if len(char) != 1 or char.isascii():
            continue
        for glyph in glyphs:
            # A prototype drawn with an overlay (LATIN SMALL LETTER L WITH STROKE is listed as
            # "l" + COMBINING SHORT SOLIDUS OVERLAY) still shows its base letter.
            target = _strip_marks(glyph["c"].strip(_BIDI_MARKS))
            if len(target) == 1 and target.isascii() and target.isalnum():
                table[ord(char)] = target.lower()
                break
    for start, end in _LATIN_BLOCKS:
        for code in range(start, end):
            match = _LATIN_NAME.match(unicodedata.name(chr(code), ""))
            if match is not None:
                table.setdefault(code, match.group(1).lower())
    # Hosts are lower-cased before they are compared, so a capital that looks like an ASCII
    # letter (Cyrillic "Ь" for "b") must still be caught in its lower-case form.
    for code, target in list(table.items()):
        lower = chr(code).lower()
        if len(lower) == 1 and not lower.isascii():
            table.setdefault(ord(lower), target)
    return table


def _cjk_variants(path: Path = DEFAULT_DATA_DIR / "cjk_variants.tsv") -> dict[int, str]:
    """Each CJK character with Unihan variants -> one representative of its variant group
    (after ``t2s``), so that ``囯`` and ``国`` (and ``國``) share a skeleton."""
    parent: dict[str, str] = {}

    def root(char: str) -> str:
        while parent.get(char, char) != char:
            char = parent[char]
        return char

    for line in path.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        char, variants = line.split("\t", 1)
        for other in variants:
            a, b = root(_T2S.convert(char)), root(_T2S.convert(other))
            if a != b:
                parent[max(a, b)] = min(a, b)
    table = {ord(char): root(char) for char in parent}
    return {code: target for code, target in table.items() if chr(code) != target}


_UNICODE_TO_ASCII = _unicode_to_ascii()
_FOLD = {**_cjk_variants(), **_UNICODE_TO_ASCII}
_ASCII_SWAPS = str.maketrans({"0": "o", "1": "l", "i": "l", "|": "l"})
_LOOSE_SWAPS = str.maketrans({"e": "c", "v": "u", "m": "n", "q": "g"})


def skeleton(text: str) -> str:
    """What ``text`` looks like, so that look-alikes compare equal.

    >>> skeleton("l0086") == skeleton("10086") == skeleton("1OO86")
    True
    >>> skeleton("chinarnobile") == skeleton("chinamobile")
    True
    >>> skeleton("中国移動") == skeleton("中囯移动") == skeleton("中国移动")
    True
    >>> skeleton("ałiṕay") == skeleton("alipay"), skeleton("ůṅionpay") == skeleton("unionpay")
    (True, True)
    """
    return _joined_swaps(_char_skeleton(text))


def _char_skeleton(text: str) -> str:
    """The skeleton's character-by-character part (no ``rn``/``vv``/``cl``)."""
    text = unicodedata.normalize("NFKC", text)
    if not text.isascii():
        text = _strip_marks(_T2S.convert(text)).translate(_FOLD)
    return text.lower().translate(_ASCII_SWAPS)


def _joined_swaps(text: str) -> str:
    return text.replace("rn", "m").replace("vv", "w").replace("cl", "d")


def loose_skeleton(text: str) -> str:
    """The skeleton with the ASCII letters that differ by one stroke folded together.

    >>> loose_skeleton("ţcnpay") == loose_skeleton("tenpay")
    True
    >>> loose_skeleton("vmionpay") == loose_skeleton("unionpay"), loose_skeleton("cnnpay")
    (True, 'cnpay')
    """
    return skeleton(text).replace("nn", "m").translate(_LOOSE_SWAPS)


def _forms(text: str) -> tuple[str, str, str]:
    """(loose skeleton, skeleton, skeleton without the two-letter swaps). Equal loose
    skeletons look alike; typos are counted on the other two, whichever is closer: a typo can
    break a ``cl`` or make one (``cicloud`` is one edit from ``cucloud``, not two)."""
    chars = _char_skeleton(text)
    strict = _joined_swaps(chars)
    return strict.replace("nn", "m").translate(_LOOSE_SWAPS), strict, chars


def edit_budget(brand: str) -> int:
    """Edits a misspelling of ``brand`` may make and still be its look-alike: none below five
    characters (a one-letter change of ``icbc`` is another name), one up to seven, two from
    eight."""
    if len(brand) >= 8:
        return 2
    return 1 if len(brand) >= _MIN_SUBSTRING else 0


_SEPARATORS = re.compile(r"[\W_]+")
_DIGIT_RUNS = re.compile(r"\d+|\D+")
_DIGITS = re.compile(r"\d+")


def _squash(text: str) -> str:
    """Skeleton without spaces and punctuation: how a display name reads."""
    return _SEPARATORS.sub("", skeleton(text))


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


def _words(parts: Iterable[str]) -> set[str]:
    """Lower-cased tokens and digit/letter runs as typed (for lure words)."""
    found: set[str] = set()
    for part in parts:
        for token in _SEPARATORS.split(unicodedata.normalize("NFKC", part).lower()):
            if token:
                found.add(token)
                found.update(_DIGIT_RUNS.findall(token))
    return found


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


#: Official labels this short (``wo``, ``cbn``, ``migu``) are someone else's under a foreign
#: suffix; see ``_CHINESE_SUFFIXES``.
_SHORT_LABEL = 4
#: Suffixes on which a two- or three-letter official label (``jd``, ``cbn``) is still its
#: owner's look-alike: Chinese ones. Elsewhere a short label is most likely someone else's.
_CHINESE_SUFFIXES = ("cn", "com.cn", "net.cn", "org.cn", "hk", "com.hk", "tw", "com.tw", "mo")


# --- the detector ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Evidence:
    kind: LookalikeKind
    imitated: PlatformOwner | None
    score: float


@dataclass(frozen=True, slots=True)
class _Brand:
    """A fuzzy-protected name: its skeletons (:func:`_forms`), edit budget and
    owner."""

    loose: str
    strict: str
    chars: str
    budget: int
    owner: PlatformOwner
    numeric: bool


class LookalikeDetector:
    """Classifies identifiers against one :class:`ReferenceData`; build it once and reuse it."""

    def __init__(self, reference: ReferenceData, cache_size: int = 16_384) -> None:
        self._domains = reference.official_domains
        self._packages = reference.official_app_packages
        self._accounts = reference.official_wechat_accounts
        self._blocked = frozenset(entry.value for entry in reference.lists.block.domains)
        channels = reference.channels
        self._suspicious_tlds = frozenset(channels.suspicious_tlds)
        self._lures = frozenset(word.lower() for word in channels.lure_words)
        self._lures_zh = tuple(_squash(word) for word in channels.lure_words_zh)
        self._genuine_domains = frozenset(e.value for e in reference.genuine.domains)
        self._genuine_packages = frozenset(e.value for e in reference.genuine.app_packages)
        self._genuine_accounts = frozenset(
            _squash(e.value) for e in reference.genuine.wechat_accounts
        )
        self._tld = offline_tld_extractor()

        specs: list[Operator | Partner] = [*channels.operators, *channels.partners]
        owners = {owner.id: owner for owner in _owners(reference)}
        self._complete = frozenset(s.id for s in specs if s.wechat_accounts_complete)
        # Skeleton -> owner tables; the first owner keeps a shared name (operators come first).
        self._domain_skeletons: dict[str, PlatformOwner] = {}
        self._labels: dict[str, tuple[str, PlatformOwner]] = {}
        #: Official labels and whole domains without separators: "chinatelecomh", "139com".
        self._flat_labels: dict[str, PlatformOwner] = {}
        self._exact_only: set[str] = set()  # owners protected against exact look-alikes only
        self._brands: dict[str, PlatformOwner] = {}
        self._generic: dict[str, PlatformOwner] = {}
        self._short_names: dict[str, PlatformOwner] = {}
        self._partner_names: dict[str, PlatformOwner] = {}
        fuzzy: dict[str, _Brand] = {}
        for spec in specs:
            owner = owners[spec.id]
            fuzzy_owner = spec.protection == "fuzzy"
            if not fuzzy_owner:
                self._exact_only.add(spec.id)
            # A bank's or marketplace's name is also its apps' namespace (com.taobao.trip) and
            # part of its other sites' names: alone it proves nothing, beside a lure it does.
            brands = self._brands if fuzzy_owner else self._generic
            for domain in spec.domains:
                self._domain_skeletons.setdefault(skeleton(domain), owner)
                label = self._tld.extract_str(domain).domain
                self._labels.setdefault(skeleton(label), (label, owner))
                if len(_squash(label)) >= _MIN_TOKEN:
                    self._flat_labels.setdefault(_squash(label), owner)
                if len(_squash(domain)) > _MIN_TOKEN:
                    self._flat_labels.setdefault(_squash(domain), owner)  # wocn, 139com
                # A short label (cbn, migu) of a carrier or payment brand: only names that look
                # the same as it (c/e, m/nn ... folded), never a typo.
                if fuzzy_owner and not label.isdigit() and _MIN_TOKEN <= len(label) <= 4:
                    _add_fuzzy(fuzzy, label, owner, budget=0)
                # A bare number (139) or a short label (cbn, boc) is a brand only where its
                # owner says so in brand_tokens; otherwise only its exact look-alikes count.
                if label.isdigit() or len(label) <= _MIN_TOKEN:
                    continue
                self._add(brands, label, owner)
                if fuzzy_owner:
                    _add_fuzzy(fuzzy, label, owner)
            for token in spec.brand_tokens:
                self._add(brands, token, owner)
                if fuzzy_owner:
                    _add_fuzzy(fuzzy, token, owner)
            for token in spec.generic_tokens:
                self._generic.setdefault(_squash(token), owner)
            for name in spec.short_names:
                self._short_names.setdefault(_squash(name), owner)
            names = [spec.name, *(a.name for a in spec.app_packages)]
            names += [a.name for a in spec.wechat_accounts]
            for name in names:
                if spec.wechat_accounts_complete:
                    self._add(self._brands, name, owner)
                else:  # a partner's name counts only beside a lure word
                    self._partner_names.setdefault(_squash(name), owner)
        self._fuzzy = list(fuzzy.values())
        #: Every official label, brand and generic word: glued to lure words, a look-alike.
        self._affix_brands = {
            **{k: o for k, o in self._generic.items() if len(k) >= 2},
            **{k: o for k, (label, o) in self._labels.items() if len(label) >= 2},
            **self._brands,
        }
        # "www" glued to a brand (www10086, 21cnwww) is a typo of the host, not a lure.
        lures = {skeleton(w) for w in (*self._lures, "www")}
        self._lure_skeletons = sorted(lures, key=len, reverse=True)
        #: Strong brands that may hide inside a token beside a lure (``bonus21cn``).
        self._inner_brands = {b: o for b, o in self._brands.items() if len(b) >= 4}
        #: Brand numbers that may hide inside a digit run beside a lure (``4756189kf``).
        self._numbers = {
            t: owners[spec.id]
            for spec in specs
            for t in spec.brand_tokens
            if t.isdigit() and spec.protection == "fuzzy"
        }
        self._long_generic = {g: o for g, o in self._generic.items() if len(g) >= _MIN_SUBSTRING}
        self._long_brands = {b: o for b, o in self._brands.items() if _substring_ok(b)}
        self._fuzzy_long = [
            b for b in self._fuzzy if not b.numeric and len(b.loose) >= _MIN_FUZZY_SUBSTRING
        ]
        self._package_skeletons = {skeleton(p): o for p, o in self._packages.items()}
        self._package_forms = {p: (*_forms(p), o) for p, o in self._packages.items()}
        self._account_skeletons = {_squash(a): o for a, o in self._accounts.items()}
        # Names an account may carry as its owner's own: a partner whose list is not complete
        # may have more accounts under its own name (招商银行 is the bank, not an imitation).
        self._own_names = {
            _squash(name): owners[spec.id]
            for spec in specs
            if not spec.wechat_accounts_complete
            for name in (spec.name, *(a.name for a in spec.app_packages))
        }
        self._cached_host = functools.lru_cache(maxsize=cache_size)(self._classify_host)
        self._cached_name = functools.lru_cache(maxsize=cache_size)(self._classify_name)

    @staticmethod
    def _add(table: dict[str, PlatformOwner], name: str, owner: PlatformOwner) -> None:
        brand = _squash(name)
        if len(brand) >= _MIN_TOKEN:
            table.setdefault(brand, owner)

    def complete(self, owner: PlatformOwner) -> bool:
        """Whether ``owner``'s WeChat accounts are all listed (operators): then an unlisted
        account under its exact name imitates it."""
        return owner.id in self._complete

    def classify(self, kind: IdentifierKind, value: str) -> LookalikeVerdict:
        """The verdict for one identifier (``value`` must not be blank)."""
        if kind is IdentifierKind.URL:
            return self._cached_host(host_of(value))
        return self._cached_name(kind, value.strip()[:_MAX_CHARS])

    # --- hosts ---------------------------------------------------------------------------

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
        registrable = parts.top_domain_under_public_suffix or None
        facts = functools.partial(
            LookalikeVerdict,
            registrable_domain=registrable,
            suspicious_tld=labels[-1] in self._suspicious_tlds,
            blocklisted=any(p in self._blocked for p in parents),
        )
        if owner is not None:
            return facts(url, host, owner, LookalikeKind.NONE, None, 0.0)
        decoded = [_decode_label(label) for label in labels]
        n_suffix = len(parts.suffix.split(".")) if parts.suffix else 0
        names = decoded[: len(decoded) - n_suffix]
        if registrable is not None and registrable in self._genuine_domains:
            label = skeleton(names[-1]) if names else ""
            _, _, score = _decide([], label, self._labels)
            return facts(url, host, None, LookalikeKind.NONE, None, score, genuine=True)
        suffix = ".".join(decoded[len(names) :])
        swap = LookalikeKind.PUNYCODE if decoded != labels else LookalikeKind.CONFUSABLE
        context = labels[-1] in self._suspicious_tlds or bool(_words(names) & self._lures)
        evidence = [
            self._exact_domain(names, suffix, swap),
            self._official_inside(decoded, n_suffix),
            self._suffix_swap(names, suffix, swap),
            self._split(names, suffix),
            self._fuzzy_match(_candidates(names), swap),
            self._embedded(names, context),
            _Evidence(LookalikeKind.MIXED_SCRIPT, None, 0.8)
            if any(_mixed_script(n) for n in names)
            else None,
        ]
        label = skeleton(names[-1]) if names else ""
        kind, imitated, score = _decide(evidence, label, self._labels)
        return facts(url, host, None, kind, imitated, score)

    def _exact_domain(self, names: list[str], suffix: str, swap: LookalikeKind) -> _Evidence | None:
        """The registrable domain looks exactly like an official one (``l0086.cn``)."""
        if not names or not suffix:
            return None
        return _exact(skeleton(f"{names[-1]}.{suffix}"), self._domain_skeletons, swap)

    def _official_inside(self, decoded: list[str], n_suffix: int) -> _Evidence | None:
        """An official domain as labels inside the host, before its real registrable domain:
        ``189.cn.pay-secure.top``, ``www.alipay.com.cn.hk-pay.com``."""
        for start in range(max(len(decoded) - n_suffix - 1, 0)):
            for end in range(start + 2, len(decoded) - n_suffix + 1):
                found = self._domains.get(".".join(decoded[start:end]))
                if found is not None:
                    return _Evidence(LookalikeKind.BRAND_EMBEDDING, found, 0.95)
        return None

    def _suffix_swap(self, names: list[str], suffix: str, swap: LookalikeKind) -> _Evidence | None:
        """An official label under another public suffix (``10086.com``, ``jd.com.cn``)."""
        if not names or not suffix:
            return None
        raw = names[-1]
        found = self._labels.get(skeleton(raw))
        if found is None:
            return None
        official, owner = found
        short = len(official) <= _SHORT_LABEL and not official.isdigit()
        local = suffix in _CHINESE_SUFFIXES or suffix in self._suspicious_tlds
        if (short or owner.id in self._exact_only) and not local:
            return None  # cbn.com is not China Broadnet's, meituan.net is Meituan's CDN
        if official == raw:
            return _Evidence(LookalikeKind.TYPOSQUAT, owner, 0.9)
        return _Evidence(swap, owner, 0.95)

    def _split(self, names: list[str], suffix: str) -> _Evidence | None:
        """An official label (or domain) cut by hyphens or dots, or glued to ``www`` or to
        its suffix: ``china-mobile.com``, ``ali.pay.com``, ``10.086.cn``, ``best-pay.com.cn``,
        ``chinatele.com.cn``, ``www139.com``, ``139com.com``."""
        tail = [label for label in suffix.split(".") if label]
        for candidate, pieces in _joins([*names, *tail], keep=len(names)):
            text = skeleton(candidate)
            if pieces < 2 and not text.startswith("www"):
                found = self._flat_labels.get(text)
                if found is not None and text not in self._labels:
                    return _Evidence(LookalikeKind.TYPOSQUAT, found, 0.9)  # 139com
                continue
            found = self._flat_labels.get(text) or self._flat_labels.get(text.removeprefix("www"))
            if found is not None:  # the whole brand, only cut: stronger than a fuzzy fragment
                return _Evidence(LookalikeKind.TYPOSQUAT, found, 0.95)
        return None

    def _fuzzy_match(self, candidates: list[str], swap: LookalikeKind) -> _Evidence | None:
        """A carrier's or payment brand's name misspelt within its budget, compared on the
        loose skeleton (``ţcnpay``, ``vmionpay``, ``chinamoblie``, ``1008``, ``10o86``)."""
        best: _Evidence | None = None
        for candidate in candidates:
            if skeleton(candidate) in self._brands:
                continue  # the brand itself: embedding or suffix-swap evidence, not a typo
            loose, strict, chars = _forms(candidate)
            if len(loose) < 2:
                continue
            for brand in self._fuzzy:
                if abs(len(chars) - len(brand.chars)) > brand.budget + 1:
                    continue
                if loose == brand.loose:
                    found = _Evidence(swap, brand.owner, 0.95)
                else:
                    cutoff = brand.budget + 1
                    edits = min(
                        OSA.distance(strict, brand.strict, score_cutoff=cutoff),
                        OSA.distance(chars, brand.chars, score_cutoff=cutoff),
                    )
                    if edits > brand.budget:
                        continue
                    if brand.numeric and len(brand.strict) <= _MIN_TOKEN and len(strict) < 3:
                        continue  # "18" is not "189"
                    found = _Evidence(LookalikeKind.TYPOSQUAT, brand.owner, 0.95 - 0.05 * edits)
                if best is None or found.score > best.score:
                    best = found
        return best

    def _embedded(self, parts: list[str], context: bool) -> _Evidence | None:
        """A brand as a whole token (0.9), a long brand inside a token (0.85), and with a lure
        word or cheap TLD around it: a generic brand word, a near brand number, a misspelt
        long brand inside a token (0.8)."""
        best: _Evidence | None = None

        def keep(found: _Evidence) -> None:
            nonlocal best
            if best is None or found.score > best.score:
                best = found

        tokens = list(_tokens(parts))
        for token, is_run in tokens:
            owner = self._brands.get(token)
            if owner is not None:
                return _Evidence(LookalikeKind.BRAND_EMBEDDING, owner, 0.9)
            if is_run:
                continue
            brand = next((b for b in self._long_brands if b in token), None)
            if brand is not None:
                keep(_Evidence(LookalikeKind.BRAND_EMBEDDING, self._long_brands[brand], 0.85))
            elif (owner := self._with_lures(token)) is not None:
                keep(_Evidence(LookalikeKind.BRAND_EMBEDDING, owner, 0.85))
        if context and best is None:
            for token, _ in tokens:
                owner = (
                    self._generic.get(token)
                    or next((o for g, o in self._long_generic.items() if g in token), None)
                    or next((o for b, o in self._inner_brands.items() if b in token), None)
                )
                if owner is not None:
                    return _Evidence(LookalikeKind.BRAND_EMBEDDING, owner, 0.8)
            runs = [t for p in parts for t in _DIGITS.findall(unicodedata.normalize("NFKC", p))]
            for run in runs:
                number = next((n for n in self._numbers if n in run), None)
                if number is not None:
                    return _Evidence(LookalikeKind.BRAND_EMBEDDING, self._numbers[number], 0.8)
            near = self._fuzzy_match([r for r in runs if len(r) >= 4], LookalikeKind.CONFUSABLE)
            if near is not None:
                return _Evidence(LookalikeKind.BRAND_EMBEDDING, near.imitated, 0.8)
            for token, is_run in tokens:
                if not is_run and (found := self._misspelt_inside(token)) is not None:
                    return found
        return best

    def _with_lures(self, token: str) -> PlatformOwner | None:
        """The owner of a brand glued to lure words and nothing else: ``wowap``, ``139jf``,
        ``jf10086vip``, ``21cncz``."""
        stack = [(token, 0)]
        while stack:
            text, stripped = stack.pop()
            if stripped and text in self._affix_brands:
                return self._affix_brands[text]
            if stripped >= 2:
                continue
            for lure in self._lure_skeletons:
                if text.startswith(lure) and len(text) > len(lure):
                    stack.append((text[len(lure) :], stripped + 1))
                if text.endswith(lure) and len(text) > len(lure):
                    stack.append((text[: -len(lure)], stripped + 1))
        return None

    def _misspelt_inside(self, token: str) -> _Evidence | None:
        """A long fuzzy brand within one edit of a stretch of a longer token
        (``alpayobjects``, ``chinamoblieltd``)."""
        text = loose_skeleton(token)
        for brand in self._fuzzy_long:
            size = len(brand.loose)
            if len(text) <= size:
                continue
            for width in (size - 1, size, size + 1):
                for i in range(len(text) - width + 1):
                    if OSA.distance(text[i : i + width], brand.loose, score_cutoff=1) <= 1:
                        return _Evidence(LookalikeKind.BRAND_EMBEDDING, brand.owner, 0.8)
        return None

    # --- app packages and WeChat accounts -----------------------------------------------

    def _classify_name(self, kind: IdentifierKind, value: str) -> LookalikeVerdict:
        if kind is IdentifierKind.APP_PACKAGE:
            return self._classify_package(value)
        owner = self._accounts.get(value)
        if owner is not None:
            return LookalikeVerdict(kind, value, owner, LookalikeKind.NONE, None, 0.0)
        text = _squash(value)
        if text in self._genuine_accounts or text in self._own_names:
            # A large genuine account, or a partner's own name: unverified at worst.
            _, _, score = _decide([], text, self._account_skeletons)
            genuine = text in self._genuine_accounts
            return LookalikeVerdict(
                kind, value, None, LookalikeKind.NONE, None, score, genuine=genuine
            )
        lure = any(word in text for word in self._lures_zh)
        context = lure or bool(_words([value]) & self._lures)
        evidence = [
            _exact(text, self._account_skeletons, LookalikeKind.CONFUSABLE),
            _typo([text], self._account_skeletons, cjk_min=5),
            self._embedded([value], context),
            self._beside_lure(text) if lure else None,
        ]
        found, imitated, score = _decide(evidence, text, self._account_skeletons)
        return LookalikeVerdict(kind, value, None, found, imitated, score)

    def _beside_lure(self, text: str) -> _Evidence | None:
        """A partner's name or an owner's Chinese short name beside a top-up word:
        ``支付宝充值中心``, ``移动话费充值``, ``电信话费5折``."""
        for name, owner in self._partner_names.items():
            if name in text:
                return _Evidence(LookalikeKind.BRAND_EMBEDDING, owner, 0.85)
        for name, owner in self._short_names.items():
            if name in text:
                return _Evidence(LookalikeKind.BRAND_EMBEDDING, owner, 0.8)
        return None

    def _classify_package(self, value: str) -> LookalikeVerdict:
        kind = IdentifierKind.APP_PACKAGE
        owner = self._packages.get(value)
        if owner is not None:
            return LookalikeVerdict(kind, value, owner, LookalikeKind.NONE, None, 0.0)
        text = skeleton(value)
        if value in self._genuine_packages:
            _, _, score = _decide([], text, self._package_skeletons)
            return LookalikeVerdict(
                kind, value, None, LookalikeKind.NONE, None, score, genuine=True
            )
        segments = [s for s in value.split(".") if s]
        context = bool(_words(segments) & self._lures)
        evidence = [
            _exact(text, self._package_skeletons, LookalikeKind.CONFUSABLE),
            self._extended(text),
            self._package_typo(value),
            self._fuzzy_match(
                [s for s in segments if len(s) >= _MIN_SUBSTRING], LookalikeKind.CONFUSABLE
            ),
            self._embedded(segments, context),
        ]
        found, imitated, score = _decide(evidence, text, self._package_skeletons)
        return LookalikeVerdict(kind, value, None, found, imitated, score)

    def _package_typo(self, value: str) -> _Evidence | None:
        """An official package id within a typo of the whole id (one edit from 8 characters,
        two from 20), on the loose skeletons (``com.ct.elient``, ``com.cnncc.hebao``)."""
        loose, strict, chars = _forms(value)
        for official, (o_loose, o_strict, o_chars, owner) in self._package_forms.items():
            if loose == o_loose:
                return _Evidence(LookalikeKind.TYPOSQUAT, owner, 0.9)  # the caller: not equal
            limit = 2 if len(official) >= 20 else 1 if len(official) >= 8 else 0
            if abs(len(chars) - len(o_chars)) > limit + 1:
                continue
            edits = min(
                OSA.distance(strict, o_strict, score_cutoff=limit + 1),
                OSA.distance(chars, o_chars, score_cutoff=limit + 1),
            )
            if edits <= limit:
                return _Evidence(LookalikeKind.TYPOSQUAT, owner, 0.9)
        return None

    def _extended(self, text: str) -> _Evidence | None:
        """An official package id with more segments after it (``com.ct.client.pay``)."""
        for official, owner in self._package_skeletons.items():
            if text.startswith(official + "."):
                return _Evidence(LookalikeKind.BRAND_EMBEDDING, owner, 0.95)
        return None


def _add_fuzzy(
    table: dict[str, _Brand], name: str, owner: PlatformOwner, budget: int | None = None
) -> None:
    """A fuzzy-protected name: numbers of 3+ digits with one edit (``1008`` for ``10086``),
    ASCII names of 5+ characters with :func:`edit_budget` on the loose skeleton. Shorter
    names only count when they look exactly the same."""
    numeric = name.isdigit()
    loose, strict, chars = _forms(_SEPARATORS.sub("", name))
    if budget is not None:
        pass
    elif numeric and len(name) >= _MIN_TOKEN:
        budget = 1
    elif not numeric and name.isascii() and len(strict) >= _MIN_SUBSTRING:
        budget = edit_budget(strict)
    else:
        return
    table.setdefault(loose, _Brand(loose, strict, chars, budget, owner, numeric))


def _joins(names: list[str], keep: int | None = None) -> Iterator[tuple[str, int]]:
    """Each name label, and runs of two or three neighbouring labels glued together, with
    their separators removed; with how many pieces each was cut into. With ``keep``, only runs
    that start among the first ``keep`` labels (the names before the public suffix)."""
    starts = len(names) if keep is None else min(keep, len(names))
    for i in range(starts):
        for j in range(i + 1, min(i + 3, len(names)) + 1):
            text = "".join(names[i:j])
            pieces = len([p for p in _SEPARATORS.split(text) if p]) + (j - i - 1)
            yield _SEPARATORS.sub("", text), pieces


def _candidates(names: list[str]) -> list[str]:
    """What a look-alike of a brand's label may be: each label, its hyphen-separated parts, and
    labels glued across dots and hyphens."""
    found = dict.fromkeys(text for text, _ in _joins(names))
    for name in names:
        found.update(dict.fromkeys(p for p in _SEPARATORS.split(name) if p))
    return [text for text in found if text]


def _substring_ok(brand: str) -> bool:
    return len(brand) >= (_MIN_TOKEN if not brand.isascii() else _MIN_SUBSTRING)


def _owners(reference: ReferenceData) -> Iterator[PlatformOwner]:
    for op in reference.channels.operators:
        yield PlatformOwner(op.id, op.name, "operator")
    for partner in reference.channels.partners:
        yield PlatformOwner(partner.id, partner.name, partner.kind)


def _exact(text: str, skeletons: dict[str, PlatformOwner], kind: LookalikeKind) -> _Evidence | None:
    """The skeleton is an official name's, the text is not (the caller checked that)."""
    owner = skeletons.get(text) if text else None
    return None if owner is None else _Evidence(kind, owner, 1.0)


def _typo(
    texts: list[str], targets: dict[str, PlatformOwner], cjk_min: int = 4
) -> _Evidence | None:
    """The first skeleton within a typo's reach of an official one: one edit for names of
    8+ characters (``cjk_min``+ in Chinese, where a character carries more), two from 20."""
    for text in texts:
        if len(text) >= 20:
            limit = 2
        else:
            limit = 1 if len(text) >= (cjk_min if not text.isascii() else 8) else 0
        if not limit:
            continue
        match = process.extractOne(text, list(targets), scorer=OSA.distance, score_cutoff=limit)
        if match is None or match[1] == 0:
            continue  # equal skeletons are the other kinds' evidence
        return _Evidence(LookalikeKind.TYPOSQUAT, targets[match[0]], 0.9)
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
