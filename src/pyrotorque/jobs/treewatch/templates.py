"""Templated load commands of the tree watch (``job.NAME.cmd.KEY``), their namespace and path flags.

A command text that starts with ``{{`` is a Tempita template; any other text is a plain command in
which only ``%(name)s`` is replaced (and ``%%`` becomes ``%``). Every value substituted into a
command is untrusted data (file and torrent names, paths, tracker URLs), so it is escaped for
rTorrent's command parser: a backslash before every character that could mean something to it.
The text the user wrote around the values is passed as written. docs/treewatch-templates.md has
the rules, the variables, and what was measured against rTorrent 0.9.8 and 0.16.

The parts: value_marks (escaping and marking values), tempita_command and percent_command (the
two kinds of command text), namespace (the variables and helpers); re-exported here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tempita

from pyrotorque.errors import TemplateError
from pyrotorque.jobs.treewatch.namespace import (
    HELPER_FUNCTIONS,
    HELPERS,
    Helpers,
    path_flags,
    template_namespace,
)
from pyrotorque.jobs.treewatch.percent_command import PercentCommand
from pyrotorque.jobs.treewatch.tempita_command import CommandTemplate
from pyrotorque.jobs.treewatch.value_marks import VALUE_END, VALUE_START, unmark

__all__ = [
    "HELPERS",
    "HELPER_FUNCTIONS",
    "Helpers",
    "LoadCommand",
    "path_flags",
    "template_namespace",
]


def _template_lines(text: str, line: int | None, column: int | None) -> str:
    """The template with line numbers, and a caret under the position if there is one."""
    shown: list[str] = []
    for number, content in enumerate(text.split("\n"), start=1):
        shown.append(f"    {number:3d}| {content}")
        if number == line and column is not None:
            shown.append("    " + " " * (column + 4) + "^")
    return "\n".join(shown)


def _load_text(name: str, text: str, config_dir: Path) -> str:
    """The command text, read from its file for ``file:PATH`` (right-stripped, as the original)."""
    if not text.startswith("file:"):
        return text
    spec = text[len("file:") :].strip()
    path = Path(spec).expanduser()
    if not path.is_absolute():
        path = config_dir / "templates" / path
    try:
        return path.read_text(encoding="utf-8").rstrip()
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateError(f"{name}: cannot read template file {str(path)!r}: {exc}") from exc


@dataclass(frozen=True)
class LoadCommand:
    """One ``cmd.NAME`` setting of a tree watch, parsed once; renders one load command per metafile."""

    name: str
    text: str
    _template: CommandTemplate | PercentCommand = field(repr=False, compare=False)

    @classmethod
    def parse(cls, name: str, text: str, *, config_dir: Path) -> LoadCommand:
        """Parse a setting's text (``name`` is the full key, e.g. ``job.treewatch.cmd.target``).

        Raises TemplateError naming the command for bad syntax or an unreadable ``file:``.
        """
        source = _load_text(name, text, config_dir)
        bad = re.search(f"[{VALUE_START}{VALUE_END}]", source)
        if bad is not None:
            raise TemplateError(f"{name}: control character U+{ord(bad.group()):04X} in the command text")
        if not source.startswith("{{"):
            try:
                return cls(name, source, PercentCommand.parse(source))
            except TemplateError as exc:
                raise TemplateError(f"{name}: {exc}") from None
        try:
            template = CommandTemplate(source)
        except tempita.TemplateError as exc:
            line, column = exc.position if exc.position else (None, None)
            where = f" at line {line} column {column}" if line is not None else ""
            raise TemplateError(
                f"{name}: {exc.args[0]}{where}\n{_template_lines(source, line, column)}"
            ) from None
        except SyntaxError as exc:  # tempita compiles some expressions while parsing
            raise TemplateError(f"{name}: {exc}\n{_template_lines(source, None, None)}") from None
        return cls(name, source, template)

    def render(self, namespace: Mapping[str, Any]) -> str:
        """The command for one metafile; "" if it expands to blanks only (then send nothing).

        Raises TemplateError naming the command when an expression fails or a value cannot be
        passed safely.
        """
        try:
            if isinstance(self._template, PercentCommand):
                marked = self._template.substitute(namespace)
            else:
                # Tempita writes into the namespace ({{py:}}, loop variables), so give it a copy.
                marked = self._template.substitute(dict(namespace))
            command = unmark(marked)
        except TemplateError as exc:
            raise TemplateError(f"{self.name}: {exc}") from None
        except Exception as exc:  # an expression in the user's template failed, whatever the type
            raise TemplateError(f"{self.name}: {type(exc).__name__}: {exc}") from None
        return command if command.strip() else ""
