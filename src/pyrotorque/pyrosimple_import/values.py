"""Values of a pyrosimple ``config.toml`` in our syntax: schedules, load commands, INI lines.

Every function returns the text and the notes (why something changed or has no equivalent); none
raises for a value it cannot convert, so one odd key never hides the rest of a conversion.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from typing import Any

from pyrotorque.errors import ConfigError
from pyrotorque.jobs.treewatch.namespace import HELPER_FUNCTIONS
from pyrotorque.scheduler import parse_schedule

#: What a converted Jinja load command starts with, so our tree watch reads it as a template.
TEMPLATE_MARK = "{{# from pyrosimple}}"
_JINJA = re.compile(r"\{\{-?(.*?)-?\}\}|\{%-?(.*?)-?%\}|\{#(.*?)#\}", re.DOTALL)
_STATEMENT = re.compile(r"\s*(if|elif|for)\s+(.*?)\s*$|\s*(else|endif|endfor)\s*$", re.DOTALL)
_FILTER = re.compile(r"\|\s*([A-Za-z_]\w*)\s*(\()?")


def toml_text(value: Any) -> str:
    """A scalar TOML value as our config text (booleans as yes/no)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def schedule(text: str) -> tuple[str, list[str]]:
    """pyrosimple's schedule (fields split at blanks) in ours (shell-quoted fields), checked."""
    # Only quotes and backslashes mean something to our (shell-like) split that they did not to theirs.
    fields = [shlex.quote(token) if set(token) & set("'\"\\") else token for token in str(text).split()]
    converted = " ".join(fields)
    try:
        parse_schedule(converted)
    except ConfigError as exc:
        return converted, [f"schedule {text!r} is not valid here: {exc}"]
    return converted, []


def _split_blanks(text: str) -> list[str]:
    """Literal text cut at blanks outside double quotes (pyrosimple cut at every blank, quotes or not)."""
    parts, current, quoted, escaped = [], "", False, False
    for char in text:
        if escaped:
            current, escaped = current + char, False
        elif char == "\\":
            current, escaped = current + char, True
        elif char == '"':
            current, quoted = current + char, not quoted
        elif char.isspace() and not quoted:
            parts.append(current)
            current = ""
        else:
            current += char
    return [*parts, current]


def _expression(text: str, notes: list[str]) -> str:
    """A Jinja expression as a Tempita one: our variable names, filters as ``|h.NAME``."""
    expression = re.sub(r"\brel_path\b", "relpath", text.strip())
    if re.search(r"\bguessit\b", expression):
        notes.append("'guessit' has no equivalent; 'traits' holds what the name says")
    if re.search(r"\blabel\b", expression):
        notes.append("'label' is ours here: content class and extension, e.g. 'tv/mkv', not guessit's")

    def helper(match: re.Match[str]) -> str:
        name = match.group(1)
        if match.group(2) or name not in HELPER_FUNCTIONS:
            notes.append(f"Jinja filter {name!r} has no equivalent; write it as a Python expression")
            return match.group(0)
        return f"|h.{name}"

    return _FILTER.sub(helper, expression)


def _statement(text: str, notes: list[str]) -> str:
    match = _STATEMENT.fullmatch(text)
    if match is None:
        notes.append(f"Jinja statement {{% {text.strip()} %}} has no equivalent in Tempita")
        return "{{# " + text.strip() + "}}"
    if match.group(1):
        return "{{" + match.group(1) + " " + _expression(match.group(2), notes) + "}}"
    return "{{" + match.group(3) + "}}"


def load_command(text: str) -> tuple[str, list[str]]:
    """A ``cmd_*`` value as our ``cmd.NAME``: one command per line, Jinja turned into Tempita."""
    notes: list[str] = []
    pieces: list[str] = []
    pos = 0
    for match in _JINJA.finditer(text):
        pieces.append("\n".join(_split_blanks(text[pos : match.start()])))
        expression, statement, comment = match.groups()
        if expression is not None:
            pieces.append("{{" + _expression(expression, notes) + "}}")
        elif statement is not None:
            pieces.append(_statement(statement, notes))
        else:
            pieces.append("{{# " + comment.strip() + "}}")
        pos = match.end()
    pieces.append("\n".join(_split_blanks(text[pos:])))
    converted = "".join(pieces)
    lines = [line.strip() for line in converted.split("\n") if line.strip()]
    result = "\n".join(lines)
    if pos == 0:
        # A plain command: ours replaces %(name)s in it, so a literal % is doubled.
        return result.replace("%", "%%"), notes
    return (result if result.startswith("{{") else TEMPLATE_MARK + result), notes


def command_line(value: Any) -> str:
    """pyrosimple's ``args`` (a list of words, or one line) as our one command line."""
    if isinstance(value, list):
        return shlex.join(str(word) for word in value)
    return str(value)


def ini_value(value: str) -> tuple[str | None, str | None]:
    """``value`` as our INI reader reads it back (``%`` doubled, lines indented), or None and why not."""
    lines = [line.strip() for line in value.split("\n") if line.strip()]
    if any(re.search(r"\s;", line) for line in lines):
        return None, "a ';' after a blank starts a comment in our INI files; the value cannot be written"
    if lines == ['""']:
        return None, 'the two characters "" mean an empty value in our INI files'
    if not lines:
        return '""', None
    text = "\n    ".join(line.replace("%", "%%") for line in lines)
    return text, None


def ini_lines(key: str, value: str, comments: Sequence[str] = ()) -> list[str]:
    """``# comment`` lines, then ``key = value`` (or a comment saying why it cannot be written)."""
    written, problem = ini_value(value)
    lines = [f"# {comment}" for comment in comments]
    if written is None:
        return [*lines, f"# NOT WRITTEN: {key}: {problem}"]
    return [*lines, f"{key} = {written}"]
