"""Templated load commands of the tree watch (``job.NAME.cmd.KEY``), their namespace and path flags.

A command text that starts with ``{{`` is a Tempita template; any other text is a plain command in
which only ``%(name)s`` is replaced (and ``%%`` becomes ``%``). Every value substituted into a
command is untrusted data (file and torrent names, paths, tracker URLs), so it is escaped for
rTorrent's command parser: a backslash before every character that could mean something to it.
The text the user wrote around the values is passed as written. docs/treewatch-templates.md has
the rules, the variables, and what was measured against rTorrent 0.9.8 and 0.16.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Final

import tempita

from pyrotorque.bunch import Bunch
from pyrotorque.conditions.fields import announce_alias
from pyrotorque.conditions.traits import detect_traits, file_histogram
from pyrotorque.durations import format_duration
from pyrotorque.errors import TemplateError
from pyrotorque.names import release_details, release_kind
from pyrotorque.rtorrent.commands import begins_argument, rtorrent_escape

if TYPE_CHECKING:
    from pyrotorque.metafile import Metafile

__all__ = [
    "Helpers",
    "LoadCommand",
    "path_flags",
    "template_namespace",
]

# -- marking substituted values ------------------------------------------------------------

# Markers around each substituted value while a command is rendered; both are unsendable, so no
# value can contain them, and template text containing them is refused when it is parsed.
_VALUE_START: Final = "\x01"
_VALUE_END: Final = "\x02"


def _marked(value: Any) -> str:
    """A substituted value as text: escaped and wrapped in the value markers."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise TemplateError(f"value {value!r} is not UTF-8 text") from exc
    return _VALUE_START + rtorrent_escape(value if isinstance(value, str) else str(value)) + _VALUE_END


def _unmark(marked: str) -> str:
    """Drop the value markers; refuse a value that rTorrent would run as a ``$command``."""
    out: list[str] = []
    pos = 0
    while (start := marked.find(_VALUE_START, pos)) >= 0:
        end = marked.index(_VALUE_END, start)
        out.append(marked[pos:start])
        value = marked[start + 1 : end]
        # rTorrent runs an argument starting with "$" as a command after removing the escapes,
        # quoted or not (measured on 0.9.8 and 0.16), so no escaping can make this data.
        if value.startswith("\\$") and begins_argument("".join(out)):
            raise TemplateError(
                f"a value starting with '$' ({value.replace(chr(92), '')[:40]!r}) would begin an "
                "rTorrent argument, and rTorrent would run it as a command"
            )
        out.append(value)
        pos = end + 1
    out.append(marked[pos:])
    return "".join(out)


# -- the two kinds of command text -----------------------------------------------------------


_DELIMITER: Final = re.compile(r"\{\{|\}\}")


def _position(text: str, index: int) -> tuple[int, int]:
    """(line, column) of ``index`` in ``text``, both 1-based, counted from the start of the text."""
    return text.count("\n", 0, index) + 1, index - text.rfind("\n", 0, index)


def _tempita_positions(text: str) -> dict[tuple[int, int], tuple[int, int]]:
    """Each (line, column) Tempita's lexer can report for ``text``, mapped to the true one.

    Tempita 0.6.0 counts the newlines from the start of the text again at every delimiter and
    adds them to the previous line number, so every position after a multi-line comment is too far
    down. Its lexer asks ``find_position`` once per delimiter, as below, and every position it
    reports (parse errors, the nodes of the parse tree) is one of these. They are all distinct
    (lines grow at every delimiter after the first newline, columns before it), so the map is exact.
    """
    positions = {(1, 1): (1, 1)}
    reported = (1, 1)
    for match in _DELIMITER.finditer(text):
        reported = tempita.find_position(text, match.end(), 0, reported)
        positions[reported] = _position(text, match.end())
    return positions


def _with_positions(node: Any, positions: Mapping[tuple[int, int], tuple[int, int]]) -> Any:
    """A copy of Tempita's parse tree (strings, lists, tuples) with every position mapped."""
    if isinstance(node, list):
        return [_with_positions(item, positions) for item in node]
    if isinstance(node, tuple):
        if len(node) == 2 and all(type(part) is int for part in node):  # only positions are int pairs
            return positions.get(node, node)
        return tuple(_with_positions(item, positions) for item in node)
    return node


class _CommandTemplate(tempita.Template):  # type: ignore[misc]  # tempita has no type hints
    """A Tempita template whose expression values are escaped for rTorrent, not inserted raw.

    Its positions count from the start of the text (see ``_tempita_positions``); the library's
    own ``find_position`` is left alone, so other Tempita users in the process are not affected.
    """

    _parsed: list[Any]  # Tempita's parse tree, built by its constructor

    def __init__(self, content: str) -> None:
        positions = _tempita_positions(content)
        try:
            super().__init__(content)
        except tempita.TemplateError as exc:
            if exc.position:
                exc.position = positions.get(tuple(exc.position), exc.position)
            raise
        # Every position of a later error (_eval, _exec, _repr, {{def}}) is read from this tree.
        self._parsed = _with_positions(self._parsed, positions)

    def _repr(self, value: Any, pos: tuple[int, int]) -> str:
        try:
            return _marked(value)
        except TemplateError as exc:
            raise TemplateError(f"{exc} at line {pos[0]} column {pos[1]}") from None


_PERCENT: Final = re.compile(r"%(?:%|\((?P<name>[^)]*)\)(?P<conversion>.?))")


@dataclass(frozen=True)
class _PercentCommand:
    """A plain command: ``%(name)s`` is replaced by an escaped value, ``%%`` by ``%``."""

    parts: tuple[str, ...]  # literal text at even indexes, variable names at odd ones

    @classmethod
    def parse(cls, text: str) -> _PercentCommand:
        parts: list[str] = []
        literal: list[str] = []
        pos = 0
        for match in _PERCENT.finditer(text):
            lone = text.find("%", pos, match.start())
            if lone >= 0:
                raise _percent_error(text, lone)
            literal.append(text[pos : match.start()])
            pos = match.end()
            if match.group() == "%%":
                literal.append("%")
                continue
            if match.group("conversion") != "s":
                raise TemplateError(
                    f"only '%(name)s' is supported, got {match.group()!r} at position {match.start()}"
                )
            parts.extend(("".join(literal), match.group("name")))
            literal = []
        lone = text.find("%", pos)
        if lone >= 0:
            raise _percent_error(text, lone)
        parts.append("".join(literal) + text[pos:])
        return cls(tuple(parts))

    def substitute(self, namespace: Mapping[str, Any]) -> str:
        out: list[str] = []
        for index, part in enumerate(self.parts):
            if index % 2 == 0:
                out.append(part)
                continue
            if part not in namespace:
                raise TemplateError(f"'%({part})s' names an unknown variable")
            out.append(_marked(namespace[part]))
        return "".join(out)


def _percent_error(text: str, position: int) -> TemplateError:
    return TemplateError(
        f"a '%' must start '%(name)s' or be doubled as '%%' (position {position} of {text!r})"
    )


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
    _template: _CommandTemplate | _PercentCommand = field(repr=False, compare=False)

    @classmethod
    def parse(cls, name: str, text: str, *, config_dir: Path) -> LoadCommand:
        """Parse a setting's text (``name`` is the full key, e.g. ``job.treewatch.cmd.target``).

        Raises TemplateError naming the command for bad syntax or an unreadable ``file:``.
        """
        source = _load_text(name, text, config_dir)
        bad = re.search(f"[{_VALUE_START}{_VALUE_END}]", source)
        if bad is not None:
            raise TemplateError(f"{name}: control character U+{ord(bad.group()):04X} in the command text")
        if not source.startswith("{{"):
            try:
                return cls(name, source, _PercentCommand.parse(source))
            except TemplateError as exc:
                raise TemplateError(f"{name}: {exc}") from None
        try:
            template = _CommandTemplate(source)
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
            if isinstance(self._template, _PercentCommand):
                marked = self._template.substitute(namespace)
            else:
                # Tempita writes into the namespace ({{py:}}, loop variables), so give it a copy.
                marked = self._template.substitute(dict(namespace))
            command = _unmark(marked)
        except TemplateError as exc:
            raise TemplateError(f"{self.name}: {exc}") from None
        except Exception as exc:  # an expression in the user's template failed, whatever the type
            raise TemplateError(f"{self.name}: {type(exc).__name__}: {exc}") from None
        return command if command.strip() else ""


# -- flags ---------------------------------------------------------------------------------------


def path_flags(pathname: Path, root: Path) -> frozenset[str]:
    """Flags of a metafile: its path components below ``root`` and the dot-parts of its file name.

    ``root/tv/start/foo.torrent`` and ``root/movies/foo.start.torrent`` both carry ``start``;
    folders above the root never count. A path outside ``root`` gives only the file name parts.
    """
    path = PurePosixPath(os.path.abspath(pathname))
    base = PurePosixPath(os.path.abspath(root))
    try:
        below = path.parent.relative_to(base).parts
    except ValueError:
        below = ()
    name = path.name
    return frozenset(part for part in (*below, name, *name.split(".")) if part and part != ".")


# -- namespace -----------------------------------------------------------------------------------


def _main_file(metafile: Metafile) -> str:
    """The file name that decides ``filetype``: the name of a single file, else the largest file."""
    if not metafile.is_multi_file or not metafile.files:
        return metafile.name
    parts, _length = max(metafile.files, key=lambda entry: (entry[1], entry[0][-1] if entry[0] else ""))
    return parts[-1] if parts else ""


def _human_size(size: float) -> str:
    """Bytes in binary units: ``1.5 GiB``, ``512 bytes``."""
    value = float(size)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{int(value)} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def _iso(timestamp: float) -> str:
    """A Unix time as local ``YYYY-MM-DD HH:MM:SS``."""
    return datetime.fromtimestamp(float(timestamp)).isoformat(" ", "seconds")


def _duration(seconds: float) -> str:
    """Seconds as ``1d 2h 3m 4s`` (zero parts left out, no weeks)."""
    return format_duration(seconds)


def _pathname(path: str) -> str:
    """The file name without its last extension (``/a/b.c.torrent`` -> ``b.c``)."""
    return os.path.splitext(os.path.basename(path))[0]


def _percent(ratio: float) -> str:
    """A ratio as a percentage: ``0.25`` -> ``25.0%``."""
    return f"{float(ratio) * 100:.1f}%"


def _subst(pattern: str, replacement: str, text: str) -> str:
    """``re.sub`` with the text last, so it reads well in a template."""
    return re.sub(pattern, replacement, str(text))


def _json(value: Any) -> str:
    """A value as JSON with sorted keys."""
    return json.dumps(value, sort_keys=True, default=str)


def _rtescape(text: Any) -> str:
    """One more level of escaping, for a value inside a command string rTorrent parses again."""
    return rtorrent_escape(str(text))


#: The helper functions of a template, by name.
HELPER_FUNCTIONS: Final[Mapping[str, Callable[..., Any]]] = {
    "sz": _human_size,
    "iso": _iso,
    "duration": _duration,
    "pc": _percent,
    "strip": lambda text: str(text).strip(),
    "subst": _subst,
    "json": _json,
    "mtime": os.path.getmtime,
    "now": time.time,
    "pathbase": os.path.basename,
    "pathname": _pathname,
    "pathext": lambda path: os.path.splitext(path)[1],
    "pathdir": os.path.dirname,
    "rtescape": _rtescape,
}


class Helpers:
    """The ``h`` object of a template: each helper function as an attribute (``h.pathname``)."""

    def __init__(self, functions: Mapping[str, Callable[..., Any]]) -> None:
        self.__dict__.update(functions)

    def __getattr__(self, name: str) -> Any:  # only reached for unknown names
        raise AttributeError(f"no helper h.{name}; known: {', '.join(sorted(HELPER_FUNCTIONS))}")


HELPERS: Final = Helpers(HELPER_FUNCTIONS)


def template_namespace(
    metafile: Metafile,
    pathname: Path,
    root: Path,
    roots: Sequence[Path],
    aliases: Mapping[str, Sequence[str]],
) -> dict[str, Any]:
    """The variables and helpers a load command template sees for one metafile under ``root``.

    ``pathname`` must lie under ``root`` (one of ``roots``); raises ValueError otherwise.
    """
    absolute = os.path.abspath(pathname)
    base = os.path.abspath(root)
    relative = PurePosixPath(absolute).parent.relative_to(PurePosixPath(base))
    histogram = file_histogram(("/".join(parts), length) for parts, length in metafile.files)
    tracker_alias = announce_alias(metafile.announce, aliases)
    label_parts = detect_traits(metafile.name, histogram)
    label = "/".join(label_parts)
    if label_parts:
        kind = label_parts[0] if label_parts[0] in ("tv", "movie") else None
    else:
        kind = release_kind(metafile.name)
    # kind and the details come from two rules that disagree on some names (see names.py),
    # and templates rely on both as they are.
    traits = Bunch(release_details(metafile.name))
    traits["kind"] = kind
    namespace: dict[str, Any] = {
        name: function for name, function in HELPER_FUNCTIONS.items() if name != "pathname"
    }
    namespace.update(
        h=HELPERS,
        pathname=absolute,
        info_hash=metafile.info_hash,
        info_name=metafile.name,
        tracker_alias=tracker_alias,
        watch_path=tuple(os.path.abspath(path) for path in roots),
        relpath="" if str(relative) == "." else str(relative),
        flags=path_flags(Path(absolute), Path(base)),
        filetype=os.path.splitext(_main_file(metafile))[1],
        traits=traits,
        label=label,
        size=metafile.size,
        commands=[],
    )
    return namespace
