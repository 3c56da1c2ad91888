"""Numeric values of the condition language: numbers, byte sizes, and the untyped ``d_METHOD`` value."""

from __future__ import annotations

import math
import re
from typing import Any, Final

from pyrotorque.conditions.text_values import PatternValue
from pyrotorque.conditions.tokens import Token
from pyrotorque.conditions.value_base import Predicate, ValueTest
from pyrotorque.conditions.value_base import compare as _compare
from pyrotorque.conditions.value_base import split_sign as _split_sign
from pyrotorque.errors import ConditionError
from pyrotorque.sizes import size_bytes

_NUMBER_RE: Final = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?", re.IGNORECASE)


class NumberValue(ValueTest):
    """``N`` (equal), ``+N`` (greater) or ``-N`` (less) over a number."""

    def __init__(self, token: Token, field: str) -> None:
        sign, number = _split_sign(token)
        if not _NUMBER_RE.fullmatch(number):
            raise ConditionError(f"Bad numerical value {token.text!r} for field {field!r}", "", token.start)
        self.threshold = float(number)
        if not math.isfinite(self.threshold):
            raise ConditionError(f"Numerical value {token.text!r} is out of range", "", token.start)
        self.sign = sign
        self.canonical = sign + number

    def predicate(self, now: float) -> Predicate:
        """Compare numerically."""
        return _compare(self.sign, self.threshold)


class ByteSizeValue(ValueTest):
    """A size or rate with an optional unit: b, k, m, g, t (powers of 1024), e.g. ``+1.5g``."""

    def __init__(self, token: Token, field: str) -> None:
        sign, number = _split_sign(token)
        threshold = size_bytes(number)
        if threshold is None:
            raise ConditionError(
                f"Bad size value {token.text!r} for field {field!r} (a number, then b k m g or t)",
                "",
                token.start,
            )
        if not math.isfinite(threshold):
            raise ConditionError(f"Size value {token.text!r} is out of range", "", token.start)
        self.threshold = threshold
        self.sign = sign
        self.canonical = sign + number

    def predicate(self, now: float) -> Predicate:
        """Compare the byte count."""
        return _compare(self.sign, self.threshold)


class MagicValue(ValueTest):
    """For ``d_METHOD`` fields of unknown type: numeric if the value looks like a number, else text."""

    def __init__(self, token: Token, field: str) -> None:
        _sign, rest = _split_sign(token)
        self._number: NumberValue | None = None
        self._text: PatternValue | None = None
        if rest and _NUMBER_RE.fullmatch(rest):
            self._number = NumberValue(token, field)
            self.canonical = self._number.canonical
        else:
            self._text = PatternValue(token, field)
            self.canonical = self._text.canonical

    def predicate(self, now: float) -> Predicate:
        """Compare as a number (values that are not numbers never match) or as text."""
        if self._number is not None:
            compare = self._number.predicate(now)

            def numeric(value: Any) -> bool:
                try:
                    return compare(float(value))
                except (TypeError, ValueError):
                    return False

            return numeric
        assert self._text is not None
        text_match = self._text.predicate(now)
        return lambda value: text_match("" if value is None else str(value))
