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
wrapped in double quotes with ``\\`` and ``"`` escaped, which nests to any depth (filter_text
builds the text, integer_bounds finds the bounds of integer tests).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Final

from pyrotorque.conditions.fields import lookup_field
from pyrotorque.conditions.filter_text import TRUE, either, group, inside, negation, outside
from pyrotorque.conditions.integer_bounds import interval
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
        if expression is not None and expression != TRUE:
            pushed.append((expression, conjunct))
    if not pushed:
        return None
    expressions = [expression for expression, _ in pushed]
    expression = expressions[0] if len(expressions) == 1 else group("and", expressions)
    nodes = tuple(node for _, node in pushed)
    return PushedFilter(expression, tuple(node.canonical() for node in nodes), nodes)


def _conjuncts(node: Node) -> Iterator[Node]:
    if isinstance(node, And):
        for child in node.children:
            yield from _conjuncts(child)
    else:
        yield node


# --- translating nodes --------------------------------------------------------------------------


def _exact(node: Node) -> str | None:
    """A filter that keeps exactly the items ``node`` is true for, or ``None``."""
    if isinstance(node, Term):
        return _term(node)
    if isinstance(node, Not):
        inner = _exact(node.child)
        if inner is None or inner == TRUE:
            return None  # never true: not worth a filter that drops everything
        return negation(inner)
    if isinstance(node, And | Or):
        parts = [_exact(child) for child in node.children]
        if any(part is None for part in parts):
            return None
        expressions = [part for part in parts if part is not None]
        if isinstance(node, Or):
            return either(expressions)
        expressions = [part for part in expressions if part != TRUE]
        if not expressions:
            return TRUE
        return expressions[0] if len(expressions) == 1 else group("and", expressions)
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
    return either(expressions) if expressions else None


def _bool_value(command: str) -> Callable[[Any, bool], str | None]:
    def translate(test: Any, negated: bool) -> str | None:
        if not isinstance(test, BoolValue):
            return None
        wanted = test.truth != negated
        return f"{command}=" if wanted else negation(f"{command}=")

    return translate


def _empty_text_value(command: str) -> Callable[[Any, bool], str | None]:
    def translate(test: Any, negated: bool) -> str | None:
        # Only the fixed "empty" test: a string is true in rTorrent exactly when it is not empty.
        if not isinstance(test, PatternValue) or test.matcher.text != "":
            return None
        return f"{command}=" if negated else negation(f"{command}=")

    return translate


def _integer_value(field: str, command: str) -> Callable[[Any, bool], str | None]:
    convert = lookup_field(field).convert

    def translate(test: Any, negated: bool) -> str | None:
        if not isinstance(test, NumberValue | ByteSizeValue):
            return None
        predicate = test.predicate(0.0)  # numbers do not depend on the clock

        def holds(raw: int) -> bool:
            return bool(predicate(convert(raw)))

        bounds = interval(test.sign, test.threshold, convert, holds)
        if bounds is None:
            return None
        low, high = bounds
        if negated:
            return outside(command, low, high)
        return inside(command, low, high)

    return translate
