"""One term of a condition: ``FIELD OP values`` (or a bare value list for the default field),
the operator rewritten into the ``=`` form, and the value list split on unquoted commas."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Final, Protocol

from pyrotorque.conditions.nodes import FieldValue, Term
from pyrotorque.conditions.tokens import Token
from pyrotorque.conditions.values import ValueKind, parse_value
from pyrotorque.errors import ConditionError

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
# Builds the error for a message at a position of the whole condition text.
ErrorMaker = Callable[[str, int | None], ConditionError]


def parse_term(token: Token, default_field: str | None, lookup: FieldLookup, error: ErrorMaker) -> Term:
    """The term one token holds: ``FIELD OP values``, or values of ``default_field``."""
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
            raise error(f"Bad field name {token.text[: unquoted_equals[0]]!r}", token.start)
        if default_field is None:
            raise error(f"Field name missing in {token.text!r} (expected '=')", token.start)
        name, operator, value_token = default_field, "=", token
    try:
        spec = lookup(name)
    except ConditionError as exc:
        raise error(exc.reason, token.start) from None
    return _build_term(spec, operator, value_token, token, error)


def _build_term(spec: FieldSpec, operator: str, value_token: Token, token: Token, error: ErrorMaker) -> Term:
    """The term for a field, an operator and the value list after it."""
    kind = spec.kind
    if operator == "~":
        if kind not in _TEXT_KINDS:
            raise error(f"Field {spec.name!r} cannot be matched with '~'", token.start)
        _refuse_template(value_token, spec.name, error)
        regex = _prefixed(value_token, "/", suffix="/")
        values = [FieldValue(parse_value(kind, regex, field=spec.name), False)]
        return Term(spec.name, kind, values)
    negate_all, sign = _OPERATORS.get(operator, (False, ""))
    if sign and kind not in _ORDERED_KINDS:
        raise error(f"Field {spec.name!r} cannot be compared with {operator!r}", token.start)
    values: list[FieldValue] = []  # type: ignore[no-redef]
    for negated, item in _split_values(value_token, error):
        if operator in _OPERATORS and (negated or item.text[:1] in ("+", "-")):
            bad = "!" if negated else item.text[:1]
            where = item.start - 1 if negated else item.position(0)
            raise error(f"Comparison operator {operator!r} cannot be followed by {bad!r}", where)
        _refuse_template(item, spec.name, error)
        if sign:
            item = _prefixed(item, sign)
        test = parse_value(kind, item, field=spec.name, exact=operator == "==")
        values.append(FieldValue(test, negated != negate_all))
    return Term(spec.name, kind, values, exact=operator == "==" and kind == "tags")


def _refuse_template(token: Token, field: str, error: ErrorMaker) -> None:
    """Refuse a value written as a template: conditions do not render them, so it would never match.

    pyrosimple renders ``{{…}}`` values per item; we do not, and say so rather than match nothing.
    Quoted braces are text, so a name with ``{{`` in it can still be matched.
    """
    text, quoted = token.text, token.quoted
    index = text.find("{")
    while index != -1:
        if text[index + 1 : index + 2] in ("{", "%") and not quoted[index] and not quoted[index + 1]:
            raise error(
                f"Value {text!r} of field {field!r} is a template ({text[index : index + 2]}…); "
                "conditions take no templates (quote the braces to match them as text)",
                token.position(index),
            )
        index = text.find("{", index + 1)


def _prefixed(token: Token, prefix: str, suffix: str = "") -> Token:
    """A token with unquoted text added around it (for operator rewrites)."""
    start = token.start
    return Token(
        prefix + token.text + suffix,
        (start,) * len(prefix) + token.offsets + (token.position(len(token.text)),) * len(suffix),
        (False,) * len(prefix) + token.quoted + (False,) * len(suffix),
        start,
    )


def _split_values(token: Token, error: ErrorMaker) -> Iterator[tuple[bool, Token]]:
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
            raise error("Empty value in a list of values", token.position(start))
        yield negated, item
        if at_end:
            return
        begin = end + 1
        if begin >= length:
            raise error("Empty value at the end of a list of values", token.position(end))


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
