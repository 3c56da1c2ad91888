"""Text values of the condition language: patterns (glob, /regex/, empty), file lists, tags, yes/no."""

from __future__ import annotations

import fnmatch
import re
from typing import Final

from pyrotorque.conditions.tokens import Token
from pyrotorque.conditions.value_base import Predicate, ValueTest
from pyrotorque.conditions.value_base import quote as _quote
from pyrotorque.config.convert import FALSE_WORDS, TRUE_WORDS, bool_word
from pyrotorque.errors import ConditionError

_GLOB_CHARS: Final = frozenset("*?[")


def is_regex(text: str) -> bool:
    """True for ``/…/`` or ``/…/i`` values."""
    return (len(text) >= 2 and text[0] == "/" and text[-1] == "/") or (
        len(text) >= 3 and text[0] == "/" and text[-2:] == "/i"
    )


def _reason(exc: Exception) -> str:
    return exc.msg if isinstance(exc, re.error) else str(exc)


class _TextMatcher:
    """Shared string matching: empty, glob, literal or regex; always case-insensitive."""

    def __init__(self, token: Token, field: str) -> None:
        text = token.text
        self.text = text
        self.regex: re.Pattern[str] | None = None
        self.literal: str | None = None
        # A /regex/ searches the value as it is; a glob must match the whole lower-cased value.
        self.searches = is_regex(text)
        if self.searches:
            source = text[1:-2] if text.endswith("/i") and len(text) >= 3 else text[1:-1]
            try:
                # The source keeps its case: lower-casing it would turn \D into \d.
                self.regex = re.compile(source, re.IGNORECASE)
            except (re.error, RecursionError, OverflowError, ValueError) as exc:
                raise ConditionError(
                    f"Bad regular expression {text!r} for field {field!r} ({_reason(exc)})", "", token.start
                ) from exc
        elif not _GLOB_CHARS.intersection(text):
            self.literal = text.lower()
        else:
            self.regex = re.compile(fnmatch.translate(text.lower()), re.DOTALL)

    def matches(self, value: str) -> bool:
        """Does ``value`` match?"""
        if self.literal is not None:
            return value.lower() == self.literal
        assert self.regex is not None
        if self.searches:
            return self.regex.search(value) is not None
        return self.regex.match(value.lower()) is not None

    def predicate(self) -> Predicate:
        """A fast predicate over ``str | None`` values."""
        literal = self.literal
        regex = self.regex
        if literal is not None:
            return lambda value: (value or "").lower() == literal
        assert regex is not None
        if self.searches:
            search = regex.search
            return lambda value: search(value or "") is not None
        match = regex.match
        return lambda value: match((value or "").lower()) is not None


class PatternValue(ValueTest):
    """A glob (whole value), a ``/regex/`` (search) or an empty value (field is empty)."""

    def __init__(self, token: Token, field: str) -> None:
        self.canonical = _quote(token.text)
        self.matcher = _TextMatcher(token, field)

    def predicate(self, now: float) -> Predicate:
        """Match the field's text."""
        return self.matcher.predicate()


class FilesValue(ValueTest):
    """True if any file path matches the glob or regex; an empty value means "no files"."""

    def __init__(self, token: Token, field: str) -> None:
        self.canonical = PatternValue(token, field).canonical
        self._empty = token.text == ""
        self._matcher = _TextMatcher(token, field)

    def predicate(self, now: float) -> Predicate:
        """Match the list of file paths."""
        if self._empty:
            return lambda paths: not paths
        one = self._matcher.predicate()
        return lambda paths: any(one(path) for path in paths)


class TagValue(ValueTest):
    """Membership in a set of words; ``==`` or pyrosimple's ``:`` prefix (``tagged=:foo``) means the
    set is exactly this one word, and a bare ``:`` that the set is empty."""

    def __init__(self, token: Token, field: str, exact: bool) -> None:
        # Only an unquoted colon is the prefix: tagged=":x" is the word ":x".
        colon = token.text[:1] == ":" and not token.quoted[0]
        self.tag = (token.text[1:] if colon else token.text).lower()
        if any(c.isspace() for c in self.tag):
            raise ConditionError(f"A tag of {field!r} cannot contain whitespace", "", token.start)
        self.exact = exact or colon
        shown = _quote(self.tag) if self.tag else ""
        if shown.startswith(":"):  # a word starting with ":" is quoted, or it would read as the prefix
            shown = '"' + self.tag.replace("\\", "\\\\").replace('"', '\\"') + '"'
        self.canonical = ":" + shown if colon else shown

    def predicate(self, now: float) -> Predicate:
        """Match a frozenset of lower-case words."""
        tag = self.tag
        if not tag:
            return lambda tags: not tags
        if self.exact:
            wanted = frozenset((tag,))
            return lambda tags: tags == wanted
        return lambda tags: tag in tags


class BoolValue(ValueTest):
    """A yes/no value; the field's truth is compared."""

    def __init__(self, token: Token, field: str) -> None:
        truth = bool_word(token.text)
        if truth is None:
            words = ", ".join(sorted(TRUE_WORDS | FALSE_WORDS))
            raise ConditionError(
                f"Bad boolean value {token.text!r} for field {field!r} (expected one of {words})",
                "",
                token.start,
            )
        self.truth = truth
        self.canonical = "yes" if truth else "no"

    def predicate(self, now: float) -> Predicate:
        """Compare truthiness."""
        if self.truth:
            return bool
        return lambda value: not value
