"""The text of a ``d.multicall.filtered`` filter, built only from generated pieces: command names
and integers. Arguments containing ``,`` ``{`` ``}`` ``"`` ``\\`` or white space are wrapped in
double quotes with ``\\`` and ``"`` escaped, which nests to any depth (measured on 0.9.8 and 0.16)."""

from __future__ import annotations

import re
from typing import Final

#: The filter that keeps every item.
TRUE: Final = "value=1"
_NEEDS_QUOTES: Final = re.compile(r'[,{}"\\\s]')


def _argument(text: str) -> str:
    if text and not _NEEDS_QUOTES.search(text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def call(command: str, *arguments: str) -> str:
    return f"{command}=" + ",".join(_argument(argument) for argument in arguments)


def group(command: str, expressions: list[str]) -> str:
    """``and={a,b}`` / ``or={a,b}``: rTorrent evaluates the elements lazily, left to right."""
    return f"{command}={{" + ",".join(_argument(expression) for expression in expressions) + "}"


def negation(expression: str) -> str:
    return call("not", "$" + expression)


def either(expressions: list[str]) -> str:
    if TRUE in expressions:
        return TRUE
    return expressions[0] if len(expressions) == 1 else group("or", expressions)


def _compare(operator: str, command: str, number: int) -> str:
    return call(operator, f"{command}=", f"value={number}")


def inside(command: str, low: int | None, high: int | None) -> str:
    if low is None and high is None:
        return TRUE
    if high is None:
        assert low is not None
        return _compare("greater", command, low - 1)
    if low is None:
        return _compare("less", command, high + 1)
    if low == high:
        return _compare("equal", command, low)
    return group("and", [_compare("greater", command, low - 1), _compare("less", command, high + 1)])


def outside(command: str, low: int | None, high: int | None) -> str | None:
    if low is None and high is None:
        return None  # never true
    if high is None:
        assert low is not None
        return _compare("less", command, low)
    if low is None:
        return _compare("greater", command, high)
    return group("or", [_compare("less", command, low), _compare("greater", command, high)])
