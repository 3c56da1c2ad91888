"""Parse condition texts into a tree of nodes (grammar: docs/conditions.md).

::

    condition := group
    group     := ["NOT"] or_list          # a NOT first in a group negates the whole group
    or_list   := and_list ("OR" and_list)*
    and_list  := unary unary*             # juxtaposition is AND
    unary     := "NOT" unary | "[" group "]" | term
    term      := FIELD OP values | values # a bare value list tests the default field

This module parses the structure; a term's own text is parsed in terms.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from pyrotorque.conditions.nodes import And, Evaluator, Node, Not, Or, Resolver
from pyrotorque.conditions.terms import FieldLookup, FieldSpec, parse_term
from pyrotorque.conditions.tokens import Token, tokenize
from pyrotorque.errors import ConditionError

__all__ = ["FieldSpec", "Matcher", "parse_condition"]

MAX_DEPTH: Final = 64


@dataclass(frozen=True)
class Matcher:
    """A parsed condition: its tree, the text it came from, and its canonical form."""

    root: Node
    text: str

    def canonical(self) -> str:
        """The canonical form (spec §6.4) for log lines."""
        return self.root.canonical()

    def field_names(self) -> frozenset[str]:
        """All field names the condition reads."""
        return frozenset(self.root.field_names())

    def evaluator(self, resolver: Resolver, now: float | None = None) -> tuple[Evaluator, bool]:
        """Bind to a way of reading fields; see :meth:`Node.bind`."""
        return self.root.bind(resolver, time.time() if now is None else now)

    def match(self, item: Any, now: float | None = None) -> bool:
        """Does an in-memory item (a mapping of field values, or an object with attributes) match?"""
        if isinstance(item, Mapping):
            resolver: Resolver = lambda name: (lambda row: row[name], False)  # noqa: E731
        else:
            resolver = lambda name: (lambda row: getattr(row, name), False)  # noqa: E731
        evaluate, _ = self.evaluator(resolver, now)
        return evaluate(item) is True

    def __str__(self) -> str:
        return self.canonical()


def parse_condition(
    text: str, default_field: str | None = "name", *, lookup: FieldLookup | None = None
) -> Matcher:
    """Parse ``text``; raises :class:`ConditionError` (with the offending position) and nothing else."""
    if lookup is None:
        from pyrotorque.conditions.fields import lookup_field

        lookup = lookup_field
    try:
        tokens = tokenize(text)
        if not tokens:
            raise ConditionError("No conditions given at all!", text, None)
        parser = _Parser(tokens, text, default_field, lookup)
        root = parser.parse()
    except ConditionError as exc:
        if exc.text != text:
            raise ConditionError(exc.reason, text, exc.position) from None
        raise
    except (RecursionError, MemoryError) as exc:
        raise ConditionError("Condition is too complex", text, None) from exc
    return Matcher(root, text)


class _Parser:
    """A recursive-descent parser over the token list."""

    def __init__(self, tokens: list[Token], text: str, default_field: str | None, lookup: FieldLookup):
        self.tokens = tokens
        self.text = text
        self.default_field = default_field
        self.lookup = lookup
        self.index = 0
        self.depth = 0

    def error(self, message: str, position: int | None) -> ConditionError:
        return ConditionError(message, self.text, position)

    def peek(self) -> Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def at_keyword(self, *words: str) -> bool:
        token = self.peek()
        return token is not None and any(token.is_keyword(word) for word in words)

    def end_position(self) -> int:
        return len(self.text)

    def parse(self) -> Node:
        node = self.group()
        token = self.peek()
        if token is not None:
            # Only a "]" can stop a top-level group early.
            raise self.error("Unbalanced brackets, too many closing ']'", token.start)
        return node

    def group(self) -> Node:
        token = self.peek()
        if token is not None and token.is_keyword("NOT"):
            # Compatibility: NOT first in a group negates everything up to the group's end.
            self.index += 1
            self.require_operand(token, "NOT must be followed by some conditions")
            return Not(self.nested(self.or_list))
        return self.or_list()

    def nested(self, parse: Callable[[], Node]) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            token = self.peek()
            raise self.error("Condition nested too deeply", token.start if token else None)
        try:
            return parse()
        finally:
            self.depth -= 1

    def require_operand(self, after: Token, message: str) -> None:
        if self.peek() is None or self.at_keyword("]", "OR"):
            token = self.peek()
            raise self.error(message, token.start if token else after.start)

    def or_list(self) -> Node:
        token = self.peek()
        if token is not None and token.is_keyword("OR"):
            raise self.error("Left-hand side of OR missing", token.start)
        parts = [self.and_list()]
        while self.at_keyword("OR"):
            operator = self.tokens[self.index]
            self.index += 1
            self.require_operand(operator, "Right-hand side of OR missing")
            parts.append(self.and_list())
        return parts[0] if len(parts) == 1 else Or(parts)

    def and_list(self) -> Node:
        terms: list[Node] = []
        while self.peek() is not None and not self.at_keyword("]", "OR"):
            terms.append(self.unary())
        if not terms:
            token = self.peek()
            if token is not None and self.depth == 0:
                raise self.error("Unbalanced brackets, too many closing ']'", token.start)
            raise self.error("Empty group '[ ]'", token.start if token else self.end_position())
        flat: list[Node] = []
        for term in terms:
            flat.extend(term.children if isinstance(term, And) else [term])
        return flat[0] if len(flat) == 1 else And(flat)

    def unary(self) -> Node:
        token = self.tokens[self.index]
        if token.is_keyword("NOT"):
            self.index += 1
            self.require_operand(token, "NOT must be followed by some conditions")
            return Not(self.nested(self.unary))
        if token.is_keyword("["):
            self.index += 1
            if self.peek() is None:
                raise self.error("Unbalanced brackets, too many open '['", token.start)
            node = self.nested(self.group)
            if not self.at_keyword("]"):
                raise self.error("Unbalanced brackets, too many open '['", token.start)
            self.index += 1
            return node
        self.index += 1
        return parse_term(token, self.default_field, self.lookup, self.error)
