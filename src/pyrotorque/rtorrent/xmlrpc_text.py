"""What both fast XML-RPC decoders share: XML whitespace, character data and its references,
and ``NotFast``, which hands an answer on to the next, more general decoder."""

from __future__ import annotations

import re


class NotFast(Exception):
    """The fast path does not handle this answer; use the exact parser."""


WS = "[ \t\r\n]*+"  # XML whitespace only (\s would also match Unicode spaces); possessive: no backtracking
_REFERENCE = re.compile("&(?:#([0-9]+)|#x([0-9a-fA-F]+)|(amp|lt|gt|quot|apos));|&")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


def _reference(match: re.Match[str]) -> str:
    """Expand one entity or character reference exactly as expat would, or give up."""
    decimal, hexadecimal, name = match.groups()
    if name:
        return _NAMED[name]
    if not (decimal or hexadecimal):
        raise NotFast("bare ampersand")
    code = int(decimal) if decimal else int(hexadecimal, 16)
    if not (
        code in (0x9, 0xA, 0xD)
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    ):
        raise NotFast("reference to a character XML does not allow")
    return chr(code)


def character_data(text: str) -> str:
    """Character data as an XML parser reports it: line ends normalised, references expanded."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "&" in text:
        text = _REFERENCE.sub(_reference, text)
    return text
