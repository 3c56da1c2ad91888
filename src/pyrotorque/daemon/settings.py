"""What the command line decided about configuration and process control: ``Settings``.

Apart from ``plan.py`` (which re-exports it), so ``--status``, ``--stop`` and ``--cron`` while a daemon
runs reach the pid file without importing APScheduler, the jobs or the configuration reader.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pyrotorque import paths
from pyrotorque.paths import LOG_DIR_NAME as LOG_DIR_NAME
from pyrotorque.paths import PID_FILE_NAME as PID_FILE_NAME
from pyrotorque.paths import resolve_config_dir

GUARD_FILE_NAME = "run/pyrotorque"


@dataclass(frozen=True)
class Settings:
    """What the command line decided about configuration and process control."""

    config_dir: Path | None = None
    extra_files: tuple[str, ...] = ()
    defines: tuple[str, ...] = ()
    dry_run: bool = False
    url: str | None = None
    foreground: bool = False
    cron: bool = False
    pid_file: Path | None = None
    guard_file: Path | None = None
    #: ``--connection``: the ``[CONNECTIONS]`` name --match, --check and --run-once talk to.
    connection: str | None = None
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))

    @property
    def resolved_config_dir(self) -> Path:
        """The configuration directory, defaults applied."""
        return resolve_config_dir(self.config_dir, self.environ)

    @property
    def pid_path(self) -> Path:
        """The pid file: ``--pid-file`` or ``<config dir>/run/pyrotorque.pid``."""
        return paths.pid_path(self.config_dir, self.pid_file, self.environ)

    @property
    def guard_path(self) -> Path | None:
        """The guard file: ``--guard-file``, or ``<config dir>/run/pyrotorque`` unless in the foreground."""
        if self.guard_file is not None:
            return self.guard_file.absolute()
        return None if self.foreground else self.resolved_config_dir / GUARD_FILE_NAME

    @property
    def log_path(self) -> Path:
        """The daemon's log file."""
        return paths.log_path(self.config_dir, self.environ)
