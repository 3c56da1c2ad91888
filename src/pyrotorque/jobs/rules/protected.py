"""The paths a rule never removes or moves data out of: "/", home directories, the tree watches' roots,
and rTorrent's default download directory (added per tick, since rTorrent can change it)."""

from __future__ import annotations

import os
import pwd

from pyrotorque.config import Config, job_configs
from pyrotorque.jobs.loader import handler_reference
from pyrotorque.jobs.treewatch.options import split_roots

_TREEWATCH = "pyrotorque.jobs.treewatch:TreeWatch"


def _normal(path: str) -> str:
    return os.path.normpath(os.path.abspath(os.path.expanduser(path)))


def home_directories() -> set[str]:
    """Every account's home directory, and ``$HOME``."""
    homes = {_normal(entry.pw_dir) for entry in pwd.getpwall() if entry.pw_dir}
    homes.add(_normal("~"))
    return homes


def watch_roots(config: Config | None) -> set[str]:
    """The roots of every tree watch job in ``config`` (active or not)."""
    if config is None:
        return set()
    roots: set[str] = set()
    for job in job_configs(config):
        if handler_reference(job.handler.value) == _TREEWATCH and "path" in job.params:
            roots.update(str(root) for root in split_roots(job.params["path"].value))
    return roots


def protected_paths(config: Config | None) -> frozenset[str]:
    """The paths known without asking rTorrent (reads the account database: call it at start, not in a
    constructor)."""
    return frozenset({"/", *home_directories(), *watch_roots(config)})
