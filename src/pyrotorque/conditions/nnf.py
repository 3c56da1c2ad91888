"""A condition in negation normal form (every NOT pushed down to its term), and the list sources
(file list, tracker list) its terms need: the shape the compiler writes its code from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from pyrotorque.conditions.fields import FILES, TRACKERS, FieldDef, lookup_field
from pyrotorque.conditions.nodes import And, Node, Not, Or, Term

#: The lists fetched in a second step, after the d.multicall2 rows.
SOURCES: Final = (FILES, TRACKERS)


@dataclass(frozen=True)
class Literal:
    """A term, or its negation."""

    term: Term
    positive: bool


@dataclass(frozen=True)
class Junction:
    """An AND or an OR of literals and junctions."""

    conjunction: bool  # AND if True, else OR
    children: tuple[Literal | Junction, ...]


Nnf = Literal | Junction


def nnf(node: Node, positive: bool = True) -> Nnf:
    """Push every NOT down to the terms (De Morgan)."""
    if isinstance(node, Term):
        return Literal(node, positive)
    if isinstance(node, Not):
        return nnf(node.child, not positive)
    if isinstance(node, And | Or):
        conjunction = isinstance(node, And) == positive
        return Junction(conjunction, tuple(nnf(child, positive) for child in node.children))
    raise TypeError(f"unknown condition node {node!r}")


def sources_of(field: FieldDef) -> frozenset[str]:
    """The list sources a field is computed from."""
    return frozenset(command for command in field.commands if command in SOURCES)


def needs(tree: Nnf) -> frozenset[str]:
    """The list sources some term of the tree needs."""
    if isinstance(tree, Literal):
        return sources_of(lookup_field(tree.term.field))
    return frozenset().union(*(needs(child) for child in tree.children))
