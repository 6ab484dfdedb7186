"""Names of unofficial platforms: look-alikes of the operators, and plausible generic shops.

Generated from the reference channel list, so a new official domain or app gets its own
look-alikes. Called once per shop or reseller (dozens per run), never per event.

>>> import random
>>> homoglyph("10086.cn", random.Random(2))
'l0086.cn'
"""

from __future__ import annotations

import random
from collections.abc import Callable
from urllib.parse import urlsplit

from fraudguard.reference import ReferenceData
from fraudguard.reference.schemas import Operator

__all__ = [
    "fake_code",
    "homoglyph",
    "lookalike_app",
    "lookalike_domain",
    "lookalike_wechat",
    "plausible_app",
    "plausible_domain",
    "plausible_wechat",
    "shop_url",
    "unofficial",
]

#: Digit/letter swaps scammers use in domains (l0086, 1OO86, rn for m).
_ASCII_SWAPS = {"0": "o", "1": "l", "o": "0", "l": "1", "i": "1", "m": "rn"}
#: Visual look-alikes in Chinese names (国/囯, 0/O) and traditional forms.
_CJK_SWAPS = {"0": "O", "国": "囯", "电": "電", "话": "話", "费": "費", "营": "營", "联": "聯",
              "移": "迻", "动": "動", "1": "l"}  # fmt: skip
#: Latin letters with a diacritic that phishing IDNs swap in (ałiṕay, ůṅionpay, ţcnpay).
_DIACRITICS = {"a": "àáâãäåą", "c": "ćçč", "e": "éèêëęė", "i": "íìîïı", "l": "łĺļ", "m": "ṁṃ",
               "n": "ńñňṅ", "o": "òóôõöø", "p": "ṕṗ", "s": "śšș", "t": "ţťṫ", "u": "ùúûüůű",
               "y": "ýÿ", "b": "ḃ", "d": "ďḋ", "h": "ĥḣ"}  # fmt: skip
#: ASCII letters drawn with another (vmionpay, cnnpay, tcnpay).
_ASCII_LOOKS = {"u": "v", "n": "m", "m": "nn", "e": "c", "d": "cl", "w": "vv", "o": "0", "l": "1"}
#: Words on reported phishing hosts: wap / vip / m hosts, 积分 jf, 充值 cz, 话费 hf, 兑换 dh.
_LURES = ("wap", "vip", "jf", "cz", "hf", "dh", "jifen", "chongzhi", "huafei", "kf", "fuli")
#: Carrier short names and the top-up words look-alike accounts put beside them.
_CARRIER_WORDS = {"china_mobile": "移动", "china_telecom": "电信", "china_unicom": "联通",
                  "china_broadnet": "广电"}  # fmt: skip
_CARRIER_LURES = ("话费充值", "话费5折", "流量特惠", "话费优惠", "积分兑换", "充值中心")
_CHEAP_TLDS = ("top", "xyz", "vip", "icu", "shop", "cc", "site", "online", "com", "cn", "net")
_PLAIN_TLDS = ("com", "cn", "com.cn", "net")
_SHOP_WORDS = ("cz", "chongzhi", "pay", "huafei", "recharge", "vip", "kuaichong", "topup")
_PLAUSIBLE_WORDS = (
    "huafei",
    "kuaichong",
    "chongzhi",
    "bianmin",
    "youhui",
    "suchong",
    "shenghuo",
    "jiaofei",
    "lepay",
    "ezpay",
    "topup",
    "mall",
    "life",
    "dian",
)
_PATHS = ("/", "/cz", "/recharge.html", "/huafei/index.php", "/m/pay", "/h5/topup")
_APP_SUFFIXES = ("lite", "pro", "huafei", "chongzhi", "v2", "plus", "jisu")
_APP_NAME_SUFFIXES = ("极速版", "充值助手", "优惠版", "官方充值", "话费特惠")
_WECHAT_SUFFIXES = ("服务号", "充值中心", "官方充值", "话费优惠", "营业厅")
_HONEST_WECHAT = (
    "便民充值服务",
    "社区生活缴费",
    "快充话费小店",
    "邻里便利店",
    "校园缴费助手",
    "生活缴费通",
)
_HONEST_APP_NAMES = ("话费快充", "生活缴费", "便民充值", "随手充")


def is_official(name: str, reference: ReferenceData) -> bool:
    """Whether a URL, domain, app package or WeChat account name belongs to an operator or
    an authorised partner."""
    host = urlsplit(name).hostname if "://" in name else name
    domains = [*reference.official_domains, *(e.value for e in reference.genuine.domains)]
    if host and any(host == d or host.endswith("." + d) for d in domains):
        return True  # a genuine large site (cbn.com) is nobody's look-alike either
    return name in reference.official_app_packages or name in reference.official_wechat_accounts


def unofficial(make: Callable[[], str], reference: ReferenceData, tries: int = 100) -> str:
    """A name from ``make`` that no official platform uses: a character swap or an added
    suffix can land on a real name (中国电信 + 营业厅), so draw again when it does."""
    name = make()
    for _ in range(tries):
        if not is_official(name, reference):
            break
        name = make()
    return name


def homoglyph(text: str, rnd: random.Random) -> str:
    """``text`` with one or two characters swapped for look-alikes (``l0086.cn``)."""
    chars = list(text)
    spots = [i for i, ch in enumerate(chars) if ch in _ASCII_SWAPS and "." not in text[:i]]
    for i in rnd.sample(spots, min(len(spots), rnd.choice((1, 2)))):
        chars[i] = _ASCII_SWAPS[chars[i]]
    return "".join(chars)


def _punycode(token: str, rnd: random.Random) -> str:
    tail = "".join(rnd.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(4))
    return f"xn--{token}-{tail}.{rnd.choice(('cn', 'com'))}"


def lookalike_domain(op: Operator, rnd: random.Random, wallets: tuple[str, ...] = ()) -> str:
    """A phishing domain imitating ``op`` (or, when given, one of the payment brands'
    ``wallets`` domains): swaps, sub-domain tricks, brand + shop words, several confusables in
    one short brand, a brand split by hyphens or dots, a brand number with a digit omitted,
    added or swapped, a brand inside an otherwise random host."""
    token = rnd.choice(op.brand_tokens)
    domain = rnd.choice(op.domains[:3])
    if wallets and rnd.random() < 0.25:
        domain = rnd.choice(wallets)
        token = domain.split(".", 1)[0]
    label, _, suffix = domain.partition(".")
    style = rnd.randrange(10)
    if style == 0:
        return f"{token}-{rnd.choice(_SHOP_WORDS)}.{rnd.choice(_CHEAP_TLDS)}"
    if style == 1:
        return homoglyph(domain, rnd)
    if style == 2:
        return f"{domain}.{rnd.choice(('pay-secure', 'chongzhi', 'vip-pay'))}.top"
    if style == 3:
        return _punycode(token, rnd)
    if style == 4:
        return (
            f"{op.name_en.replace(' ', '').lower()}-{rnd.choice(_SHOP_WORDS)}."
            f"{rnd.choice(_CHEAP_TLDS)}"
        )
    if style == 5:
        return f"{_confusables(label, rnd)}.{suffix}"
    if style == 6:  # china-mobile.com, 10.086.cn, ali.pay.com
        i = rnd.randrange(1, len(label)) if len(label) > 1 else 1
        return f"{label[:i]}{rnd.choice('-.')}{label[i:]}.{suffix}"
    if style == 7:
        return (
            f"{_digit_slip(label, rnd) if label.isdigit() else label + rnd.choice('sx1')}.{suffix}"
        )
    if style == 8:
        return _phishing_host(token, suffix, rnd)
    return f"{label}.{rnd.choice(_CHEAP_TLDS)}"


def _confusables(label: str, rnd: random.Random) -> str:
    """Two or three letters of ``label`` drawn with a diacritic or as other ASCII letters."""
    chars = list(label)
    spots = [i for i, ch in enumerate(chars) if ch in _DIACRITICS or ch in _ASCII_LOOKS]
    for i in rnd.sample(spots, min(len(spots), rnd.choice((2, 3)))):
        ascii_look = chars[i] in _ASCII_LOOKS and (
            chars[i] not in _DIACRITICS or rnd.random() < 0.4
        )
        chars[i] = _ASCII_LOOKS[chars[i]] if ascii_look else rnd.choice(_DIACRITICS[chars[i]])
    text = "".join(chars)
    return text if text.isascii() else text.encode("idna").decode("ascii")


def _digit_slip(number: str, rnd: random.Random) -> str:
    """A brand number with one digit omitted, added or two swapped (1008, 100086, 10068)."""
    i = rnd.randrange(len(number))
    kind = rnd.randrange(3)
    if kind == 0 and len(number) > 3:
        return number[:i] + number[i + 1 :]
    if kind == 1 or len(number) < 2:
        return number[:i] + rnd.choice("0123456789") + number[i:]
    i = min(i, len(number) - 2)
    return number[:i] + number[i + 1] + number[i] + number[i + 2 :]


def _phishing_host(token: str, suffix: str, rnd: random.Random) -> str:
    """A host shaped like the reported ones: the brand in an otherwise random host, on a cheap
    TLD or deep under another domain (wap10086jf.top, 10086.cn.x7k-cz.vip)."""
    noise = "".join(rnd.choice("abcdefghjkmnpqrstuvwxyz23456789") for _ in range(4))
    lure = rnd.choice(_LURES)
    tld = rnd.choice(_CHEAP_TLDS[:6])
    shape = rnd.randrange(4)
    if shape == 0:
        return f"{lure}{token}{noise}.{tld}"
    if shape == 1:
        return f"{lure}.{token}{lure}.{tld}"
    if shape == 2:
        return f"{token}.{suffix}.{noise}-{lure}.{tld}"
    return f"m.{noise}.{token}-{lure}.{tld}"


def plausible_domain(rnd: random.Random) -> str:
    """A generic, harmless-looking shop domain: honest resellers and some scams use these."""
    first, second = rnd.sample(_PLAUSIBLE_WORDS, 2)
    return f"{first}-{second}.{rnd.choice(_PLAIN_TLDS)}"


def shop_url(domain: str, rnd: random.Random, *, https: bool) -> str:
    return f"{'https' if https else 'http'}://{domain}{rnd.choice(_PATHS)}"


def lookalike_app(op: Operator, rnd: random.Random) -> tuple[str, str]:
    """(package, name) imitating one of ``op``'s apps (``com.cmcc.hebao.lite``,
    ``com.ct.c1ient``, ``com.ct.client.pay``)."""
    official = rnd.choice(op.app_packages) if op.app_packages else None
    if official is not None and rnd.random() < 0.2:
        head, _, last = official.id.rpartition(".")
        spots = [i for i, ch in enumerate(last) if ch in _ASCII_LOOKS]
        if spots:
            i = rnd.choice(spots)
            last = last[:i] + _ASCII_LOOKS[last[i]] + last[i + 1 :]
        else:
            last += rnd.choice("sx2")
        return f"{head}.{last}", official.name + rnd.choice(_APP_NAME_SUFFIXES)
    if official is not None and rnd.random() < 0.6:
        package = f"{official.id}.{rnd.choice(_APP_SUFFIXES)}"
        name = official.name + rnd.choice(_APP_NAME_SUFFIXES)
    else:
        token = rnd.choice([t for t in op.brand_tokens if t.isalpha()] or ["topup"])
        package = f"com.{token}.{rnd.choice(_APP_SUFFIXES)}"
        name = op.name + rnd.choice(_APP_NAME_SUFFIXES)
    return package, name


def plausible_app(rnd: random.Random) -> tuple[str, str]:
    first, second = rnd.sample(_PLAUSIBLE_WORDS, 2)
    return f"com.{first}.{second}", rnd.choice(_HONEST_APP_NAMES)


def lookalike_wechat(op: Operator, rnd: random.Random) -> str:
    """A WeChat account name imitating ``op``'s (``中国移动10O86``, ``中国 移动``, or the
    carrier's short name with top-up words: ``移动话费充值``, ``电信话费5折``)."""
    official = rnd.choice(op.wechat_accounts).name if op.wechat_accounts else op.name
    style = rnd.random()
    if style < 0.2 and op.id in _CARRIER_WORDS:
        return _CARRIER_WORDS[op.id] + rnd.choice(_CARRIER_LURES)
    if style < 0.3 and len(official) > 2:
        i = rnd.randrange(1, len(official))
        return official[:i] + rnd.choice((" ", "·")) + official[i:]
    spots = [i for i, ch in enumerate(official) if ch in _CJK_SWAPS]
    if spots and style < 0.7:
        i = rnd.choice(spots)
        return official[:i] + _CJK_SWAPS[official[i]] + official[i + 1 :]
    return official + rnd.choice(_WECHAT_SUFFIXES)


def plausible_wechat(rnd: random.Random) -> str:
    return rnd.choice(_HONEST_WECHAT)


def fake_code(op_prefix: str, rnd: random.Random) -> str:
    """A promotion code no operator issued, often shaped like a real one (``YD-NEWUSER-88``)."""
    digits = rnd.choice(("5", "50", "88", "66", "8", "99"))
    style = rnd.randrange(4)
    if style == 0:
        return f"{op_prefix}-VIP{digits}"
    if style == 1:
        return f"{op_prefix}-NEWUSER-{digits}"
    if style == 2:
        return f"HF{digits}ZHE"
    return "CZ-" + "".join(rnd.choice("ABCDEFGHJKMNPQRSTUVWXYZ23456789") for _ in range(5))
