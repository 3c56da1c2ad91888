"""Python code for the terms of a compiled condition and for a field's value in a row.

The code reads the row's columns by index and writes the common conversions and tests (integers,
text, globs, tags) out inline, guarded by the raw value's type; anything else calls a predicate.
Every value that came from the user reaches the code as a per-fetch constant (``_c0``, ``_c1`` …),
never as text (see pyrotorque.conditions.compiler).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from pyrotorque.conditions.fields import FieldContext, FieldDef, lookup_field, to_bool, to_int, to_text
from pyrotorque.conditions.nnf import Literal, Nnf, needs, sources_of
from pyrotorque.conditions.nodes import Getter, Term
from pyrotorque.conditions.values import (
    BoolValue,
    ByteSizeValue,
    NumberValue,
    PatternValue,
    Predicate,
    TagValue,
    ValueTest,
)


@dataclass(frozen=True)
class Columns:
    """Where the compiled code finds things in a row and in a file entry."""

    index: Mapping[str, int]  # d.* command -> column of the d.multicall2 row (column 0 is d.hash)
    file_slots: Mapping[str, int]  # cacheable file field -> slot in a file entry (slot 0: the list)
    multi_file: int | None = None  # column of d.is_multi_file, when single files are derived


@dataclass(frozen=True)
class Env:
    """What per-fetch constants are built from."""

    now: float
    context: FieldContext
    getter: Callable[[str], Getter]


class Constants:
    """The per-fetch constants of one generated program; the code names them ``_c0``, ``_c1`` …"""

    def __init__(self) -> None:
        self.makers: list[Callable[[Env], Any]] = []

    def const(self, make: Callable[[Env], Any]) -> str:
        """Register a per-fetch constant; its generated name."""
        self.makers.append(make)
        return f"_c{len(self.makers) - 1}"

    def value(self, value: Any) -> str:
        """Register a constant that is the same for every fetch; its generated name."""
        return self.const(lambda env: value)


class TermCode:
    """Writes the code for conditions, terms and field values of one program."""

    def __init__(self, columns: Columns, constants: Constants) -> None:
        self.columns = columns
        self._constants = constants

    def code(self, tree: Nnf, missing: frozenset[str], high: bool = True) -> str:
        """Python code for ``tree`` where terms needing ``missing`` lists are ``high``."""
        if isinstance(tree, Literal):
            field = lookup_field(tree.term.field)
            if sources_of(field) & missing:
                return "True" if high else "False"
            code = self._term(tree.term, field)
            return code if tree.positive else f"(not {code})"
        # Cheap terms first, like the tree evaluator: an item already decided needs no lists.
        ordered = sorted(tree.children, key=lambda child: bool(needs(child)))
        parts = [self.code(child, missing, high) for child in ordered]
        absorbing, neutral = ("False", "True") if tree.conjunction else ("True", "False")
        if absorbing in parts:
            return absorbing
        parts = [part for part in parts if part != neutral]
        if not parts:
            return neutral
        if len(parts) == 1:
            return parts[0]
        return "(" + (" and " if tree.conjunction else " or ").join(parts) + ")"

    def _term(self, term: Term, field: FieldDef) -> str:
        """Code for one term: ``field`` matches any of the values."""
        tests = [(value.test, value.negated) for value in term.values]
        sources = sources_of(field)
        if sources:
            slot = self.columns.file_slots.get(field.name)
            if slot is not None:
                native = f"e0[{slot}]"
                fast = self._tests(tests, native)
                if fast is not None:
                    return fast
                return f"{self._combined(tests)}({native})"
            name = field.name
            getter = self._constants.const(lambda env: env.getter(name))
            return f"{self._combined(tests)}({getter}(row))"
        columns = [f"row[{self.columns.index[command]}]" for command in field.commands]
        slow = f"{self._combined(tests)}({self._converter(field)}({', '.join(columns)}))"
        if len(columns) == 1:
            fast = self._inline(field, tests, columns[0])
            if fast is not None:
                return f"({fast} if {slow_guard(field, columns[0])} else {slow})"
        return slow

    def _converter(self, field: FieldDef) -> str:
        convert = field.convert
        if field.contextual:
            return self._constants.const(lambda env: _bind_context(convert, env.context))
        return self._constants.value(convert)

    def _combined(self, tests: list[tuple[ValueTest, bool]]) -> str:
        """A constant: one predicate testing all values (any of them matches)."""
        return self._constants.const(
            lambda env: _any_of([(test.predicate(env.now), negated) for test, negated in tests])
        )

    def _inline(self, field: FieldDef, tests: list[tuple[ValueTest, bool]], raw: str) -> str | None:
        """Inline code for a raw value of the field's native type (see :func:`slow_guard`)."""
        native = _NATIVE.get(id(field.convert))
        if native is None:
            return None
        _type, wrap = native
        return self._tests(tests, wrap.format(raw))

    def _tests(self, tests: list[tuple[ValueTest, bool]], value: str) -> str | None:
        codes = []
        for test, negated in tests:
            code = self._test(test, value)
            if code is None:
                return None
            codes.append(f"(not {code})" if negated else code)
        return codes[0] if len(codes) == 1 else "(" + " or ".join(codes) + ")"

    def _test(self, test: ValueTest, value: str) -> str | None:
        """Inline code for one value test over a converted value (int, str, bool or frozenset)."""
        if isinstance(test, NumberValue | ByteSizeValue):
            operator = {"+": ">", "-": "<", "": "=="}[test.sign]
            return f"({value} {operator} {self._constants.value(test.threshold)})"
        if isinstance(test, BoolValue):
            return value if test.truth else f"(not {value})"
        if isinstance(test, TagValue):
            if not test.tag:
                return f"(not {value})"
            if test.exact:
                return f"({value} == {self._constants.value(frozenset((test.tag,)))})"
            return f"({self._constants.value(test.tag)} in {value})"
        if isinstance(test, PatternValue):
            matcher = test.matcher
            if matcher.literal is not None:
                if not matcher.literal:
                    return f"(not {value})"
                return f"({value}.lower() == {self._constants.value(matcher.literal)})"
            assert matcher.regex is not None
            if matcher.searches:
                return f"({self._constants.value(matcher.regex.search)}({value}) is not None)"
            return f"({self._constants.value(matcher.regex.match)}({value}.lower()) is not None)"
        return None

    def fast_bool(self, raw: str) -> str:
        convert = self._constants.value(to_bool)
        return f"(({raw} != 0) if {raw}.__class__ is int else {convert}({raw}))"

    def field_value(self, field: FieldDef) -> str:
        """Code for the converted value of a field in a row (lists through the layout's getter)."""
        if sources_of(field):
            name = field.name
            return f"{self._constants.const(lambda env: env.getter(name))}(row)"
        columns = [f"row[{self.columns.index[command]}]" for command in field.commands]
        slow = f"{self._converter(field)}({', '.join(columns)})"
        native = _NATIVE.get(id(field.convert))
        if len(columns) == 1 and native is not None and native[1] == "{}":
            return f"({columns[0]} if {slow_guard(field, columns[0])} else {slow})"
        return slow


def slow_guard(field: FieldDef, raw: str) -> str:
    """The test that a raw value has the type the inline code is written for."""
    native = _NATIVE[id(field.convert)]
    return f"{raw}.__class__ is {native[0]}"


def _bind_context(convert: Callable[..., Any], context: FieldContext) -> Callable[..., Any]:
    return lambda *raw: convert(context, *raw)


def _any_of(tests: list[tuple[Predicate, bool]]) -> Predicate:
    """One predicate for a term's values (the same logic as the tree evaluator's term)."""
    if len(tests) == 1:
        ((test, negated),) = tests
        return (lambda value: not test(value)) if negated else test
    return lambda value: any((not test(value)) if negated else test(value) for test, negated in tests)


# Converters that hand a raw value of a known type back as it is (or as its truth): for such a
# converter and a raw value of that type, ``wrap.format(raw)`` is the converted value.
_NATIVE: Final[dict[int, tuple[str, str]]] = {
    id(to_int): ("int", "{}"),
    id(to_text): ("str", "{}"),
    id(to_bool): ("int", "({} != 0)"),
}
