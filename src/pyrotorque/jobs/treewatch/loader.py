"""The one way a candidate metafile becomes an outcome: read, check, render, send, verify.

``MetafileLoader.prepare`` reads and checks the file (``pyrotorque.metafile``), asks whether its item is
loaded already (a lone file asks in its load's own request instead), renders the ``cmd.*`` templates
(``templates``) and adds the tie command and the load mode's commands (``plan``): either an outcome
without a load (invalid, already loaded, dry run) or a ``PreparedLoad``. ``LoadBatch`` (``batch``) sends
the prepared loads with ``load.raw*`` and waits until rTorrent shows the items (``wait_until_shown``); a
metafile the client refuses as too big for the connected rTorrent is loaded by path instead
(``send_by_path``). ``load_mode``, ``queued`` and the commands are the job's, with the ``watch.ini``
files on the way from the file's root applied (``folder_settings``). The loader logs what it did; what
follows (recording it, keeping a file pending, waking the queue, announcing the load) is the job's
decision.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


@dataclass(frozen=True)
class PreparedLoad:
    """A checked metafile not loaded yet, and the ``load.raw*`` call that loads it."""

    metafile: Metafile
    path: Path
    plan: LoadPlan
    #: The commands for the new item without the tie (a load by path ties it itself).
    commands: list[str]
    call: tuple[str, list[Any]]
    #: Not checked yet whether rTorrent has the item: the load's own request asks (a lone file).
    ask_loaded: bool = False

    def result(self, outcome: Outcome) -> LoadResult:
        """The result of this load with ``outcome``."""
        return LoadResult(outcome, self.metafile.info_hash, self.metafile.name, self.plan)


#: Up to this many items, asking about each (a ``d.hash`` multicall) is cheaper than one ``d.multicall2``
#: of every item's hash; above it, the other way round. rTorrent finds an item by a linear search, so
#: each ``d.hash`` costs in proportion to the items it has, as the full list does: the break-even is
#: about the same at any size (measured with 10,000 items: a missing hash 0.47 ms on 0.16 and about
#: 1.5 ms on 0.9.8, the whole list 29 and 66 ms; so 60 and 45 hashes).
ASK_EACH_MAX = 50


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

    @staticmethod
    def read_each(candidates: list[Candidate]) -> dict[Path, Metafile]:
        """The metafiles of these files that can be read (the others' loads report them), read once
        for both the batch's question and its loads."""
        metafiles = {}
        for candidate in candidates:
            if candidate.stamp.size:
                try:
                    metafiles[candidate.path] = read_metafile(candidate.path)
                except MetafileError:
                    continue
        return metafiles

    def loaded_hashes(self) -> set[str]:
        """The info hashes of every loaded item (one request)."""
        return {str(row[0]).upper() for row in self.client.d_multicall("main", ["d.hash"])}

    def prepare(
        self, candidate: Candidate, loaded: set[str] | None = None, metafile: Metafile | None = None
    ) -> LoadResult | PreparedLoad:
        """Read and check one metafile (unless ``metafile`` was read already) and decide how to load
        it; ``loaded`` is the loaded set if fetched already. Returns the outcome when no load is sent
        (invalid, already loaded, dry run), else the load to send (``LoadBatch`` sends it and waits
        for the item). Without ``loaded`` (a lone file) the load asks in its own request whether the
        item is there (``send_one``), which saves a round trip; a dry run asks at once, as it sends
        nothing.

        Raises RtorrentError when rTorrent is away (``LoadBatch`` makes that a result).
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
            if metafile is None:
                metafile = read_metafile(path)
        except MetafileError as exc:
            self.log.error("%s; the file is left as it is and tried again when it changes", exc)
            return LoadResult(Outcome.INVALID)
        ask_loaded = loaded is None and not self.context.dry_run
        if not ask_loaded and self._is_loaded(metafile.info_hash, loaded):
            return self._already_loaded(metafile, path, lone=loaded is None)
        settings = self.folders.for_file(path, candidate.root)
        plan = plan_load(settings.load_mode, settings.queued, path_flags(path, candidate.root))
        rendered = self._render_commands(metafile, candidate, settings.commands)
        if self.context.dry_run:
            self.log.info("WOULD load %r from %r %s", metafile.name, str(path), plan.state)
            self.log.debug("WOULD send commands %r", rendered)
            return LoadResult(Outcome.DRY_RUN, metafile.info_hash, metafile.name, plan)
        commands = post_load_commands(plan, rendered)
        verbose = self.client.server_info().has("load.raw_verbose")
        call = raw_load_call(plan, metafile.data, [*self._tie_command(path), *commands], verbose=verbose)
        return PreparedLoad(metafile, path, plan, commands, call, ask_loaded)

    def _already_loaded(self, metafile: Metafile, path: Path, *, lone: bool) -> LoadResult:
        # One file written into the tree is news; thousands left there, found by a scan, are not.
        level = logging.INFO if lone else logging.DEBUG
        self.log.log(level, "Already loaded: %r (#%s) from %r", metafile.name, metafile.info_hash, str(path))
        return LoadResult(Outcome.ALREADY_LOADED, metafile.info_hash, metafile.name)

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

    def send_one(self, load: PreparedLoad) -> LoadResult | None:
        """Send one load; None when it went out (``wait_until_shown`` then), or the already-loaded
        result of a load that asked first (``ask_loaded``).

        The question is a ``d.hash`` before the load in one multicall: rTorrent answers it before the
        load runs, and a load of an item it has already changes nothing of that item (its tie, custom
        fields, state and priority stay, measured on 0.9.8 and 0.16; rTorrent logs "Could not create
        download: Info hash already used by another torrent"). A ``d.hash`` after the load in the same
        request would not help: rTorrent inserts the item from its main loop after answering, so the
        item is verified by the probes that follow. Raises RequestTooLarge when the metafile is too
        big to send (``send_by_path`` then), and RtorrentError when rTorrent is away.
        """
        method, params = load.call
        self.log.debug("Loading %r with %s and commands %r", str(load.path), method, params[2:])
        if not load.ask_loaded:
            self.client.call(method, *params)
            return None
        present, sent = self.client.multicall([("d.hash", (load.metafile.info_hash,)), load.call])
        for answer in (present, sent):
            if isinstance(answer, RtorrentError) and not isinstance(answer, HashNotFound):
                raise answer
        if not isinstance(present, RtorrentError):
            return self._already_loaded(load.metafile, load.path, lone=True)
        return None

    def conclude(self, load: PreparedLoad, shown: bool) -> LoadResult:
        """The outcome of a sent load: ``shown`` says whether rTorrent showed the item in time."""
        metafile, path = load.metafile, load.path
        if shown:
            self._log_loaded(metafile, path, load.plan)
            return load.result(Outcome.LOADED)
        if metafile.magnet is not None and not metafile.magnet.trackers:
            self.log.warning(
                "rTorrent %s did not load the magnet link in %r (#%s): it has no tracker (tr=), and"
                " rTorrent 0.9.8 creates no item for such a link while DHT is off ('Could not find any"
                " trackers' in its log); the file is left as it is (touch it, or use --load-pending,"
                " to try again)",
                self.client.server_info().client_version_text,
                str(path),
                metafile.info_hash,
            )
            return load.result(Outcome.NOT_LOADED)
        self.log.error(
            "rTorrent did not load %r (#%s) from %r within %.0f s; see rTorrent's log",
            metafile.name,
            metafile.info_hash,
            str(path),
            self.timing.verify_timeout,
        )
        return load.result(Outcome.NOT_LOADED)

    def send_by_path(self, load: PreparedLoad, too_big: RequestTooLarge) -> LoadResult:
        """A load refused as too big to send, by path instead (and its wait for the item)."""
        if load.ask_loaded and self._is_loaded(load.metafile.info_hash, None):
            # The refused request may have asked already, but its answer is lost with it.
            return self._already_loaded(load.metafile, load.path, lone=True)
        outcome = self._send_path(load.metafile, load.path, load.plan, load.commands, too_big)
        return load.result(outcome)

    def _send_path(
        self,
        metafile: Metafile,
        path: Path,
        plan: LoadPlan,
        commands: list[str],
        too_big: RequestTooLarge,
    ) -> Outcome:
        """The fallback for a request above rTorrent's cap: load by path, which rTorrent ties itself."""
        info = self.client.server_info()
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
        return info_hash in self.wait_until_shown([info_hash])

    def wait_until_shown(self, info_hashes: Sequence[str]) -> set[str]:
        """Probe until rTorrent shows every item or ``verify_timeout`` has passed; the ones it shows.

        The first probe goes right after the load, unslept (the lone file's latency); then only the
        items still missing are asked about again, after 1 ms, 2 ms, … (one ``d.hash`` multicall
        per round for a batch, one ``d.hash`` for one item). Raises RtorrentError when rTorrent is away.
        """
        clock = self.context.clock
        deadline = clock.monotonic() + self.timing.verify_timeout
        pause = self.timing.verify_first_poll
        missing = list(dict.fromkeys(info_hashes))
        shown: set[str] = set()
        while True:
            shown.update(self.shown_among(missing))
            missing = [info_hash for info_hash in missing if info_hash not in shown]
            if not missing or clock.monotonic() >= deadline:
                return shown
            clock.sleep(pause)
            pause = min(pause * 2, self.timing.verify_max_poll)

    def shown_among(self, info_hashes: list[str]) -> set[str]:
        """Which of these items rTorrent has: one ``d.hash``, a multicall of them, or above
        ``ASK_EACH_MAX`` items one ``d.multicall2`` of every item's hash."""
        if len(info_hashes) > ASK_EACH_MAX:
            return set(info_hashes) & self.loaded_hashes()
        if len(info_hashes) == 1:
            try:
                self.client.call("d.hash", info_hashes[0])
            except HashNotFound:
                return set()
            return set(info_hashes)
        answers = self.client.multicall([("d.hash", (info_hash,)) for info_hash in info_hashes])
        for answer in answers:
            if isinstance(answer, RtorrentError) and not isinstance(answer, HashNotFound):
                raise answer
        return {
            h for h, answer in zip(info_hashes, answers, strict=True) if not isinstance(answer, RtorrentError)
        }
