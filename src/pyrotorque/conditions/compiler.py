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

The parts: nnf (the condition's shape), term_code (code for terms and field values), sort_code
(sort keys); this module writes the program around them and binds it per fetch.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from pyrotorque.conditions.fields import FILES, TRACKERS, FieldContext, FieldDef
from pyrotorque.conditions.nnf import SOURCES, Nnf, needs, nnf
from pyrotorque.conditions.nodes import Getter, Node
from pyrotorque.conditions.sort import SortField
from pyrotorque.conditions.sort_code import key_source, sort_passes
from pyrotorque.conditions.term_code import Columns, Constants, Env, TermCode

__all__ = ["SOURCES", "Columns", "CompiledQuery", "Program", "is_cacheable_file_field"]

# d.* results that never change for an info hash, so values computed from them and the file list
# can be cached per hash.
_IMMUTABLE: Final = frozenset({"d.hash", "d.name"})


def is_cacheable_file_field(field: FieldDef) -> bool:
    """True if the field is computed from the file list (and immutable item data) only."""
    commands = frozenset(field.commands)
    return (
        FILES in commands
        and TRACKERS not in commands
        and not field.contextual
        and commands - {FILES} <= _IMMUTABLE
    )


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
        self._constants = Constants()
        self._terms = TermCode(columns, self._constants)
        self._tree = nnf(root) if root is not None else None
        self.sources = needs(self._tree) if self._tree is not None else frozenset()
        self.source = self._generate(sort_fields)
        namespace: dict[str, Any] = {"__builtins__": builtins}
        exec(compile(self.source, "<pyrotorque condition>", "exec"), namespace)
        self._factory: Callable[..., tuple[Any, ...]] = namespace["_factory"]

    def bind(self, now: float, context: FieldContext, getter: Callable[[str], Getter]) -> Program:
        """The functions for one fetch (time thresholds depend on ``now``)."""
        env = Env(now, context, getter)
        select, final, *keys = self._factory(*(make(env) for make in self._constants.makers))
        return Program(
            select, final, [(key, reverse) for key, reverse in zip(keys[::2], keys[1::2], strict=True)]
        )

    def _generate(self, sort_fields: Sequence[SortField]) -> str:
        body = [*self._select_source(), *self._final_source()]
        names = ["_select", "_final"]
        for number, (fields, reverse) in enumerate(sort_passes(sort_fields)):
            body += key_source(self._terms, self._constants, number, fields, reverse)
            names += [f"_key{number}", str(reverse)]
        # Constant names are known only now, after every part registered its constants.
        parameters = ", ".join(f"_c{n}" for n in range(len(self._constants.makers)))
        lines = [f"def _factory({parameters}):", *("    " + line for line in body)]
        lines.append(f"    return ({', '.join(names)},)")
        return "\n".join(lines) + "\n"

    def _select_source(self) -> list[str]:
        """``_select(rows, files, derive)``: the candidates, and those still waiting for their lists."""
        tree = self._tree
        code = self._terms.code
        if tree is None:
            return ["def _select(rows, files, derive):", "    return list(rows), []"]
        if not self.sources:
            full = code(tree, frozenset())
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
            lines += self._files_step(tree)
        if TRACKERS in self.sources:
            missing = frozenset({TRACKERS})
            lines += [
                f"        if {code(tree, missing, high=True)}:",
                "            add(row)",
                f"            if not {code(tree, missing, high=False)}:",
                "                later(row)",
            ]
        else:
            lines += [f"        if {code(tree, frozenset())}:", "            add(row)"]
        lines.append("    return cands, unknown")
        return lines

    def _files_step(self, tree: Nnf) -> list[str]:
        """The loop's lines for a row whose file entry is not known yet: decided without the lists,
        kept for later (a multi-file item), or given an entry derived from the row (a single file)."""
        both = frozenset(SOURCES)
        code = self._terms.code
        multi = self.columns.multi_file
        lines = [
            "        e0 = files.get(row[0])",
            "        if e0 is None:",
            f"            if not {code(tree, both, high=True)}:",
            "                continue",
            f"            if {code(tree, both, high=False)}:",
            "                add(row)",
            "                continue",
        ]
        if multi is not None:
            lines += [f"            if {self._terms.fast_bool(f'row[{multi}]')}:"]
        else:
            lines += ["            if True:"]
        return [
            *lines,
            "                add(row)",
            "                later(row)",
            "                continue",
            "            e0 = derive(row)",
        ]

    def _final_source(self) -> list[str]:
        """``_final(rows, files)``: the ids of the rows the condition rejects once all lists are in."""
        lines = ["def _final(rows, files):", "    rejected = set()"]
        if self._tree is None:
            return [*lines, "    return rejected"]
        lines.append("    for row in rows:")
        if FILES in self.sources:
            lines.append("        e0 = files.get(row[0])")
        lines += [
            f"        if not {self._terms.code(self._tree, frozenset())}:",
            "            rejected.add(id(row))",
            "    return rejected",
        ]
        return lines
