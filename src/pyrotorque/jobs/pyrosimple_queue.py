"""pyrosimple's queue (``pyrosimple.job.queue:QueueManager``) on ours, with its key names as aliases.

Our keys keep working (a job named ``queue`` inherits the package defaults), and pyrosimple's names
are accepted besides: ``matcher`` for ``startable``, ``sort`` for ``sort_fields``,
``downloading_traffic_max`` for ``max_downloading_traffic``, ``log_to_client`` (the opposite of
``quiet``) and ``view`` (the view the startable items are taken from). A pyrosimple name, when set,
beats ours. Defaults and meaning are ours: ``queue_startable_base`` is still ANDed in front of
``matcher`` (pyrosimple dropped that filter and could start completed items), and ``downloading_max``
is 9, not 20; ``pyrotorque --import-pyrosimple`` writes pyrosimple's defaults out where they differ.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from pyrotorque.config.options import option
from pyrotorque.jobs.base import JobContext
from pyrotorque.jobs.option_checks import condition_problem, sort_problem
from pyrotorque.jobs.queue import VIEW, QueueManager, QueueOptions
from pyrotorque.jobs.queue_space import size_problem


def _unset_or(check: Callable[[str], str | None]) -> Callable[[str | None], str | None]:
    """A check that lets an alias stay unset (None) and checks it otherwise."""

    def checked(value: str | None) -> str | None:
        return None if value is None else check(value)

    return checked


def _view_problem(view: str | None) -> str | None:
    if view is not None and (not view.strip() or any(char.isspace() for char in view.strip())):
        return f"expected one view name, got {view!r}"
    return None


@dataclass(frozen=True)
class PyrosimpleQueueOptions(QueueOptions):
    """Our queue keys plus pyrosimple's names for them (None: not set)."""

    matcher: str | None = option(None, check=_unset_or(condition_problem))
    sort: str | None = option(None, check=_unset_or(sort_problem))
    downloading_traffic_max: str | None = option(None, check=_unset_or(size_problem))
    log_to_client: bool | None = None
    view: str | None = option(None, check=_view_problem)

    def as_ours(self) -> QueueOptions:
        """The same queue in our keys only."""
        startable = self.startable if self.matcher is None else self.matcher
        if self.view is not None and self.view.strip() != VIEW:
            # Our queue reads every item of "main"; a view of pyrosimple's becomes a condition.
            startable = f"[ {startable} ] views={self.view.strip()}"
        ours = QueueOptions(
            **{name: getattr(self, name) for name in QueueOptions.__dataclass_fields__},
        )
        return replace(
            ours,
            startable=startable,
            sort_fields=self.sort_fields if self.sort is None else self.sort,
            max_downloading_traffic=(
                self.max_downloading_traffic
                if self.downloading_traffic_max is None
                else self.downloading_traffic_max
            ),
            quiet=self.quiet if self.log_to_client is None else not self.log_to_client,
        )


class PyrosimpleQueueManager(QueueManager):
    """``pyrosimple.job.queue:QueueManager``, run as our queue."""

    Options = PyrosimpleQueueOptions

    def __init__(self, context: JobContext, options: PyrosimpleQueueOptions) -> None:
        super().__init__(context, options.as_ours())
