"""A model of how rTorrent evaluates the filters ``d.multicall.filtered`` gets from us.

It covers the subset of rTorrent's command language that ``pyrotorque.conditions.pushdown`` writes
(measured on 0.9.8 and 0.16; tests/integration/test_rtorrent_contract.py and the live condition tests
check the real thing agrees). The fake rTorrent filters with it, and the pushdown property tests
check that a filter keeps exactly the rows our own evaluation of the pushed terms keeps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: Every command word a generated filter may contain.
FILTER_WORDS = frozenset(
    {
        "and", "or", "not", "equal", "less", "greater", "value",
        "d.is_open", "d.is_active", "d.complete", "d.ignore_commands", "d.is_private", "d.is_multi_file",
        "d.priority", "d.size_bytes", "d.size_files", "d.up.rate", "d.down.rate", "d.up.total", "d.ratio",
        "d.message",
    }
)  # fmt: skip

#: The words that are not item commands: the fake lists them as methods, as rTorrent does.
FILTER_OPERATORS = frozenset({"and", "or", "not", "equal", "less", "greater", "value"})


def split_arguments(text: str) -> list[str]:
    """Split ``a,"b,c",{d,e}`` at top-level commas; quoted arguments are unescaped."""
    arguments: list[str] = []
    current: list[str] = []
    depth = 0
    index = 0
    quoted = False
    while index < len(text):
        char = text[index]
        if char == '"' and depth == 0:
            quoted = True
            index += 1
            while text[index] != '"':
                if text[index] == "\\":
                    index += 1
                current.append(text[index])
                index += 1
        elif char == "{":
            depth += 1
            current.append(char)
        elif char == "}":
            depth -= 1
            current.append(char)
        elif char == "," and depth == 0:
            arguments.append("".join(current))
            current, quoted = [], False
        else:
            current.append(char)
        index += 1
    if current or quoted:
        arguments.append("".join(current))
    return arguments


def evaluate_filter(expression: str, value_of: dict[str, Any] | Callable[[str], Any]) -> Any:
    """What rTorrent answers for ``expression`` on an item whose ``d.*`` values ``value_of`` gives.

    ``value_of`` is a command -> value map or a function of the command name.
    """
    lookup = value_of.__getitem__ if isinstance(value_of, dict) else value_of
    name, _, rest = expression.partition("=")
    if name.startswith("d."):
        return lookup(name)
    if name == "value":
        return int(rest)
    if name in ("and", "or"):
        assert rest.startswith("{") and rest.endswith("}"), expression
        results = (truth(evaluate_filter(part, lookup)) for part in split_arguments(rest[1:-1]))
        return int(all(results) if name == "and" else any(results))
    arguments = split_arguments(rest)
    if name == "not":
        (argument,) = arguments
        assert argument.startswith("$"), expression
        return int(not truth(evaluate_filter(argument[1:], lookup)))
    left, right = (evaluate_filter(argument, lookup) for argument in arguments)
    return int({"equal": left == right, "less": left < right, "greater": left > right}[name])


def truth(value: Any) -> bool:
    """rTorrent's truth of a command's value: zero and the empty string are false."""
    return bool(value) if isinstance(value, int | str) else True
