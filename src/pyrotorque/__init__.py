"""pyrotorque: a background job daemon for rTorrent.

The public API for people writing their own jobs is what ``__all__`` lists: the job base class and
its context, the context's clock types, and the exception tree. Everything else may change between
releases. ``Job``, ``JobContext``, ``NoOptions`` and the clock types are imported on first use, so the
control commands stay cheap; ``from pyrotorque import Job`` works as before.
"""

from __future__ import annotations

import importlib

from pyrotorque.errors import (
    ConditionError,
    ConfigError,
    DaemonError,
    DataError,
    FaultError,
    GuardFileMissing,
    HashNotFound,
    JobLoadError,
    MetafileError,
    ProtocolError,
    PyrotorqueError,
    RequestTooLarge,
    RtorrentError,
    RtorrentTimeout,
    TemplateError,
    TransportError,
)

#: Not ``typing.TYPE_CHECKING``: importing ``typing`` would be a tenth of the control commands' cost
#: (mypy treats any name ``TYPE_CHECKING`` as true).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from pyrotorque.clock import Clock, SystemClock, WallClock
    from pyrotorque.jobs.base import Job, JobContext, NoOptions

__version__ = "0.1.0"

#: Names imported on first use (PEP 562): the job API pulls in the rTorrent client and the
#: configuration, the clock ``typing``; ``pyrotorque --version``, ``--status``, ``--stop`` and ``--cron``
#: need neither.
_LAZY = {
    **dict.fromkeys(("Job", "JobContext", "NoOptions"), "pyrotorque.jobs.base"),
    **dict.fromkeys(("Clock", "SystemClock", "WallClock"), "pyrotorque.clock"),
}


def __getattr__(name: str) -> Any:
    """Import a lazily exported name's module on first use and keep the name here."""
    source = _LAZY.get(name)
    if source is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(source), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = [
    "Clock",
    "ConditionError",
    "ConfigError",
    "DaemonError",
    "DataError",
    "FaultError",
    "GuardFileMissing",
    "HashNotFound",
    "Job",
    "JobContext",
    "JobLoadError",
    "MetafileError",
    "NoOptions",
    "ProtocolError",
    "PyrotorqueError",
    "RequestTooLarge",
    "RtorrentError",
    "RtorrentTimeout",
    "SystemClock",
    "TemplateError",
    "TransportError",
    "WallClock",
    "__version__",
]
