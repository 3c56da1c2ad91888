"""Value types of the condition language: what the text after ``field=`` means for each kind of field.

Each parsed value is a :class:`ValueTest`. It keeps its canonical text and builds a predicate
over the field's (already converted) value. Time values depend on "now", so predicates are
built once per evaluation run with :meth:`ValueTest.predicate`.
"""

from __future__ import annotations

import calendar
import datetime as dt
import fnmatch
import math
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, Final, Literal

from pyrotorque.conditions.tokens import Token
from pyrotorque.config.convert import FALSE_WORDS, TRUE_WORDS, bool_word
from pyrotorque.errors import ConditionError

__all__ = [
    "FALSE_WORDS",
    "TRUE_WORDS",
    "ValueKind",
    "ValueTest",
    "parse_bool",
    "parse_value",
]

ValueKind = Literal[
    "pattern", "bool", "number", "bytes", "time", "time_notnull", "duration", "tags", "files", "magic"
]
Predicate = Callable[[Any], bool]


_SIZE_UNITS: Final = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
_SIZE_RE: Final = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(?:([kmgt])(?:i?b)?|(b))?", re.IGNORECASE)
_NUMBER_RE: Final = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?", re.IGNORECASE)
_DELTA_RE: Final = re.compile(
    r"(?:(\d+)y)?(?:(\d+)m)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)i)?(?:(\d+)s)?", re.IGNORECASE
)
_DATE_RES: Final = (
    # ISO Y-M-D, US M/D/Y, European D.M.Y; each optionally followed by T or a space and HH[:MM[:SS]].
    (re.compile(r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"), "iso"),
    (re.compile(r"(?P<m>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{4})"), "us"),
    (re.compile(r"(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})"), "eu"),
)
_CLOCK_RE: Final = re.compile(r"(?:[tT]|\s+)(?P<H>\d{1,2})(?::(?P<M>\d{2})(?::(?P<S>\d{2}))?)?")
_GLOB_CHARS: Final = frozenset("*?[")


class ValueTest(ABC):
    """One value of a term, e.g. ``+3`` in ``prio>3`` (without a leading ``!``)."""

    canonical: str

    @abstractmethod
    def predicate(self, now: float) -> Predicate:
        """A predicate over the converted field value; ``now`` anchors relative times."""


def parse_bool(text: str) -> bool | None:
    """``True``/``False`` for a word of the one yes/no vocabulary (any case), ``None`` if it is none."""
    return bool_word(text)


def parse_value(kind: ValueKind, token: Token, *, field: str, exact: bool = False) -> ValueTest:
    """Parse one value (``token``, its ``!`` already removed) for a field of the given kind."""
    parser = _PARSERS[kind]
    return parser(token, field, exact)


# --- strings --------------------------------------------------------------------------------------


def _quote(text: str) -> str:
    """Quote a value for the canonical form when it would not survive tokenizing as is."""
    if not text.startswith(("!", "=")) and not any(c.isspace() or c in "\"'," for c in text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


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
    """Membership in a set of words; ``==`` means the set is exactly this one word."""

    def __init__(self, token: Token, field: str, exact: bool) -> None:
        self.tag = token.text.lower()
        if any(c.isspace() for c in self.tag):
            raise ConditionError(f"A tag of {field!r} cannot contain whitespace", "", token.start)
        self.exact = exact
        self.canonical = _quote(self.tag) if self.tag else ""

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
        truth = parse_bool(token.text)
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


# --- numbers --------------------------------------------------------------------------------------


def _split_sign(token: Token) -> tuple[str, str]:
    """Split a leading ``+`` (greater) or ``-`` (less) from a numeric value."""
    text = token.text
    if text[:1] in ("+", "-"):
        return text[0], text[1:]
    return "", text


def _compare(sign: str, threshold: float) -> Predicate:
    if sign == "+":
        return lambda value: value is not None and value > threshold
    if sign == "-":
        return lambda value: value is not None and value < threshold
    return lambda value: value is not None and value == threshold


class NumberValue(ValueTest):
    """``N`` (equal), ``+N`` (greater) or ``-N`` (less) over a number."""

    def __init__(self, token: Token, field: str) -> None:
        sign, number = _split_sign(token)
        if not _NUMBER_RE.fullmatch(number):
            raise ConditionError(f"Bad numerical value {token.text!r} for field {field!r}", "", token.start)
        self.threshold = float(number)
        if not math.isfinite(self.threshold):
            raise ConditionError(f"Numerical value {token.text!r} is out of range", "", token.start)
        self.sign = sign
        self.canonical = sign + number

    def predicate(self, now: float) -> Predicate:
        """Compare numerically."""
        return _compare(self.sign, self.threshold)


class ByteSizeValue(ValueTest):
    """A size or rate with an optional unit: b, k, m, g, t (powers of 1024), e.g. ``+1.5g``."""

    def __init__(self, token: Token, field: str) -> None:
        sign, number = _split_sign(token)
        found = _SIZE_RE.fullmatch(number)
        if not found:
            raise ConditionError(
                f"Bad size value {token.text!r} for field {field!r} (a number, then b k m g or t)",
                "",
                token.start,
            )
        unit = (found.group(2) or found.group(3) or "").lower()
        self.threshold = float(found.group(1)) * _SIZE_UNITS[unit]
        if not math.isfinite(self.threshold):
            raise ConditionError(f"Size value {token.text!r} is out of range", "", token.start)
        self.sign = sign
        self.canonical = sign + number

    def predicate(self, now: float) -> Predicate:
        """Compare the byte count."""
        return _compare(self.sign, self.threshold)


def _parse_delta(text: str) -> tuple[int, int, int] | None:
    """``(years, months, seconds)`` of a delta like ``1m2w3d``, or ``None``."""
    found = _DELTA_RE.fullmatch(text)
    if not found or not text:
        return None
    years, months, weeks, days, hours, minutes, seconds = (int(g or 0) for g in found.groups())
    return years, months, (((weeks * 7 + days) * 24 + hours) * 60 + minutes) * 60 + seconds


def _parse_date(text: str) -> float | None:
    """Epoch seconds of an absolute local date (and time), or ``None``."""
    for regex, _style in _DATE_RES:
        found = regex.match(text)
        if not found:
            continue
        rest = text[found.end() :]
        hour = minute = second = 0
        if rest:
            clock = _CLOCK_RE.fullmatch(rest)
            if not clock:
                return None
            hour = int(clock.group("H"))
            minute = int(clock.group("M") or 0)
            second = int(clock.group("S") or 0)
        try:
            moment = dt.datetime(
                int(found.group("y")), int(found.group("m")), int(found.group("d")), hour, minute, second
            )
            return time.mktime(moment.timetuple())
        except (ValueError, OverflowError):
            return None
    return None


def _months_back(now: float, years: int, months: int) -> float:
    """``now`` moved back by calendar years and months (the day clamped to the month's end)."""
    if not years and not months:
        return now
    moment = dt.datetime.fromtimestamp(now)
    total = moment.year * 12 + (moment.month - 1) - years * 12 - months
    year, month = divmod(total, 12)
    if year < dt.MINYEAR:
        return -math.inf
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return time.mktime(moment.replace(year=year, month=month + 1, day=day).timetuple())


class TimeValue(ValueTest):
    """A point in time: an epoch, a delta back from now (comparison inverted), or a local date."""

    def __init__(self, token: Token, field: str, not_null: bool) -> None:
        sign, rest = _split_sign(token)
        self.sign = sign
        self.not_null = not_null
        self.canonical = _quote(sign + rest) if " " in rest else sign + rest
        self.epoch: float | None = None
        self.delta: tuple[int, int, int] | None = None
        if rest.isdigit() and rest.isascii():
            self.epoch = float(rest)
        else:
            self.delta = _parse_delta(rest)
            if self.delta is None:
                self.epoch = _parse_date(rest)
                if self.epoch is None:
                    raise ConditionError(
                        f"Bad time value {token.text!r} for field {field!r} "
                        "(an epoch, a delta like 2w3d4h5i6s, or a date like 2024-05-17T12:30)",
                        "",
                        token.start,
                    )

    def predicate(self, now: float) -> Predicate:
        """Compare timestamps; a delta D means "now − D" and ``+``/``-`` swap meaning."""
        sign = self.sign
        if self.delta is not None:
            years, months, seconds = self.delta
            try:
                threshold = _months_back(now, years, months) - seconds
            except (OverflowError, ValueError):
                threshold = -math.inf
            # "+2d" = older than 2 days = a timestamp before now-2d.
            sign = {"+": "-", "-": "+"}.get(sign, sign)
        else:
            assert self.epoch is not None
            threshold = self.epoch
        compare = _compare(sign, threshold)
        if not self.not_null or threshold == 0:
            return lambda value: compare(value or 0)
        return lambda value: bool(value) and compare(value)


class DurationValue(ValueTest):
    """A length of time in seconds: digits or a delta (y = 365 d, m = 30 d); not inverted."""

    def __init__(self, token: Token, field: str) -> None:
        sign, rest = _split_sign(token)
        if rest.isdigit() and rest.isascii():
            seconds = int(rest)
        else:
            delta = _parse_delta(rest)
            if delta is None:
                raise ConditionError(
                    f"Bad duration {token.text!r} for field {field!r} (seconds, or a delta like 1w2d3h)",
                    "",
                    token.start,
                )
            years, months, rest_seconds = delta
            seconds = (years * 365 + months * 30) * 86400 + rest_seconds
        self.sign = sign
        self.seconds = float(seconds)
        self.canonical = sign + rest

    def predicate(self, now: float) -> Predicate:
        """Compare durations; an unknown duration (``None``) never matches."""
        return _compare(self.sign, self.seconds)


class MagicValue(ValueTest):
    """For ``d_METHOD`` fields of unknown type: numeric if the value looks like a number, else text."""

    def __init__(self, token: Token, field: str) -> None:
        _sign, rest = _split_sign(token)
        self._number: NumberValue | None = None
        self._text: PatternValue | None = None
        if rest and _NUMBER_RE.fullmatch(rest):
            self._number = NumberValue(token, field)
            self.canonical = self._number.canonical
        else:
            self._text = PatternValue(token, field)
            self.canonical = self._text.canonical

    def predicate(self, now: float) -> Predicate:
        """Compare as a number (values that are not numbers never match) or as text."""
        if self._number is not None:
            compare = self._number.predicate(now)

            def numeric(value: Any) -> bool:
                try:
                    return compare(float(value))
                except (TypeError, ValueError):
                    return False

            return numeric
        assert self._text is not None
        text_match = self._text.predicate(now)
        return lambda value: text_match("" if value is None else str(value))


_PARSERS: Final[dict[str, Callable[[Token, str, bool], ValueTest]]] = {
    "pattern": lambda token, field, exact: PatternValue(token, field),
    "files": lambda token, field, exact: FilesValue(token, field),
    "tags": TagValue,
    "bool": lambda token, field, exact: BoolValue(token, field),
    "number": lambda token, field, exact: NumberValue(token, field),
    "bytes": lambda token, field, exact: ByteSizeValue(token, field),
    "time": lambda token, field, exact: TimeValue(token, field, not_null=False),
    "time_notnull": lambda token, field, exact: TimeValue(token, field, not_null=True),
    "duration": lambda token, field, exact: DurationValue(token, field),
    "magic": lambda token, field, exact: MagicValue(token, field),
}
