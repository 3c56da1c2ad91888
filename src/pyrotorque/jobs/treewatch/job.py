"""TreeWatch (``job.treewatch``): load new metafiles from folder trees into rTorrent as they appear.

inotify reports files closed after writing or moved in (``watcher``); a scan of the whole
tree at start and on every scheduled run catches what events missed (daemon down, network file
systems, overflows). Each metafile is read, checked (``pyrotorque.metafile``), compared with the
items rTorrent has, and sent as bytes with ``load.raw*`` plus its tie, the rendered ``cmd.*``
commands and the priority the load mode table asks for (``plan``). Nothing is ever deleted
or renamed: a bad file is reported once and left alone until it changes, and a file that could not
be loaded because rTorrent was away stays pending and is retried.

What the job handled is saved per job in ``<config dir>/run/treewatch-<job>.state``
(``state``), so a restart neither loads again a file whose item the user erased nor reports a
bad file again; a file is handled anew only when its stamp (size, mtime, inode) changes. On the very
first scan of a root, the metafiles already there are recorded without being loaded, as the original
never loaded them either. docs/treewatch.md has the details.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pyrotorque.config.options import option
from pyrotorque.errors import (
    ConfigError,
    HashNotFound,
    MetafileError,
    RequestTooLarge,
    RtorrentError,
    TemplateError,
)
from pyrotorque.jobs.base import KIND_QUEUE, Job, JobContext
from pyrotorque.jobs.treewatch.plan import (
    LoadPlan,
    is_metafile_name,
    path_load_call,
    plan_load,
    post_load_commands,
    raw_load_call,
)
from pyrotorque.jobs.treewatch.scanner import Candidate, FileStamp, Outcome, SeenFiles, walk_metafiles
from pyrotorque.jobs.treewatch.state import StateError, WatchState, read_state, state_path, write_state
from pyrotorque.jobs.treewatch.templates import LoadCommand, path_flags, template_namespace
from pyrotorque.jobs.treewatch.watcher import TreeWatcher
from pyrotorque.metafile import Metafile, read_metafile
from pyrotorque.rtorrent.commands import path_is_loadable, rtorrent_escape

#: A file changed this recently may still be written to; a scan leaves it for its event or a retry.
SETTLE_SECONDS = 5.0
#: Pending loads are retried after this delay, doubling up to RETRY_MAX while rTorrent stays away.
RETRY_FIRST = 2.0
RETRY_MAX = 60.0
#: How long to wait for rTorrent to show a loaded item (0.9.8 queues load.raw and answers at once).
VERIFY_TIMEOUT = 5.0
_VERIFY_FIRST_POLL = 0.01
#: Event-driven changes are saved at most this often; a scan and stop() save at once.
SAVE_INTERVAL = 5.0
#: After a failed save, wait this long before the next attempt.
SAVE_RETRY = 60.0


def split_roots(text: str) -> tuple[Path, ...]:
    """The ``:``-separated roots of a ``path`` setting, absolute, ``~`` expanded, duplicates dropped."""
    roots: dict[Path, None] = {}
    for part in text.split(":"):
        if part.strip():
            expanded = os.path.expanduser(part.strip()).rstrip("/") or "/"
            roots[Path(os.path.abspath(expanded))] = None
    return tuple(roots)


def _roots_problem(text: str) -> str | None:
    """Option check of ``path``: every root must be a directory (an empty path is checked by the job)."""
    for root in split_roots(text):
        if not root.is_dir():
            return f"{str(root)!r} is not a directory"
    return None


@dataclass(frozen=True)
class TreeWatchOptions:
    """The ``job.NAME.*`` keys of a tree watch (package defaults in torque.ini)."""

    path: str = option("", check=_roots_problem, help="root folder(s) to watch, ':'-separated")
    load_mode: str = option("normal", help="'start' or 'started' loads items started")
    queued: bool = option(False, help="leave starting to the queue job")
    quiet: bool = option(False, help="do not announce loads in rTorrent's log")
    trace_inotify: bool = option(False, help="log every inotify event at DEBUG level")
    cmd: dict[str, str] = field(default_factory=dict)  # extra load commands, applied sorted by NAME


class TreeWatch(Job):
    """Loads metafiles that appear below the configured roots, at once (inotify) and by periodic scans."""

    Options = TreeWatchOptions

    def __init__(self, context: JobContext, options: TreeWatchOptions) -> None:
        super().__init__(context, options)
        self.roots = split_roots(options.path)
        if not self.roots:
            raise self._config_error("path", "must name the folder(s) to watch when the job is active")
        self.commands = [self._parse_command(name, text) for name, text in sorted(options.cmd.items())]
        self.seen = SeenFiles()
        self._lock = threading.RLock()
        self._pending: dict[Path, Path] = {}  # path -> its root, waiting for rTorrent (or to settle)
        self._retry_at: float | None = None
        self._retry_delay = RETRY_FIRST
        self._rtorrent_away = False
        self._already_loaded = 0  # found by the current batch, for one summary line
        self._watcher: TreeWatcher | None = None
        self.state_file = state_path(context.config.config_dir, context.name)
        self._state_loaded = False
        self._known_roots: set[Path] = set()  # roots whose first scan is done
        self._root_changes = 0
        self._saved_changes = -1  # seen.changes + _root_changes when last saved or loaded
        self._last_save = float("-inf")
        self._save_at: float | None = None
        self._save_failed = False
        self._first_start_ns: int | None = None  # files changed after this are new, even on a first scan

    def _config_error(self, key: str, message: str) -> ConfigError:
        full_key = f"job.{self.context.name}.{key}"
        setting = self.context.config.torque.get(full_key)
        if setting is not None:
            return setting.error(message, full_key)
        return ConfigError(message, key=full_key)

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
        if self._first_start_ns is None:
            self._first_start_ns = time.time_ns()
        watcher = TreeWatcher(self.roots, self, self.log, trace=self.options.trace_inotify)
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
        with self._lock:
            if self._state_loaded:
                self._save_state()

    def run(self) -> None:
        """The scheduled reconciliation: scan the trees and load what is not loaded yet."""
        if self._watcher is not None and not self._watcher.alive:
            self.log.warning("Tree watch thread had stopped; starting it again")
            self.stop()
            self.start()
        self._scan(self.roots, raise_errors=True)

    # -- events from the watcher thread ---------------------------------------------------------------

    def file_changed(self, path: Path, root: Path) -> None:
        """A file was written or moved in: load it if it is a metafile (and retry what is pending)."""
        if not is_metafile_name(path.name):
            return
        try:
            stat = path.stat()
        except OSError:
            return  # gone again already (a temporary file renamed away)
        if stat.st_size == 0:
            self.log.debug("Ignoring empty file %r (a placeholder; its final write comes later)", str(path))
            return
        with self._lock:
            self._load_state()
            batch = [Candidate(path, root, FileStamp.of(stat)), *self._pending_candidates(exclude=path)]
            try:
                self._process(batch)
            finally:
                self._save_soon()

    def directory_added(self, path: Path, root: Path) -> None:
        """A directory was created or moved in: load the metafiles already inside it."""
        self._scan((path,), root=root)

    def rescan(self) -> None:
        """A full scan (at start, and when inotify lost events)."""
        self._scan(self.roots)

    def next_wakeup(self) -> float | None:
        """When the watcher thread should call ``idle()`` to retry pending files or save the state."""
        due = [
            when for when in (self._retry_at if self._pending else None, self._save_at) if when is not None
        ]
        return min(due) if due else None

    def idle(self) -> None:
        """Retry the pending files; save the state when that is due."""
        with self._lock:
            self._load_state()
            self._process(self._pending_candidates())
            if self._save_at is not None and time.monotonic() >= self._save_at:
                self._save_state()
            else:
                self._save_soon()

    # -- finding and processing files -------------------------------------------------------------------

    def _scan(self, tops: Iterable[Path], *, root: Path | None = None, raise_errors: bool = False) -> None:
        """Look at every metafile below ``tops``; load the new ones; forget files that are gone."""
        started = time.monotonic()
        errors: list[OSError] = []
        with self._lock:
            self._load_state()
            found: list[Candidate] = []
            for top in tops:
                top_errors: list[OSError] = []
                top_found = list(walk_metafiles(root or top, top_errors.append, top=top))
                if root is None:
                    self._reconcile_root(top, top_found, clean=not top_errors)
                found.extend(top_found)
                errors.extend(top_errors)
            fresh = [
                c for c in found if self.seen.settled(c.path, c.stamp) is None and c.path not in self._pending
            ]
            now = time.time()
            settling = [c for c in fresh if now - c.stamp.mtime_ns / 1e9 < SETTLE_SECONDS]
            settling_paths = {c.path for c in settling}
            ready = [c for c in fresh if c.path not in settling_paths] + self._pending_candidates()
            for candidate in settling:
                self._add_pending(candidate)
            self.log.debug(
                "Scanned %d metafile(s) below %s in %.0f ms: %d new, %d still being written, %d pending",
                len(found),
                ", ".join(map(str, tops)),
                (time.monotonic() - started) * 1000,
                len(ready),
                len(settling),
                len(self._pending),
            )
            for error in errors[:3]:
                self.log.warning("Cannot look at %r in the watch tree: %s", error.filename, error.strerror)
            try:
                self._process(ready, raise_errors=raise_errors)
            finally:
                if root is None:
                    self._save_state()
                else:
                    self._save_soon()

    def _reconcile_root(self, root: Path, found: list[Candidate], *, clean: bool) -> None:
        """Whole-tree scan of one root: the first-scan rule, and forgetting files that are gone."""
        if root not in self._known_roots:
            self._record_preexisting(root, found, clean=clean)
        elif clean and found:
            # An empty or unlistable root may be an unmounted share: forgetting its files would make
            # them all new (and loaded again) when it comes back, so only a root with files is pruned.
            self.seen.keep_only((candidate.path for candidate in found), below=(root,))

    def _record_preexisting(self, root: Path, found: list[Candidate], *, clean: bool) -> None:
        """First scan of a root: record what is there already, without loading; later files are new."""
        if self._first_start_ns is None:
            self._first_start_ns = time.time_ns()
        recorded = 0
        for candidate in found:
            if self.seen.settled(candidate.path, candidate.stamp) is not None:
                continue
            if candidate.stamp.mtime_ns < self._first_start_ns:
                self.seen.record(candidate.path, candidate.stamp, Outcome.PREEXISTING)
                recorded += 1
        if clean:  # a root that could not be listed completely gets its first scan again next time
            self._known_roots.add(root)
            self._root_changes += 1
        self.log.info(
            "first start of tree watch %r: %d existing metafile(s) recorded, not loaded;"
            " touch a file to load it (below %s)",
            self.context.name,
            recorded,
            root,
        )

    # -- the saved state ----------------------------------------------------------------------------------

    def _load_state(self) -> None:
        """Read the saved state once, before the first file is looked at; unusable means missing."""
        if self._state_loaded:
            return
        self._state_loaded = True
        try:
            state = read_state(self.state_file)
        except StateError as exc:
            self.log.warning(
                "Ignoring the tree watch state file %r: %s. Treating it as missing: metafiles already in"
                " the tree are recorded, not loaded",
                str(self.state_file),
                exc,
            )
            state = None
        if state is None:
            return
        roots = set(self.roots)
        self._known_roots = state.roots & roots
        # Files of roots no longer configured are dropped; a root added again gets its first scan again.
        self.seen.replace_all(
            {
                path: seen
                for path, seen in state.files.items()
                if any(root in path.parents for root in self._known_roots)
            }
        )
        self._saved_changes = self._state_changes()
        self.log.debug("Read the state of %d metafile(s) from %r", len(self.seen), str(self.state_file))

    def _state_changes(self) -> int:
        return self.seen.changes + self._root_changes

    def _save_soon(self) -> None:
        """Save now if the last save is a while ago, else let the watcher thread save a bit later."""
        if self.context.dry_run or self._state_changes() == self._saved_changes or self._save_at is not None:
            return
        if time.monotonic() - self._last_save >= SAVE_INTERVAL:
            self._save_state()
        else:
            self._save_at = self._last_save + SAVE_INTERVAL

    def _save_state(self) -> None:
        """Write the state file if anything changed (never in a dry run); a failure is a WARNING."""
        if self.context.dry_run or self._state_changes() == self._saved_changes:
            self._save_at = None
            return
        changes = self._state_changes()
        started = time.monotonic()
        try:
            size = write_state(self.state_file, WatchState(set(self._known_roots), self.seen.snapshot()))
        except OSError as exc:
            if not self._save_failed:
                self.log.warning(
                    "Cannot save the tree watch state to %r (%s); retrying. Until it works, a restart may"
                    " load again items you erased",
                    str(self.state_file),
                    exc.strerror or exc,
                )
            self._save_failed = True
            self._save_at = time.monotonic() + SAVE_RETRY
            return
        if self._save_failed:
            self.log.info("Saved the tree watch state to %r again", str(self.state_file))
            self._save_failed = False
        self._saved_changes = changes
        self._last_save = time.monotonic()
        self._save_at = None
        self.log.debug(
            "Saved the state of %d metafile(s) to %r (%d bytes, %.0f ms)",
            len(self.seen),
            str(self.state_file),
            size,
            (self._last_save - started) * 1000,
        )

    def _pending_candidates(self, exclude: Path | None = None) -> list[Candidate]:
        """The pending files that still exist, with fresh stamps; vanished ones are dropped."""
        candidates = []
        for path, root in list(self._pending.items()):
            if path == exclude:
                continue
            try:
                stat = path.stat()
            except OSError:
                self.log.debug("Pending metafile %r is gone", str(path))
                del self._pending[path]
                continue
            candidates.append(Candidate(path, root, FileStamp.of(stat)))
        return candidates

    def _process(self, candidates: list[Candidate], *, raise_errors: bool = False) -> None:
        """Load each candidate unless unchanged since its last outcome; RPC errors keep it pending."""
        todo = []
        for candidate in candidates:
            if self.seen.settled(candidate.path, candidate.stamp) is None:
                todo.append(candidate)
            else:
                self._pending.pop(candidate.path, None)
        if not todo:
            return
        loaded: set[str] | None = None
        self._already_loaded = 0
        try:
            if len(todo) > 1:  # one request for the whole loaded set instead of one per file
                loaded = {str(row[0]).upper() for row in self.context.client.d_multicall("main", ["d.hash"])}
            for candidate in todo:
                self._handle(candidate, loaded)
            if loaded is not None and self._already_loaded:
                self.log.info("%d metafile(s) in the watch tree are loaded already", self._already_loaded)
        except RtorrentError as exc:
            for left in todo:
                if left.path not in self._pending and self.seen.settled(left.path, left.stamp) is None:
                    self._add_pending(left)
            self._note_rtorrent_away(exc)
            if raise_errors:
                raise
            return
        self._note_rtorrent_back()

    def _add_pending(self, candidate: Candidate) -> None:
        self._pending[candidate.path] = candidate.root
        if self._retry_at is None:
            self._retry_at = time.monotonic() + self._retry_delay

    def _note_rtorrent_away(self, exc: RtorrentError) -> None:
        if not self._rtorrent_away:
            self._rtorrent_away = True
            self.log.warning(
                "Cannot load metafiles now (%s); %d file(s) stay pending and are retried",
                exc,
                len(self._pending),
            )
        else:
            self.log.debug("Still cannot load %d pending metafile(s): %s", len(self._pending), exc)
        self._retry_delay = min(self._retry_delay * 2, RETRY_MAX)
        self._retry_at = time.monotonic() + self._retry_delay

    def _note_rtorrent_back(self) -> None:
        if self._rtorrent_away:
            self._rtorrent_away = False
            self.log.info("Loading metafiles works again")
        self._retry_delay = RETRY_FIRST
        self._retry_at = time.monotonic() + RETRY_FIRST if self._pending else None

    # -- one file ---------------------------------------------------------------------------------------

    def _handle(self, candidate: Candidate, loaded: set[str] | None) -> None:
        """Read, check and load one metafile; RtorrentError leaves it to the caller (pending)."""
        path = candidate.path
        try:
            metafile = read_metafile(path)
        except MetafileError as exc:
            self.log.error("%s; the file is left as it is and tried again when it changes", exc)
            self._settle(candidate, Outcome.INVALID)
            return
        if self._is_loaded(metafile.info_hash, loaded):
            # One file written into the tree is news; thousands left there, found by a scan, are not.
            level = logging.DEBUG if loaded is not None else logging.INFO
            self.log.log(
                level, "Already loaded: %r (#%s) from %r", metafile.name, metafile.info_hash, str(path)
            )
            self._already_loaded += 1
            self._settle(candidate, Outcome.ALREADY_LOADED, metafile.info_hash)
            return
        plan = plan_load(self.options.load_mode, self.options.queued, path_flags(path, candidate.root))
        rendered = self._render_commands(metafile, candidate)
        if self.context.dry_run:
            self.log.info("WOULD load %r from %r %s", metafile.name, str(path), plan.state)
            self.log.debug("WOULD send commands %r", rendered)
            self._settle(candidate, Outcome.DRY_RUN, metafile.info_hash)
            return
        outcome = self._load(metafile, path, plan, rendered)
        self._settle(candidate, outcome, metafile.info_hash)
        if outcome is Outcome.LOADED:
            if loaded is not None:
                loaded.add(metafile.info_hash)
            self._after_load(metafile, path, plan)

    def _settle(self, candidate: Candidate, outcome: Outcome, info_hash: str = "") -> None:
        self.seen.record(candidate.path, candidate.stamp, outcome, info_hash)
        self._pending.pop(candidate.path, None)

    def _is_loaded(self, info_hash: str, loaded: set[str] | None) -> bool:
        if loaded is not None:
            return info_hash in loaded
        try:
            self.context.client.call("d.hash", info_hash)
        except HashNotFound:
            return False
        return True

    def _render_commands(self, metafile: Metafile, candidate: Candidate) -> list[str]:
        """The ``cmd.*`` commands for this file, sorted by name; a failing one is skipped with an ERROR."""
        if not self.commands:
            return []
        namespace = template_namespace(
            metafile, candidate.path, candidate.root, self.roots, self.context.config.announce_aliases()
        )
        rendered = []
        for command in self.commands:
            try:
                text = command.render(namespace)
            except TemplateError as exc:
                self.log.error(
                    "While expanding a load command for %r, skipped it: %s", str(candidate.path), exc
                )
                continue
            if text:
                namespace["commands"].append(text)
                rendered.append(text)
        return rendered

    def _tie_command(self, path: Path) -> list[str]:
        try:
            return [f"d.tied_to_file.set={rtorrent_escape(str(path))}"]
        except TemplateError as exc:
            self.log.warning("Loading %r without tying the item to it: %s", str(path), exc)
            return []

    def _load(self, metafile: Metafile, path: Path, plan: LoadPlan, rendered: list[str]) -> Outcome:
        """Send the load request (by bytes, or by path when too big) and wait for the item to appear."""
        client = self.context.client
        info = client.server_info()
        verbose = info.has("load.raw_verbose")
        commands = post_load_commands(plan, rendered)
        raw_commands = [*self._tie_command(path), *commands]
        method, params = raw_load_call(plan, metafile.data, raw_commands, verbose=verbose)
        how = ""
        size = cap = 0
        try:
            self.log.debug("Loading %r with %s and commands %r", str(path), method, params[2:])
            client.call(method, *params)
        except RequestTooLarge as too_big:
            size, cap = too_big.size, too_big.limit
            if not path_is_loadable(str(path)):
                self.log.error(
                    "Cannot load %r: its request would be about %d bytes, above the %d bytes rTorrent %s"
                    " accepts, and its path cannot be loaded by name (it contains glob or quote characters);"
                    " rename it",
                    str(path),
                    size,
                    cap,
                    info.client_version_text,
                )
                return Outcome.TOO_BIG
            method, params = path_load_call(plan, str(path), commands, verbose=verbose)
            how = " by path (too big to send)"
            self.log.debug("Loading %r%s with %s and commands %r", str(path), how, method, params[2:])
            client.call(method, *params)
        if self._wait_until_loaded(metafile.info_hash):
            self.log.info("Loaded %r from %r%s %s", metafile.name, str(path), how, plan.state)
            return Outcome.LOADED
        if how:
            self.log.error(
                "rTorrent did not load %r: the metafile is too big to send (about %d bytes, limit %d on"
                " rTorrent %s) and rTorrent could not read it at that path"
                " (is the watch tree visible to rTorrent under the same path?)",
                str(path),
                size,
                cap,
                info.client_version_text,
            )
            return Outcome.TOO_BIG
        self.log.error(
            "rTorrent did not load %r (#%s) from %r within %.0f s; see rTorrent's log",
            metafile.name,
            metafile.info_hash,
            str(path),
            VERIFY_TIMEOUT,
        )
        return Outcome.NOT_LOADED

    def _wait_until_loaded(self, info_hash: str) -> bool:
        deadline = time.monotonic() + VERIFY_TIMEOUT
        pause = _VERIFY_FIRST_POLL
        while True:
            try:
                self.context.client.call("d.hash", info_hash)
                return True
            except HashNotFound:
                if time.monotonic() >= deadline:
                    return False
            time.sleep(pause)
            pause = min(pause * 2, 0.25)

    def _after_load(self, metafile: Metafile, path: Path, plan: LoadPlan) -> None:
        """Announce the load in rTorrent's log and wake the queue jobs when the item waits for them."""
        if plan.queued:
            self.context.wake_kind(KIND_QUEUE)
        if self.options.quiet:
            return
        client = self.context.client
        if not client.server_info().has("print"):
            return
        try:
            client.call(
                "print", "", "TreeWatch: Loaded '", metafile.name, "' from '", str(path), f"' {plan.state}"
            )
        except RtorrentError as exc:  # the item is loaded; a lost announcement is not worth a retry
            self.log.warning("Could not announce %r in rTorrent's log: %s", metafile.name, exc)
