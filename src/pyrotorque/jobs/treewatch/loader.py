"""The one way a candidate metafile becomes an outcome: read, check, render, send, verify.

``MetafileLoader.load`` reads and checks the file (``pyrotorque.metafile``), asks whether its item is
loaded already, renders the ``cmd.*`` templates (``templates``), adds the tie command and the load
mode's commands (``plan``), sends the metafile's bytes with ``load.raw*`` (or, when the client
refuses the request as too big for the connected rTorrent, loads it by path), and waits until
rTorrent shows the item. ``load_mode``, ``queued`` and the commands are the job's, with the
``watch.ini`` files on the way from the file's root applied (``folder_settings``). It logs what it
did and returns a ``LoadResult``; what follows (recording it, keeping a file pending, waking the
queue, announcing the load) is the job's decision.

A ``LoadBatch`` loads several candidates in a row; with ``shared``, one ``d.multicall2`` of
``d.hash`` answers "is it loaded already?" for all of them, instead of one ``d.hash`` per file.
An ``RtorrentError`` anywhere on the way is the result "rTorrent away" (``LoadResult.away``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pyrotorque.errors import HashNotFound, MetafileError, RequestTooLarge, RtorrentError, TemplateError
from pyrotorque.jobs.base import JobContext
from pyrotorque.jobs.treewatch.folder_settings import FolderSettings
from pyrotorque.jobs.treewatch.plan import (
    LoadPlan,
    path_load_call,
    plan_load,
    post_load_commands,
    raw_load_call,
)
from pyrotorque.jobs.treewatch.scanner import Candidate, Outcome
from pyrotorque.jobs.treewatch.templates import LoadCommand, path_flags, template_namespace
from pyrotorque.jobs.treewatch.timing import TreeWatchTiming
from pyrotorque.metafile import Metafile, read_metafile
from pyrotorque.rtorrent.client import ServerInfo
from pyrotorque.rtorrent.commands import path_is_loadable, rtorrent_escape


@dataclass(frozen=True)
class LoadResult:
    """What became of one candidate: an outcome to record, or ``away`` (and no outcome)."""

    outcome: Outcome | None
    info_hash: str = ""
    name: str = ""
    #: How the item was loaded (set for every outcome after the file was read and found not loaded).
    plan: LoadPlan | None = None
    #: rTorrent could not be asked or did not answer: nothing is decided, the file stays pending.
    away: RtorrentError | None = None


class MetafileLoader:
    """Turns candidates into outcomes for one tree watch job (its client, templates and load mode)."""

    def __init__(
        self,
        context: JobContext,
        *,
        roots: tuple[Path, ...],
        commands: Mapping[str, LoadCommand],
        load_mode: str,
        queued: bool,
        timing: TreeWatchTiming,
    ) -> None:
        self.context = context
        self.client = context.client
        self.log = context.log
        self.roots = roots
        self.timing = timing
        #: The job's load_mode, queued and cmd.* (by NAME), with each folder's watch.ini applied.
        self.folders = FolderSettings(
            load_mode=load_mode,
            queued=queued,
            commands=commands,
            log=context.log,
            config_dir=context.config.config_dir,
        )

    def batch(self, candidates: list[Candidate]) -> LoadBatch:
        """A run of loads of ``candidates``, asking once for all of them which are loaded already."""
        return LoadBatch(self, candidates)

    def loaded_among(self, candidates: list[Candidate]) -> set[str]:
        """Which of these files' items rTorrent has: one ``d.hash`` multicall (unreadable files skipped:
        their load reports them)."""
        hashes = []
        for candidate in candidates:
            try:
                hashes.append(read_metafile(candidate.path).info_hash)
            except MetafileError:
                continue
        answers = self.client.multicall([("d.hash", (info_hash,)) for info_hash in hashes])
        for answer in answers:
            if isinstance(answer, RtorrentError) and not isinstance(answer, HashNotFound):
                raise answer
        return {h for h, answer in zip(hashes, answers, strict=True) if not isinstance(answer, RtorrentError)}

    def loaded_hashes(self) -> set[str]:
        """The info hashes of every loaded item (one request)."""
        return {str(row[0]).upper() for row in self.client.d_multicall("main", ["d.hash"])}

    def load(self, candidate: Candidate, loaded: set[str] | None = None) -> LoadResult:
        """Read, check and load one metafile; ``loaded`` is the loaded set if fetched already.

        Raises RtorrentError when rTorrent is away (``LoadBatch.load`` makes that a result).
        """
        path = candidate.path
        if candidate.stamp.size == 0:
            # Only scans pass empty files (events skip them as placeholders), and only settled ones.
            self.log.warning(
                "Empty metafile %r (0 bytes); the file is left as it is and loaded when it is written",
                str(path),
            )
            return LoadResult(Outcome.INVALID)
        try:
            metafile = read_metafile(path)
        except MetafileError as exc:
            self.log.error("%s; the file is left as it is and tried again when it changes", exc)
            return LoadResult(Outcome.INVALID)
        if self._is_loaded(metafile.info_hash, loaded):
            # One file written into the tree is news; thousands left there, found by a scan, are not.
            level = logging.DEBUG if loaded is not None else logging.INFO
            self.log.log(
                level, "Already loaded: %r (#%s) from %r", metafile.name, metafile.info_hash, str(path)
            )
            return LoadResult(Outcome.ALREADY_LOADED, metafile.info_hash, metafile.name)
        settings = self.folders.for_file(path, candidate.root)
        plan = plan_load(settings.load_mode, settings.queued, path_flags(path, candidate.root))
        rendered = self._render_commands(metafile, candidate, settings.commands)
        if self.context.dry_run:
            self.log.info("WOULD load %r from %r %s", metafile.name, str(path), plan.state)
            self.log.debug("WOULD send commands %r", rendered)
            return LoadResult(Outcome.DRY_RUN, metafile.info_hash, metafile.name, plan)
        outcome = self._send(metafile, path, plan, rendered)
        return LoadResult(outcome, metafile.info_hash, metafile.name, plan)

    def _is_loaded(self, info_hash: str, loaded: set[str] | None) -> bool:
        if loaded is not None:
            return info_hash in loaded
        try:
            self.client.call("d.hash", info_hash)
        except HashNotFound:
            return False
        return True

    def _render_commands(
        self, metafile: Metafile, candidate: Candidate, commands: tuple[LoadCommand, ...]
    ) -> list[str]:
        """The ``cmd.*`` commands for this file, sorted by name; a failing one is skipped with an ERROR."""
        if not commands:
            return []
        namespace = template_namespace(
            metafile, candidate.path, candidate.root, self.roots, self.context.settings.announce_aliases
        )
        rendered = []
        for command in commands:
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

    # -- sending and verifying ------------------------------------------------------------------------

    def _send(self, metafile: Metafile, path: Path, plan: LoadPlan, rendered: list[str]) -> Outcome:
        """Send the metafile's bytes (by path when too big) and wait for the item to appear."""
        info = self.client.server_info()
        commands = post_load_commands(plan, rendered)
        raw_commands = [*self._tie_command(path), *commands]
        method, params = raw_load_call(
            plan, metafile.data, raw_commands, verbose=info.has("load.raw_verbose")
        )
        try:
            self.log.debug("Loading %r with %s and commands %r", str(path), method, params[2:])
            # No d.hash in the same request: rTorrent inserts the item from its main loop after the
            # call returns, so a probe inside it never finds the item (measured on 0.9.8).
            self.client.call(method, *params)
        except RequestTooLarge as too_big:
            return self._send_path(metafile, path, plan, commands, too_big, info)
        if self._wait_until_loaded(metafile.info_hash):
            self._log_loaded(metafile, path, plan)
            return Outcome.LOADED
        if metafile.magnet is not None and not metafile.magnet.trackers:
            self.log.warning(
                "rTorrent %s did not load the magnet link in %r (#%s): it has no tracker (tr=), and"
                " rTorrent 0.9.8 creates no item for such a link while DHT is off ('Could not find any"
                " trackers' in its log); the file is left as it is (touch it, or use --load-pending,"
                " to try again)",
                info.client_version_text,
                str(path),
                metafile.info_hash,
            )
            return Outcome.NOT_LOADED
        self.log.error(
            "rTorrent did not load %r (#%s) from %r within %.0f s; see rTorrent's log",
            metafile.name,
            metafile.info_hash,
            str(path),
            self.timing.verify_timeout,
        )
        return Outcome.NOT_LOADED

    def _send_path(
        self,
        metafile: Metafile,
        path: Path,
        plan: LoadPlan,
        commands: list[str],
        too_big: RequestTooLarge,
        info: ServerInfo,
    ) -> Outcome:
        """The fallback for a request above rTorrent's cap: load by path, which rTorrent ties itself."""
        if not path_is_loadable(str(path)):
            self.log.error(
                "Cannot load %r: its request would be about %d bytes, above the %d bytes rTorrent %s"
                " accepts, and its path cannot be loaded by name (it contains glob or quote characters);"
                " rename it",
                str(path),
                too_big.size,
                too_big.limit,
                info.client_version_text,
            )
            return Outcome.TOO_BIG
        method, params = path_load_call(plan, str(path), commands, verbose=info.has("load.raw_verbose"))
        how = " by path (too big to send)"
        self.log.debug("Loading %r%s with %s and commands %r", str(path), how, method, params[2:])
        self.client.call(method, *params)
        if self._wait_until_loaded(metafile.info_hash):
            self._log_loaded(metafile, path, plan, how)
            return Outcome.LOADED
        self.log.error(
            "rTorrent did not load %r: the metafile is too big to send (about %d bytes, limit %d on"
            " rTorrent %s) and rTorrent could not read it at that path"
            " (is the watch tree visible to rTorrent under the same path?)",
            str(path),
            too_big.size,
            too_big.limit,
            info.client_version_text,
        )
        return Outcome.TOO_BIG

    def _log_loaded(self, metafile: Metafile, path: Path, plan: LoadPlan, how: str = "") -> None:
        self.log.info("Loaded %r from %r%s %s", metafile.name, str(path), how, plan.state)

    def _wait_until_loaded(self, info_hash: str) -> bool:
        """Poll ``d.hash`` until the item exists (True) or ``verify_timeout`` has passed (False)."""
        clock = self.context.clock
        deadline = clock.monotonic() + self.timing.verify_timeout
        pause = self.timing.verify_first_poll
        while True:
            try:
                self.client.call("d.hash", info_hash)
                return True
            except HashNotFound:
                if clock.monotonic() >= deadline:
                    return False
            clock.sleep(pause)
            pause = min(pause * 2, self.timing.verify_max_poll)


#: Up to this many files, a batch asks about exactly their items (one ``d.hash`` multicall); above it,
#: one ``d.multicall2`` of every item's hash is cheaper than that many calls (a scan of a big tree).
PROBE_MAX = 200


class LoadBatch:
    """Several loads in a row that ask once which items are loaded already (a lone file asks as it
    loads: one call either way)."""

    def __init__(self, loader: MetafileLoader, candidates: list[Candidate]) -> None:
        self.loader = loader
        self.candidates = candidates
        self.shared = len(candidates) > 1
        self.loaded: set[str] | None = None

    def _loaded_set(self) -> set[str]:
        if len(self.candidates) <= PROBE_MAX:
            return self.loader.loaded_among(self.candidates)
        return self.loader.loaded_hashes()

    def load(self, candidate: Candidate) -> LoadResult:
        """The outcome for ``candidate``; rTorrent away is a result with ``away`` set, never raised."""
        try:
            if self.shared and self.loaded is None:
                self.loaded = self._loaded_set()
            result = self.loader.load(candidate, self.loaded)
        except RtorrentError as exc:
            return LoadResult(None, away=exc)
        if result.outcome is Outcome.LOADED and self.loaded is not None:
            self.loaded.add(result.info_hash)
        return result
