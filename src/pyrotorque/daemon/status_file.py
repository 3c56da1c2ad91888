"""The status file's name and format, and how ``--status`` reads it.

A leaf (``os`` and CPython's JSON scanner only), so that ``pyrotorque --status`` while a daemon runs
need not import what the daemon writes the file with (status_board.py: dataclasses, threading,
pathlib). The reader gives attribute views of the file's records, which is all status_view.py reads;
a file of another format or process is None, and one of another shape fails there (``cli_quick`` then
says that the daemon has published no status).
"""

from __future__ import annotations

import os
from types import SimpleNamespace

TYPE_CHECKING = False  # not typing's: see cli_quick
if TYPE_CHECKING:
    from collections.abc import Callable

#: The status file's name, in the pid file's directory.
STATUS_FILE_NAME = "pyrotorque.status.json"
#: Bumped when a field changes meaning; ``--status`` refuses a format it does not know.
FORMAT = 1


def status_file_name(pid_file_name: str) -> str:
    """Where the daemon whose pid file is ``pid_file_name`` keeps its status."""
    return os.path.join(os.path.dirname(pid_file_name), STATUS_FILE_NAME)


class _DecoderDefaults:
    """What the C scanner reads of a ``json.JSONDecoder``: the defaults of ``json.loads``."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = float  # "NaN", "Infinity", "-Infinity", as json.loads reads them


def _json_reader() -> Callable[[str], object]:
    """``json.loads``, or the C scanner it runs on where there is one.

    ``import json`` imports ``re`` (and ``enum``, ``functools``, ``collections``) for json.decoder's
    patterns, which was a third of ``--status``'s cost; the scanner underneath is CPython's ``_json``,
    which parses the same text to the same values. Elsewhere (no ``_json``) json itself reads it.
    """
    try:
        from _json import make_scanner
    except ImportError:  # pragma: no cover - CPython has it
        import json

        return json.loads
    scan = make_scanner(_DecoderDefaults())  # type: ignore[arg-type]  # it reads only these attributes

    def loads(text: str) -> object:
        start = len(text) - len(text.lstrip(" \t\n\r"))
        try:
            value, end = scan(text, start)
        except StopIteration as stop:  # nothing a JSON value begins with
            raise ValueError(f"no JSON value at {stop.value}") from None
        if text[end:].strip(" \t\n\r"):
            raise ValueError(f"more than one JSON value (from {end})")
        return value

    return loads


#: Reads one JSON text as ``json.loads`` does; ValueError if it is not one.
parse_json: Callable[[str], object] = _json_reader()


def read_status_view(file_name: str, pid: int) -> SimpleNamespace | None:
    """The running daemon ``pid``'s status as attribute views, or None (no file, stale, another
    format, or not the shape this version writes)."""
    try:
        with open(file_name, encoding="utf-8") as handle:
            data = parse_json(handle.read())
        if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("pid") != pid:
            return None
        jobs = [SimpleNamespace(**job) for job in data.get("jobs", [])]
        connections = [SimpleNamespace(**one) for one in data.get("connections", [])]
    except (OSError, ValueError, TypeError):
        return None
    return SimpleNamespace(**{**data, "jobs": jobs, "connections": connections})
