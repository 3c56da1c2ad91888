"""The tree watch job (``job.treewatch``): new metafiles below folder trees, loaded as they land.

One pipeline per file: ``watcher`` (inotify) and ``scanner`` (walks) find candidates; ``loader``
turns a candidate into an outcome (with ``plan`` for the load calls and ``templates`` for ``cmd.*``);
``job`` decides what follows: ``state_keeper`` records it (``state`` is the file format), ``pending``
keeps files for a retry with backoff. ``options`` has the keys, ``timing`` the delays.
"""

from __future__ import annotations

from pyrotorque.jobs.treewatch.job import TreeWatch
from pyrotorque.jobs.treewatch.options import TreeWatchOptions, split_roots

__all__ = ["TreeWatch", "TreeWatchOptions", "split_roots"]
