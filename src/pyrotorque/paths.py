"""Where the configuration directory is: ``--config-dir``, ``$PYRO_CONFIG_DIR``, ``~/.pyroscope``.

A leaf of its own (not in ``pyrotorque.config``), so the control commands (``--status``, ``--stop``,
``--cron`` while a daemon runs) find the pid file without importing the configuration machinery.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

#: Environment variable naming the configuration directory (as in pyrocore).
CONFIG_DIR_ENV = "PYRO_CONFIG_DIR"
DEFAULT_CONFIG_DIR = "~/.pyroscope"


def resolve_config_dir(config_dir: Path | str | None, environ: Mapping[str, str]) -> Path:
    """The configuration directory: the argument, else ``$PYRO_CONFIG_DIR``, else ``~/.pyroscope``."""
    chosen = config_dir if config_dir is not None else environ.get(CONFIG_DIR_ENV) or DEFAULT_CONFIG_DIR
    return Path(chosen).expanduser().absolute()
