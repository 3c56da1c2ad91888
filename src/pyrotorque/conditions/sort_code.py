"""Sort keys of a compiled query: the sort fields grouped into as few stable passes as possible,
and the source of each pass's key function."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from pyrotorque.conditions.fields import lookup_field
from pyrotorque.conditions.nnf import sources_of
from pyrotorque.conditions.sort import SortField, sort_key
from pyrotorque.conditions.term_code import Constants, TermCode

# Field kinds whose values are plain numbers: they are their own sort key and can be negated.
NUMERIC_KINDS: Final = frozenset({"number", "bytes", "time", "time_notnull"})


def sort_passes(sort_fields: Sequence[SortField]) -> list[tuple[list[tuple[SortField, bool]], bool]]:
    """Group sort fields into as few stable sort passes as possible, least significant pass first.

    Numbers can be negated, so they join a pass of either direction; other keys need a pass of
    their own direction. Returns ``([(field, negate), …], reverse)`` per pass.
    """
    passes: list[tuple[list[SortField], bool | None]] = []
    fields: list[SortField] = []
    direction: bool | None = None
    for sort in reversed(sort_fields):
        if lookup_field(sort.name).kind not in NUMERIC_KINDS:
            if direction is not None and direction != sort.descending:
                passes.append((fields, direction))
                fields = []
            direction = sort.descending
        fields.insert(0, sort)
    if fields:
        passes.append((fields, direction))
    return [
        ([(sort, sort.descending != bool(reverse)) for sort in group], bool(reverse))
        for group, reverse in passes
    ]


def key_source(
    code: TermCode, constants: Constants, number: int, fields: list[tuple[SortField, bool]], reverse: bool
) -> list[str]:
    """The source of ``_keyN``: one sort pass's key over a row."""
    parts: list[str] = []
    prelude: list[str] = []
    for position, (sort, negate) in enumerate(fields):
        field = lookup_field(sort.name)
        value = code.field_value(field)
        if field.kind in NUMERIC_KINDS:
            parts.append(f"-{value}" if negate else value)
        elif field.kind == "pattern" and not sources_of(field):
            # Text fields always convert to str: sort case-insensitively, then by the text.
            prelude.append(f"    t{position} = {value}")
            parts.append(f"t{position}.lower(), t{position}")
        else:
            parts.append(f"{constants.value(sort_key)}({value})")
    return [f"def _key{number}(row):", *prelude, f"    return ({', '.join(parts)},)"]
