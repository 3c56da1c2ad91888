"""Values inside rTorrent command strings: how to escape them so rTorrent reads back exactly the text.

rTorrent parses a command string (``d.custom1.set=VALUE``) with its own rules: backslashes, quotes,
``{}`` lists, ``;`` sequences and ``$`` calls. Untrusted text (file and torrent names, paths, tracker
URLs) goes into such a string only through ``rtorrent_escape``; docs/treewatch-templates.md has what
was measured on 0.9.8 and 0.16. ``path_is_loadable`` says when a path can be handed to rTorrent's
load-by-path commands, which expand globs and ``~``.
"""

from __future__ import annotations

import re
from typing import Final

from pyrotorque.errors import TemplateError

# Characters passed through as they are: ASCII letters and digits, a few punctuation marks that
# rTorrent's parser never treats specially, and everything outside ASCII (rTorrent parses bytes,
# and no byte of a multi-byte UTF-8 sequence is special). Every other character gets a backslash.
_NEEDS_BACKSLASH: Final = re.compile(r"[^A-Za-z0-9._\-/+@:%~\x80-\U0010ffff]")
# What cannot reach rTorrent as sent: what XML 1.0 cannot carry at all (0.9.8 only speaks
# XML-RPC; NUL would also end the command), and CR, which 0.9.8 turns into LF (measured, even as a
# plain RPC parameter sent as "&#13;"), and characters beyond U+FFFF, which make 0.9.8's XML-RPC
# parser refuse the whole call (fault -503, so the item would not load at all).
_UNSENDABLE: Final = re.compile("[\x00-\x08\x0b-\x1f\ud800-\udfff\ufffe-\U0010ffff]")
# After these (ignoring blanks and quotes) a value may begin an rTorrent argument.
_ARGUMENT_OPENERS: Final = frozenset("=,{(;\n")


def rtorrent_escape(value: str) -> str:
    """Escape ``value`` so rTorrent's command parser reads it back as exactly this text.

    Every ASCII character except letters, digits and ``._-/+@:%~`` gets a backslash; this works
    unquoted and inside double quotes alike. Raises TemplateError for characters that cannot be
    sent at all (NUL and the other C0 controls but tab and newline, CR included; lone surrogates; anything
    beyond U+FFFD, such as emoji).
    """
    bad = _UNSENDABLE.search(value)
    if bad is not None:
        raise TemplateError(
            f"character U+{ord(bad.group()):04X} at position {bad.start()} of {value!r} "
            "cannot be passed to rTorrent"
        )
    return _NEEDS_BACKSLASH.sub(r"\\\g<0>", value)


def is_escaped(text: str, index: int) -> bool:
    """True when ``text[index]`` follows an odd number of backslashes."""
    start = index
    while start > 0 and text[start - 1] == "\\":
        start -= 1
    return (index - start) % 2 == 1


def begins_argument(rendered: str) -> bool:
    """True when text appended to ``rendered`` may be the start of an rTorrent argument.

    Conservative: blanks and quotes before it are skipped, and any unescaped ``= , { ( ;`` or
    newline counts as an opener (also the ``=`` inside ``key=value`` data).
    """
    end = len(rendered)
    while end:
        char = rendered[end - 1]
        if is_escaped(rendered, end - 1):
            return False
        if char not in ' \t"':
            return char in _ARGUMENT_OPENERS
        end -= 1
    return True


# Characters rTorrent's load-by-path expands (glob, home directory) or that we do not want it to parse.
_PATH_UNSAFE = frozenset("*?[]{}~\\\"'\n\r\t\0")


def path_is_loadable(path: str) -> bool:
    """True when rTorrent's load-by-path would take ``path`` literally (absolute, no glob or ``~``)."""
    return path.startswith("/") and not any(char in _PATH_UNSAFE for char in path)
