"""The names a rule condition may use, their types, and the checks that refuse a bad one.

Conditions are written in the `rule-engine <https://zerosteiner.github.io/rule-engine/>`_
expression language (never ``eval``). At load each condition is parsed by ``rule_engine``
against a typed symbol table, so a misspelt name, a type error or a condition that is not a
true/false test is refused before the rule can run. The names a condition may use:

**Event columns** (:data:`fraudguard.schema.FLAT_COLUMNS`), typed as in :data:`EVENT_SYMBOLS`.
Fields the wire contract makes optional are *nullable*: ordered comparisons and regex
matches on them are refused until the rule says what a missing value means, e.g.
``(promotion_discount ?? 0) > 30`` or ``(platform_url ?? "") =~~ "pay"``. Note that ``??``
binds looser than comparisons, hence the brackets. ``==``, ``!=``, ``in`` and ``and``/``or``
take nullable values as they are (a missing value equals nothing but ``null``).

**Features** supplied by the caller as ``{name: FeatureKind}``: ``bool`` features are
booleans, ``float``/``int`` are numbers (``NaN`` for unknown: every ordered comparison with
``NaN`` is false), ``category`` features are strings (``"unknown"`` for unknown).

**Lists** from the reference data's block/allow lists (:data:`LIST_SYMBOLS`):

* sets of strings, for ``in``: ``block_instruments``, ``block_devices``, ``block_payer_ids``,
  ``block_app_packages``, ``block_wechat_accounts`` and the same five ``allow_*`` sets, e.g.
  ``payment_instrument_id in block_instruments``;
* booleans the engine computes per event, because these lists are not exact-match sets:
  ``ip_blocklisted`` / ``ip_allowlisted`` (``network_ip`` lies in a listed CIDR range) and
  ``domain_blocklisted`` / ``domain_allowlisted`` (the host of ``platform_url`` or
  ``promotion_advertised_url`` is a listed domain or one of its sub-domains).

A name missing from an event's context takes its missing value: ``null`` for nullable event
columns, ``false`` / ``NaN`` / ``"unknown"`` for the rest.
"""

from __future__ import annotations

import decimal
import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta, timezone
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pandas as pd
import rule_engine
from rule_engine import DataType
from rule_engine import ast as re_ast

from fraudguard.features.base import FeatureKind
from fraudguard.reference.ranges import CidrTable
from fraudguard.reference.schemas import Lists, ListsFile

__all__ = [
    "DECIMAL",
    "EVENT_SYMBOLS",
    "LIST_SYMBOLS",
    "ConditionError",
    "Context",
    "Symbols",
    "UnsupportedError",
    "check_types",
    "collection",
    "describe_type",
    "exact_float",
    "family",
    "float_members",
    "known_families",
    "python_value",
]


Context = Mapping[str, Any]

_STRING, _FLOAT, _BOOLEAN = DataType.STRING, DataType.FLOAT, DataType.BOOLEAN
_NULLABLE_STRING = DataType.NULLABLE(_STRING)

#: Rule-engine types of the event's flat columns; optional contract fields are nullable.
EVENT_SYMBOLS: Mapping[str, Any] = {
    "transaction_id": _STRING,
    "event_time": DataType.DATETIME,
    "msisdn": _STRING,
    "amount": _FLOAT,
    "paid_amount": _FLOAT,
    "currency": _STRING,
    "channel": _STRING,
    **dict.fromkeys(
        (
            "platform_id",
            "platform_name",
            "platform_url",
            "platform_app_package",
            "platform_wechat_account",
            "payment_method",
            "payment_instrument_id",
            "payment_card_bin",
            "payment_payer_id",
            "device_id",
            "device_os",
            "network_type",
            "network_ssid",
            "network_wifi_security",
            "network_ip",
            "promotion_code",
            "promotion_description",
            "promotion_advertised_url",
            "promotion_source",
        ),
        _NULLABLE_STRING,
    ),
    **dict.fromkeys(
        ("device_rooted", "device_emulator", "network_tls", "network_proxy", "network_vpn"),
        DataType.NULLABLE(_BOOLEAN),
    ),
    "promotion_discount": DataType.NULLABLE(_FLOAT),
}

#: List-backed sets: symbol -> the ``Lists`` field it is read from (block and allow).
_LIST_SETS = ("instruments", "devices", "payer_ids", "app_packages", "wechat_accounts")
_URL_COLUMNS = ("platform_url", "promotion_advertised_url")

#: Every list symbol and its type: string sets for ``in``, and per-event booleans.
LIST_SYMBOLS: Mapping[str, str] = {
    **{f"{side}_{kind}": "set of strings" for side in ("block", "allow") for kind in _LIST_SETS},
    "ip_blocklisted": "boolean: network_ip is in a block-listed CIDR range",
    "ip_allowlisted": "boolean: network_ip is in an allow-listed CIDR range",
    "domain_blocklisted": "boolean: a URL's host is a block-listed domain or its sub-domain",
    "domain_allowlisted": "boolean: a URL's host is an allow-listed domain or its sub-domain",
}

_FEATURE_TYPES = {
    FeatureKind.BOOL: (_BOOLEAN, False),
    FeatureKind.FLOAT: (_FLOAT, math.nan),
    FeatureKind.INT: (_FLOAT, math.nan),
    FeatureKind.CATEGORY: (_STRING, "unknown"),
}
_NAME_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_RESERVED = frozenset(rule_engine.parser.Parser.reserved_words)

#: Naive datetimes in conditions are China Standard Time, like the orders themselves.
_CHINA_TZ = timezone(timedelta(hours=8), "CST")
#: ``InvalidOperation`` is not trapped, so comparing with NaN is false instead of an error
#: (the features' convention); dividing by zero and overflow still raise.
DECIMAL = decimal.Context(prec=28, traps=[decimal.DivisionByZero, decimal.Overflow])
_MAX_EXACT_INT = Decimal(2**53)


def python_value(value: Any) -> Any:
    """A numpy or pandas scalar as the Python value ``rule_engine`` understands."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):  # rule_engine orders a datetime with datetimes only
        return value.to_pydatetime()
    return value


def _missing_value(data_type: Any) -> Any:
    if DataType.is_type(data_type, DataType.NULLABLE) or data_type == DataType.DATETIME:
        return None
    return {_FLOAT: math.nan, _BOOLEAN: False, _STRING: "unknown"}[data_type]


# --- list symbols --------------------------------------------------------------------------


def _url_host(url: Any) -> str | None:
    if not isinstance(url, str) or not url:
        return None
    try:
        host = urlsplit(url if "://" in url else "//" + url).hostname
    except ValueError:
        return None
    return host.rstrip(".") if host else None


@dataclass(frozen=True, slots=True)
class _Flag:
    """A boolean the engine derives per event: ``test`` holds for any of the ``inputs``."""

    inputs: tuple[str, ...]
    test: Callable[[Any], bool]


def _never(_value: Any) -> bool:
    return False


def _ip_test(entries: Lists) -> Callable[[Any], bool]:
    if not entries.ips:
        return _never
    table = CidrTable.build((entry.value, "listed") for entry in entries.ips)
    return lambda ip: table.lookup(ip) is not None


def _domain_test(entries: Lists) -> Callable[[Any], bool]:
    domains = frozenset(entry.value for entry in entries.domains)
    if not domains:
        return _never

    def listed(url: Any) -> bool:
        host = _url_host(url)
        if host is None:
            return False
        labels = host.split(".")
        return any(".".join(labels[i:]) in domains for i in range(len(labels)))

    return listed


class Symbols:
    """The names conditions may use: types, missing values, list constants, derived flags.

    >>> symbols = Symbols({"promo_discount_ratio": FeatureKind.FLOAT})
    >>> symbols.missing["promo_discount_ratio"], symbols.missing["promotion_code"]
    (nan, None)
    >>> sorted(symbols.constants)[:2], sorted(symbols.flags)[:2]
    (['allow_app_packages', 'allow_devices'], ['domain_allowlisted', 'domain_blocklisted'])
    """

    def __init__(
        self,
        features: Mapping[str, FeatureKind] | None = None,
        lists: ListsFile | None = None,
    ) -> None:
        self.types: dict[str, Any] = dict(EVENT_SYMBOLS)
        self.constants: dict[str, frozenset[str]] = {}
        self.flags: dict[str, _Flag] = {}
        for side in ("block", "allow"):
            entries = getattr(lists, side) if lists is not None else Lists()
            for kind in _LIST_SETS:
                name = f"{side}_{kind}"
                self.constants[name] = frozenset(e.value for e in getattr(entries, kind))
                self.types[name] = DataType.SET(_STRING)
            self.flags[f"ip_{side}listed"] = _Flag(("network_ip",), _ip_test(entries))
            self.flags[f"domain_{side}listed"] = _Flag(_URL_COLUMNS, _domain_test(entries))
        self.types.update(dict.fromkeys(self.flags, _BOOLEAN))
        self.missing: dict[str, Any] = {
            name: _missing_value(t) for name, t in self.types.items() if name not in self.constants
        }
        for name, kind in (features or {}).items():
            if not _NAME_RE.match(name) or name in _RESERVED:
                raise ValueError(f"feature {name!r} is not a valid rule symbol name")
            if name in self.types:
                raise ValueError(f"feature {name!r} would hide the event column or list symbol")
            self.types[name], self.missing[name] = _FEATURE_TYPES[FeatureKind(kind)]
        self._type_resolver = rule_engine.type_resolver_from_dict(self.types)

    def context(self) -> rule_engine.Context:
        """A fresh rule-engine context typed by this table (one per rule: it records symbols)."""
        return rule_engine.Context(
            type_resolver=self._type_resolver,
            resolver=self.resolve,
            default_timezone=_CHINA_TZ,
            decimal_context=DECIMAL,
            mapping_attribute_lookup=False,
        )

    def resolve(self, context: Context, name: str) -> Any:
        """``rule_engine``'s view of ``name`` in ``context``, the same values the closures see."""
        constant = self.constants.get(name)
        if constant is not None:
            return set(constant)  # rule_engine knows set, not frozenset
        flag = self.flags.get(name)
        if flag is not None:
            return any(flag.test(context.get(column)) for column in flag.inputs)
        value = python_value(context.get(name, self.missing[name]))
        if isinstance(value, str) and type(value) is not str:
            # A StrEnum (``Channel``) must compare as its value, as it does in Python.
            return str.__str__(value)
        return value


# --- type checks ----------------------------------------------------------------------------


class ConditionError(ValueError):
    """A condition that does not compile; the message is written for the analyst."""


def describe_type(data_type: Any) -> str:
    if DataType.is_type(data_type, DataType.NULLABLE):
        return f"{describe_type(data_type.inner_type)} or null"
    if DataType.is_type(data_type, DataType.SET) or DataType.is_type(data_type, DataType.ARRAY):
        inner = data_type.value_type
        return "list" if inner == DataType.UNDEFINED else f"list of {describe_type(inner)}s"
    names = {"FLOAT": "number", "STRING": "string", "BOOLEAN": "boolean", "NULL": "null"}
    return str(names.get(data_type.name, data_type.name.lower()))


def family(data_type: Any) -> str | None:
    """What a value can equal: ``None`` when unknown or null (which may equal anything)."""
    data_type = DataType.NULLABLE.unwrap(data_type)
    if data_type in (DataType.UNDEFINED, DataType.NULL):
        return None
    return str(data_type.name)


def known_families(*nodes: Any) -> set[str | None]:
    """Families of the operands; ``UnsupportedError`` if a type is only known at run time."""
    if any(DataType.NULLABLE.unwrap(n.result_type) == DataType.UNDEFINED for n in nodes):
        raise UnsupportedError("operand of unknown type")
    return {family(n.result_type) for n in nodes}


def _operand(node: Any) -> str:
    if isinstance(node, re_ast.SymbolExpression):
        return f"`{node.name}`"
    if isinstance(node, re_ast.StringExpression):
        return repr(node.value)
    if isinstance(node, re_ast.FloatExpression | re_ast.BooleanExpression):
        return f"`{str(node.value).lower()}`"
    if isinstance(node, re_ast.ArrayExpression | re_ast.SetExpression):
        return "the list"
    return "an expression"


_CHILD_FIELDS = (
    "expression",
    "left",
    "right",
    "condition",
    "case_true",
    "case_false",
    "container",
    "member",
    "object",
    "function",
    "iterable",
    "result",
    "item",
    "start",
    "stop",
)


def _walk(node: Any) -> Iterator[Any]:
    yield node
    for name in _CHILD_FIELDS:
        child = getattr(node, name, None)
        if isinstance(child, re_ast.ExpressionBase):
            yield from _walk(child)
    for child in getattr(node, "arguments", ()):
        yield from _walk(child)
    if isinstance(node, re_ast.ArrayExpression | re_ast.SetExpression):
        for child in node.value:
            yield from _walk(child)


def check_types(statement: Any) -> None:
    """Refuse what ``rule_engine`` lets through but can never be intended.

    ``rule_engine`` accepts ``channel == 5`` (always false) and ``amount in ["a"]``; both
    are type errors an analyst wants to hear about at load, not discover in a backtest.
    """
    for node in _walk(statement.expression):
        if type(node) is re_ast.ComparisonExpression:
            left, right = family(node.left.result_type), family(node.right.result_type)
            if left and right and left != right:
                raise ConditionError(
                    f"type error: {_operand(node.left)} is a "
                    f"{describe_type(node.left.result_type)} and {_operand(node.right)} is a "
                    f"{describe_type(node.right.result_type)}, so they are never equal"
                )
        elif isinstance(node, re_ast.ContainsExpression):
            container = node.container.result_type
            if not (
                DataType.is_type(container, DataType.SET)
                or DataType.is_type(container, DataType.ARRAY)
            ):
                continue
            member, values = family(node.member.result_type), family(container.value_type)
            if member and values and member != values:
                raise ConditionError(
                    f"type error: {_operand(node.member)} is a "
                    f"{describe_type(node.member.result_type)}, so it is never in "
                    f"{_operand(node.container)} (a {describe_type(container)})"
                )
    result = statement.expression.result_type
    if DataType.NULLABLE.unwrap(result) != _BOOLEAN:
        raise ConditionError(
            f"the condition must be true or false, but it gives a {describe_type(result)}"
        )


class UnsupportedError(Exception):
    """A node the compiled paths do not cover: the rule uses ``rule_engine``'s evaluator."""


# --- literal values, as both compilers read them --------------------------------------------


def exact_float(value: Decimal) -> float | None:
    """The float that compares like the literal ``value`` does in ``rule_engine``, if any."""
    if not value.is_finite():
        return float(value)
    if abs(value) <= _MAX_EXACT_INT and Decimal(repr(float(value))) == value:
        return float(value)
    return None


def collection(node: Any, symbols: Symbols) -> frozenset[Any] | None:
    """The fixed values of a literal list or list symbol, ``None`` if computed per event."""
    if isinstance(node, re_ast.SymbolExpression) and node.scope is None:
        return symbols.constants.get(node.name)
    if isinstance(node, re_ast.ArrayExpression | re_ast.SetExpression) and node.is_reduced:
        values = node.evaluate(None)
        try:
            return frozenset(values)
        except TypeError:  # nested mappings are not hashable
            raise UnsupportedError("list of mappings") from None
    return None


def float_members(values: frozenset[Any]) -> frozenset[Any]:
    """``values`` as a float value would meet them: numbers no float equals are dropped."""
    members = set()
    for value in values:
        if isinstance(value, Decimal):
            exact = exact_float(value)
            if exact is not None and not math.isnan(exact):
                members.add(exact)
        else:
            members.add(value)
    return frozenset(members)
