"""Checks shared by jobs' options: conditions and sort orders, with the position of what is wrong."""

from __future__ import annotations

from pyrotorque.conditions import parse_condition, parse_sort_fields
from pyrotorque.errors import ConditionError


def condition_problem(text: str) -> str | None:
    """Why ``text`` is not a valid condition (with the position), or None."""
    if not text.strip():
        return None
    try:
        parse_condition(text)
    except ConditionError as exc:
        # One line: the config error appends the file and line, which a caret drawing would split.
        where = f" at position {exc.position}" if exc.position is not None else ""
        return f"bad condition: {exc.reason}{where} in {text!r}"
    return None


def required_condition_problem(text: str) -> str | None:
    return "must not be empty" if not text.strip() else condition_problem(text)


def sort_problem(text: str) -> str | None:
    try:
        parse_sort_fields(text)
    except ConditionError as exc:
        return f"bad sort order: {exc}"
    return None
