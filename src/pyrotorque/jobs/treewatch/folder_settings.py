"""Per-folder settings of a tree watch: a ``watch.ini`` in any folder of the tree overrides the job's keys.

A ``watch.ini`` may set ``load_mode``, ``queued``, ``cmd.NAME`` (an empty value disables the command
of that name) and ``target`` (the completion path: shorthand for ``cmd.target`` setting the item's
``targetdir`` custom value, as the seed's example does). Keys need no section header (``[watch]`` is
allowed). For a metafile, the folders from its root down to its own folder are applied in turn, so
the nearest file wins key by key and the rest is inherited from above, then from the job.

Each file is parsed once per version: ``FolderSettings`` keeps, per folder, the file's stamp (size,
mtime, inode) and what it said, and only stats the file on each use. A bad file (syntax, unknown
key, bad value, a command that does not parse) is logged once per version with its file, line and
key, and counts as absent: that folder gets the settings above it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pyrotorque.config.convert import BadValue, parse_bool
from pyrotorque.config.ini import Setting, parse_ini
from pyrotorque.errors import ConfigError, TemplateError
from pyrotorque.jobs.treewatch.templates import LoadCommand
from pyrotorque.rtorrent.commands import rtorrent_escape

#: The file name; never a metafile candidate (it does not end in a metafile suffix).
WATCH_INI = "watch.ini"
SECTION = "watch"
LOAD_MODES = ("normal", "load", "start", "started")
#: The command ``target = DIR`` sets, and the custom value it writes (the seed's ``cmd.target``).
TARGET_COMMAND = "target"
TARGET_CUSTOM = "targetdir"
#: A watch.ini is a few lines; anything bigger is a mistake, not read into memory.
MAX_SIZE = 64 * 1024

#: (size, mtime_ns, inode) of a watch.ini, or None when the folder has none.
Stamp = tuple[int, int, int] | None


@dataclass(frozen=True)
class FolderLayer:
    """What one watch.ini sets (``None``: not set there); a command mapped to None is disabled."""

    load_mode: str | None = None
    queued: bool | None = None
    commands: Mapping[str, LoadCommand | None] = field(default_factory=dict)


@dataclass(frozen=True)
class FolderResult:
    """The settings a metafile in one folder is loaded with."""

    load_mode: str
    queued: bool
    commands: tuple[LoadCommand, ...]  # sorted by NAME, disabled ones left out


def target_command(name: str, directory: str) -> LoadCommand:
    """``d.custom.set=targetdir,DIR`` with DIR escaped for rTorrent (and ``%`` for the command text)."""
    text = f"d.custom.set={TARGET_CUSTOM}," + rtorrent_escape(directory).replace("%", "%%")
    return LoadCommand.parse(name, text, config_dir=Path("/"))


class _Reader:
    """Turns one watch.ini's settings into a ``FolderLayer``; every error names file, line and key."""

    def __init__(self, path: Path, config_dir: Path) -> None:
        self.path = path
        self.config_dir = config_dir
        self.load_mode: str | None = None
        self.queued: bool | None = None
        self.commands: dict[str, LoadCommand | None] = {}
        self.target_key: str | None = None

    def read(self, text: str) -> FolderLayer:
        sections = parse_ini(text, str(self.path), default_section=SECTION)
        for name, items in sections.items():
            if name != SECTION:
                line = min((s.line for s in items.values() if s.line is not None), default=None)
                raise ConfigError(f"unknown section [{name}], only [{SECTION}]", path=self.path, line=line)
        for key, setting in sections.get(SECTION, {}).items():
            self._key(key, setting)
        return FolderLayer(self.load_mode, self.queued, self.commands)

    def _key(self, key: str, setting: Setting) -> None:
        value = setting.value.strip()
        if key == "load_mode":
            if value.lower() not in LOAD_MODES:
                raise setting.error(f"must be one of {', '.join(LOAD_MODES)}, got {value!r}", key)
            self.load_mode = value.lower()
        elif key == "queued":
            try:
                self.queued = parse_bool(value)
            except BadValue as exc:
                raise setting.error(str(exc), key) from None
        elif key == TARGET_COMMAND or key.startswith("cmd."):
            self._command(key, setting)
        else:
            raise setting.error(f"unknown key {key!r} (known: load_mode, queued, target, cmd.NAME)", key)

    def _command(self, key: str, setting: Setting) -> None:
        name = TARGET_COMMAND if key == TARGET_COMMAND else key[len("cmd.") :]
        if not name:
            raise setting.error("a command needs a name: cmd.NAME", key)
        if name == TARGET_COMMAND:
            if self.target_key is not None:
                raise setting.error(f"sets the target already set by {self.target_key!r}", key)
            self.target_key = key
        full = f"cmd.{name} of {self.path}"  # names the file when a render fails later
        try:
            self.commands[name] = self._parse(key, full, setting.value)
        except TemplateError as exc:
            raise setting.error(str(exc).removeprefix(f"{full}: "), key) from None

    def _parse(self, key: str, full: str, text: str) -> LoadCommand | None:
        if not text.strip():
            return None  # disables the command of that name inherited from above
        if key != TARGET_COMMAND:
            return LoadCommand.parse(full, text, config_dir=self.config_dir)
        directory = os.path.expanduser(text.strip())
        if not os.path.isabs(directory):
            raise TemplateError(f"must be an absolute folder, got {text.strip()!r}")
        return target_command(full, directory)


def _stamp(path: str) -> Stamp:
    """The stamp of ``path``; None when it does not exist (OSError for anything else)."""
    try:
        stat = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    return (stat.st_size, stat.st_mtime_ns, stat.st_ino)


class FolderSettings:
    """The job's load settings with every ``watch.ini`` on a metafile's way from its root applied."""

    def __init__(
        self,
        *,
        load_mode: str,
        queued: bool,
        commands: Mapping[str, LoadCommand],
        log: logging.Logger | logging.LoggerAdapter[logging.Logger],
        config_dir: Path,
    ) -> None:
        self.base = FolderLayer(load_mode, queued, dict(commands))
        self.log = log
        self.config_dir = config_dir
        self._cache: dict[str, tuple[Stamp, FolderLayer | None]] = {}

    def for_file(self, path: Path, root: Path) -> FolderResult:
        """The settings for the metafile ``path`` below ``root`` (the nearest watch.ini wins, key by key)."""
        load_mode, queued = self.base.load_mode or "normal", bool(self.base.queued)
        commands = dict(self.base.commands)
        for folder in _folders(os.path.dirname(path), os.fspath(root)):
            layer = self._layer(folder)
            if layer is None:
                continue
            load_mode = layer.load_mode if layer.load_mode is not None else load_mode
            queued = layer.queued if layer.queued is not None else queued
            commands.update(layer.commands)
        active = tuple(command for _, command in sorted(commands.items()) if command is not None)
        return FolderResult(load_mode, queued, active)

    def _layer(self, folder: str) -> FolderLayer | None:
        """What the folder's watch.ini says (None: no file, or a bad one); parsed once per version."""
        # Strings, not Path: this runs for every file loaded, one stat per folder level.
        path = os.path.join(folder, WATCH_INI)
        try:
            stamp = _stamp(path)
        except OSError as exc:
            stamp = (-1, -1, -1)  # unreadable: reported once, until it can be looked at again
            if self._cache.get(folder, (None,))[0] != stamp:
                self.log.error("Cannot look at %r: %s; its folder uses the settings above it", str(path), exc)
            self._cache[folder] = (stamp, None)
            return None
        cached = self._cache.get(folder)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        layer = None if stamp is None else self._read(Path(path), stamp)
        self._cache[folder] = (stamp, layer)
        return layer

    def _read(self, path: Path, stamp: tuple[int, int, int]) -> FolderLayer | None:
        try:
            if stamp[0] > MAX_SIZE:
                raise ConfigError(f"{stamp[0]} bytes, more than a watch.ini may have ({MAX_SIZE})", path=path)
            try:
                text = path.read_bytes().decode("utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise ConfigError(f"cannot be read: {exc}", path=path) from None
            layer = _Reader(path, self.config_dir).read(text)
        except ConfigError as exc:
            self.log.error(
                "Ignoring a bad %s (its folder uses the settings above it until the file changes): %s",
                WATCH_INI,
                exc,
            )
            return None
        self.log.debug("Read %r: %r", str(path), layer)
        return layer


def _folders(folder: str, root: str) -> list[str]:
    """``root`` and every folder below it down to ``folder``, top first (just ``root`` if outside)."""
    prefix = root if root.endswith("/") else root + "/"
    if not folder.startswith(prefix):
        return [root]
    folders = [root]
    for part in folder[len(prefix) :].split("/"):
        if part:
            folders.append(os.path.join(folders[-1], part))
    return folders
