"""TreeWatch (``job.treewatch``): load new metafiles from folder trees into rTorrent as they appear.

One pipeline per file: inotify (``watcher``) or a scan of the trees (``scanner``) yields candidates;
the loader (``loader``) turns each into an outcome (loaded, already loaded, invalid, too big, not
loaded, dry run, or rTorrent away); this job decides what follows (``outcomes``): it records the
outcome (``state_keeper``), keeps the file pending for a retry while rTorrent is away (``pending``),
wakes the queue jobs for an item left to them, and announces the load in rTorrent's log. A scan runs at
start and on every scheduled run, and catches what events missed (daemon down, network file
systems, overflows). A bad file is reported once and left alone until it changes; a loaded one stays
too unless ``loaded`` says delete or move (``disposal``).

What the job handled is saved per job in ``<config dir>/run/treewatch-<job>.state``, so a restart
neither loads again a file whose item the user erased nor reports a bad file again; a file is
handled anew only when its stamp (size, mtime, inode) changes. On the very first scan of a root, the
metafiles already there are recorded without being loaded, as the original never loaded them
either. All timing goes through the context's clock (``timing`` has the delays). docs/treewatch.md
has the details.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path

from pyrotorque.errors import ConfigError, TemplateError
from pyrotorque.figures import TREEWATCH_LOADED, TREEWATCH_PENDING, TREEWATCH_REJECTED, TREEWATCH_WATCHES
from pyrotorque.jobs.base import Job, JobContext
from pyrotorque.jobs.treewatch.disposal import Disposal, LoadedPolicy, parse_loaded
from pyrotorque.jobs.treewatch.loader import MetafileLoader
from pyrotorque.jobs.treewatch.options import TreeWatchOptions, split_roots
from pyrotorque.jobs.treewatch.outcomes import LoadOutcomes
from pyrotorque.jobs.treewatch.pending import PendingFiles
from pyrotorque.jobs.treewatch.plan import is_metafile_name
from pyrotorque.jobs.treewatch.recent import RecentLoads
from pyrotorque.jobs.treewatch.scanner import Candidate, FileStamp, Outcome, walk_metafiles
from pyrotorque.jobs.treewatch.state import state_path
from pyrotorque.jobs.treewatch.state_keeper import StateKeeper
from pyrotorque.jobs.treewatch.templates import LoadCommand
from pyrotorque.jobs.treewatch.timing import TreeWatchTiming
from pyrotorque.jobs.treewatch.watcher import TreeWatcher

#: Files in the tree whose item never came from them: ``--load-pending`` loads them.
PENDING_OUTCOMES = (Outcome.PREEXISTING, Outcome.NOT_LOADED, Outcome.TOO_BIG)


class TreeWatch(LoadOutcomes, Job):
    """Loads metafiles that appear below the configured roots, at once (inotify) and by periodic scans."""

    Options = TreeWatchOptions

    def __init__(
        self, context: JobContext, options: TreeWatchOptions, *, timing: TreeWatchTiming | None = None
    ) -> None:
        super().__init__(context, options)
        self.timing = timing or TreeWatchTiming()
        self.roots = split_roots(options.path)
        if not self.roots:
            raise self._config_error("path", "must name the folder(s) to watch when the job is active")
        self.commands = {name: self._parse_command(name, text) for name, text in sorted(options.cmd.items())}
        self.disposal = Disposal(
            self._loaded_policy(options.loaded), context.client, self.log, dry_run=context.dry_run
        )
        self._lock = threading.RLock()
        self._watcher: TreeWatcher | None = None
        self.state = StateKeeper(
            state_path(context.config.config_dir, context.name),
            self.roots,
            job_name=context.name,
            clock=context.clock,
            log=self.log,
            dry_run=context.dry_run,
            first_start_loads=options.first_start == "load",
            save_interval=self.timing.save_interval,
            save_retry=self.timing.save_retry,
        )
        self.pending = PendingFiles(
            context.clock, self.log, first=self.timing.retry_first, maximum=self.timing.retry_max
        )
        self.recent = RecentLoads(context.clock, self.timing.recent_hold)
        self.loader = MetafileLoader(
            context,
            roots=self.roots,
            commands=self.commands,
            load_mode=options.load_mode,
            queued=options.queued,
            timing=self.timing,
        )

    def _config_error(self, key: str, message: str) -> ConfigError:
        full_key = f"job.{self.context.name}.{key}"
        setting = self.context.config.torque.get(full_key)
        if setting is not None:
            return setting.error(message, full_key)
        return ConfigError(message, key=full_key)

    def _loaded_policy(self, text: str) -> LoadedPolicy:
        policy = parse_loaded(text)  # the option check has refused anything else
        target = policy.target
        if target is not None and any(target == root or root in target.parents for root in self.roots):
            # A file moved into the tree would come back as a new (already loaded) file, moved again.
            raise self._config_error("loaded", f"move:{target} is inside the watched tree")
        return policy

    def _parse_command(self, name: str, text: str) -> LoadCommand:
        key = f"job.{self.context.name}.cmd.{name}"
        try:
            return LoadCommand.parse(key, text, config_dir=self.context.config.config_dir)
        except TemplateError as exc:
            raise self._config_error(f"cmd.{name}", str(exc)) from None

    # -- life cycle ---------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the inotify thread; it scans the trees once, then follows their events."""
        if self._watcher is not None:
            return
        self.state.mark_start()
        figures, labels = self.context.figures, (self.context.name,)
        figures.probe(TREEWATCH_PENDING, labels, lambda: len(self.pending))
        figures.probe(TREEWATCH_WATCHES, labels, self._watches)
        # The counters' series exist before the first load or rejection, so increase() sees the first one.
        figures.add(TREEWATCH_LOADED, labels, 0)
        for reason in self._REJECTED.values():
            figures.add(TREEWATCH_REJECTED, (*labels, reason), 0)
        watcher = TreeWatcher(
            self.roots,
            self,
            self.log,
            clock=self.context.clock,
            trace=self.options.trace_inotify,
            root_poll=self.timing.root_poll,
            limit_retry=self.timing.watch_retry,
            burst_gap=self.timing.burst_gap,
            burst_max=self.timing.burst_max,
            wanted=is_metafile_name,
        )
        try:
            watcher.start()
        except OSError as exc:
            self.log.error("Cannot use inotify (%s); new metafiles are found by the scheduled scan only", exc)
            return
        self._watcher = watcher

    def stop(self) -> None:
        """Stop the inotify thread; safe to call more than once."""
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.stop()
        figures, labels = self.context.figures, (self.context.name,)
        figures.probe(TREEWATCH_PENDING, labels, None)
        figures.probe(TREEWATCH_WATCHES, labels, None)
        with self._lock:
            if self.state.loaded:
                self.state.save()

    def _watches(self) -> int:
        """The directories inotify watches now (0 without the inotify thread)."""
        watcher = self._watcher
        return watcher.watched if watcher is not None else 0

    def run(self) -> None:
        """The scheduled reconciliation: scan the trees and load what is not loaded yet."""
        if self._watcher is not None and not self._watcher.alive:
            self.log.warning("Tree watch thread had stopped; starting it again")
            self.stop()
            self.start()
        self._scan(self.roots, raise_errors=True)

    def load_pending(self) -> None:
        """``pyrotorque --load-pending JOB``: one scan that also loads what was recorded but not loaded.

        That is every file recorded at a first start, or recorded as not loaded by rTorrent or too big
        to send, and on a root's first start every file there. Files loaded before (whose item may have
        been erased on purpose) and invalid files stay as they are until they change.
        """
        with self._lock:
            self.state.load()
            self.state.first_start_loads = True
            again = self.state.seen.forget_outcomes(PENDING_OUTCOMES)
            self.log.info(
                "Loading what is pending below %s (%d file(s) recorded, not loaded)", self.path_text, again
            )
        self._scan(self.roots, raise_errors=True)

    @property
    def path_text(self) -> str:
        """The roots, for log lines."""
        return ", ".join(map(str, self.roots))

    # -- events from the watcher thread ---------------------------------------------------------------

    def file_changed(self, path: Path, root: Path) -> None:
        """A file was written or moved in: load it if it is a metafile (and retry what is pending)."""
        self.files_changed([(path, root)])

    def files_changed(self, changes: list[tuple[Path, Path]]) -> None:
        """Files were written or moved in: load the metafiles among them as one batch (with the pending)."""
        fresh = [candidate for path, root in changes if (candidate := self._event_candidate(path, root))]
        if not fresh:
            return
        with self._lock:
            self.state.load()
            batch = [*fresh, *self.pending.candidates(exclude={candidate.path for candidate in fresh})]
            try:
                self._process(batch)
            finally:
                self.state.save_soon()

    def _event_candidate(self, path: Path, root: Path) -> Candidate | None:
        """The candidate for a file an event named, or None (not a metafile, gone again, still empty)."""
        if not is_metafile_name(path.name):
            return None
        try:
            stat = path.stat()
        except OSError:
            return None  # gone again already (a temporary file renamed away)
        if stat.st_size == 0:
            self.log.debug("Ignoring empty file %r (a placeholder; its final write comes later)", str(path))
            return None
        return Candidate(path, root, FileStamp.of(stat))

    def directory_added(self, path: Path, root: Path, *, moved_in: bool = False) -> None:
        """A directory was created or moved in: load the metafiles already inside it.

        A folder renamed into the tree brings its files complete, as a renamed file is (``mv`` of a
        folder of downloads, a sync tool's finished folder): they load at once, however new. In a
        created folder a file may still be written while the watch is put in place, so there a new
        file waits for its event or the retry. A file still written into a folder moved in is read
        early at worst: reported, kept, and loaded on its close event."""
        self._scan((path,), root=root, settled=moved_in)

    def rescan(self) -> None:
        """A full scan (at start, and when inotify lost events)."""
        self._scan(self.roots)

    def next_wakeup(self) -> float | None:
        """When (clock.monotonic) the watcher thread should call ``idle()``: a retry or a save is due."""
        due = [
            when
            for when in (self.pending.retry_at, self.state.save_at, self.recent.check_at)
            if when is not None
        ]
        return min(due) if due else None

    def idle(self) -> None:
        """Retry the pending files; save the state when that is due."""
        with self._lock:
            self.state.load()
            self._check_recent_loads()
            self._process(self.pending.candidates())
            self.state.save_if_due()

    # -- finding files ----------------------------------------------------------------------------------

    def _scan(
        self,
        tops: Iterable[Path],
        *,
        root: Path | None = None,
        raise_errors: bool = False,
        settled: bool = False,
    ) -> None:
        """Look at every metafile below ``tops``; load the new ones; forget files that are gone.
        New files changed within ``settle`` wait (they may still be written) unless ``settled``."""
        clock = self.context.clock
        started = clock.monotonic()
        errors: list[OSError] = []
        with self._lock:
            self.state.load()
            found = self._list(tops, root, errors)
            seen = self.state.seen
            fresh = [c for c in found if seen.settled(c.path, c.stamp) is None and c.path not in self.pending]
            now = clock.time()
            # In a folder moved in only an empty placeholder can still be written: it waits as ever.
            settling = [
                c
                for c in fresh
                if (not settled or not c.stamp.size) and now - c.stamp.mtime_ns / 1e9 < self.timing.settle
            ]
            settling_paths = {c.path for c in settling}
            ready = [c for c in fresh if c.path not in settling_paths] + self.pending.candidates()
            for candidate in settling:
                if candidate.stamp.size:  # an empty placeholder waits for its final write or a later scan
                    self.pending.add(candidate)
            self.log.debug(
                "Scanned %d metafile(s) below %s in %.0f ms: %d new, %d still being written, %d pending",
                len(found),
                ", ".join(map(str, tops)),
                (clock.monotonic() - started) * 1000,
                len(ready),
                len(settling),
                len(self.pending),
            )
            for error in errors[:3]:
                self.log.warning("Cannot look at %r in the watch tree: %s", error.filename, error.strerror)
            try:
                self._process(ready, raise_errors=raise_errors)
            finally:
                if root is None:
                    self.state.save()
                else:
                    self.state.save_soon()
                watcher = self._watcher
                if len(self.pending) and watcher is not None:
                    watcher.wake()  # a scan from the scheduler's thread: the retries are the watcher's

    def _list(self, tops: Iterable[Path], root: Path | None, errors: list[OSError]) -> list[Candidate]:
        """The metafiles below ``tops``; a whole root's listing (``root`` None) also reconciles the state."""
        found: list[Candidate] = []
        for top in tops:
            top_errors: list[OSError] = []
            # Empty files too: one left empty past the settle time is reported (once) by the loader.
            top_found = list(walk_metafiles(root or top, top_errors.append, top=top, include_empty=True))
            if root is None:
                self.state.reconcile_root(top, top_found, clean=not top_errors)
            found.extend(top_found)
            errors.extend(top_errors)
        return found
