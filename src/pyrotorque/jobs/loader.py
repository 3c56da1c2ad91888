"""Turn a job's ``handler`` setting into a job object, before the daemon detaches.

Handler names are looked up in an explicit table first (our short names and the original pyrocore
names), then imported as ``package.module:Class``. A class derived from ``Job`` is built with its typed
options; any other class with a ``run()`` method is treated as a job written for pyrocore and wrapped
in ``LegacyJob``. Every failure is a ``JobLoadError`` naming the job, the handler and where it is set.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from pyrotorque.config import JobConfig, build_options, legacy_params
from pyrotorque.errors import ConditionError, ConfigError, JobLoadError
from pyrotorque.jobs.base import Job, JobContext

_ENGINE_STATS = "pyrotorque.jobs.engine_stats:EngineStats"
_QUEUE = "pyrotorque.jobs.queue:QueueManager"
_TREEWATCH = "pyrotorque.jobs.treewatch:TreeWatch"
_EXPORTER = "pyrotorque.jobs.exporter:RtorrentExporter"
_ACTION = "pyrotorque.jobs.rules:Action"
_COMMAND = "pyrotorque.jobs.rules.command_job:Command"

#: Built-in handler names, including pyrocore's and pyrosimple's, mapped to our classes (pyrosimple's
#: queue and tree watch to adapters that also accept its key names).
BUILTIN_HANDLERS: Mapping[str, str] = {
    "EngineStats": _ENGINE_STATS,
    "QueueManager": _QUEUE,
    "TreeWatch": _TREEWATCH,
    "RtorrentExporter": _EXPORTER,
    "Action": _ACTION,
    "pyrosimple.job.action:Action": "pyrotorque.jobs.rules.pyrosimple_action:PyrosimpleAction",
    "Command": _COMMAND,
    "ItemCommand": "pyrotorque.jobs.rules.item_command:ItemCommand",
    "pyrosimple.job.action:ItemCommand": "pyrotorque.jobs.rules.item_command:ItemCommand",
    "pyrocore.torrent.jobs:EngineStats": _ENGINE_STATS,
    "pyrocore.torrent.queue:QueueManager": _QUEUE,
    "pyrocore.torrent.watch:TreeWatch": _TREEWATCH,
    "pyrocore.daemon.exporter:RtorrentExporter": _EXPORTER,
    "pyrosimple.job.action:Command": _COMMAND,
    "pyrosimple.job.queue:QueueManager": "pyrotorque.jobs.pyrosimple_queue:PyrosimpleQueueManager",
    "pyrosimple.job.watch:TreeWatch": "pyrotorque.jobs.treewatch.pyrosimple_watch:PyrosimpleTreeWatch",
    "pyrosimple.job.metrics:EngineStats": _ENGINE_STATS,
    "pyrosimple.job.metrics:RtorrentExporter": _EXPORTER,
}


def handler_reference(handler: str) -> str:
    """The ``package.module:Class`` a handler setting names (built-in short and pyrocore names mapped)."""
    name = handler.strip()
    return BUILTIN_HANDLERS.get(name, name)


class LegacyJob(Job):
    """Runs a job class written for pyrocore: ``Handler(params_bunch)`` with a ``run()`` method."""

    def __init__(self, context: JobContext, options: Any, *, legacy_class: type[Any]) -> None:
        super().__init__(context, options)
        self.legacy_class = legacy_class
        self._instance: Any = None

    def start(self) -> None:
        """Build the wrapped object; pyrocore constructors may connect or start threads, so not earlier."""
        # As in the original, ``handler`` is the class during the constructor call, the instance after it.
        self.options.handler = self.legacy_class
        self._instance = self.legacy_class(self.options)
        self.options.handler = self._instance

    def run(self) -> None:
        """Call the wrapped object's ``run()``."""
        if self._instance is None:
            self.start()
        self._instance.run()


def _error(job: JobConfig, message: str) -> JobLoadError:
    """A JobLoadError pointing at the job's handler setting."""
    handler = job.handler
    return JobLoadError(
        f"job {job.name!r}, handler {handler.value!r}: {message}",
        key=f"job.{job.name}.handler",
        path=handler.path,
        line=handler.line,
    )


def import_handler(job: JobConfig) -> type[Any]:
    """Import the class named by the job's handler; JobLoadError if it cannot be found."""
    reference = handler_reference(str(job.handler.value))
    module_name, colon, attr_path = reference.partition(":")
    if not colon or not module_name or not attr_path:
        raise _error(job, "expected 'package.module:ClassName' or a built-in handler name")
    try:
        target: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if reference in BUILTIN_HANDLERS.values() and exc.name == module_name:
            # A built-in job of a later release: say so instead of blaming the user's handler name.
            raise _error(
                job, f"this job is not implemented yet in this version; set job.{job.name}.active = no"
            ) from exc
        raise _error(job, f"cannot import {module_name} ({exc})") from exc
    except ImportError as exc:
        raise _error(job, f"cannot import {module_name} ({exc})") from exc
    except Exception as exc:  # a user module that fails while importing
        raise _error(job, f"importing {module_name} failed: {type(exc).__name__}: {exc}") from exc
    for attr in attr_path.split("."):
        try:
            target = getattr(target, attr)
        except AttributeError as exc:
            raise _error(job, f"{module_name} has no attribute {attr_path!r}") from exc
    if not isinstance(target, type):
        raise _error(job, f"{reference} is not a class")
    if not issubclass(target, Job) and not callable(getattr(target, "run", None)):
        raise _error(job, f"{reference} is neither a pyrotorque Job nor has a run() method")
    return target


def build_job(job: JobConfig, context: JobContext) -> Job:
    """Import the handler and build the job with its options; no I/O happens here."""
    handler_class = import_handler(job)
    if not issubclass(handler_class, Job):
        return LegacyJob(context, legacy_params(job), legacy_class=handler_class)
    options = build_options(handler_class.Options, job)
    try:
        return handler_class(context, options)
    except ConfigError:
        raise
    except ConditionError as exc:
        # Jobs should name the key themselves; this is the fallback that still says which job.
        raise JobLoadError(f"job {job.name!r}: {exc}", key=f"job.{job.name}") from exc
    except Exception as exc:
        raise _error(job, f"constructor failed: {type(exc).__name__}: {exc}") from exc
