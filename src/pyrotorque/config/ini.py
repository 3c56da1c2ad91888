"""A small INI reader that reads files the way pyrocore's ``SafeConfigParser`` did.

Differences from :mod:`configparser` that matter for compatibility: keys are case-sensitive,
continuation lines are joined with ``"\\n"`` (empty ones skipped), only column-0 ``#``/``;`` lines
are comments, an inline comment is a ``;`` preceded by whitespace, and ``""`` means empty.
Every value keeps its file and line, and every error names them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from pyrotorque.errors import ConfigError

#: How deep ``%(name)s`` references may nest before we call it a cycle (the original's limit).
MAX_INTERPOLATION_DEPTH = 10

_SECTION_RE = re.compile(r"\[([^\]]*)\](.*)$")
_OPTION_RE = re.compile(r"([^:=\s][^:=]*)([:=])(.*)$")
_INLINE_COMMENT_RE = re.compile(r"\s;")
_REFERENCE_RE = re.compile(r"\(([^)]*)\)s")


@dataclass(frozen=True, slots=True)
class Setting:
    """A configuration value and the file and line it came from."""

    value: str
    path: str
    line: int | None = None

    def __str__(self) -> str:
        return self.value

    def where(self) -> str:
        """Human-readable origin, e.g. ``/home/u/.pyroscope/torque.ini line 12``."""
        return self.path if self.line is None else f"{self.path} line {self.line}"

    def error(self, message: str, key: str | None = None) -> ConfigError:
        """A ConfigError about this value that names the key, the file and the line."""
        return ConfigError(message, key=key, path=self.path, line=self.line)


#: Section name (lower-cased) -> key (as written) -> setting.
Sections = dict[str, dict[str, Setting]]


@dataclass
class _PendingValue:
    """A value whose continuation lines are still being collected."""

    lines: list[str]
    line: int


@dataclass
class _Parser:
    """Line-by-line state of one file being read."""

    path: str
    sections: dict[str, dict[str, _PendingValue]] = field(default_factory=dict)
    current: dict[str, _PendingValue] | None = None
    current_key: str | None = None

    def feed(self, text: str) -> None:
        for number, line in enumerate(text.splitlines(), start=1):
            self._line(number, line)

    def _error(self, message: str, number: int) -> ConfigError:
        return ConfigError(message, path=self.path, line=number)

    def _line(self, number: int, line: str) -> None:
        if not line.strip() or line[0] in "#;":
            return  # blank lines do not end a value, as in the original
        if line[0].isspace():
            if self.current is None or self.current_key is None:
                raise self._error(f"indented line {line.strip()!r} does not continue any value", number)
            part = line.strip()
            if part:
                self.current[self.current_key].lines.append(part)
            return
        if line.startswith("["):
            self._section(number, line)
            return
        match = _OPTION_RE.match(line)
        if match is None:
            raise self._error(
                f"expected 'key = value', a [SECTION] header or a comment, got {line.strip()!r}", number
            )
        key = match.group(1).rstrip()
        if self.current is None:
            raise self._error(f"key {key!r} comes before any [SECTION] header", number)
        value = match.group(3)
        comment = _INLINE_COMMENT_RE.search(value)
        if comment is not None:
            value = value[: comment.start()]
        value = value.strip()
        if value == '""':
            value = ""
        self.current[key] = _PendingValue([value], number)
        self.current_key = key

    def _section(self, number: int, line: str) -> None:
        match = _SECTION_RE.match(line)
        name = match.group(1).strip() if match else ""
        trailer = match.group(2).strip() if match else ""
        if not name or (trailer and trailer[0] not in "#;"):
            raise self._error(f"bad section header {line.strip()!r}, expected [NAME]", number)
        self.current = self.sections.setdefault(name.lower(), {})
        self.current_key = None

    def result(self) -> Sections:
        return {
            name: {
                key: Setting("\n".join(pending.lines), self.path, pending.line)
                for key, pending in keys.items()
            }
            for name, keys in self.sections.items()
        }


def parse_ini(text: str, path: str, *, default_section: str | None = None) -> Sections:
    """Parse INI text into raw (not yet interpolated) settings; section names are lower-cased.

    With ``default_section``, keys before the first header belong to that section (files such as a
    tree watch's ``watch.ini`` need no header); without it, such a key is an error.
    """
    parser = _Parser(path)
    if default_section is not None:
        parser.current = parser.sections.setdefault(default_section.lower(), {})
    parser.feed(text)
    return parser.result()


Lookup = Callable[[str], Setting | None]


def interpolate(setting: Setting, key: str, lookup: Lookup, depth: int = 0) -> str:
    """Resolve ``%(name)s`` references and ``%%`` in a value; ConfigError says where it went wrong."""
    if depth > MAX_INTERPOLATION_DEPTH:
        raise setting.error(
            f"'%(...)s' references nest deeper than {MAX_INTERPOLATION_DEPTH} levels (a cycle?)", key
        )
    text = setting.value
    parts: list[str] = []
    pos = 0
    while (percent := text.find("%", pos)) >= 0:
        parts.append(text[pos:percent])
        if text.startswith("%%", percent):
            parts.append("%")
            pos = percent + 2
            continue
        reference = _REFERENCE_RE.match(text, percent + 1)
        if reference is None:
            raise setting.error(
                f"a '%' must start '%(name)s' or be doubled as '%%', got {text[percent : percent + 12]!r}",
                key,
            )
        name = reference.group(1)
        target = lookup(name)
        if target is None:
            raise setting.error(f"'%({name})s' refers to an unknown key {name!r}", key)
        parts.append(interpolate(target, name, lookup, depth + 1))
        pos = reference.end()
    parts.append(text[pos:])
    return "".join(parts)


def expand_home(value: str) -> str:
    """Expand a leading ``~/`` the way the original did after interpolation."""
    return os.path.expanduser(value) if value.startswith("~/") else value


class Overlay:
    """Settings merged file by file: a later file overrides earlier ones key by key."""

    def __init__(self, builtins: Mapping[str, str]) -> None:
        #: Names every section can interpolate (after its own keys and ``[DEFAULT]``).
        self.builtins = {name: Setting(value, "<built-in>") for name, value in builtins.items()}
        self.raw: Sections = {}
        self.final: Sections = {}

    def add(self, parsed: Sections) -> None:
        """Overlay one parsed file; its values are interpolated against everything loaded so far."""
        for section, items in parsed.items():
            self.raw.setdefault(section, {}).update(items)
        for section, items in parsed.items():
            lookup = self._lookup(section)
            target = self.final.setdefault(section, {})
            for key, setting in items.items():
                value = expand_home(interpolate(setting, key, lookup))
                target[key] = replace(setting, value=value)

    def set(self, section: str, key: str, setting: Setting) -> None:
        """Set one value as is (no interpolation), e.g. from ``-D KEY=VALUE``."""
        self.raw.setdefault(section, {})[key] = setting
        self.final.setdefault(section, {})[key] = setting

    def _lookup(self, section: str) -> Lookup:
        own = self.raw.get(section, {})
        defaults = self.raw.get("default", {})

        def lookup(name: str) -> Setting | None:
            return own.get(name) or defaults.get(name) or self.builtins.get(name)

        return lookup
