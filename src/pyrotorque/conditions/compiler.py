"""Compile a parsed condition and a sort order into flat Python functions over raw fetched rows.

The tree evaluator (:meth:`pyrotorque.conditions.nodes.Node.bind`) calls one closure per node and
field per item; over 10,000 items that costs more than the ``d.multicall2`` that fetched them.
Here the condition becomes the source of ONE loop that reads the row's columns by index, with
the common conversions and tests (integers, text, globs, tags) written out inline.

Safety: the generated source contains only generated identifiers (``_c0``, ``_c1`` …), column
indexes and operators. Every value that came from the user (thresholds, literals, compiled
patterns, predicates) reaches the code as an argument of a generated factory function, never as
text. The tree evaluator stays the reference: the unit tests check both give the same answers.

Three-valued logic: file and tracker lists are fetched in a second step. The condition is first
brought into negation normal form (NOTs pushed down to the terms); then, with some lists still
missing, it is evaluated twice: once with every term that needs them replaced by True (``hi``)
and once by False (``lo``). ``hi`` false means false whatever the lists hold, ``lo`` true means
true; anything else is unknown. This is exactly Kleene's logic that the tree evaluator uses.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from pyrotorque.conditions.fields import (
    FILES,
    TRACKERS,
    FieldContext,
    FieldDef,
    lookup_field,
    to_bool,
    to_int,
    to_text,
)
from pyrotorque.conditions.nodes import And, Getter, Node, Not, Or, Term
from pyrotorque.conditions.sort import SortField, sort_key
from pyrotorque.conditions.values import (
    BoolValue,
    ByteSizeValue,
    NumberValue,
    PatternValue,
    Predicate,
    TagValue,
    ValueTest,
)

__all__ = ["SOURCES", "Columns", "CompiledQuery", "Program", "is_cacheable_file_field"]

SOURCES: Final = (FILES, TRACKERS)
# d.* results that never change for an info hash, so values computed from them and the file list
# can be cached per hash.
_IMMUTABLE: Final = frozenset({"d.hash", "d.name"})
# Field kinds whose values are plain numbers: they are their own sort key and can be negated.
_NUMERIC_KINDS: Final = frozenset({"number", "bytes", "time", "time_notnull"})


def is_cacheable_file_field(field: FieldDef) -> bool:
    """True if the field is computed from the file list (and immutable item data) only."""
    commands = frozenset(field.commands)
    return (
        FILES in commands
        and TRACKERS not in commands
        and not field.contextual
        and commands - {FILES} <= _IMMUTABLE
    )


@dataclass(frozen=True)
class Columns:
    """Where the compiled code finds things in a row and in a file entry."""

    index: Mapping[str, int]  # d.* command -> column of the d.multicall2 row (column 0 is d.hash)
    file_slots: Mapping[str, int]  # cacheable file field -> slot in a file entry (slot 0: the list)
    multi_file: int | None = None  # column of d.is_multi_file, when single files are derived


@dataclass(frozen=True)
class _Env:
    """What per-fetch constants are built from."""

    now: float
    context: FieldContext
    getter: Callable[[str], Getter]


@dataclass(frozen=True)
class _Literal:
    term: Term
    positive: bool


@dataclass(frozen=True)
class _Junction:
    conjunction: bool  # AND if True, else OR
    children: tuple[_Literal | _Junction, ...]


_Nnf = _Literal | _Junction


def _nnf(node: Node, positive: bool = True) -> _Nnf:
    """Push every NOT down to the terms (De Morgan)."""
    if isinstance(node, Term):
        return _Literal(node, positive)
    if isinstance(node, Not):
        return _nnf(node.child, not positive)
    if isinstance(node, And | Or):
        conjunction = isinstance(node, And) == positive
        return _Junction(conjunction, tuple(_nnf(child, positive) for child in node.children))
    raise TypeError(f"unknown condition node {node!r}")


def _sources_of(field: FieldDef) -> frozenset[str]:
    return frozenset(command for command in field.commands if command in SOURCES)


def _needs(tree: _Nnf) -> frozenset[str]:
    """The list sources some term of the tree needs."""
    if isinstance(tree, _Literal):
        return _sources_of(lookup_field(tree.term.field))
    return frozenset().union(*(_needs(child) for child in tree.children))


@dataclass
class Program:
    """The per-fetch functions, bound to this fetch's clock, aliases and field getters."""

    select: Callable[..., tuple[list[Any], list[Any]]]
    final: Callable[..., set[int]]
    passes: list[tuple[Callable[[Any], Any], bool]]


class CompiledQuery:
    """A condition and sort order compiled once; :meth:`bind` makes the functions of one fetch."""

    def __init__(self, root: Node | None, sort_fields: Sequence[SortField], columns: Columns) -> None:
        self.columns = columns
        self._constants: list[Callable[[_Env], Any]] = []
        self._tree = _nnf(root) if root is not None else None
        self.sources = _needs(self._tree) if self._tree is not None else frozenset()
        self.source = self._generate(sort_fields)
        namespace: dict[str, Any] = {"__builtins__": builtins}
        exec(compile(self.source, "<pyrotorque condition>", "exec"), namespace)
        self._factory: Callable[..., tuple[Any, ...]] = namespace["_factory"]

    def bind(self, now: float, context: FieldContext, getter: Callable[[str], Getter]) -> Program:
        """The functions for one fetch (time thresholds depend on ``now``)."""
        env = _Env(now, context, getter)
        select, final, *keys = self._factory(*(make(env) for make in self._constants))
        return Program(
            select, final, [(key, reverse) for key, reverse in zip(keys[::2], keys[1::2], strict=True)]
        )

    # -- constants ------------------------------------------------------------------------------

    def _const(self, make: Callable[[_Env], Any]) -> str:
        """Register a per-fetch constant; its generated name."""
        self._constants.append(make)
        return f"_c{len(self._constants) - 1}"

    def _value(self, value: Any) -> str:
        return self._const(lambda env: value)

    # -- the whole program ----------------------------------------------------------------------

    def _generate(self, sort_fields: Sequence[SortField]) -> str:
        body = [*self._select_source(), *self._final_source()]
        names = ["_select", "_final"]
        for number, (fields, reverse) in enumerate(_sort_passes(sort_fields)):
            body += self._key_source(number, fields, reverse)
            names += [f"_key{number}", str(reverse)]
        # Constant names are known only now, after every part registered its constants.
        parameters = ", ".join(f"_c{n}" for n in range(len(self._constants)))
        lines = [f"def _factory({parameters}):", *("    " + line for line in body)]
        lines.append(f"    return ({', '.join(names)},)")
        return "\n".join(lines) + "\n"

    def _select_source(self) -> list[str]:
        tree = self._tree
        if tree is None:
            return ["def _select(rows, files, derive):", "    return list(rows), []"]
        if not self.sources:
            full = self._code(tree, frozenset())
            return ["def _select(rows, files, derive):", f"    return [row for row in rows if {full}], []"]
        lines = [
            "def _select(rows, files, derive):",
            "    cands = []",
            "    unknown = []",
            "    add = cands.append",
            "    later = unknown.append",
            "    for row in rows:",
        ]
        if FILES in self.sources:
            both = frozenset(SOURCES)
            multi = self.columns.multi_file
            lines += [
                "        e0 = files.get(row[0])",
                "        if e0 is None:",
                f"            if not {self._code(tree, both, high=True)}:",
                "                continue",
                f"            if {self._code(tree, both, high=False)}:",
                "                add(row)",
                "                continue",
            ]
            if multi is not None:
                is_multi = self._fast_bool(f"row[{multi}]")
                lines += [f"            if {is_multi}:"]
            else:
                lines += ["            if True:"]
            lines += [
                "                add(row)",
                "                later(row)",
                "                continue",
                "            e0 = derive(row)",
            ]
        if TRACKERS in self.sources:
            missing = frozenset({TRACKERS})
            lines += [
                f"        if {self._code(tree, missing, high=True)}:",
                "            add(row)",
                f"            if not {self._code(tree, missing, high=False)}:",
                "                later(row)",
            ]
        else:
            lines += [f"        if {self._code(tree, frozenset())}:", "            add(row)"]
        lines.append("    return cands, unknown")
        return lines

    def _final_source(self) -> list[str]:
        lines = ["def _final(rows, files):", "    rejected = set()"]
        if self._tree is None:
            return [*lines, "    return rejected"]
        lines.append("    for row in rows:")
        if FILES in self.sources:
            lines.append("        e0 = files.get(row[0])")
        lines += [
            f"        if not {self._code(self._tree, frozenset())}:",
            "            rejected.add(id(row))",
            "    return rejected",
        ]
        return lines

    # -- condition code -------------------------------------------------------------------------

    def _code(self, tree: _Nnf, missing: frozenset[str], high: bool = True) -> str:
        """Python code for ``tree`` where terms needing ``missing`` lists are ``high``."""
        if isinstance(tree, _Literal):
            field = lookup_field(tree.term.field)
            if _sources_of(field) & missing:
                return "True" if high else "False"
            code = self._term(tree.term, field)
            return code if tree.positive else f"(not {code})"
        # Cheap terms first, like the tree evaluator: an item already decided needs no lists.
        ordered = sorted(tree.children, key=lambda child: bool(_needs(child)))
        parts = [self._code(child, missing, high) for child in ordered]
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
        sources = _sources_of(field)
        if sources:
            slot = self.columns.file_slots.get(field.name)
            if slot is not None:
                native = f"e0[{slot}]"
                fast = self._tests(tests, native)
                if fast is not None:
                    return fast
                return f"{self._combined(tests)}({native})"
            name = field.name
            getter = self._const(lambda env: env.getter(name))
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
            return self._const(lambda env: _bind_context(convert, env.context))
        return self._value(convert)

    def _combined(self, tests: list[tuple[ValueTest, bool]]) -> str:
        """A constant: one predicate testing all values (any of them matches)."""
        return self._const(
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
            return f"({value} {operator} {self._value(test.threshold)})"
        if isinstance(test, BoolValue):
            return value if test.truth else f"(not {value})"
        if isinstance(test, TagValue):
            if not test.tag:
                return f"(not {value})"
            if test.exact:
                return f"({value} == {self._value(frozenset((test.tag,)))})"
            return f"({self._value(test.tag)} in {value})"
        if isinstance(test, PatternValue):
            matcher = test.matcher
            if matcher.literal is not None:
                if not matcher.literal:
                    return f"(not {value})"
                return f"({value}.lower() == {self._value(matcher.literal)})"
            assert matcher.regex is not None
            if matcher.searches:
                return f"({self._value(matcher.regex.search)}({value}) is not None)"
            return f"({self._value(matcher.regex.match)}({value}.lower()) is not None)"
        return None

    def _fast_bool(self, raw: str) -> str:
        convert = self._value(to_bool)
        return f"(({raw} != 0) if {raw}.__class__ is int else {convert}({raw}))"

    # -- sort keys ------------------------------------------------------------------------------

    def _key_source(self, number: int, fields: list[tuple[SortField, bool]], reverse: bool) -> list[str]:
        parts: list[str] = []
        prelude: list[str] = []
        for position, (sort, negate) in enumerate(fields):
            field = lookup_field(sort.name)
            value = self._field_value(field)
            if field.kind in _NUMERIC_KINDS:
                parts.append(f"-{value}" if negate else value)
            elif field.kind == "pattern" and not _sources_of(field):
                # Text fields always convert to str: sort case-insensitively, then by the text.
                prelude.append(f"    t{position} = {value}")
                parts.append(f"t{position}.lower(), t{position}")
            else:
                parts.append(f"{self._value(sort_key)}({value})")
        return [f"def _key{number}(row):", *prelude, f"    return ({', '.join(parts)},)"]

    def _field_value(self, field: FieldDef) -> str:
        """Code for the converted value of a field in a row (lists through the layout's getter)."""
        if _sources_of(field):
            name = field.name
            return f"{self._const(lambda env: env.getter(name))}(row)"
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


def _sort_passes(sort_fields: Sequence[SortField]) -> list[tuple[list[tuple[SortField, bool]], bool]]:
    """Group sort fields into as few stable sort passes as possible, least significant pass first.

    Numbers can be negated, so they join a pass of either direction; other keys need a pass of
    their own direction. Returns ``([(field, negate), …], reverse)`` per pass.
    """
    passes: list[tuple[list[SortField], bool | None]] = []
    fields: list[SortField] = []
    direction: bool | None = None
    for sort in reversed(sort_fields):
        if lookup_field(sort.name).kind not in _NUMERIC_KINDS:
            if direction is not None and direction != sort.descending:
                passes.append((fields, direction))
                fields = []
            direction = sort.descending
        fields.insert(0, sort)
    if fields:
        passes.append((fields, direction))
    return [
        ([(sort, sort.descending != bool(reverse)) for sort in group], bool(reverse))
        for group, reverse in passes
    ]


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
