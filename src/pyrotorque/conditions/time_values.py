"""Time values of the condition language: points in time (epochs, deltas back from now, local dates)
and lengths of time."""

from __future__ import annotations

import calendar
import datetime as dt
import math
import re
import time
from typing import Final

from pyrotorque.conditions.tokens import Token
from pyrotorque.conditions.value_base import Predicate, ValueTest
from pyrotorque.conditions.value_base import compare as _compare
from pyrotorque.conditions.value_base import quote as _quote
from pyrotorque.conditions.value_base import split_sign as _split_sign
from pyrotorque.errors import ConditionError

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
