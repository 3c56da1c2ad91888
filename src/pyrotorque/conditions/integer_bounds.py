"""The raw integers a numeric condition value holds for, found by searching with the value's own
predicate over the converted value, so the pushed filter means exactly what the client-side test means."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

# Integer bounds are searched for in this range; rTorrent's values are int64 and the pushed
# fields are never anywhere near it, so a bound at its edge means "unbounded".
_LOWEST: Final = -(2**62)
_HIGHEST: Final = 2**62


def interval(
    sign: str, threshold: float, convert: Callable[[Any], Any], holds: Callable[[int], bool]
) -> tuple[int | None, int | None] | None:
    """The raw integers the test holds for, as ``(low, high)`` (``None``: unbounded); ``None`` if empty.

    ``convert`` is monotonic, so the set is an interval; it is checked against ``holds`` at its ends.
    """
    low: int | None
    high: int | None
    if sign == "+":
        low, high = _first(holds), None
        if low is None:
            return None
    elif sign == "-":
        low, high = None, _last(holds)
        if high is None:
            return None
    else:
        low = _first(lambda raw: convert(raw) >= threshold)
        high = _last(lambda raw: convert(raw) <= threshold)
        if low is None or high is None or low > high:
            return None
    if low is not None and low <= _LOWEST:
        low = None
    if high is not None and high >= _HIGHEST:
        high = None
    # The ends must hold and their outer neighbours must not: the translation is exact.
    for inside, outside in ((low, -1), (high, 1)):
        if inside is not None and (not holds(inside) or holds(inside + outside)):
            return None
    return low, high


def _first(holds: Callable[[int], bool]) -> int | None:
    """The least integer in range for which a test that turns true once (and stays) holds."""
    low, high = _LOWEST, _HIGHEST
    if not holds(high):
        return None
    while low < high:
        middle = (low + high) // 2
        if holds(middle):
            high = middle
        else:
            low = middle + 1
    return low


def _last(holds: Callable[[int], bool]) -> int | None:
    """The greatest integer in range for which a test that holds up to some point holds."""
    low, high = _LOWEST, _HIGHEST
    if not holds(low):
        return None
    while low < high:
        middle = (low + high + 1) // 2
        if holds(middle):
            low = middle
        else:
            high = middle - 1
    return low
