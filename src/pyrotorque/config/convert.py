"""Text-to-value conversions shared by job options, job flags, scheduler keys and settings.

``TRUE_WORDS``/``FALSE_WORDS`` are pyrotorque's one yes/no vocabulary: configuration values, condition
booleans (``is_open=no``) and the ``verify=`` option of rTorrent URLs all read booleans with
``bool_word``; pyrocore-style job params use it minus ``on``/``off`` (``config.jobs.legacy_value``).
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


class BadValue(ValueError):
    """A value does not fit the option's type or check; the message says what was expected."""


#: The words read as true and as false, in lower case (any case is accepted).
TRUE_WORDS = frozenset({"yes", "true", "on", "1", "y", "t", "+"})
FALSE_WORDS = frozenset({"no", "false", "off", "0", "n", "f", "-"})
_INT_RE = re.compile(r"[+-]?\d+")
_FLOAT_RE = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
#: Items of a tuple option are separated by commas and/or whitespace unless a field says otherwise.
DEFAULT_SEPARATOR = re.compile(r"[\s,]+")


def bool_word(word: str) -> bool | None:
    """True or False for a word of the yes/no vocabulary (any case, no blanks around it), else None."""
    lowered = word.lower()
    if lowered in TRUE_WORDS:
        return True
    if lowered in FALSE_WORDS:
        return False
    return None


def parse_bool(text: str) -> bool:
    """yes/no, true/false, on/off, 1/0, y/n, t/f, +/- (any case) to a bool; BadValue otherwise."""
    value = bool_word(text.strip())
    if value is not None:
        return value
    raise BadValue(f"expected a boolean (yes/no, true/false, on/off, 1/0), got {text!r}")


def parse_int(text: str) -> int:
    """Decimal integer, sign allowed; BadValue otherwise (a number too long for Python's int too)."""
    if not _INT_RE.fullmatch(text.strip()):
        raise BadValue(f"expected an integer, got {text!r}")
    return _int_of_digits(text.strip())


def _int_of_digits(digits: str) -> int:
    try:
        return int(digits)
    except ValueError:  # more digits than Python converts (sys.get_int_max_str_digits)
        limit = sys.get_int_max_str_digits()
        raise BadValue(
            f"expected an integer of at most {limit} digits, got {len(digits)} characters"
        ) from None


def parse_float(text: str) -> float:
    """Decimal number (no nan/inf, none too large for a float); BadValue otherwise."""
    if not _FLOAT_RE.fullmatch(text.strip()):
        raise BadValue(f"expected a number, got {text!r}")
    value = float(text.strip())
    if not math.isfinite(value):
        raise BadValue(f"expected a number, got one too large for a float ({len(text.strip())} characters)")
    return value


def parse_path(text: str) -> Path:
    """Non-empty path, user-expanded; BadValue otherwise."""
    if not text.strip():
        raise BadValue("expected a path, got an empty value")
    return Path(text.strip()).expanduser()


#: Option field type -> converter from the INI text.
SCALAR_PARSERS: dict[Any, Callable[[str], Any]] = {
    bool: parse_bool,
    int: parse_int,
    float: parse_float,
    str: lambda text: text,
    Path: parse_path,
}
