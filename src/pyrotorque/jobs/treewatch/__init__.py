"""The tree watch job (``job.treewatch``): new metafiles below folder trees, loaded as they land.

``job`` decides, ``watcher`` (inotify) and ``scanner`` (walks) find candidates, ``plan`` says how
one file is loaded, ``state`` remembers what was handled, ``templates`` renders ``cmd.*``.
"""

from __future__ import annotations

from pyrotorque.jobs.treewatch.job import TreeWatch, TreeWatchOptions, split_roots

__all__ = ["TreeWatch", "TreeWatchOptions", "split_roots"]
