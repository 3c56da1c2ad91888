"""Marking the values substituted into a tree watch command: escaped for rTorrent and wrapped in
markers while the command is rendered, so the finished text shows where each value begins."""

from __future__ import annotations

from typing import Any, Final

from pyrotorque.errors import TemplateError
from pyrotorque.rtorrent.commands import begins_argument, rtorrent_escape

# Markers around each substituted value while a command is rendered; both are unsendable, so no
# value can contain them, and template text containing them is refused when it is parsed.
VALUE_START: Final = "\x01"
VALUE_END: Final = "\x02"


def marked(value: Any) -> str:
    """A substituted value as text: escaped and wrapped in the value markers."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise TemplateError(f"value {value!r} is not UTF-8 text") from exc
    return VALUE_START + rtorrent_escape(value if isinstance(value, str) else str(value)) + VALUE_END


def unmark(text: str) -> str:
    """Drop the value markers; refuse a value that rTorrent would run as a ``$command``."""
    out: list[str] = []
    pos = 0
    while (start := text.find(VALUE_START, pos)) >= 0:
        end = text.index(VALUE_END, start)
        out.append(text[pos:start])
        value = text[start + 1 : end]
        # rTorrent runs an argument starting with "$" as a command after removing the escapes,
        # quoted or not (measured on 0.9.8 and 0.16), so no escaping can make this data.
        if value.startswith("\\$") and begins_argument("".join(out)):
            raise TemplateError(
                f"a value starting with '$' ({value.replace(chr(92), '')[:40]!r}) would begin an "
                "rTorrent argument, and rTorrent would run it as a command"
            )
        out.append(value)
        pos = end + 1
    out.append(text[pos:])
    return "".join(out)
