"""pyrosimple's ``Action`` job (``pyrosimple.job.action:Action``) on ours.

pyrosimple names an item method (``action``) and passes it templated ``args``; its keys are ``matcher``,
``view``, ``sort``, ``action`` and ``args``. The methods with an equivalent map to our verbs; any other
is a config error naming the key, so nothing runs that was not meant. Unlike pyrosimple, the job acts
on at most ``max_per_run`` items per tick (ours, default 10), in ``sort`` order.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from pyrotorque.config.options import option
from pyrotorque.jobs.base import JobContext
from pyrotorque.jobs.option_checks import required_condition_problem, sort_problem
from pyrotorque.jobs.rules.action_job import Action, ActionOptions

#: pyrosimple item method -> our action; ``{0}`` is its first argument.
_METHODS = {
    "start": "start",
    "stop": "stop",
    "delete": "erase",  # pyrosimple's delete removes the item and keeps the data
    "cull": "delete",  # pyrosimple's cull removes the data too
    "set_prio": "priority={0}",
}


def _our_action(method: str, args: list[str]) -> str:
    """Our action text for pyrosimple's ``method(*args)``; ValueError says why there is none."""
    if method == "set_custom" and len(args) == 2 and args[0] == "1":
        return f"label={args[1]}"
    template = _METHODS.get(method)
    if template is None:
        known = ", ".join([*sorted(_METHODS), "set_custom (with key 1)"])
        raise ValueError(f"pyrosimple's {method!r} has no equivalent here; these do: {known}")
    needed = template.count("{")
    if len(args) != needed:
        raise ValueError(f"pyrosimple's {method!r} takes {needed} argument(s) in args, got {len(args)}")
    return template.format(*args)


def _split(text: str) -> list[str]:
    return shlex.split(text)


def _args_problem(text: str) -> str | None:
    try:
        _split(text)
    except ValueError as exc:
        return f"cannot split into arguments: {exc}"
    return None


@dataclass(frozen=True)
class PyrosimpleActionOptions:
    """pyrosimple's keys (``args`` as one line, split like a shell's, quotes respected)."""

    matcher: str = option(check=required_condition_problem)
    action: str = option()
    view: str = "main"
    sort: str = option("loaded, name", check=sort_problem)
    args: str = option("", check=_args_problem)
    max_per_run: int = option(10, minimum=1)

    def as_ours(self) -> ActionOptions:
        """The same job in our keys; ValueError for a method without an equivalent."""
        return ActionOptions(
            condition=self.matcher,
            action=_our_action(self.action.strip(), _split(self.args)),
            view=self.view,
            sort_fields=self.sort,
            max_per_run=self.max_per_run,
        )


class PyrosimpleAction(Action):
    """``pyrosimple.job.action:Action``, run as our Action job."""

    Options = PyrosimpleActionOptions  # type: ignore[assignment]  # its own keys, turned into ours

    def __init__(self, context: JobContext, options: PyrosimpleActionOptions) -> None:
        super().__init__(context, options.as_ours())
