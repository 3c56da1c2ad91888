"""Byte sizes as people write and read them: ``1.5g``, ``500MiB``, ``4096`` and ``1.5 GiB``.

One rule for the condition language (``size>700m``), configuration keys (``job.queue.min_free``)
and log and template output: units are powers of 1024; ``b``, ``ib`` and ``iB`` after a unit are
allowed and change nothing.
"""

from __future__ import annotations

import re
from typing import Final

_UNITS: Final = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
_SIZE_RE: Final = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(?:([kmgt])(?:i?b)?|(b))?", re.IGNORECASE)


def size_bytes(text: str) -> float | None:
    """The byte count ``text`` means (``1.5g``, ``700MiB``, ``512b``, ``4096``), or None if it is no size.

    A size beyond a float's range is ``inf``: the caller says it is out of range.
    """
    found = _SIZE_RE.fullmatch(text)
    if not found:
        return None
    unit = (found.group(2) or found.group(3) or "").lower()
    return float(found.group(1)) * _UNITS[unit]


def human_size(size: float) -> str:
    """Bytes in binary units: ``1.5 GiB``, ``512 bytes``."""
    value = float(size)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{int(value)} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")
