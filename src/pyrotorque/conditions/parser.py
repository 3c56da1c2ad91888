"""Parse condition texts into a tree of nodes (grammar: docs/conditions.md).

::

    condition := group
    group     := ["NOT"] or_list          # a NOT first in a group negates the whole group
    or_list   := and_list ("OR" and_list)*
    and_list  := unary unary*             # juxtaposition is AND
    unary     := "NOT" unary | "[" group "]" | term
    term      := FIELD OP values | values # a bare value list tests the default field
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final, Protocol

from pyrotorque.conditions.nodes import And, Evaluator, FieldValue, Node, Not, Or, Resolver, Term
from pyrotorque.conditions.tokens import Token, tokenize
from pyrotorque.conditions.values import ValueKind, parse_value
from pyrotorque.errors import ConditionError

__all__ = ["FieldSpec", "Matcher", "parse_condition"]

MAX_DEPTH: Final = 64
_FIELD_RE: Final = re.compile(r"([A-Za-z_][A-Za-z0-9_.]*)(==|=|!=|<>|<=|>=|<|>|~)")
# How a comparison operator rewrites each value into the "=" form.
_OPERATORS: Final[dict[str, tuple[bool, str]]] = {
    "<": (False, "-"),
    ">": (False, "+"),
    "<=": (True, "+"),
    ">=": (True, "-"),
    "!=": (True, ""),
    "<>": (True, ""),
}
_ORDERED_KINDS: Final = frozenset({"number", "bytes", "time", "time_notnull", "duration", "magic"})
_TEXT_KINDS: Final = frozenset({"pattern", "files", "magic"})


class FieldSpec(Protocol):
    """What the parser needs to know about a field."""

    @property
    def name(self) -> str:
        """The field's name as written in conditions."""

    @property
    def kind(self) -> ValueKind:
        """The value type of the field."""


FieldLookup = Callable[[str], FieldSpec]


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
        return self.term(token)

    def term(self, token: Token) -> Node:
        # Like pyrocore, "name=My Show*" and 'name=/s\d+/' are terms: quotes only group words there.
        # But an operator never spans a quote boundary: name="=" is name = "=", not name == "".
        found = _FIELD_RE.match(token.text)
        if found:
            flags = token.quoted[found.start(2) : found.end(2)]
            if len(set(flags)) > 1:
                found = _FIELD_RE.match(token.text[: found.start(2) + flags.index(flags[-1])])
        if found:
            name, operator = found.group(1), found.group(2)
            value_token = token.slice(found.end())
        else:
            unquoted_equals = [i for i, c in enumerate(token.text) if c == "=" and not token.quoted[i]]
            if unquoted_equals:
                raise self.error(f"Bad field name {token.text[: unquoted_equals[0]]!r}", token.start)
            if self.default_field is None:
                raise self.error(f"Field name missing in {token.text!r} (expected '=')", token.start)
            name, operator, value_token = self.default_field, "=", token
        try:
            spec = self.lookup(name)
        except ConditionError as exc:
            raise self.error(exc.reason, token.start) from None
        return self.build_term(spec, operator, value_token, token)

    def build_term(self, spec: FieldSpec, operator: str, value_token: Token, token: Token) -> Term:
        kind = spec.kind
        if operator == "~":
            if kind not in _TEXT_KINDS:
                raise self.error(f"Field {spec.name!r} cannot be matched with '~'", token.start)
            regex = _prefixed(value_token, "/", suffix="/")
            values = [FieldValue(parse_value(kind, regex, field=spec.name), False)]
            return Term(spec.name, kind, values)
        negate_all, sign = _OPERATORS.get(operator, (False, ""))
        if sign and kind not in _ORDERED_KINDS:
            raise self.error(f"Field {spec.name!r} cannot be compared with {operator!r}", token.start)
        values: list[FieldValue] = []  # type: ignore[no-redef]
        for negated, item in _split_values(value_token, self):
            if operator in _OPERATORS and (negated or item.text[:1] in ("+", "-")):
                bad = "!" if negated else item.text[:1]
                where = item.start - 1 if negated else item.position(0)
                raise self.error(f"Comparison operator {operator!r} cannot be followed by {bad!r}", where)
            if sign:
                item = _prefixed(item, sign)
            test = parse_value(kind, item, field=spec.name, exact=operator == "==")
            values.append(FieldValue(test, negated != negate_all))
        return Term(spec.name, kind, values, exact=operator == "==" and kind == "tags")


def _prefixed(token: Token, prefix: str, suffix: str = "") -> Token:
    """A token with unquoted text added around it (for operator rewrites)."""
    start = token.start
    return Token(
        prefix + token.text + suffix,
        (start,) * len(prefix) + token.offsets + (token.position(len(token.text)),) * len(suffix),
        (False,) * len(prefix) + token.quoted + (False,) * len(suffix),
        start,
    )


def _split_values(token: Token, parser: _Parser) -> Iterator[tuple[bool, Token]]:
    """Split a value list on unquoted commas; a ``/regex/`` may contain commas."""
    text, quoted = token.text, token.quoted
    length = len(text)
    if length == 0:
        yield False, token
        return
    begin = 0
    count = 0
    while True:
        start = begin
        negated = start < length and text[start] == "!" and not quoted[start]
        if negated:
            start += 1
        end = _regex_end(text, quoted, start)
        if end is None:
            end = start
            while end < length and not (text[end] == "," and not quoted[end]):
                end += 1
        count += 1
        item = token.slice(start, end)
        at_end = end >= length
        if not item.text and not negated and (count > 1 or not at_end):
            raise parser.error("Empty value in a list of values", token.position(start))
        yield negated, item
        if at_end:
            return
        begin = end + 1
        if begin >= length:
            raise parser.error("Empty value at the end of a list of values", token.position(end))


def _regex_end(text: str, quoted: tuple[bool, ...], start: int) -> int | None:
    """The end of a ``/regex/`` or ``/regex/i`` value starting at ``start``, if there is one."""
    length = len(text)
    if start >= length or text[start] != "/":
        return None
    index = start + 1
    while index < length:
        char = text[index]
        if char == "\\":
            index += 2
            continue
        if char == "/":
            after = index + 1
            if after < length and text[after] == "i":
                after += 1
            if after >= length or (text[after] == "," and not quoted[after]):
                return after
        index += 1
    return None
