"""Split a condition text into tokens, keeping each character's source position.

We do not use :mod:`shlex`: it eats backslashes, which breaks regexes such as ``/s\\d+/``.
Rules: whitespace separates tokens; single or double quotes group text (the quotes are
dropped, and a quoted character never has a special meaning); a backslash is kept as it is,
except that inside quotes ``\\\\`` gives one backslash and ``\\"`` (or ``\\'`` inside single
quotes) gives the quote.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyrotorque.errors import ConditionError

__all__ = ["Token", "tokenize"]

_QUOTES = "\"'"


@dataclass(frozen=True, slots=True)
class Token:
    """One whitespace-separated word of a condition, with per-character positions and quoting."""

    text: str
    offsets: tuple[int, ...]
    quoted: tuple[bool, ...]
    start: int

    def is_keyword(self, word: str) -> bool:
        """True if this token is exactly the unquoted ``word`` (``[``, ``]``, ``OR``, ``NOT``)."""
        return self.text == word and not any(self.quoted)

    def position(self, index: int) -> int:
        """The source position of the character at ``index`` (the end of the token if past it)."""
        if index < len(self.offsets):
            return self.offsets[index]
        return (self.offsets[-1] + 1) if self.offsets else self.start

    def slice(self, begin: int, end: int | None = None) -> Token:
        """A sub-token covering ``text[begin:end]``."""
        stop = len(self.text) if end is None else end
        return Token(
            self.text[begin:stop], self.offsets[begin:stop], self.quoted[begin:stop], self.position(begin)
        )


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens; an unterminated quote raises :class:`ConditionError`."""
    tokens: list[Token] = []
    chars: list[str] = []
    offsets: list[int] = []
    quoted: list[bool] = []
    in_token = False
    start = 0
    index = 0
    length = len(text)
    while index < length:
        char = text[index]
        if char.isspace():
            if in_token:
                tokens.append(Token("".join(chars), tuple(offsets), tuple(quoted), start))
                chars, offsets, quoted = [], [], []
                in_token = False
            index += 1
            continue
        if not in_token:
            in_token = True
            start = index
        if char in _QUOTES:
            close = _scan_quoted(text, index, chars, offsets, quoted)
            index = close + 1
            continue
        chars.append(char)
        offsets.append(index)
        quoted.append(False)
        index += 1
    if in_token:
        tokens.append(Token("".join(chars), tuple(offsets), tuple(quoted), start))
    return tokens


def _scan_quoted(text: str, opening: int, chars: list[str], offsets: list[int], quoted: list[bool]) -> int:
    """Append the quoted characters starting at ``opening``; return the index of the closing quote."""
    quote = text[opening]
    index = opening + 1
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text) and text[index + 1] in (quote, "\\"):
            chars.append(text[index + 1])
            offsets.append(index + 1)
            quoted.append(True)
            index += 2
            continue
        if char == quote:
            return index
        chars.append(char)
        offsets.append(index)
        quoted.append(True)
        index += 1
    raise ConditionError(f"Unterminated {quote} quote", text, opening)
