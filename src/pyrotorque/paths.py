"""Where the configuration directory is (``--config-dir``, ``$PYRO_CONFIG_DIR``, ``~/.pyroscope``), and
the pid and log files in it.

A leaf of its own (not in ``pyrotorque.config``, nor the dataclass ``daemon.Settings``, whose
properties use these functions), so the control commands (``--status``, ``--stop``, ``--cron`` while a
daemon runs) find the pid file without importing the configuration machinery or ``dataclasses``. The
rules are written on strings (``*_name``), the ``Path`` functions wrap them: the quick answer of the
control commands (cli_quick.py) does not import ``pathlib``.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # not typing's: the control commands import this module, and typing costs
if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

#: Environment variable naming the configuration directory (as in pyrocore).
CONFIG_DIR_ENV = "PYRO_CONFIG_DIR"
DEFAULT_CONFIG_DIR = "~/.pyroscope"
PID_FILE_NAME = "run/pyrotorque.pid"
LOG_DIR_NAME = "log"
LOG_FILE_NAME = "torque.log"


def _absolute(name: str) -> str:
    """``Path(name).absolute()`` as a string: the working directory in front of a relative name."""
    return os.path.join(os.getcwd(), name)  # join keeps an absolute name as it is


def config_dir_name(config_dir: str | os.PathLike[str] | None, environ: Mapping[str, str]) -> str:
    """The configuration directory: the argument, else ``$PYRO_CONFIG_DIR``, else ``~/.pyroscope``."""
    chosen = (
        os.fspath(config_dir) if config_dir is not None else environ.get(CONFIG_DIR_ENV) or DEFAULT_CONFIG_DIR
    )
    expanded = os.path.expanduser(chosen)
    if expanded.startswith("~"):
        raise RuntimeError("Could not determine home directory.")  # as Path.expanduser says it
    return _absolute(expanded)


def pid_file_name(
    config_dir: str | os.PathLike[str] | None,
    pid_file: str | os.PathLike[str] | None,
    environ: Mapping[str, str],
) -> str:
    """The pid file: ``--pid-file`` or ``<config dir>/run/pyrotorque.pid``, absolute."""
    if pid_file is not None:
        return _absolute(os.fspath(pid_file))
    return os.path.join(config_dir_name(config_dir, environ), PID_FILE_NAME)


def log_file_name(config_dir: str | os.PathLike[str] | None, environ: Mapping[str, str]) -> str:
    """The daemon's log file: ``<config dir>/log/torque.log``."""
    return os.path.join(config_dir_name(config_dir, environ), LOG_DIR_NAME, LOG_FILE_NAME)


def resolve_config_dir(config_dir: Path | str | None, environ: Mapping[str, str]) -> Path:
    """The configuration directory: the argument, else ``$PYRO_CONFIG_DIR``, else ``~/.pyroscope``."""
    from pathlib import Path

    return Path(config_dir_name(config_dir, environ))


def pid_path(config_dir: Path | None, pid_file: Path | None, environ: Mapping[str, str]) -> Path:
    """The pid file: ``--pid-file`` or ``<config dir>/run/pyrotorque.pid``, absolute."""
    from pathlib import Path

    return Path(pid_file_name(config_dir, pid_file, environ))


def log_path(config_dir: Path | None, environ: Mapping[str, str]) -> Path:
    """The daemon's log file: ``<config dir>/log/torque.log``."""
    from pathlib import Path

    return Path(log_file_name(config_dir, environ))
