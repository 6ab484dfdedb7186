"""The rules engine: every condition is compiled once at load and evaluated fast.

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

Why the engine compiles conditions itself
-----------------------------------------
``rule_engine``'s own evaluator walks its AST, converts every number to ``Decimal`` and
re-checks every value's type on each call: about 10 µs per rule per event, so a 25-rule pack
would spend ~250 µs of a 50 µs budget. ``rule_engine`` therefore stays the parser and type
checker, and :func:`compile_rule` turns its typed AST into plain Python closures with the same
results (``benchmarks/bench_rules.py`` measures both; ``tests/rules/test_fastpath.py`` proves
the results equal with hypothesis). Exactness rests on three facts:

* numbers compare as floats. ``rule_engine`` compares ``Decimal(repr(x))``, and ``repr`` is
  monotonic over floats, so float comparisons agree for every literal that a float
  represents; a literal no float represents (``0.10000000000000000001``) makes its
  comparison run on ``Decimal``, as does every arithmetic operation (``paid_amount / amount``),
  under the same decimal context;
* values are never type-converted: the symbol table fixes each name's type, and a context
  must hold those types (``bool``, ``float``/``int``, ``str``; ``None`` where nullable);
* nodes the closures do not cover (attribute access, functions, datetimes, comprehensions)
  send that one rule to ``rule_engine``'s evaluator, so every valid condition runs.

:meth:`RuleSet.evaluate_frame` goes one step further on a DataFrame: supported conditions are
evaluated as numpy array operations, and the rest row by row with the same closures as online.
"""

from __future__ import annotations

import decimal
import hashlib
import json
import logging
import math
import operator
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta, timezone
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import urlsplit

import numpy as np
import numpy.typing as npt
import pandas as pd
import rule_engine
from rule_engine import DataType
from rule_engine import ast as re_ast

from fraudguard.exceptions import DataFileError, FieldProblem, RuleError
from fraudguard.features.base import FeatureKind
from fraudguard.reference.ranges import CidrTable
from fraudguard.reference.schemas import Lists, ListsFile
from fraudguard.rules.enums import RuleAction, RuleMode
from fraudguard.rules.schemas import Rule
from fraudguard.schema import DecisionOutcome, Reason

__all__ = [
    "EVENT_SYMBOLS",
    "LIST_SYMBOLS",
    "CompiledRule",
    "Condition",
    "ConditionError",
    "FrameEvaluation",
    "RuleEvaluation",
    "RuleHit",
    "RuleSet",
    "Symbols",
    "compile_condition",
    "compile_rule",
    "ruleset_version",
]

_log = logging.getLogger(__name__)

Context = Mapping[str, Any]
BoolArray = npt.NDArray[np.bool_]

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
_DECIMAL = decimal.Context(prec=28, traps=[decimal.DivisionByZero, decimal.Overflow])
_MAX_EXACT_INT = Decimal(2**53)


def _python_value(value: Any) -> Any:
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
            decimal_context=_DECIMAL,
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
        value = _python_value(context.get(name, self.missing[name]))
        if isinstance(value, str) and type(value) is not str:
            # A StrEnum (``Channel``) must compare as its value, as it does in Python.
            return str.__str__(value)
        return value


# --- compiling a condition ------------------------------------------------------------------


class ConditionError(ValueError):
    """A condition that does not compile; the message is written for the analyst."""


def _describe_type(data_type: Any) -> str:
    if DataType.is_type(data_type, DataType.NULLABLE):
        return f"{_describe_type(data_type.inner_type)} or null"
    if DataType.is_type(data_type, DataType.SET) or DataType.is_type(data_type, DataType.ARRAY):
        inner = data_type.value_type
        return "list" if inner == DataType.UNDEFINED else f"list of {_describe_type(inner)}s"
    names = {"FLOAT": "number", "STRING": "string", "BOOLEAN": "boolean", "NULL": "null"}
    return str(names.get(data_type.name, data_type.name.lower()))


def _family(data_type: Any) -> str | None:
    """What a value can equal: ``None`` when unknown or null (which may equal anything)."""
    data_type = DataType.NULLABLE.unwrap(data_type)
    if data_type in (DataType.UNDEFINED, DataType.NULL):
        return None
    return str(data_type.name)


def _known_families(*nodes: Any) -> set[str | None]:
    """Families of the operands; ``_UnsupportedError`` if a type is only known at run time."""
    if any(DataType.NULLABLE.unwrap(n.result_type) == DataType.UNDEFINED for n in nodes):
        raise _UnsupportedError("operand of unknown type")
    return {_family(n.result_type) for n in nodes}


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


def _check_types(statement: Any) -> None:
    """Refuse what ``rule_engine`` lets through but can never be intended.

    ``rule_engine`` accepts ``channel == 5`` (always false) and ``amount in ["a"]``; both
    are type errors an analyst wants to hear about at load, not discover in a backtest.
    """
    for node in _walk(statement.expression):
        if type(node) is re_ast.ComparisonExpression:
            left, right = _family(node.left.result_type), _family(node.right.result_type)
            if left and right and left != right:
                raise ConditionError(
                    f"type error: {_operand(node.left)} is a "
                    f"{_describe_type(node.left.result_type)} and {_operand(node.right)} is a "
                    f"{_describe_type(node.right.result_type)}, so they are never equal"
                )
        elif isinstance(node, re_ast.ContainsExpression):
            container = node.container.result_type
            if not (
                DataType.is_type(container, DataType.SET)
                or DataType.is_type(container, DataType.ARRAY)
            ):
                continue
            member, values = _family(node.member.result_type), _family(container.value_type)
            if member and values and member != values:
                raise ConditionError(
                    f"type error: {_operand(node.member)} is a "
                    f"{_describe_type(node.member.result_type)}, so it is never in "
                    f"{_operand(node.container)} (a {_describe_type(container)})"
                )
    result = statement.expression.result_type
    if DataType.NULLABLE.unwrap(result) != _BOOLEAN:
        raise ConditionError(
            f"the condition must be true or false, but it gives a {_describe_type(result)}"
        )


def _engine_error(text: str, error: rule_engine.EngineError, symbols: Symbols) -> ConditionError:
    if isinstance(error, rule_engine.SymbolResolutionError):
        hint = f" (did you mean `{error.suggestion}`?)" if error.suggestion else ""
        return ConditionError(f"unknown symbol `{error.symbol_name}`{hint}")
    if isinstance(error, rule_engine.errors.SyntaxError):
        return ConditionError(f"cannot parse the condition: {error.message}")
    # rule_engine's type errors do not say which names they are about; list their types.
    try:
        used = rule_engine.Rule(text, rule_engine.Context()).context.symbols
    except rule_engine.EngineError:
        used = set()
    types = ", ".join(
        f"{n} is a {_describe_type(symbols.types[n])}" for n in sorted(used) if n in symbols.types
    )
    return ConditionError(f"type error: {error.message}" + (f" ({types})" if types else ""))


class _UnsupportedError(Exception):
    """A node the compiled paths do not cover: the rule uses ``rule_engine``'s evaluator."""


@dataclass(frozen=True, slots=True)
class Condition:
    """A compiled condition: ``rule_engine``'s rule plus the fast paths built from it."""

    text: str
    rule: rule_engine.Rule
    #: Names of the symbol table the condition reads.
    symbols: frozenset[str]
    #: One event -> fired? The compiled closure, or ``rule.matches`` when not ``fast``.
    online: Callable[[Context], Any]
    fast: bool
    #: Whole frame -> fired per row, or ``None`` when the rule runs row by row in batch.
    batch: Callable[[_Frame], Any] | None


def compile_condition(text: str, symbols: Symbols) -> Condition:
    """Parse, type-check and compile one condition; raises :class:`ConditionError`."""
    try:
        # rule_engine folds constant parts while parsing: fold them as evaluation would.
        with decimal.localcontext(_DECIMAL):
            rule = rule_engine.Rule(text, symbols.context())
    except rule_engine.EngineError as error:
        raise _engine_error(text, error, symbols) from None
    except ArithmeticError as error:
        raise ConditionError(f"a constant part cannot be computed ({error!r})") from None
    _check_types(rule.statement)
    used = frozenset(n for n in rule.context.symbols if n in symbols.types)
    expression = rule.statement.expression
    try:
        online: Callable[[Context], Any] = _OnlineCompiler(symbols).compile_top(expression)
        fast = True
    except _UnsupportedError:
        online, fast = rule.matches, False
    try:
        batch: Callable[[_Frame], Any] | None = _BatchCompiler(symbols).compile(expression)
    except _UnsupportedError:
        batch = None
    return Condition(text, rule, used, online, fast, batch)


# --- online closures ------------------------------------------------------------------------

_Fn = Callable[[Context], Any]


def _exact_float(value: Decimal) -> float | None:
    """The float that compares like the literal ``value`` does in ``rule_engine``, if any."""
    if not value.is_finite():
        return float(value)
    if abs(value) <= _MAX_EXACT_INT and Decimal(repr(float(value))) == value:
        return float(value)
    return None


def _to_decimal(value: Any) -> Any:
    """``rule_engine``'s number conversion; ``None`` stays ``None``."""
    if value is None or isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    return Decimal(repr(float(value)))


@dataclass(frozen=True, slots=True)
class _Node:
    fn: _Fn
    #: The value is a ``Decimal`` (arithmetic), not a plain float.
    decimal: bool = False
    #: Set for literals, so operations can bake the constant in.
    constant: Any = None
    is_constant: bool = False
    #: Set for plain context reads, so operations can inline ``context.get``.
    symbol: tuple[str, Any] | None = None


def _constant(value: Any, *, decimal: bool = False) -> _Node:
    return _Node(lambda _c: value, decimal=decimal, constant=value, is_constant=True)


_COMPARE = {
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
}
_ARITHMETIC = {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "tdiv": operator.truediv,
    "fdiv": operator.floordiv,
    "mod": operator.mod,
    "pow": operator.pow,
}


def _symbol_vs_constant(op: Callable[[Any, Any], Any], name: str, missing: Any, k: Any) -> _Fn:
    # The most common shape (``amount >= 500``), specialised to one dict read and one compare.
    if op is operator.eq:
        return lambda c: c.get(name, missing) == k
    if op is operator.ne:
        return lambda c: c.get(name, missing) != k
    if op is operator.lt:
        return lambda c: c.get(name, missing) < k
    if op is operator.le:
        return lambda c: c.get(name, missing) <= k
    if op is operator.gt:
        return lambda c: c.get(name, missing) > k
    return lambda c: c.get(name, missing) >= k


class _OnlineCompiler:
    """Turns a type-checked ``rule_engine`` AST into closures over one event's dict."""

    def __init__(self, symbols: Symbols) -> None:
        self.symbols = symbols
        self.uses_decimal = False

    def compile_top(self, expression: Any) -> _Fn:
        fn = self.compile(expression).fn
        if not self.uses_decimal:
            return fn

        def in_decimal_context(context: Context) -> Any:
            with decimal.localcontext(_DECIMAL):
                return fn(context)

        return in_decimal_context

    def compile(self, node: Any) -> _Node:
        handler = self._handlers.get(type(node))
        if handler is None:
            raise _UnsupportedError(type(node).__name__)
        return handler(self, node)

    def as_decimal(self, node: _Node) -> _Fn:
        self.uses_decimal = True
        if node.decimal:
            return node.fn
        if node.is_constant:
            value = _to_decimal(node.constant)
            return lambda _c: value
        fn = node.fn
        return lambda c: _to_decimal(fn(c))

    # literals and names

    def literal(self, node: Any) -> _Node:
        if isinstance(node, re_ast.FloatExpression):
            exact = _exact_float(node.value)
            if exact is None:
                self.uses_decimal = True
                return _constant(node.value, decimal=True)
            return _constant(exact)
        return _constant(node.value)

    def symbol(self, node: Any) -> _Node:
        name = node.name
        if node.scope is not None or name in self.symbols.constants:
            raise _UnsupportedError("built-in or list symbol outside `in`")
        flag = self.symbols.flags.get(name)
        if flag is not None:
            test, inputs = flag.test, flag.inputs
            if len(inputs) == 1:
                (only,) = inputs
                return _Node(lambda c: test(c.get(only)))
            return _Node(lambda c: any(test(c.get(column)) for column in inputs))
        missing = self.symbols.missing[name]
        return _Node(lambda c: c.get(name, missing), symbol=(name, missing))

    # logic

    def logic(self, node: Any) -> _Node:
        left, right = self.compile(node.left).fn, self.compile(node.right).fn
        plain = node.left.result_type == _BOOLEAN and node.right.result_type == _BOOLEAN
        if node.type == "and":
            if plain:
                return _Node(lambda c: left(c) and right(c))
            return _Node(lambda c: bool(left(c) and right(c)))
        if plain:
            return _Node(lambda c: left(c) or right(c))
        return _Node(lambda c: bool(left(c) or right(c)))

    def unary(self, node: Any) -> _Node:
        operand = self.compile(node.right)
        fn = operand.fn
        if node.type == "not":
            return _Node(lambda c: not fn(c))
        if node.right.result_type != _FLOAT:
            raise _UnsupportedError("unary minus on a non-number")
        return _Node(lambda c: -fn(c), decimal=operand.decimal)

    def ternary(self, node: Any) -> _Node:
        test = self.compile(node.condition).fn
        when_true, when_false = self.compile(node.case_true), self.compile(node.case_false)
        if when_true.decimal != when_false.decimal:
            yes, no = self.as_decimal(when_true), self.as_decimal(when_false)
            return _Node(lambda c: yes(c) if test(c) else no(c), decimal=True)
        yes, no = when_true.fn, when_false.fn
        return _Node(lambda c: yes(c) if test(c) else no(c), decimal=when_true.decimal)

    def coalesce(self, node: Any) -> _Node:
        left, right = self.compile(node.left), self.compile(node.right)
        decimal = left.decimal or right.decimal
        first = self.as_decimal(left) if decimal else left.fn
        second = self.as_decimal(right) if decimal else right.fn
        return _Node(lambda c: v if (v := first(c)) is not None else second(c), decimal=decimal)

    # comparisons

    def comparison(self, node: Any) -> _Node:
        families = _known_families(node.left, node.right)
        if node.type not in ("eq", "ne") and not families <= {"FLOAT", "STRING", "BOOLEAN"}:
            raise _UnsupportedError("ordered comparison of datetimes or collections")
        if families & {"ARRAY", "SET", "MAPPING", "DATETIME", "TIMEDELTA", "BYTES", "OBJECT"}:
            raise _UnsupportedError("comparison of compound or time values")
        op = _COMPARE[node.type]
        left, right = self.compile(node.left), self.compile(node.right)
        if left.decimal or right.decimal:
            lhs, rhs = self.as_decimal(left), self.as_decimal(right)
            return _Node(lambda c: op(lhs(c), rhs(c)))
        if left.symbol is not None and right.is_constant:
            return _Node(_symbol_vs_constant(op, *left.symbol, right.constant))
        lhs, rhs = left.fn, right.fn
        return _Node(lambda c: op(lhs(c), rhs(c)))

    def regex(self, node: Any) -> _Node:
        if not isinstance(node.right, re_ast.StringExpression):
            raise _UnsupportedError("regular expression computed per event")
        pattern = re.compile(node.right.value, flags=node.context.regex_flags)
        find = pattern.match if node.type.endswith("fzm") else pattern.search
        text = self.compile(node.left).fn
        if node.type.startswith("eq"):
            return _Node(lambda c: (v := text(c)) is not None and find(v) is not None)
        return _Node(lambda c: (v := text(c)) is None or find(v) is None)

    def contains(self, node: Any) -> _Node:
        member = self.compile(node.member)
        values = _collection(node.container, self.symbols)
        if values is None:
            text_in_text = _family(node.member.result_type) == "STRING"
            if node.container.result_type != _STRING or not text_in_text:
                raise _UnsupportedError("membership in a computed collection")
            needle, haystack = member.fn, self.compile(node.container).fn
            return _Node(lambda c: needle(c) in haystack(c))
        if member.decimal:
            decimals, fn = frozenset(values), member.fn
            return _Node(lambda c: fn(c) in decimals)
        floats = _float_members(values)
        if member.symbol is not None:
            name, missing = member.symbol
            return _Node(lambda c: c.get(name, missing) in floats)
        fn = member.fn
        return _Node(lambda c: fn(c) in floats)

    # arithmetic: always on Decimal, exactly as rule_engine computes it

    def arithmetic(self, node: Any) -> _Node:
        if node.result_type != _FLOAT:
            raise _UnsupportedError("arithmetic on strings or datetimes")
        op = _ARITHMETIC[node.type]
        left = self.as_decimal(self.compile(node.left))
        right = self.as_decimal(self.compile(node.right))
        return _Node(lambda c: op(left(c), right(c)), decimal=True)

    _handlers: ClassVar[dict[type, Callable[[_OnlineCompiler, Any], _Node]]] = {
        re_ast.BooleanExpression: literal,
        re_ast.FloatExpression: literal,
        re_ast.StringExpression: literal,
        re_ast.NullExpression: literal,
        re_ast.SymbolExpression: symbol,
        re_ast.LogicExpression: logic,
        re_ast.UnaryExpression: unary,
        re_ast.TernaryExpression: ternary,
        re_ast.CoalesceExpression: coalesce,
        re_ast.ComparisonExpression: comparison,
        re_ast.ArithmeticComparisonExpression: comparison,
        re_ast.FuzzyComparisonExpression: regex,
        re_ast.ContainsExpression: contains,
        re_ast.ArithmeticExpression: arithmetic,
        re_ast.AddExpression: arithmetic,
        re_ast.SubtractExpression: arithmetic,
    }


def _collection(node: Any, symbols: Symbols) -> frozenset[Any] | None:
    """The fixed values of a literal list or list symbol, ``None`` if computed per event."""
    if isinstance(node, re_ast.SymbolExpression) and node.scope is None:
        return symbols.constants.get(node.name)
    if isinstance(node, re_ast.ArrayExpression | re_ast.SetExpression) and node.is_reduced:
        values = node.evaluate(None)
        try:
            return frozenset(values)
        except TypeError:  # nested mappings are not hashable
            raise _UnsupportedError("list of mappings") from None
    return None


def _float_members(values: frozenset[Any]) -> frozenset[Any]:
    """``values`` as a float value would meet them: numbers no float equals are dropped."""
    members = set()
    for value in values:
        if isinstance(value, Decimal):
            exact = _exact_float(value)
            if exact is not None and not math.isnan(exact):
                members.add(exact)
        else:
            members.add(value)
    return frozenset(members)


# --- batch: the same conditions as numpy operations over a frame -----------------------------


@dataclass(frozen=True, slots=True)
class _Frame:
    columns: Mapping[str, np.ndarray[Any, Any]]
    length: int


_BatchFn = Callable[[_Frame], Any]


def _truthy(value: Any, length: int) -> BoolArray:
    """Python truthiness of every element (a scalar is broadcast)."""
    if not isinstance(value, np.ndarray):
        return np.full(length, bool(value))
    if value.dtype == np.bool_:
        return value
    if value.dtype.kind == "f":
        return np.not_equal(value, 0.0)  # NaN is truthy, as bool(nan) is
    return np.fromiter(map(bool, value), dtype=bool, count=length)


def _map_values(values: Any, test: Callable[[Any], bool], length: int) -> BoolArray:
    """``test`` of every element, computed once per distinct value (inputs repeat a lot)."""
    if not isinstance(values, np.ndarray):
        return np.full(length, bool(test(values)))
    codes, uniques = pd.factorize(values)
    out = np.zeros(length, dtype=bool)
    if len(uniques):
        out = np.fromiter((test(u) for u in uniques), dtype=bool, count=len(uniques))[codes]
    for i in np.flatnonzero(codes < 0):  # None and NaN: test the value itself
        out[i] = test(values[i])
    return out


class _BatchCompiler:
    """Vectorised twins of the online closures, for the nodes where numpy agrees exactly."""

    def __init__(self, symbols: Symbols) -> None:
        self.symbols = symbols

    def compile(self, node: Any) -> _BatchFn:
        handler = self._handlers.get(type(node))
        if handler is None:
            raise _UnsupportedError(type(node).__name__)
        return handler(self, node)

    def literal(self, node: Any) -> _BatchFn:
        value = node.value
        if isinstance(node, re_ast.FloatExpression):
            value = _exact_float(value)
            if value is None:
                raise _UnsupportedError("literal only Decimal represents")
        return lambda _f: value

    def symbol(self, node: Any) -> _BatchFn:
        if node.scope is not None or node.name in self.symbols.constants:
            raise _UnsupportedError("built-in or list symbol outside `in`")
        name = node.name
        return lambda f: f.columns[name]

    def logic(self, node: Any) -> _BatchFn:
        left, right = self.compile(node.left), self.compile(node.right)
        combine = np.logical_and if node.type == "and" else np.logical_or
        return lambda f: combine(_truthy(left(f), f.length), _truthy(right(f), f.length))

    def negation(self, node: Any) -> _BatchFn:
        if node.type != "not":
            raise _UnsupportedError("unary minus")
        operand = self.compile(node.right)
        return lambda f: ~_truthy(operand(f), f.length)

    def coalesce(self, node: Any) -> _BatchFn:
        left, right = self.compile(node.left), self.compile(node.right)
        dtype = {_FLOAT: float, _BOOLEAN: bool}.get(node.result_type, object)

        def run(f: _Frame) -> Any:
            first = left(f)
            if not isinstance(first, np.ndarray) or first.dtype != object:
                return first if first is not None else right(f)
            missing = np.fromiter((v is None for v in first), dtype=bool, count=len(first))
            if not missing.any():
                return first.astype(dtype)
            second = right(f)
            out = first.copy()
            out[missing] = second[missing] if isinstance(second, np.ndarray) else second
            return out.astype(dtype)

        return run

    def comparison(self, node: Any) -> _BatchFn:
        families = _known_families(node.left, node.right)
        if not families <= {"FLOAT", "STRING", "BOOLEAN", None}:
            raise _UnsupportedError("comparison of compound or time values")
        ufunc = {
            "eq": np.equal,
            "ne": np.not_equal,
            "lt": np.less,
            "le": np.less_equal,
            "gt": np.greater,
            "ge": np.greater_equal,
        }[node.type]
        left, right = self.compile(node.left), self.compile(node.right)
        return lambda f: np.asarray(ufunc(left(f), right(f)), dtype=bool)

    def regex(self, node: Any) -> _BatchFn:
        if not isinstance(node.right, re_ast.StringExpression):
            raise _UnsupportedError("regular expression computed per row")
        pattern = re.compile(node.right.value, flags=node.context.regex_flags)
        find = pattern.match if node.type.endswith("fzm") else pattern.search
        text = self.compile(node.left)
        if node.type.startswith("eq"):
            return lambda f: _map_values(
                text(f), lambda v: v is not None and find(v) is not None, f.length
            )
        return lambda f: _map_values(text(f), lambda v: v is None or find(v) is None, f.length)

    def contains(self, node: Any) -> _BatchFn:
        values = _collection(node.container, self.symbols)
        if values is None:
            raise _UnsupportedError("membership in a computed collection")
        members = _float_members(values)
        numbers = np.array([v for v in members if isinstance(v, float | bool)], dtype=float)
        member = self.compile(node.member)

        def run(f: _Frame) -> Any:
            value = member(f)
            if isinstance(value, np.ndarray) and value.dtype.kind == "f":
                return np.isin(value, numbers)
            return _map_values(value, lambda v: v in members, f.length)

        return run

    _handlers: ClassVar[dict[type, Callable[[_BatchCompiler, Any], _BatchFn]]] = {
        re_ast.BooleanExpression: literal,
        re_ast.FloatExpression: literal,
        re_ast.StringExpression: literal,
        re_ast.NullExpression: literal,
        re_ast.SymbolExpression: symbol,
        re_ast.LogicExpression: logic,
        re_ast.UnaryExpression: negation,
        re_ast.CoalesceExpression: coalesce,
        re_ast.ComparisonExpression: comparison,
        re_ast.ArithmeticComparisonExpression: comparison,
        re_ast.FuzzyComparisonExpression: regex,
        re_ast.ContainsExpression: contains,
    }


#: What ``pandas.api.types.infer_dtype`` may call the present values of each type.
_INFERRED = {
    "STRING": {"string", "empty"},
    "BOOLEAN": {"boolean", "empty"},
    "FLOAT": {"floating", "integer", "mixed-integer-float", "empty"},
    "DATETIME": {"datetime", "empty"},
}


def _column(series: pd.Series[Any], data_type: Any, missing: Any) -> np.ndarray[Any, Any]:
    """One frame column as the online path sees it: Python values, ``missing`` for gaps.

    Non-nullable numbers become a float array, non-nullable booleans a bool array, the
    rest object arrays; a column holding values of another type is a DataFileError.
    """
    name = str(series.name)
    inner = DataType.NULLABLE.unwrap(data_type)
    if inner == _FLOAT:
        try:
            series = pd.to_numeric(series)
        except (ValueError, TypeError):
            raise DataFileError(f"column {name} must hold numbers") from None
        if data_type == _FLOAT:
            return series.to_numpy(dtype=float, na_value=math.nan)
    elif inner == DataType.DATETIME and not isinstance(series.dtype, pd.DatetimeTZDtype):
        try:
            series = pd.to_datetime(series, utc=True, format="ISO8601")
        except (ValueError, TypeError):
            raise DataFileError(f"column {name} must hold ISO 8601 date-times") from None
    absent = series.isna().to_numpy(dtype=bool)
    values = series.to_numpy(dtype=object, copy=True)  # numpy scalars become Python ones
    if pd.api.types.infer_dtype(values[~absent], skipna=False) not in _INFERRED[inner.name]:
        raise DataFileError(f"column {name} must hold {_describe_type(inner)} values")
    if inner == DataType.DATETIME:
        values[~absent] = [_python_value(v) for v in values[~absent]]
    values[absent] = missing
    return values.astype(bool) if data_type == _BOOLEAN else values


# --- results -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RuleHit:
    """One rule that fired, with the reason it gives (``source`` is ``rule:<id>``)."""

    rule_id: str
    action: RuleAction
    mode: RuleMode
    score_delta: float
    reason: Reason


@dataclass(frozen=True, slots=True)
class RuleEvaluation:
    """What a rule set says about one event."""

    ruleset_version: str
    #: Active rules that fired, in pack order.
    hits: tuple[RuleHit, ...]
    #: Shadow rules that fired: recorded for analysis, never part of the outcome.
    shadow_hits: tuple[RuleHit, ...]
    #: Strongest of block > review > tag among the active hits; ``None`` if none fired.
    action: RuleAction | None
    #: Sum of ``score_delta`` over the active ``score`` rules that fired.
    score_delta: float
    #: Ids of rules that raised on this event (logged; they count as not fired).
    errors: tuple[str, ...] = ()

    @property
    def reasons(self) -> list[Reason]:
        return [hit.reason for hit in self.hits]

    @property
    def outcome(self) -> DecisionOutcome:
        """The rules' own verdict: block and review map through, anything else allows."""
        if self.action is RuleAction.BLOCK:
            return DecisionOutcome.BLOCK
        if self.action is RuleAction.REVIEW:
            return DecisionOutcome.REVIEW
        return DecisionOutcome.ALLOW


@dataclass(frozen=True)
class FrameEvaluation:
    """What a rule set says about every row of a frame (index preserved)."""

    ruleset_version: str
    #: One boolean column per enabled rule (active and shadow), in pack order.
    hits: pd.DataFrame
    #: Same shape: the rule raised on that row (and counts as not fired).
    errors: pd.DataFrame
    #: Strongest active action per row (``block``/``review``/``tag``), ``None`` if none.
    actions: pd.Series[Any]
    #: Sum of active ``score`` deltas per row.
    score_delta: pd.Series[float]


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A rule as written, its compiled condition and the hit it reports."""

    rule: Rule
    condition: Condition
    hit: RuleHit

    @property
    def id(self) -> str:
        return self.rule.id

    @property
    def active(self) -> bool:
        return self.rule.mode is RuleMode.ACTIVE


def compile_rule(rule: Rule, symbols: Symbols) -> CompiledRule:
    """Compile one rule; raises :class:`ConditionError` for a condition that does not."""
    reason = Reason(
        code=rule.reason_code,
        family=rule.family,
        severity=rule.severity,
        source=f"rule:{rule.id}",
        message=rule.message,
        message_zh=rule.message_zh,
    )
    hit = RuleHit(rule.id, rule.action, rule.mode, rule.score_delta or 0.0, reason)
    return CompiledRule(rule, compile_condition(rule.condition, symbols), hit)


def ruleset_version(rules: Iterable[Rule]) -> str:
    """``sha256:`` + digest of the rules' canonical JSON, sorted by id.

    Layout, comments, key order and how rules are split into files do not change it; any
    change to any field of any rule does.

    >>> rule = Rule(id="VEL-001", title="t", family="velocity", severity="low",
    ...             condition="amount > 1", action="tag", reason_code="VELOCITY.T",
    ...             message="m", message_zh="中", rationale="r")
    >>> ruleset_version([rule]) == ruleset_version([rule.model_copy()])
    True
    >>> ruleset_version([rule]) == ruleset_version([rule.model_copy(update={"enabled": False})])
    False
    """
    canonical = json.dumps(
        [r.model_dump(mode="json") for r in sorted(rules, key=lambda r: r.id)],
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class RuleSet:
    """A compiled, immutable rule pack: evaluate one event or a whole frame.

    >>> rules = [Rule(id="NET-001", title="Open Wi-Fi, big top-up", family="unsafe_network",
    ...     severity="medium", condition='network_wifi_security == "open" and amount >= 200',
    ...     action="review", reason_code="UNSAFE_NETWORK.OPEN_WIFI",
    ...     message="Large top-up paid on open Wi-Fi", message_zh="在开放Wi-Fi上大额充值",
    ...     rationale="Open hotspots are where payment pages get intercepted.")]
    >>> rule_set = RuleSet.from_rules(rules)
    >>> result = rule_set.evaluate({"amount": 300.0, "network_wifi_security": "open"})
    >>> result.action, [r.source for r in result.reasons]
    (<RuleAction.REVIEW: 'review'>, ['rule:NET-001'])
    >>> rule_set.evaluate({"amount": 300.0}).action is None
    True
    """

    def __init__(
        self, rules: Sequence[CompiledRule], symbols: Symbols, version: str, source: str = ""
    ) -> None:
        self.rules: tuple[CompiledRule, ...] = tuple(rules)
        self.symbols = symbols
        self.version = version
        self.source = source
        self._live = tuple(r for r in self.rules if r.rule.enabled)
        self._conditions = tuple((r.condition.online, r) for r in self._live)
        self._by_id = {r.id: r for r in self.rules}
        # Most events fire nothing: they share one (immutable) answer.
        self._quiet = RuleEvaluation(version, (), (), None, 0.0)

    @classmethod
    def from_rules(
        cls,
        rules: Sequence[Rule],
        *,
        features: Mapping[str, FeatureKind] | None = None,
        lists: ListsFile | None = None,
        locate: Callable[[int, str], str] | None = None,
        source: str = "",
    ) -> RuleSet:
        """Compile ``rules``; every problem is reported at once in one :class:`RuleError`.

        ``locate(index, field)`` names where rule ``index`` is written (default: its id).
        """
        symbols = Symbols(features, lists)
        where = locate or (lambda i, field: f"{rules[i].id}: {field}")
        compiled: list[CompiledRule] = []
        problems: list[FieldProblem] = []
        first: dict[str, int] = {}
        for index, rule in enumerate(rules):
            if rule.id in first:
                problems.append(
                    FieldProblem(
                        where(index, "id"),
                        f"{rule.id} is defined twice; first at {where(first[rule.id], 'id')}",
                    )
                )
                continue
            first[rule.id] = index
            try:
                compiled.append(compile_rule(rule, symbols))
            except ConditionError as error:
                problems.append(FieldProblem(where(index, "condition"), str(error)))
        if problems:
            raise RuleError(f"{len(problems)} rule problem(s) in {source or 'the pack'}", problems)
        return cls(compiled, symbols, ruleset_version(rules), source)

    def __len__(self) -> int:
        return len(self.rules)

    def __iter__(self) -> Iterator[CompiledRule]:
        return iter(self.rules)

    def __getitem__(self, rule_id: str) -> CompiledRule:
        return self._by_id[rule_id]

    @property
    def live(self) -> tuple[CompiledRule, ...]:
        """The enabled rules, active and shadow, in pack order."""
        return self._live

    def evaluate(self, context: Context) -> RuleEvaluation:
        """Evaluate every enabled rule on one event: flat event columns plus features.

        Values must have their symbols' types (``bool``, ``float``/``int``, ``str``, and
        ``None`` where nullable); absent names take their missing value. A rule that raises
        is logged by id and counts as not fired, so one bad rule cannot stop scoring.
        """
        active: list[RuleHit] = []
        shadow: list[RuleHit] = []
        errors: list[str] = []
        for condition, rule in self._conditions:
            try:
                fired = condition(context)
            except Exception as error:  # isolate the broken rule, keep scoring
                _log.warning(
                    "rule %s raised %s; counted as not fired", rule.id, type(error).__name__
                )
                errors.append(rule.id)
                continue
            if fired:
                (active if rule.active else shadow).append(rule.hit)
        if not (active or shadow or errors):
            return self._quiet
        action: RuleAction | None = None
        score = 0.0
        for hit in active:
            if hit.action is RuleAction.SCORE:
                score += hit.score_delta
            elif action is None or hit.action.rank > action.rank:
                action = hit.action
        return RuleEvaluation(
            self.version, tuple(active), tuple(shadow), action, score, tuple(errors)
        )

    def evaluate_frame(self, frame: pd.DataFrame) -> FrameEvaluation:
        """Evaluate every enabled rule on every row, with exactly the online results.

        Columns: flat event columns and feature columns. Optional event columns may be
        absent (all missing); any other column a rule reads must be present.
        """
        length = len(frame)
        columns = self._columns(frame)
        view = _Frame(columns, length)
        row_values: dict[str, list[Any]] = {}
        hits: dict[str, BoolArray] = {}
        errors: dict[str, BoolArray] = {}
        for rule in self._live:
            fired = self._vectorised(rule, view)
            if fired is None:
                fired, failed = self._row_by_row(rule, columns, row_values, length)
            else:
                failed = np.zeros(length, dtype=bool)
            hits[rule.id], errors[rule.id] = fired, failed
        index = frame.index
        hit_frame = pd.DataFrame(hits, index=index, columns=[r.id for r in self._live])
        error_frame = pd.DataFrame(errors, index=index, columns=hit_frame.columns)
        rank = np.zeros(length, dtype=np.int8)
        score = np.zeros(length, dtype=float)
        for rule in self._live:
            if not rule.active:
                continue
            if rule.hit.action is RuleAction.SCORE:
                score += np.where(hits[rule.id], rule.hit.score_delta, 0.0)
            else:
                rank = np.maximum(rank, np.where(hits[rule.id], rule.hit.action.rank, 0))
        names = np.array([None, RuleAction.TAG, RuleAction.REVIEW, RuleAction.BLOCK], dtype=object)
        return FrameEvaluation(
            self.version,
            hit_frame,
            error_frame,
            pd.Series(names[rank], index=index, name="action", dtype=object),
            pd.Series(score, index=index, name="score_delta"),
        )

    def _columns(self, frame: pd.DataFrame) -> dict[str, np.ndarray[Any, Any]]:
        symbols = self.symbols
        used: set[str] = set()
        for rule in self._live:
            used |= rule.condition.symbols
        flags = {name for name in used if name in symbols.flags}
        needed = (used - flags - set(symbols.constants)).union(
            *(symbols.flags[name].inputs for name in flags)
        )
        absent = sorted(
            n
            for n in needed
            if n not in frame.columns and not DataType.is_type(symbols.types[n], DataType.NULLABLE)
        )
        if absent:
            raise DataFileError(
                "the frame lacks columns the rules read (features must be computed first): "
                + ", ".join(absent)
            )
        columns: dict[str, np.ndarray[Any, Any]] = {}
        for name in sorted(needed):
            if name in frame.columns:
                columns[name] = _column(frame[name], symbols.types[name], symbols.missing[name])
            else:
                columns[name] = np.full(len(frame), None, dtype=object)
        for name in flags:
            flag = symbols.flags[name]
            listed = np.zeros(len(frame), dtype=bool)
            for column in flag.inputs:
                listed |= _map_values(columns[column], flag.test, len(frame))
            columns[name] = listed
        return columns

    @staticmethod
    def _vectorised(rule: CompiledRule, view: _Frame) -> BoolArray | None:
        if rule.condition.batch is None:
            return None
        try:
            return _truthy(rule.condition.batch(view), view.length)
        except Exception:  # e.g. a None numpy cannot order: go row by row
            _log.debug("rule %s falls back to row-by-row evaluation", rule.id)
            return None

    def _row_by_row(
        self,
        rule: CompiledRule,
        columns: Mapping[str, np.ndarray[Any, Any]],
        cache: dict[str, list[Any]],
        length: int,
    ) -> tuple[BoolArray, BoolArray]:
        flags, constants = self.symbols.flags, self.symbols.constants
        read = rule.condition.symbols
        # The online closure derives a flag from its inputs, so rows carry the inputs.
        names = sorted(
            {n for n in read if n not in flags and n not in constants}.union(
                *(flags[n].inputs for n in read if n in flags)
            )
        )
        for name in names:
            if name not in cache:
                cache[name] = columns[name].tolist()  # Python values, as online
        values = [cache[name] for name in names]
        fired = np.zeros(length, dtype=bool)
        failed = np.zeros(length, dtype=bool)
        evaluate = rule.condition.online
        for i in range(length):
            try:
                fired[i] = bool(evaluate({n: v[i] for n, v in zip(names, values, strict=True)}))
            except Exception:  # as online: the rule counts as not fired
                failed[i] = True
        return fired, failed
