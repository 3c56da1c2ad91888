"""Command (``job.NAME.handler = Command``): run one program on a schedule; no items, no templates.

``args`` is a command line split as a shell would split it (``shlex.split``: quotes and backslashes
respected) into the program and its arguments, which are run directly, never through a shell. Only
``shell = yes`` hands the text to ``/bin/sh -c`` instead: then it may use pipes and variables, and it
must never contain text from elsewhere (item names, file names), which the shell would execute.
"""

from __future__ import annotations

import logging
import shlex
from dataclasses import dataclass, field

from pyrotorque.config.options import option
from pyrotorque.jobs.base import Job, JobContext
from pyrotorque.jobs.rules.programs import ProgramRunner

#: The shell ``shell = yes`` runs ``args`` with.
SHELL = "/bin/sh"


def split_args(text: str) -> list[str]:
    """A command line as its argv (``shlex.split``); ValueError when it is empty or cannot be split."""
    try:
        argv = shlex.split(text)
    except ValueError as exc:  # "No closing quotation", "No escaped character"
        raise ValueError(f"cannot split the command line {text!r}: {str(exc).lower()}") from None
    if not argv or not argv[0]:
        raise ValueError(f"must name a program, got {'an empty command line' if not argv else repr(text)}")
    return argv


def args_problem(text: str) -> str | None:
    """Option check of a command line (``args``)."""
    try:
        split_args(text)
    except ValueError as exc:
        return str(exc)
    return None


def timeout_problem(seconds: float) -> str | None:
    """Option check of a program's ``timeout``."""
    return None if seconds > 0 else f"must be more than 0 seconds, got {seconds:g}"


@dataclass(frozen=True)
class CommandOptions:
    """The ``job.NAME.*`` keys of a Command job."""

    #: The command line: the program and its arguments (required).
    args: str = option(check=args_problem)
    #: Run ``args`` through ``/bin/sh -c`` (unsafe with any text not written by you).
    shell: bool = False
    #: The working directory (empty: the daemon's).
    cwd: str = ""
    #: Seconds before the program and what it started are killed.
    timeout: float = option(60.0, check=timeout_problem)
    #: A failure (non-zero exit, timeout, not found) is logged as an ERROR instead of a WARNING.
    check: bool = False
    #: Variables added to the daemon's environment (``job.NAME.env.NAME = VALUE``).
    env: dict[str, str] = field(default_factory=dict)


class Command(Job):
    """Runs ``args`` on every tick; a failure is a logged line, never an exception out of the tick."""

    Options = CommandOptions

    def __init__(self, context: JobContext, options: CommandOptions) -> None:
        super().__init__(context, options)
        self.options: CommandOptions = options
        self.argv = [SHELL, "-c", options.args] if options.shell else split_args(options.args)
        self.programs = ProgramRunner(self.log, context.clock)

    def run(self) -> None:
        """Run the program once (or only say so under dry_run)."""
        shown = shlex.join(self.argv)
        if self.context.dry_run:
            self.log.info("WOULD run %s", shown)
            return
        level = logging.ERROR if self.options.check else logging.WARNING
        result = self.programs.run(
            self.argv,
            env=self.options.env,
            cwd=self.options.cwd or None,
            timeout=self.options.timeout,
            failure_level=level,
        )
        if result.ok:
            self.log.debug("Ran %s; stdout: %s", shown, result.stdout_tail() or "(empty)")

    def stop(self) -> None:
        """Kill the program if a tick still runs one (the daemon is stopping)."""
        self.programs.stop()
