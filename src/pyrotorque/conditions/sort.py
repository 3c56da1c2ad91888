"""Sort orders: ``"-prio, loaded, name"`` (a leading ``-`` means descending)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from pyrotorque.errors import ConditionError

__all__ = ["SortField", "parse_sort_fields", "sort_key", "sort_rows"]

_SPLIT_RE: Final = re.compile(r"[^\s,]+")


@dataclass(frozen=True)
class SortField:
    """One sort key: a field name and its direction."""

    name: str
    descending: bool = False

    def __str__(self) -> str:
        return ("-" if self.descending else "") + self.name


def parse_sort_fields(text: str) -> tuple[SortField, ...]:
    """Parse a comma- or space-separated field list; unknown fields raise :class:`ConditionError`."""
    from pyrotorque.conditions.fields import lookup_field

    fields: list[SortField] = []
    for found in _SPLIT_RE.finditer(text):
        word = found.group()
        descending = word.startswith("-")
        name = word.lstrip("-+")
        try:
            lookup_field(name)
        except ConditionError as exc:
            raise ConditionError(f"Unknown sort field {name!r}: {exc.reason}", text, found.start()) from None
        fields.append(SortField(name, descending))
    return tuple(fields)


def sort_key(value: Any) -> Any:
    """A comparable key for any field value: text ignores case, sets sort as sorted tuples."""
    if value is None:
        return (0, 0)
    if isinstance(value, str):
        return (2, value.lower(), value)
    if isinstance(value, frozenset | set):
        return (3, tuple(sorted(value)))
    if isinstance(value, tuple | list):
        return (3, tuple(str(part) for part in value))
    if isinstance(value, bool | int | float):
        return (1, value)
    return (2, str(value).lower(), str(value))


# Field kinds whose values are always plain numbers, so they can be sort keys as they are.
_NUMERIC_KINDS = frozenset({"number", "bytes", "time", "time_notnull"})


def sort_rows(
    rows: list[Any], orders: Sequence[tuple[Callable[[Any], Any], bool]], kinds: Sequence[str] = ()
) -> None:
    """Sort ``rows`` in place by ``(getter, descending)`` pairs, the first pair being the primary key."""
    # Python's sort is stable, also with reverse=True, so sorting by the last key first gives
    # the multi-key order with a direction per key.
    padded = list(kinds) + [""] * (len(orders) - len(kinds))
    for (getter, descending), kind in reversed(list(zip(orders, padded, strict=True))):
        rows.sort(key=getter if kind in _NUMERIC_KINDS else _keyed(getter), reverse=descending)


def _keyed(getter: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda row: sort_key(getter(row))
