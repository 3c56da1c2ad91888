"""Find, read and overlay the configuration files; the result is a ``Config``."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from pyrotorque.config.ini import Overlay, Sections, Setting, expand_home, parse_ini
from pyrotorque.errors import ConfigError

# Re-exported: the configuration directory's rule lives in a leaf module the control commands can afford.
from pyrotorque.paths import CONFIG_DIR_ENV as CONFIG_DIR_ENV
from pyrotorque.paths import DEFAULT_CONFIG_DIR as DEFAULT_CONFIG_DIR
from pyrotorque.paths import resolve_config_dir as resolve_config_dir

log = logging.getLogger(__name__)

#: Package files read first, in this order; they hold every default.
PACKAGE_FILES = ("config.ini", "torque.ini")
#: Where ``-D KEY=VALUE`` overrides are said to come from in messages.
DEFINE_ORIGIN = "command line -D"


@dataclass
class Config:
    """The merged configuration: lower-cased section name -> key -> ``Setting``."""

    config_dir: Path
    sections: dict[str, dict[str, Setting]] = field(default_factory=dict)
    #: Every file that was read, in overlay order (package files included).
    files: list[str] = field(default_factory=list)

    def section(self, name: str) -> dict[str, Setting]:
        """The keys of one section (empty if it does not exist); the name is case-insensitive."""
        return self.sections.get(name.lower(), {})

    def setting(self, section: str, key: str) -> Setting | None:
        """One setting, or None when it is not configured."""
        return self.section(section).get(key)

    def global_value(self, key: str, default: str | None = None) -> str | None:
        """A ``[GLOBAL]`` value as a string, or ``default`` when missing."""
        setting = self.setting("global", key)
        return default if setting is None else setting.value

    @property
    def torque(self) -> dict[str, Setting]:
        """The ``[TORQUE]`` section: jobs, ``apscheduler.*`` and queue-wide keys."""
        return self.section("torque")

    def announce_aliases(self) -> dict[str, list[str]]:
        """Tracker aliases from ``[ANNOUNCE]``: ``alias = url url ...`` -> {alias: [url, ...]}."""
        return {alias: setting.value.split() for alias, setting in self.section("announce").items()}


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not a UTF-8 text file ({exc.reason} at byte {exc.start})", path=path) from exc
    except OSError as exc:
        raise ConfigError(f"cannot read configuration file: {exc.strerror or exc}", path=path) from exc


def _package_files() -> list[tuple[str, str]]:
    """(origin, text) of the package defaults."""
    data = resources.files("pyrotorque") / "data"
    return [(str(data / name), (data / name).read_text(encoding="utf-8")) for name in PACKAGE_FILES]


def parse_define(define: str) -> tuple[str, str]:
    """Split one ``-D KEY=VALUE`` into key and value; ConfigError on bad syntax."""
    key, equals, value = define.partition("=")
    key = key.strip()
    if not equals or not key or any(char.isspace() for char in key):
        raise ConfigError(f"bad override {define!r}, expected KEY=VALUE", path=DEFINE_ORIGIN)
    return key, value.strip()


def load_config(
    config_dir: Path | None = None,
    extra_files: Sequence[str] = (),
    defines: Sequence[str] = (),
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Read the package defaults, ``config.ini``, ``torque.ini``, extra files and ``-D`` overrides."""
    directory = resolve_config_dir(config_dir, os.environ if environ is None else environ)
    loading = _Loading(Overlay({"config_dir": str(directory)}))
    for origin, text in _package_files():
        loading.add(origin, text)
    loading.add_user_files(directory)
    for name in extra_files:
        loading.add_file(_extra_file(directory, name))
    for define in defines:
        key, value = parse_define(define)
        loading.overlay.set("global", key, Setting(expand_home(value), DEFINE_ORIGIN))
    return Config(config_dir=directory, sections=_copy(loading.overlay.final), files=loading.files)


@dataclass
class _Loading:
    """The overlay being built and the files read into it so far."""

    overlay: Overlay
    files: list[str] = field(default_factory=list)

    def add(self, origin: str, text: str) -> None:
        log.debug("Loading configuration from %s", origin)
        self.overlay.add(parse_ini(text, origin))
        self.files.append(origin)

    def add_file(self, path: Path) -> None:
        self.add(str(path), _read_text(path))

    def add_user_files(self, directory: Path) -> None:
        """``config.ini`` and ``torque.ini``, both optional (a DEBUG line for a missing config.ini)."""
        config_ini = directory / "config.ini"
        if _is_present(config_ini):
            self.add_file(config_ini)
        else:
            log.debug("Configuration file %s not found, using the package defaults", config_ini)
        torque_ini = directory / "torque.ini"
        if _is_present(torque_ini):
            self.add_file(torque_ini)


def _is_present(path: Path) -> bool:
    """Whether an optional configuration file exists; ConfigError if it exists but is no file to read.

    A directory in its place used to count as missing, so a reload quietly dropped every job.
    """
    try:
        mode = path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        return False
    except OSError as exc:
        raise ConfigError(f"cannot read configuration file: {exc.strerror or exc}", path=path) from exc
    if stat.S_ISDIR(mode):
        raise ConfigError("configuration file is a directory", path=path)
    if not stat.S_ISREG(mode):
        raise ConfigError("configuration file is not a regular file", path=path)
    return True


def _extra_file(directory: Path, name: str) -> Path:
    """A ``--config-file`` path (relative to the configuration directory); it must exist."""
    path = Path(name).expanduser()
    path = path if path.is_absolute() else directory / path
    # Unlike the original (which skipped it silently), a file named explicitly must exist.
    if not _is_present(path):
        raise ConfigError("configuration file given with --config-file does not exist", path=path)
    return path


def _copy(sections: Sections) -> Sections:
    return {name: dict(keys) for name, keys in sections.items()}
