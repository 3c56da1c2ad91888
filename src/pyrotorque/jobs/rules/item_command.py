"""pyrosimple's ``ItemCommand`` job (``pyrosimple.job.action:ItemCommand``) on ours: ``exec=`` per item.

Its keys: ``matcher`` (our ``condition``), ``view``, ``args`` (the command line, here one line split
like a shell's, each word a template over the item: ``{{item.name}}``, ``{{d.hash}}`` or ``{{name}}``),
and the program's ``timeout``, ``cwd`` and ``env.NAME``. ``shell = yes`` is refused: item text never
meets a shell. Unlike pyrosimple, at most ``max_per_run`` items per tick, in ``sort`` order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pyrotorque.config.options import option
from pyrotorque.jobs.base import JobContext
from pyrotorque.jobs.option_checks import required_condition_problem, sort_problem
from pyrotorque.jobs.rules.action_job import Action, ActionOptions
from pyrotorque.jobs.rules.command_job import args_problem, timeout_problem
from pyrotorque.jobs.rules.verb_exec import EXEC_TIMEOUT, ExecVerb


def _no_shell(shell: bool) -> str | None:
    if shell:
        return "is not supported: item text never goes through a shell (Command has shell = yes)"
    return None


@dataclass(frozen=True)
class ItemCommandOptions:
    """pyrosimple's ItemCommand keys."""

    matcher: str = option(check=required_condition_problem)
    args: str = option(check=args_problem)
    view: str = "main"
    sort: str = option("loaded, name", check=sort_problem)
    max_per_run: int = option(10, minimum=1)
    timeout: float = option(EXEC_TIMEOUT, check=timeout_problem)
    cwd: str = ""
    env: dict[str, str] = field(default_factory=dict)
    #: Accepted for pyrosimple's sake: a failing program is always logged (``Could not exec …``).
    check: bool = False
    shell: bool = option(False, check=_no_shell)

    def as_ours(self) -> ActionOptions:
        """The same job as an Action with ``exec=``."""
        return ActionOptions(
            condition=self.matcher,
            action=f"exec={self.args}",
            view=self.view,
            sort_fields=self.sort,
            max_per_run=self.max_per_run,
        )


class ItemCommand(Action):
    """``pyrosimple.job.action:ItemCommand``, run as our Action job with ``exec=``."""

    Options = ItemCommandOptions  # type: ignore[assignment]  # its own keys, turned into ours

    def __init__(self, context: JobContext, options: ItemCommandOptions) -> None:
        super().__init__(context, options.as_ours())
        self.verb = ExecVerb(options.args, timeout=options.timeout, cwd=options.cwd, env=options.env)
