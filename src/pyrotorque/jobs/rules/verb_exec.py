"""``exec=PROGRAM ARG…``: run a program once per item, never through a shell.

The value is split like a shell command line once, at load (``shlex.split``: quotes respected), and
each word becomes a template of its own, rendered per item into exactly one argv element: text from
an item can never add, merge or drop arguments, and no shell ever reads it. The program also gets a
fixed set of the item's fields as environment variables (``EXEC_ENVIRONMENT``). Programs run one
after the other (the job's ``max_per_run`` bounds how many per tick), each with a timeout
(programs.py kills its process group); a failing program is that item's answer, the others go on.
"""

from __future__ import annotations

import logging
import shlex
from collections.abc import Mapping, Sequence
from typing import Any

from pyrotorque.errors import ConfigError, TemplateError
from pyrotorque.jobs.rules.programs import ProgramResult, ProgramRunner
from pyrotorque.jobs.rules.values import ValueTemplate
from pyrotorque.jobs.rules.verbs import Target, Verb, VerbRun

#: Seconds a program of ``exec=`` may run (the Action job has no key for it; ItemCommand's ``timeout``).
EXEC_TIMEOUT = 60.0
#: Environment variable -> the item field it carries ("" when the field has no value).
EXEC_ENVIRONMENT: Mapping[str, str] = {
    "PYRO_HASH": "hash",
    "PYRO_NAME": "name",
    "PYRO_PATH": "path",
    "PYRO_DIRECTORY": "directory",
    "PYRO_LABEL": "label",
    "PYRO_ALIAS": "tracker_alias",
    "PYRO_SIZE": "size",
}
#: The variable with the name of the job that runs the program.
JOB_VARIABLE = "PYRO_JOB"
#: Fields that are paths: the program runs on this machine, so it gets this machine's path.
_PATH_FIELDS = ("path", "directory")


def split_words(text: str) -> list[str]:
    """The words of an exec command line; ConfigError when it is empty or cannot be split."""
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise ConfigError(f"exec: cannot split {text!r} into arguments: {str(exc).lower()}") from None
    if not words or not words[0]:
        raise ConfigError("exec needs a program: exec=PROGRAM ARG...")
    return words


class ExecVerb(Verb):
    """Run ``PROGRAM ARG…`` for each item, each word rendered on its own into one argument."""

    name = "exec"
    doing = "Running a program for"
    takes_value = True
    renders_own_value = True

    def __init__(
        self,
        value_text: str = "",
        *,
        timeout: float = EXEC_TIMEOUT,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(value_text)
        self.words = tuple(
            ValueTemplate.parse(f"exec argument {index + 1}", word)
            for index, word in enumerate(split_words(value_text))
        )
        self.timeout = timeout
        self.cwd = cwd or None
        self.env = dict(env or {})
        self.programs = ProgramRunner(logging.getLogger("pyrotorque.job"))

    def argv(self, fields: Mapping[str, Any]) -> list[str]:
        """The program and its arguments for one item (TemplateError when a word cannot be rendered)."""
        return [word.render(fields) for word in self.words]

    def apply(self, targets: Sequence[Target], run: VerbRun) -> list[str | None]:
        """One program per target, in order; each failure is that target's reason."""
        self.programs.log = run.log
        return [self._run_one(target, run) for target in targets]

    def stop(self) -> None:
        """Kill a program still running (the job is stopping) and run no more."""
        self.programs.stop()

    def _run_one(self, target: Target, run: VerbRun) -> str | None:
        fields = _host_fields(target.fields, run)
        try:
            argv = self.argv(fields)
        except TemplateError as exc:
            return str(exc)
        env = {**self.env, **item_environment(fields, run.job_name)}
        # The job logs a failure with the item ("Could not exec ..."): the runner's own line is DEBUG.
        result = self.programs.run(
            argv, env=env, cwd=self.cwd, timeout=self.timeout, failure_level=logging.DEBUG
        )
        return None if result.ok else _reason(result)


def _host_fields(fields: Mapping[str, Any], run: VerbRun) -> dict[str, Any]:
    """The item's fields with its paths as this machine sees them (rTorrent may run in a chroot)."""
    mapped = dict(fields)
    for name in _PATH_FIELDS:
        if mapped.get(name):
            mapped[name] = run.host_path(str(mapped[name]))
    return mapped


def item_environment(fields: Mapping[str, Any], job_name: str) -> dict[str, str]:
    """The ``PYRO_*`` variables of one item."""
    env = {variable: _text(fields.get(name)) for variable, name in EXEC_ENVIRONMENT.items()}
    env[JOB_VARIABLE] = job_name
    return env


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def _reason(result: ProgramResult) -> str:
    tail = result.stderr_tail(200)
    return f"{result.reason}; stderr: {tail}" if tail else str(result.reason)
