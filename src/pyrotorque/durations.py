"""Durations as short text: ``1d 2h 3m 4s``, the largest unit first."""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's: --status's quick answer imports this module, and typing costs
if TYPE_CHECKING:
    from typing import Final

__all__ = ["format_duration"]

_WEEK: Final = ("w", 7 * 86400)
_UNITS: Final = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


def format_duration(seconds: float, *, weeks: bool = False, max_units: int | None = None) -> str:
    """Whole seconds as ``1d 2h 3m 4s``: largest unit first, zero parts left out, ``0s`` for none.

    ``weeks`` adds a ``w`` unit above ``d``. ``max_units`` keeps only that many units, counted from
    the largest one present, zeros included (``1d 0h 5s`` is ``1d`` with 2: the text never skips
    a unit). A negative value counts down from a negative largest part: ``-5`` is ``-1d 23h 59m 55s``.
    """
    remaining = int(seconds)
    parts: list[tuple[int, str]] = []
    for suffix, size in (_WEEK, *_UNITS) if weeks else _UNITS:
        count, remaining = divmod(remaining, size)
        if count or parts:
            parts.append((count, suffix))
    shown = parts if max_units is None else parts[:max_units]
    return " ".join(f"{count}{suffix}" for count, suffix in shown if count) or "0s"
