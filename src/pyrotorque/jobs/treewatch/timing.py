"""The tree watch's delays, in one place; the defaults are what docs/treewatch.md promises.

Each part takes its own numbers from here: the job the settle time, ``pending`` the retry backoff,
``loader`` the wait for a loaded item, ``state_keeper`` the save intervals. All of them are measured
on the job's clock (``JobContext.clock``), so tests move a fake clock instead of changing these.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TreeWatchTiming:
    """Delays in seconds of one tree watch job."""

    #: A file changed this recently may still be written to; a scan leaves it for its event or a retry.
    settle: float = 5.0
    #: Pending loads are retried after this delay, doubling up to ``retry_max`` while rTorrent is away.
    retry_first: float = 2.0
    retry_max: float = 60.0
    #: How long to wait for rTorrent to show a loaded item (0.9.8 queues load.raw and answers at once),
    #: polling first after ``verify_first_poll``, then twice as long each time up to ``verify_max_poll``.
    verify_timeout: float = 5.0
    verify_first_poll: float = 0.001
    verify_max_poll: float = 0.25
    #: Files that arrive together (more than one in one read of the inotify queue) start a burst: the
    #: watcher goes on reading while the next event follows within ``burst_gap``, up to ``burst_max``,
    #: and loads what it gathered as one batch. A lone file is loaded at once.
    burst_gap: float = 0.002
    burst_max: float = 0.05
    #: Event-driven changes are saved at most this often; a scan and stop() save at once.
    save_interval: float = 5.0
    #: After a failed save, wait this long before the next attempt.
    save_retry: float = 60.0
    #: How long a load is kept to be checked again if rTorrent fails a request meanwhile (0.16 saves
    #: a new item in the background; killed before that, it forgets the item; see ``recent``).
    recent_hold: float = 10.0
    #: A watch root removed or moved away is looked for this often, to watch it again.
    root_poll: float = 1.0
    #: Folders that hit the inotify watch limit are tried again this often.
    watch_retry: float = 30.0


#: The defaults, for parts built without a job (their constructors' default arguments).
DEFAULT_TIMING = TreeWatchTiming()
