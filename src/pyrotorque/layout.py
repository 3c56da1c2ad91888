"""The configuration directory's layout, as ``--create-config`` lays it out, and the shipped includes.

What is written: the package defaults as ``torque.ini.default`` and ``config.ini.default``, the rTorrent
includes as ``rtorrent.d/NAME.rc.default``, a systemd user unit as ``pyrotorque.service.default``, and
the ``run/`` and ``log/`` folders. Only ``*.default`` files are written, and they are ours: one that
differs from what this release ships is replaced (atomically, so a symlink in its place is replaced, not
written through). A user's own files (``torque.ini``, ``config.ini``, the guard file) are never touched,
so running it again is harmless.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from enum import Enum
from importlib import resources
from pathlib import Path

#: Package data files copied as ``NAME.default`` into the configuration directory.
DEFAULT_FILES = ("config.ini", "torque.ini")
INCLUDE_DIR = "rtorrent.d"
UNIT_NAME = "pyrotorque.service"
RUN_DIR = "run"
LOG_DIR = "log"
DEFAULT_SUFFIX = ".default"
#: The ExecStart line of the shipped unit: right for a ``pip install --user`` and ``~/.pyroscope``;
#: ``--create-config`` writes this installation's command and directory in its place.
SHIPPED_EXEC_START = "ExecStart=%h/.local/bin/pyrotorque --fg --config-dir %h/.pyroscope"


class Change(Enum):
    """What ``create_config`` did with one path."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class Written:
    """One path of the layout and what was done with it."""

    path: Path
    change: Change


def data_dir() -> Path:
    """The package's data folder on disk (pyrotorque is installed as files, never zipped)."""
    return Path(str(resources.files("pyrotorque") / "data"))


def shipped_includes() -> list[Path]:
    """The rTorrent includes of this installation, sorted by name."""
    return sorted((data_dir() / INCLUDE_DIR).glob("*.rc"))


def command_path() -> str:
    """This installation's ``pyrotorque`` script: beside the interpreter, else on ``$PATH``."""
    beside = Path(sys.executable).parent / "pyrotorque"  # not resolved: a venv's bin is a symlink farm
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside.absolute())
    return shutil.which("pyrotorque") or "pyrotorque"


def create_config(config_dir: Path, command: str) -> list[Written]:
    """Lay out ``config_dir`` (see the module's docstring); OSError when a path cannot be written."""
    written = [_make_dir(config_dir)]
    written += [_make_dir(config_dir / name) for name in (RUN_DIR, LOG_DIR, INCLUDE_DIR)]
    data = data_dir()
    for name in DEFAULT_FILES:
        written.append(_write_ours(config_dir / (name + DEFAULT_SUFFIX), (data / name).read_text("utf-8")))
    for include in shipped_includes():
        target = config_dir / INCLUDE_DIR / (include.name + DEFAULT_SUFFIX)
        written.append(_write_ours(target, include.read_text("utf-8")))
    unit = unit_text(command, config_dir)
    written.append(_write_ours(config_dir / (UNIT_NAME + DEFAULT_SUFFIX), unit))
    return written


def include_copies(config_dir: Path) -> list[Path]:
    """Where ``create_config`` puts the includes in ``config_dir``, in import order."""
    return [config_dir / INCLUDE_DIR / (path.name + DEFAULT_SUFFIX) for path in shipped_includes()]


def rc_lines(includes: list[Path], command: str, config_dir: Path) -> list[str]:
    """The lines for rtorrent.rc: import the includes, then tell the watchdog our command and folder."""
    lines = [f"import = {rc_value(str(path))}" for path in includes]
    lines.append(f"pyrotorque.command.set = {rc_value(command)}")
    lines.append(f"pyrotorque.config_dir.set = {rc_value(str(config_dir))}")
    return lines


def rc_value(text: str) -> str:
    """``text`` as one value in rtorrent.rc: quoted when it holds anything but plain path characters."""
    if text and all(char.isalnum() or char in "/._-+~@" for char in text):
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def unit_text(command: str, config_dir: Path) -> str:
    """The shipped systemd unit with this installation's command and configuration directory."""
    shipped = (data_dir() / "systemd" / UNIT_NAME).read_text("utf-8")
    words = [command, "--fg", "--config-dir", str(config_dir)]
    exec_start = "ExecStart=" + " ".join(_unit_word(word) for word in words)
    if SHIPPED_EXEC_START not in shipped:
        raise RuntimeError(f"the shipped {UNIT_NAME} lost its ExecStart line")  # a packaging bug
    return shipped.replace(SHIPPED_EXEC_START, exec_start)


def _unit_word(word: str) -> str:
    """One ExecStart argument: ``%`` doubled (a specifier otherwise), quoted if it has blanks or quotes."""
    word = word.replace("%", "%%")
    if any(char.isspace() or char in "\"'\\;$" for char in word):
        return '"' + word.replace("\\", "\\\\").replace('"', '\\"').replace("$", "$$") + '"'
    return word


def _make_dir(path: Path) -> Written:
    if path.is_dir():
        return Written(path, Change.UNCHANGED)
    path.mkdir(parents=True)
    return Written(path, Change.CREATED)


def _write_ours(path: Path, text: str) -> Written:
    """Write one of our ``*.default`` files unless it already holds ``text``."""
    current: str | None = None
    with contextlib.suppress(FileNotFoundError, IsADirectoryError, UnicodeDecodeError):
        current = path.read_text("utf-8") if path.is_file() and not path.is_symlink() else None
    if current == text:
        return Written(path, Change.UNCHANGED)
    existed = path.exists() or path.is_symlink()
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)  # replaces a symlink itself, never the file it points to
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    return Written(path, Change.UPDATED if existed else Change.CREATED)
