"""Where the configuration directory is (``--config-dir``, ``$PYRO_CONFIG_DIR``, ``~/.pyroscope``), and
the pid and log files in it.

A leaf of its own (not in ``pyrotorque.config``, nor the dataclass ``daemon.Settings``, whose
properties use these functions), so the control commands (``--status``, ``--stop``, ``--cron`` while a
daemon runs) find the pid file without importing the configuration machinery or ``dataclasses``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

#: Environment variable naming the configuration directory (as in pyrocore).
CONFIG_DIR_ENV = "PYRO_CONFIG_DIR"
DEFAULT_CONFIG_DIR = "~/.pyroscope"
PID_FILE_NAME = "run/pyrotorque.pid"
LOG_DIR_NAME = "log"
LOG_FILE_NAME = "torque.log"


def resolve_config_dir(config_dir: Path | str | None, environ: Mapping[str, str]) -> Path:
    """The configuration directory: the argument, else ``$PYRO_CONFIG_DIR``, else ``~/.pyroscope``."""
    chosen = config_dir if config_dir is not None else environ.get(CONFIG_DIR_ENV) or DEFAULT_CONFIG_DIR
    return Path(chosen).expanduser().absolute()


def pid_path(config_dir: Path | None, pid_file: Path | None, environ: Mapping[str, str]) -> Path:
    """The pid file: ``--pid-file`` or ``<config dir>/run/pyrotorque.pid``, absolute."""
    return (pid_file or resolve_config_dir(config_dir, environ) / PID_FILE_NAME).absolute()


def log_path(config_dir: Path | None, environ: Mapping[str, str]) -> Path:
    """The daemon's log file: ``<config dir>/log/torque.log``."""
    return resolve_config_dir(config_dir, environ) / LOG_DIR_NAME / LOG_FILE_NAME
