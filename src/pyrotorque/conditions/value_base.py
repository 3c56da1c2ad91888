"""The base of the condition language's value types, and the helpers every kind of value uses."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

from pyrotorque.conditions.tokens import Token

Predicate = Callable[[Any], bool]


class ValueTest(ABC):
    """One value of a term, e.g. ``+3`` in ``prio>3`` (without a leading ``!``)."""

    canonical: str

    @abstractmethod
    def predicate(self, now: float) -> Predicate:
        """A predicate over the converted field value; ``now`` anchors relative times."""


def quote(text: str) -> str:
    """Quote a value for the canonical form when it would not survive tokenizing as is."""
    # Unquoted "{{" or "{%" would read as a template, which conditions refuse.
    if (
        not text.startswith(("!", "="))
        and not any(c.isspace() or c in "\"'," for c in text)
        and "{{" not in text
        and "{%" not in text
    ):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def split_sign(token: Token) -> tuple[str, str]:
    """Split a leading ``+`` (greater) or ``-`` (less) from a numeric value."""
    text = token.text
    if text[:1] in ("+", "-"):
        return text[0], text[1:]
    return "", text


def compare(sign: str, threshold: float) -> Predicate:
    if sign == "+":
        return lambda value: value is not None and value > threshold
    if sign == "-":
        return lambda value: value is not None and value < threshold
    return lambda value: value is not None and value == threshold
