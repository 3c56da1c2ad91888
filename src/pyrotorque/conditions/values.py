"""Value types of the condition language: what the text after ``field=`` means for each kind of field.

Each parsed value is a :class:`ValueTest`. It keeps its canonical text and builds a predicate
over the field's (already converted) value. Time values depend on "now", so predicates are
built once per evaluation run with :meth:`ValueTest.predicate`.

The kinds live in text_values, number_values and time_values (their base in value_base); this
module maps a field's kind to its parser and re-exports the value classes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, Literal

from pyrotorque.conditions.number_values import ByteSizeValue, MagicValue, NumberValue
from pyrotorque.conditions.text_values import BoolValue, FilesValue, PatternValue, TagValue, is_regex
from pyrotorque.conditions.time_values import DurationValue, TimeValue
from pyrotorque.conditions.tokens import Token
from pyrotorque.conditions.value_base import Predicate, ValueTest
from pyrotorque.config.convert import FALSE_WORDS, TRUE_WORDS, bool_word
from pyrotorque.errors import ConditionError

__all__ = [
    "FALSE_WORDS",
    "TRUE_WORDS",
    "BoolValue",
    "ByteSizeValue",
    "DurationValue",
    "FilesValue",
    "MagicValue",
    "NumberValue",
    "PatternValue",
    "Predicate",
    "TagValue",
    "TimeValue",
    "ValueKind",
    "ValueTest",
    "is_regex",
    "parse_bool",
    "parse_value",
]

ValueKind = Literal[
    "pattern", "bool", "number", "bytes", "time", "time_notnull", "duration", "tags", "files", "magic"
]


def parse_bool(text: str) -> bool | None:
    """``True``/``False`` for a word of the one yes/no vocabulary (any case), ``None`` if it is none."""
    return bool_word(text)


def parse_value(kind: ValueKind, token: Token, *, field: str, exact: bool = False) -> ValueTest:
    """Parse one value (``token``, its ``!`` already removed) for a field of the given kind."""
    parser = _PARSERS[kind]
    try:
        return parser(token, field, exact)
    except (ValueError, OverflowError) as exc:  # beyond Python's int digits or float range
        shown = token.text if len(token.text) <= 40 else token.text[:37] + "..."
        raise ConditionError(f"Value {shown!r} for field {field!r} is out of range", "", token.start) from exc


_PARSERS: Final[dict[str, Callable[[Token, str, bool], ValueTest]]] = {
    "pattern": lambda token, field, exact: PatternValue(token, field),
    "files": lambda token, field, exact: FilesValue(token, field),
    "tags": TagValue,
    "bool": lambda token, field, exact: BoolValue(token, field),
    "number": lambda token, field, exact: NumberValue(token, field),
    "bytes": lambda token, field, exact: ByteSizeValue(token, field),
    "time": lambda token, field, exact: TimeValue(token, field, not_null=False),
    "time_notnull": lambda token, field, exact: TimeValue(token, field, not_null=True),
    "duration": lambda token, field, exact: DurationValue(token, field),
    "magic": lambda token, field, exact: MagicValue(token, field),
}
