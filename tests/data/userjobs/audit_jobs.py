"""User jobs for the daemon's subprocess tests; the tests put this folder on PYTHONPATH.

Every job appends what it does to the file named by its ``journal`` key, one line per event.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from typing import Any

from pyrotorque.config import option
from pyrotorque.jobs.base import Job


def note(journal: str, text: str) -> None:
    """Append one line to the journal file."""
    with open(journal, "a", encoding="utf-8") as stream:
        stream.write(text + "\n")


@dataclasses.dataclass(frozen=True)
class SleepyOptions:
    """A journal, how long a tick sleeps, and a number that shows which defaults a job got."""

    journal: str
    sleep: float = 0.0
    step: int = 1


class Sleepy(Job):
    """A typed job whose tick sleeps; it journals its options, tick start and end, and its stop."""

    Options = SleepyOptions

    def start(self) -> None:
        """Journal the options this job was built with."""
        options = json.dumps(dataclasses.asdict(self.options))
        note(self.options.journal, f"options {self.context.name} {options}")

    def run(self) -> None:
        """Sleep between two journal lines, and say so in the log too."""
        note(self.options.journal, f"tick start {self.context.name} dry_run={self.context.dry_run}")
        self.log.info("tick of %s started", self.context.name)
        time.sleep(self.options.sleep)
        note(self.options.journal, f"tick end {self.context.name}")
        self.log.info("tick of %s ended", self.context.name)

    def stop(self) -> None:
        """Journal the stop."""
        note(self.options.journal, f"stop {self.context.name}")


class CannotStart(Job):
    """A job whose start() fails, like a metrics server whose port is taken."""

    def start(self) -> None:
        """Fail."""
        raise OSError("port 1 is in use")

    def run(self) -> None:
        """Never reached."""


class Crashing(Job):
    """A job whose tick has a bug."""

    def run(self) -> None:
        """Fail with an unexpected exception."""
        raise ZeroDivisionError("bug in the tick")


class WrittenForPyrocore:
    """A job class as the original documents them: ``Handler(config)`` with a ``run()`` method."""

    def __init__(self, config: Any) -> None:
        self.config = config
        self.handler_at_construction = config.handler
        self.log = logging.getLogger(f"{__name__}.{type(self).__name__}")

    def run(self) -> None:
        """Dump the params with their Python types as JSON into the journal."""
        dump = {
            key: [type(value).__name__, value if isinstance(value, int | str | dict) else repr(value)]
            for key, value in self.config.items()
            if key != "handler"
        }
        handler = self.handler_at_construction
        dump["handler"] = ["type" if isinstance(handler, type) else type(handler).__name__, repr(handler)]
        with open(self.config.journal, "w", encoding="utf-8") as stream:
            json.dump(dump, stream)
        self.log.info("legacy job %s ran", self.config.job_name)


def _check_mood(mood: str) -> str | None:
    """An option check with a bug that only a certain value reaches."""
    if mood == "explode":
        raise RuntimeError("bug in the option check")
    return None


@dataclasses.dataclass(frozen=True)
class TouchyOptions:
    """One key whose check has a bug."""

    mood: str = option("calm", check=_check_mood)


class Touchy(Job):
    """A job whose options' check fails with an unexpected exception for ``mood = explode``."""

    Options = TouchyOptions

    def run(self) -> None:
        """Nothing to do."""
