"""The per-event compiler: every condition is compiled once at load and evaluated fast.

The condition language and the names it may use are in :mod:`fraudguard.rules.symbols`; the
numpy twins of these closures, for whole frames, are in :mod:`fraudguard.rules.batch`.

Why the engine compiles conditions itself
-----------------------------------------
``rule_engine``'s own evaluator walks its AST, converts every number to ``Decimal`` and
re-checks every value's type on each call, too slow for a whole pack inside one event's
latency budget. ``rule_engine`` therefore stays the parser and type checker, and
:func:`compile_condition` turns its typed AST into plain Python closures with the same
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
"""

from __future__ import annotations

import decimal
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

import rule_engine
from rule_engine import DataType
from rule_engine import ast as re_ast

from fraudguard.rules.batch import BatchCompiler, Frame
from fraudguard.rules.symbols import (
    DECIMAL,
    ConditionError,
    Context,
    Symbols,
    UnsupportedError,
    check_types,
    collection,
    describe_type,
    exact_float,
    family,
    float_members,
    known_families,
)

__all__ = ["Condition", "compile_condition"]

_STRING, _FLOAT, _BOOLEAN = DataType.STRING, DataType.FLOAT, DataType.BOOLEAN


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
        f"{n} is a {describe_type(symbols.types[n])}" for n in sorted(used) if n in symbols.types
    )
    return ConditionError(f"type error: {error.message}" + (f" ({types})" if types else ""))


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
    batch: Callable[[Frame], Any] | None


def compile_condition(text: str, symbols: Symbols) -> Condition:
    """Parse, type-check and compile one condition; raises :class:`ConditionError`."""
    try:
        # rule_engine folds constant parts while parsing: fold them as evaluation would.
        with decimal.localcontext(DECIMAL):
            rule = rule_engine.Rule(text, symbols.context())
    except rule_engine.EngineError as error:
        raise _engine_error(text, error, symbols) from None
    except ArithmeticError as error:
        raise ConditionError(f"a constant part cannot be computed ({error!r})") from None
    check_types(rule.statement)
    used = frozenset(n for n in rule.context.symbols if n in symbols.types)
    expression = rule.statement.expression
    try:
        online: Callable[[Context], Any] = _OnlineCompiler(symbols).compile_top(expression)
        fast = True
    except UnsupportedError:
        online, fast = rule.matches, False
    try:
        batch: Callable[[Frame], Any] | None = BatchCompiler(symbols).compile(expression)
    except UnsupportedError:
        batch = None
    return Condition(text, rule, used, online, fast, batch)


# --- online closures ------------------------------------------------------------------------

_Fn = Callable[[Context], Any]


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
            with decimal.localcontext(DECIMAL):
                return fn(context)

        return in_decimal_context

    def compile(self, node: Any) -> _Node:
        handler = self._handlers.get(type(node))
        if handler is None:
            raise UnsupportedError(type(node).__name__)
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
            exact = exact_float(node.value)
            if exact is None:
                self.uses_decimal = True
                return _constant(node.value, decimal=True)
            return _constant(exact)
        return _constant(node.value)

    def symbol(self, node: Any) -> _Node:
        name = node.name
        if node.scope is not None or name in self.symbols.constants:
            raise UnsupportedError("built-in or list symbol outside `in`")
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
            raise UnsupportedError("unary minus on a non-number")
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
        families = known_families(node.left, node.right)
        if node.type not in ("eq", "ne") and not families <= {"FLOAT", "STRING", "BOOLEAN"}:
            raise UnsupportedError("ordered comparison of datetimes or collections")
        if families & {"ARRAY", "SET", "MAPPING", "DATETIME", "TIMEDELTA", "BYTES", "OBJECT"}:
            raise UnsupportedError("comparison of compound or time values")
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
            raise UnsupportedError("regular expression computed per event")
        pattern = re.compile(node.right.value, flags=node.context.regex_flags)
        find = pattern.match if node.type.endswith("fzm") else pattern.search
        text = self.compile(node.left).fn
        if node.type.startswith("eq"):
            return _Node(lambda c: (v := text(c)) is not None and find(v) is not None)
        return _Node(lambda c: (v := text(c)) is None or find(v) is None)

    def contains(self, node: Any) -> _Node:
        member = self.compile(node.member)
        values = collection(node.container, self.symbols)
        if values is None:
            text_in_text = family(node.member.result_type) == "STRING"
            if node.container.result_type != _STRING or not text_in_text:
                raise UnsupportedError("membership in a computed collection")
            needle, haystack = member.fn, self.compile(node.container).fn
            return _Node(lambda c: needle(c) in haystack(c))
        if member.decimal:
            decimals, fn = frozenset(values), member.fn
            return _Node(lambda c: fn(c) in decimals)
        floats = float_members(values)
        if member.symbol is not None:
            name, missing = member.symbol
            return _Node(lambda c: c.get(name, missing) in floats)
        fn = member.fn
        return _Node(lambda c: fn(c) in floats)

    # arithmetic: always on Decimal, exactly as rule_engine computes it

    def arithmetic(self, node: Any) -> _Node:
        if node.result_type != _FLOAT:
            raise UnsupportedError("arithmetic on strings or datetimes")
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
