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
_CJK_SWAPS = {"0": "O", "国": "囯", "电": "電", "话": "話", "费": "費", "营": "營", "联": "聯"}
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
    domains = reference.official_domains
    if host and any(host == d or host.endswith("." + d) for d in domains):
        return True
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


def lookalike_domain(op: Operator, rnd: random.Random) -> str:
    """A phishing domain imitating ``op``: swaps, sub-domain tricks, brand + shop words."""
    token = rnd.choice(op.brand_tokens)
    domain = rnd.choice(op.domains)
    style = rnd.randrange(5)
    if style == 0:
        return f"{token}-{rnd.choice(_SHOP_WORDS)}.{rnd.choice(_CHEAP_TLDS)}"
    if style == 1:
        return homoglyph(domain, rnd)
    if style == 2:
        return f"{domain}.{rnd.choice(('pay-secure', 'chongzhi', 'vip-pay'))}.top"
    if style == 3:
        return _punycode(token, rnd)
    return (
        f"{op.name_en.replace(' ', '').lower()}-{rnd.choice(_SHOP_WORDS)}.{rnd.choice(_CHEAP_TLDS)}"
    )


def plausible_domain(rnd: random.Random) -> str:
    """A generic, harmless-looking shop domain: honest resellers and some scams use these."""
    first, second = rnd.sample(_PLAUSIBLE_WORDS, 2)
    return f"{first}-{second}.{rnd.choice(_PLAIN_TLDS)}"


def shop_url(domain: str, rnd: random.Random, *, https: bool) -> str:
    return f"{'https' if https else 'http'}://{domain}{rnd.choice(_PATHS)}"


def lookalike_app(op: Operator, rnd: random.Random) -> tuple[str, str]:
    """(package, name) imitating one of ``op``'s apps (``com.cmcc.hebao.lite``)."""
    official = rnd.choice(op.app_packages) if op.app_packages else None
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
    """A WeChat account name imitating ``op``'s (``中国移动10O86``)."""
    official = rnd.choice(op.wechat_accounts).name if op.wechat_accounts else op.name
    spots = [i for i, ch in enumerate(official) if ch in _CJK_SWAPS]
    if spots and rnd.random() < 0.6:
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
