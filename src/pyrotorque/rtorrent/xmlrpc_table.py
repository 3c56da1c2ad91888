"""XML-RPC decoding of the biggest answers, lists of rows of scalars, with one pattern per row.

The answer to d.multicall2 (and f./t./p.multicall) is an array of equally long arrays of
scalars, each column of one type. The first row gives the layout: the exact text that opens a
row, separates two cells, closes a row and separates two rows, and the type tag of each column.
From it we build one regular expression that matches one whole row and captures the texts of
its cells, and ``findall`` runs it over all rows in C. ``zip`` turns the rows into columns, each
column is converted by its type with ``map``, and ``zip`` makes rows again. No single value is
looked at in Python.

``findall`` skips what does not match, so we check that the matches tile the body: every match
after the first starts with the row separator, and together they are exactly as long as the
body. The text pattern refuses "<" and every character XML forbids, so each cell is exactly
what the layout says it is. Anything else raises ``NotFast`` (the tokenizer then decides).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from typing import Any

from pyrotorque.rtorrent.xmlrpc_text import WS as _WS
from pyrotorque.rtorrent.xmlrpc_text import NotFast
from pyrotorque.rtorrent.xmlrpc_text import character_data as _unescape

TABLE_START = re.compile(f"{_WS}<param>{_WS}<value>{_WS}<array>{_WS}<data>{_WS}")
_TABLE_END = re.compile(
    f"</data>{_WS}</array>{_WS}</value>{_WS}</param>{_WS}</params>{_WS}</methodResponse>{_WS}"
)
_ROW_OPEN = re.compile(f"<value>{_WS}<array>{_WS}<data>{_WS}")
_ROW_CLOSE = re.compile(f"{_WS}</data>{_WS}</array>{_WS}</value>")
_WHITESPACE = re.compile(_WS)
_TABLE_TAGS = "string|i4|i8|int|boolean|double"
_TABLE_CELL = re.compile(f"<value><({_TABLE_TAGS})>[^<]*</\\1></value>")
# Character data as the tokenizer's (xmlrpc_tokens), but with the forbidden characters written out (a class
# of ranges is as fast as one of single characters here).
_CELL_TEXT = "([^<\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]*+)"
_BOOLEANS = {"0": False, "1": True}
# Wider rows are rare, and their one-off pattern compilation would cost more than it saves.
_TABLE_MAX_WIDTH = 64


def _skip_whitespace(text: str, position: int) -> int:
    """The position of the first character at or after ``position`` that is not XML whitespace."""
    match = _WHITESPACE.match(text, position)
    return position if match is None else match.end()


def _table_layout(text: str, start: int, end: int) -> tuple[str, str, str, str, list[str]]:
    """The first row's layout: (row open, cell separator, row close, row separator, column tags)."""
    opening = _ROW_OPEN.match(text, start, end)
    if opening is None:
        raise NotFast("not a row")
    cursor = opening.end()
    tags: list[str] = []
    gaps: set[str] = set()
    while True:
        cell = _TABLE_CELL.match(text, cursor, end)
        if cell is None:
            raise NotFast("not a scalar cell")
        tags.append(cell.group(1))
        gap_end = _skip_whitespace(text, cell.end())
        if not text.startswith("<value>", gap_end):
            break
        gaps.add(text[cell.end() : gap_end])
        cursor = gap_end
    if len(gaps) > 1:
        raise NotFast("cells separated differently")
    closing = _ROW_CLOSE.match(text, cell.end(), end)
    if closing is None:
        raise NotFast("row does not close")
    cell_gap = gaps.pop() if gaps else ""
    # what follows the close matters only if another row follows
    row_gap = text[closing.end() : _skip_whitespace(text, closing.end())]
    return opening.group(), cell_gap, "</value>" + closing.group(), row_gap, tags


@functools.lru_cache(maxsize=32)
def _row_patterns(
    row_open: str, cell_gap: str, row_close: str, row_gap: str, tags: tuple[str, ...]
) -> tuple[re.Pattern[str], re.Pattern[str], int]:
    """Patterns for the first row and for each further one (with the row separator before it),
    and the length of a row without its texts. Compiling takes about 0.25 ms a column: cached."""
    cells = re.escape("</value>" + cell_gap).join(f"<value><{tag}>{_CELL_TEXT}</{tag}>" for tag in tags)
    row = re.escape(row_open) + cells + re.escape(row_close)
    layout = len(row_open) + len(row_close) + (len(tags) - 1) * len("</value>" + cell_gap)
    layout += sum(len(f"<value><{tag}></{tag}>") for tag in tags)
    return re.compile(row), re.compile(re.escape(row_gap) + row), layout


def _table_column(texts: Sequence[str], joined: str, tag: str) -> Sequence[Any]:
    """Convert one column's texts (``joined``: all of them in one) as xmlrpc.client would.

    Raises ``NotFast`` where the result might differ.
    """
    if "]" in joined and "]]>" in joined:  # only inside a text (or, harmlessly, across two)
        raise NotFast("']]>' in character data")
    if tag == "string":
        if "&" in joined or "\r" in joined:
            return list(map(_unescape, texts))
        return texts
    if "&" in joined or "\r" in joined:  # rare enough for the general path
        raise NotFast("reference or CR in a number")
    if tag == "boolean":
        return list(map(_BOOLEANS.__getitem__, texts))  # KeyError on anything else: not fast
    # the very conversions xmlrpc.client applies to the same text, so the same values or errors
    convert: Callable[[str], Any] = float if tag == "double" else int
    distinct = set(texts)
    if len(distinct) * 4 > len(texts):
        return list(map(convert, texts))
    # many columns hold a few distinct values (states, flags, priorities): convert each once
    values = {text: convert(text) for text in distinct}
    return list(map(values.__getitem__, texts))


def decode_table(text: str, start: int) -> list[list[Any]]:
    """Decode a list of rows of scalars whose first row starts at ``start``; ``NotFast`` otherwise."""
    end = text.rfind("</data>")
    if end < start or _TABLE_END.fullmatch(text, end) is None:
        raise NotFast("not a single list")
    while end > start and text[end - 1] in " \t\r\n":
        end -= 1
    if end == start:
        raise NotFast("empty list")  # cheap for the tokenizer
    row_open, cell_gap, row_close, row_gap, tags = _table_layout(text, start, end)
    if len(tags) > _TABLE_MAX_WIDTH:
        raise NotFast("too wide to be worth a pattern")
    first_row, next_row, layout = _row_patterns(row_open, cell_gap, row_close, row_gap, tuple(tags))
    first = first_row.match(text, start, end)
    if first is None:
        raise NotFast("first row")  # it gave the layout; only a forbidden character can do this
    matches: list[Any] = next_row.findall(text, first.end(), end)
    matches.insert(0, first.groups() if len(tags) > 1 else first.group(1))
    columns = list(zip(*matches, strict=True)) if len(tags) > 1 else [matches]
    # matches are as long as layout, separators and texts together; the body only if they tile it
    joined = ["".join(column) for column in columns]
    texts = sum(map(len, joined))
    if len(matches) * layout + (len(matches) - 1) * len(row_gap) + texts != end - start:
        raise NotFast("something between the rows")
    converted = list(map(_table_column, columns, joined, tags))
    return list(map(list, zip(*converted, strict=True)))
