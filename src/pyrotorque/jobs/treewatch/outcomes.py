"""What follows a tree watch's load outcome: record it, keep the file pending, wake and announce.

An outcome is final until the file changes (``state_keeper``); rTorrent away keeps the rest of the
batch pending (``pending``); a load wakes the queue jobs when the item is left to them and is announced
in rTorrent's log; a load rTorrent lost in a crash soon after is loaded again (``recent``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import ClassVar

from pyrotorque.errors import RtorrentError
from pyrotorque.figures import TREEWATCH_LOADED, TREEWATCH_REJECTED
from pyrotorque.jobs.base import KIND_QUEUE, JobContext
from pyrotorque.jobs.treewatch.batch import LoadBatch
from pyrotorque.jobs.treewatch.disposal import Disposal
from pyrotorque.jobs.treewatch.loader import LoadResult, MetafileLoader
from pyrotorque.jobs.treewatch.options import TreeWatchOptions
from pyrotorque.jobs.treewatch.pending import PendingFiles
from pyrotorque.jobs.treewatch.plan import LoadPlan
from pyrotorque.jobs.treewatch.recent import RecentLoads
from pyrotorque.jobs.treewatch.scanner import Candidate, FileStamp, Outcome
from pyrotorque.jobs.treewatch.state_keeper import StateKeeper


class LoadOutcomes:
    """The outcome half of ``TreeWatch``; its parts are made by ``TreeWatch.__init__``."""

    context: JobContext
    options: TreeWatchOptions
    log: logging.Logger
    state: StateKeeper
    pending: PendingFiles
    recent: RecentLoads
    loader: MetafileLoader
    disposal: Disposal

    #: Outcomes whose item is in rTorrent (or would be, in a dry run): the ``loaded`` setting applies.
    _IN_RTORRENT = frozenset({Outcome.LOADED, Outcome.ALREADY_LOADED, Outcome.DRY_RUN})
    #: Outcomes counted as rejected, with the ``reason`` label of pyrotorque_treewatch_files_rejected_total.
    _REJECTED: ClassVar[dict[Outcome, str]] = {
        Outcome.INVALID: "invalid",
        Outcome.TOO_BIG: "too_big",
        Outcome.NOT_LOADED: "not_loaded",
    }

    def _process(self, candidates: list[Candidate], *, raise_errors: bool = False) -> None:
        """Load each candidate unless unchanged since its last outcome; rTorrent away keeps it pending."""
        todo = []
        for candidate in candidates:
            if self.state.seen.settled(candidate.path, candidate.stamp) is None:
                todo.append(candidate)
            else:
                self.pending.discard(candidate.path)
        if not todo:
            return
        # Files ready together go to rTorrent together (``batch``), each with its own outcome.
        error = self._load_all(todo, LoadBatch(self.loader, todo))
        if error is None:
            self.pending.rtorrent_worked()
            return
        for left in todo:
            # A file concluded and deleted or moved already (``loaded``) is not pending: it is gone.
            unsettled = self.state.seen.settled(left.path, left.stamp) is None and left.path.exists()
            if left.path not in self.pending and unsettled:
                self.pending.add(left)
        self.pending.rtorrent_failed(error)
        if raise_errors:
            raise error

    def _load_all(self, todo: list[Candidate], batch: LoadBatch) -> RtorrentError | None:
        """Load the batch, then conclude every file it decided, in order; returns the first time
        rTorrent was away (those files stay pending). The loads are announced in rTorrent's log at
        the end, all in one request."""
        announcements: list[tuple[str, Path, LoadPlan]] = []
        try:
            return self._conclude_each(todo, batch, announcements)
        finally:
            self._announce(announcements)

    def _conclude_each(
        self, todo: list[Candidate], batch: LoadBatch, announcements: list[tuple[str, Path, LoadPlan]]
    ) -> RtorrentError | None:
        already_loaded = 0
        first_error: RtorrentError | None = None
        for candidate, result in zip(todo, batch.results(), strict=True):
            if result.away is not None:
                first_error = first_error or result.away
                continue
            try:
                self._conclude(candidate, result, announcements)
            except RtorrentError as exc:  # after the load (disposal): the item is loaded, the rest goes on
                first_error = first_error or exc
            already_loaded += result.outcome is Outcome.ALREADY_LOADED
        if batch.shared and already_loaded:
            self.log.info("%d metafile(s) in the watch tree are loaded already", already_loaded)
        return first_error

    def _conclude(
        self, candidate: Candidate, result: LoadResult, announcements: list[tuple[str, Path, LoadPlan]]
    ) -> None:
        """Record the outcome (final until the file changes); after a load, wake and announce."""
        assert result.outcome is not None
        self.state.seen.record(candidate.path, candidate.stamp, result.outcome, result.info_hash)
        self.pending.discard(candidate.path)
        self._count(result.outcome)
        if result.outcome is Outcome.LOADED and result.plan is not None:
            failures = self.context.client.stats.snapshot().failures
            self.recent.add(candidate.path, candidate.root, result.info_hash, failures)
            if result.plan.queued:
                self.context.wake_kind(KIND_QUEUE)
            announcements.append((result.name, candidate.path, result.plan))
        in_rtorrent = result.outcome in self._IN_RTORRENT and not self.disposal.policy.keeps
        if in_rtorrent and self.disposal.dispose(candidate.path, candidate.root, result.info_hash):
            # Gone from the tree: a file that appears at this path later is new, whatever its stamp.
            self.state.seen.forget(candidate.path)

    def _count(self, outcome: Outcome) -> None:
        """Count a load or a rejection in the daemon's figures (the exporter serves them)."""
        name = self.context.name
        if outcome is Outcome.LOADED:
            self.context.figures.add(TREEWATCH_LOADED, (name,))
        elif (reason := self._REJECTED.get(outcome)) is not None:
            self.context.figures.add(TREEWATCH_REJECTED, (name, reason))

    def _check_recent_loads(self) -> None:
        """Load again what rTorrent lost after we loaded it (see ``recent``): only if a request failed."""
        due = self.recent.take_due()
        failures = self.context.client.stats.snapshot().failures
        suspect = [load for load in due if failures > load.failures]
        if not suspect:
            return
        try:
            present = self.loader.loaded_hashes()
        except RtorrentError:
            self.recent.put_back(suspect, self.pending.first)
            return
        lost = [load for load in suspect if load.info_hash not in present]
        if not lost:
            return
        self.log.warning(
            "rTorrent lost %d item(s) loaded just before it went away (not saved yet); loading again: %s",
            len(lost),
            ", ".join(repr(str(load.path)) for load in lost),
        )
        for load in lost:
            self.state.seen.forget(load.path)
            try:
                stamp = FileStamp.of(load.path.stat())
            except OSError:
                continue  # the metafile is gone too: nothing to load again
            self.pending.add(Candidate(load.path, load.root, stamp))

    def _announce(self, loads: list[tuple[str, Path, LoadPlan]]) -> None:
        """Say in rTorrent's log what was loaded (one multicall); names and paths travel as data."""
        if not loads or self.options.quiet:
            return
        client = self.context.client
        try:
            if not client.server_info().has("print"):
                return
            answers = client.multicall(
                [
                    ("print", ("", "TreeWatch: Loaded '", name, "' from '", str(path), f"' {plan.state}"))
                    for name, path, plan in loads
                ]
            )
        except RtorrentError as exc:  # the items are loaded; a lost announcement is not worth a retry
            self.log.warning("Could not announce %d load(s) in rTorrent's log: %s", len(loads), exc)
            return
        for (name, _, _), answer in zip(loads, answers, strict=True):
            if isinstance(answer, RtorrentError):
                self.log.warning("Could not announce %r in rTorrent's log: %s", name, answer)
