"""pyrosimple's tree watch (``pyrosimple.job.watch:TreeWatch``) on ours, with its key names as aliases.

Our keys keep working, and pyrosimple's are accepted besides:

* ``started = yes`` loads items started (``load_mode = start``): pyrosimple documents it so, though
  its own job ignores it; ``print_to_client`` is the opposite of our ``quiet``;
* ``check_unhandled``, ``start_immediately`` and ``preload_fields`` change nothing here: our job scans
  its trees when it starts and on every tick anyway, and reads no fields after a load;
* ``remove_unhandled`` and ``remove_already_added`` may only be ``no``: this job never deletes a
  metafile.

pyrosimple's ``cmd_NAME`` keys and Jinja templates are not read here (a key name cannot carry them);
``pyrotorque --import-pyrosimple`` turns them into ``cmd.NAME`` with our template syntax.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from pyrotorque.config.options import option
from pyrotorque.jobs.base import JobContext
from pyrotorque.jobs.treewatch.job import TreeWatch
from pyrotorque.jobs.treewatch.options import TreeWatchOptions


def _never_removes(remove: bool) -> str | None:
    if remove:
        return "has no equivalent: this tree watch never deletes a metafile (only 'no' is accepted)"
    return None


@dataclass(frozen=True)
class PyrosimpleTreeWatchOptions(TreeWatchOptions):
    """Our tree watch keys plus pyrosimple's (None: not set)."""

    started: bool | None = None
    print_to_client: bool | None = None
    check_unhandled: bool = False
    start_immediately: bool = True
    preload_fields: str = ""
    remove_unhandled: bool = option(False, check=_never_removes)
    remove_already_added: bool = option(False, check=_never_removes)

    def as_ours(self) -> TreeWatchOptions:
        """The same tree watch in our keys only."""
        ours = TreeWatchOptions(
            **{name: getattr(self, name) for name in TreeWatchOptions.__dataclass_fields__},
        )
        return replace(
            ours,
            load_mode="start" if self.started else self.load_mode,
            quiet=self.quiet if self.print_to_client is None else not self.print_to_client,
        )


class PyrosimpleTreeWatch(TreeWatch):
    """``pyrosimple.job.watch:TreeWatch``, run as our tree watch."""

    Options = PyrosimpleTreeWatchOptions

    def __init__(self, context: JobContext, options: PyrosimpleTreeWatchOptions) -> None:
        super().__init__(context, options.as_ours())
