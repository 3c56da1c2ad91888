"""Translate the parts of a condition that rTorrent can evaluate into a ``d.multicall.filtered`` filter.

The filter only cuts rows early; the client still evaluates the whole condition on what comes
back. So a pushed filter must never drop an item the condition keeps. Only top-level AND
conjuncts are pushed (each one may be an OR / NOT group whose parts all translate exactly):

* boolean fields backed by one ``d.*`` command: ``d.is_open=`` or ``not=$d.is_open=``;
* integer fields backed by one ``d.*`` command (``prio``, ``size``, ``fno``, ``up``, ``down``,
  ``uploaded``, ``ratio``): ``greater=``/``less=``/``equal=`` against a ``value=`` constant. The
  integer bounds are found by searching with the term's own predicate over the converted value,
  so ``size>1.5k`` or ``ratio>=0.25`` mean exactly what the client-side test means;
* ``message=`` (empty) and ``message=!`` (not empty), as string truth.

The filter text is built only from generated pieces: command names from the tables below and
integers computed here. No text from the condition ever reaches it. Syntax measured on rTorrent
0.9.8 and 0.16 (docs/compatibility.md): arguments containing ``,`` ``{`` ``}`` ``"`` ``\\`` are
wrapped in double quotes with ``\\`` and ``"`` escaped, which nests to any depth.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Final

from pyrotorque.conditions.fields import lookup_field
from pyrotorque.conditions.nodes import And, Node, Not, Or, Term
from pyrotorque.conditions.values import BoolValue, ByteSizeValue, NumberValue, PatternValue

__all__ = ["PUSHABLE_FIELDS", "PushedFilter", "push_down"]

# Field -> the one d.* command rTorrent evaluates for it. Each of these answers an integer on
# both lines; the client converts it with the field's own (monotonic) conversion.
_BOOL_FIELDS: Final = {
    "is_open": "d.is_open",
    "is_active": "d.is_active",
    "is_started": "d.state",
    "is_hashing": "d.hashing",
    "is_complete": "d.complete",
    "is_ignored": "d.ignore_commands",
    "is_private": "d.is_private",
    "is_multi_file": "d.is_multi_file",
}
_INTEGER_FIELDS: Final = {
    "prio": "d.priority",
    "size": "d.size_bytes",
    "fno": "d.size_files",
    "up": "d.up.rate",
    "down": "d.down.rate",
    "uploaded": "d.up.total",
    "ratio": "d.ratio",
}
_EMPTY_TEXT_FIELDS: Final = {"message": "d.message"}
PUSHABLE_FIELDS: Final = frozenset(_BOOL_FIELDS) | frozenset(_INTEGER_FIELDS) | frozenset(_EMPTY_TEXT_FIELDS)

# Integer bounds are searched for in this range; rTorrent's values are int64 and the pushed
# fields are never anywhere near it, so a bound at its edge means "unbounded".
_LOWEST: Final = -(2**62)
_HIGHEST: Final = 2**62
_NEEDS_QUOTES: Final = re.compile(r'[,{}"\\\s]')
_COMMAND_NAME: Final = re.compile(r"(?<![a-z0-9_.])([a-z][a-z0-9_.]*)=")


@dataclass(frozen=True)
class PushedFilter:
    """The filter for ``d.multicall.filtered``, and the canonical text of the terms it covers."""

    expression: str
    terms: tuple[str, ...]
    #: The pushed conjuncts themselves, to estimate on fetched rows how much the filter would drop.
    nodes: tuple[Node, ...] = ()

    def commands(self) -> frozenset[str]:
        """Every rTorrent command the expression calls (to check the server has them all)."""
        return frozenset(_COMMAND_NAME.findall(self.expression.replace("\\", "")))


def push_down(root: Node | None) -> PushedFilter | None:
    """The filter for the pushable top-level conjuncts of ``root``, or ``None`` if there are none."""
    if root is None:
        return None
    pushed: list[tuple[str, Node]] = []
    for conjunct in _conjuncts(root):
        expression = _exact(conjunct)
        if expression is not None and expression != _TRUE:
            pushed.append((expression, conjunct))
    if not pushed:
        return None
    expressions = [expression for expression, _ in pushed]
    expression = expressions[0] if len(expressions) == 1 else _group("and", expressions)
    nodes = tuple(node for _, node in pushed)
    return PushedFilter(expression, tuple(node.canonical() for node in nodes), nodes)


def _conjuncts(node: Node) -> Iterator[Node]:
    if isinstance(node, And):
        for child in node.children:
            yield from _conjuncts(child)
    else:
        yield node


# --- building the filter text ----------------------------------------------------------------------

_TRUE: Final = "value=1"


def _argument(text: str) -> str:
    if text and not _NEEDS_QUOTES.search(text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _call(command: str, *arguments: str) -> str:
    return f"{command}=" + ",".join(_argument(argument) for argument in arguments)


def _group(command: str, expressions: list[str]) -> str:
    """``and={a,b}`` / ``or={a,b}``: rTorrent evaluates the elements lazily, left to right."""
    return f"{command}={{" + ",".join(_argument(expression) for expression in expressions) + "}"


def _negation(expression: str) -> str:
    return _call("not", "$" + expression)


def _either(expressions: list[str]) -> str:
    if _TRUE in expressions:
        return _TRUE
    return expressions[0] if len(expressions) == 1 else _group("or", expressions)


# --- translating nodes --------------------------------------------------------------------------


def _exact(node: Node) -> str | None:
    """A filter that keeps exactly the items ``node`` is true for, or ``None``."""
    if isinstance(node, Term):
        return _term(node)
    if isinstance(node, Not):
        inner = _exact(node.child)
        if inner is None or inner == _TRUE:
            return None  # never true: not worth a filter that drops everything
        return _negation(inner)
    if isinstance(node, And | Or):
        parts = [_exact(child) for child in node.children]
        if any(part is None for part in parts):
            return None
        expressions = [part for part in parts if part is not None]
        if isinstance(node, Or):
            return _either(expressions)
        expressions = [part for part in expressions if part != _TRUE]
        if not expressions:
            return _TRUE
        return expressions[0] if len(expressions) == 1 else _group("and", expressions)
    return None


def _term(term: Term) -> str | None:
    """A term is an OR over its values; every value must translate exactly."""
    if term.field in _BOOL_FIELDS:
        translate: Callable[[Any, bool], str | None] = _bool_value(_BOOL_FIELDS[term.field])
    elif term.field in _INTEGER_FIELDS:
        translate = _integer_value(term.field, _INTEGER_FIELDS[term.field])
    elif term.field in _EMPTY_TEXT_FIELDS:
        translate = _empty_text_value(_EMPTY_TEXT_FIELDS[term.field])
    else:
        return None
    expressions: list[str] = []
    for value in term.values:
        expression = translate(value.test, value.negated)
        if expression is None:
            return None
        expressions.append(expression)
    return _either(expressions) if expressions else None


def _bool_value(command: str) -> Callable[[Any, bool], str | None]:
    def translate(test: Any, negated: bool) -> str | None:
        if not isinstance(test, BoolValue):
            return None
        wanted = test.truth != negated
        return f"{command}=" if wanted else _negation(f"{command}=")

    return translate


def _empty_text_value(command: str) -> Callable[[Any, bool], str | None]:
    def translate(test: Any, negated: bool) -> str | None:
        # Only the fixed "empty" test: a string is true in rTorrent exactly when it is not empty.
        if not isinstance(test, PatternValue) or test.matcher.text != "":
            return None
        return f"{command}=" if negated else _negation(f"{command}=")

    return translate


def _integer_value(field: str, command: str) -> Callable[[Any, bool], str | None]:
    convert = lookup_field(field).convert

    def translate(test: Any, negated: bool) -> str | None:
        if not isinstance(test, NumberValue | ByteSizeValue):
            return None
        predicate = test.predicate(0.0)  # numbers do not depend on the clock

        def holds(raw: int) -> bool:
            return bool(predicate(convert(raw)))

        bounds = _interval(test.sign, test.threshold, convert, holds)
        if bounds is None:
            return None
        low, high = bounds
        if negated:
            return _outside(command, low, high)
        return _inside(command, low, high)

    return translate


def _interval(
    sign: str, threshold: float, convert: Callable[[Any], Any], holds: Callable[[int], bool]
) -> tuple[int | None, int | None] | None:
    """The raw integers the test holds for, as ``(low, high)`` (``None``: unbounded); ``None`` if empty.

    ``convert`` is monotonic, so the set is an interval; it is checked against ``holds`` at its ends.
    """
    low: int | None
    high: int | None
    if sign == "+":
        low, high = _first(holds), None
        if low is None:
            return None
    elif sign == "-":
        low, high = None, _last(holds)
        if high is None:
            return None
    else:
        low = _first(lambda raw: convert(raw) >= threshold)
        high = _last(lambda raw: convert(raw) <= threshold)
        if low is None or high is None or low > high:
            return None
    if low is not None and low <= _LOWEST:
        low = None
    if high is not None and high >= _HIGHEST:
        high = None
    # The ends must hold and their outer neighbours must not: the translation is exact.
    for inside, outside in ((low, -1), (high, 1)):
        if inside is not None and (not holds(inside) or holds(inside + outside)):
            return None
    return low, high


def _first(holds: Callable[[int], bool]) -> int | None:
    """The least integer in range for which a test that turns true once (and stays) holds."""
    low, high = _LOWEST, _HIGHEST
    if not holds(high):
        return None
    while low < high:
        middle = (low + high) // 2
        if holds(middle):
            high = middle
        else:
            low = middle + 1
    return low


def _last(holds: Callable[[int], bool]) -> int | None:
    """The greatest integer in range for which a test that holds up to some point holds."""
    low, high = _LOWEST, _HIGHEST
    if not holds(low):
        return None
    while low < high:
        middle = (low + high + 1) // 2
        if holds(middle):
            low = middle
        else:
            high = middle - 1
    return low


def _compare(operator: str, command: str, number: int) -> str:
    return _call(operator, f"{command}=", f"value={number}")


def _inside(command: str, low: int | None, high: int | None) -> str:
    if low is None and high is None:
        return _TRUE
    if high is None:
        assert low is not None
        return _compare("greater", command, low - 1)
    if low is None:
        return _compare("less", command, high + 1)
    if low == high:
        return _compare("equal", command, low)
    return _group("and", [_compare("greater", command, low - 1), _compare("less", command, high + 1)])


def _outside(command: str, low: int | None, high: int | None) -> str | None:
    if low is None and high is None:
        return None  # never true
    if high is None:
        assert low is not None
        return _compare("less", command, low)
    if low is None:
        return _compare("greater", command, high)
    return _group("or", [_compare("less", command, low), _compare("greater", command, high)])
