"""pyrotorque: a background job daemon for rTorrent.

The public API for people writing their own jobs is what ``__all__`` lists: the job base class and
its context, the context's clock types, and the exception tree. Everything else may change between
releases.
"""

from __future__ import annotations

from pyrotorque.clock import Clock, SystemClock, WallClock
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
from pyrotorque.jobs.base import Job, JobContext, NoOptions

__version__ = "0.1.0"

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
