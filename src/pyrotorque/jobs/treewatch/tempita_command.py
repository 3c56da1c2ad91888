"""Tempita command templates (text starting with ``{{``): expression values escaped for rTorrent,
and the positions Tempita 0.6.0 reports corrected."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

import tempita

from pyrotorque.errors import TemplateError
from pyrotorque.jobs.treewatch.value_marks import marked

_DELIMITER: Final = re.compile(r"\{\{|\}\}")


def _position(text: str, index: int) -> tuple[int, int]:
    """(line, column) of ``index`` in ``text``, both 1-based, counted from the start of the text."""
    return text.count("\n", 0, index) + 1, index - text.rfind("\n", 0, index)


def _tempita_positions(text: str) -> dict[tuple[int, int], tuple[int, int]]:
    """Each (line, column) Tempita's lexer can report for ``text``, mapped to the true one.

    Tempita 0.6.0 counts the newlines from the start of the text again at every delimiter and
    adds them to the previous line number, so every position after a multi-line comment is too far
    down. Its lexer asks ``find_position`` once per delimiter, as below, and every position it
    reports (parse errors, the nodes of the parse tree) is one of these. They are all distinct
    (lines grow at every delimiter after the first newline, columns before it), so the map is exact.
    """
    positions = {(1, 1): (1, 1)}
    reported = (1, 1)
    for match in _DELIMITER.finditer(text):
        reported = tempita.find_position(text, match.end(), 0, reported)
        positions[reported] = _position(text, match.end())
    return positions


def _with_positions(node: Any, positions: Mapping[tuple[int, int], tuple[int, int]]) -> Any:
    """A copy of Tempita's parse tree (strings, lists, tuples) with every position mapped."""
    if isinstance(node, list):
        return [_with_positions(item, positions) for item in node]
    if isinstance(node, tuple):
        if len(node) == 2 and all(type(part) is int for part in node):  # only positions are int pairs
            return positions.get(node, node)
        return tuple(_with_positions(item, positions) for item in node)
    return node


class CommandTemplate(tempita.Template):  # type: ignore[misc]  # tempita has no type hints
    """A Tempita template whose expression values are escaped for rTorrent, not inserted raw.

    Its positions count from the start of the text (see ``_tempita_positions``); the library's
    own ``find_position`` is left alone, so other Tempita users in the process are not affected.
    """

    _parsed: list[Any]  # Tempita's parse tree, built by its constructor

    def __init__(self, content: str) -> None:
        positions = _tempita_positions(content)
        try:
            super().__init__(content)
        except tempita.TemplateError as exc:
            if exc.position:
                exc.position = positions.get(tuple(exc.position), exc.position)
            raise
        # Every position of a later error (_eval, _exec, _repr, {{def}}) is read from this tree.
        self._parsed = _with_positions(self._parsed, positions)

    def _repr(self, value: Any, pos: tuple[int, int]) -> str:
        try:
            return marked(value)
        except TemplateError as exc:
            raise TemplateError(f"{exc} at line {pos[0]} column {pos[1]}") from None
