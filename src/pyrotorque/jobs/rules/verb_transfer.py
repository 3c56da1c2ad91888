"""``transfer=NAME[,NAME…]``: move each item to one of the named rTorrent instances (``[CONNECTIONS]``).

Which one is chosen by rendezvous hashing of the info hash over the names, so the same item always
picks the same instance (a re-run, or the same job on the target, never sends it back) and adding a
name moves only the items that now pick it. An item that picks the job's own connection stays.

Per item, one after the other, the source is touched only at the very end:

1. read the item on the source fresh: complete?, started?, its directory, label and priority;
   only a complete item is transferred (an incomplete one is still being written there);
2. read its metafile from the source's session directory, without rTorrent's resume keys, so the
   target trusts nothing the source knew about the data;
3. load it stopped on the target (marked ``d.custom=transfer``), point it at the same data path, and
   hash-check it there: this is the proof that the target sees the data, complete;
4. erase it on the source (its data stays where it is), then start it on the target if it was started
   on the source (never announced by both at once), and clear the mark.

A failure in 1-3 erases the target's copy and leaves the source as it was. An item the target holds
already is not loaded twice: complete there, it is only erased on the source; a copy with our mark
(an earlier transfer that stopped half-way) is erased there and transferred again; any other copy is
left alone on both. The data path must be the same on both instances (one machine, one view of it).
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from pyrotorque.errors import ConfigError, FaultError, MetafileError, RtorrentError
from pyrotorque.jobs.rules.verbs import Target, Verb, VerbRun
from pyrotorque.metafile import MAX_METAFILE_SIZE, parse_metafile, without_keys

if TYPE_CHECKING:
    from pyrotorque.conditions import Item
    from pyrotorque.rtorrent.client import RtorrentClient

#: The custom field on the target that marks a copy this verb loaded and has not finished with.
MARK_KEY = "transfer"
#: What rTorrent adds to its session copy of a metafile: its own state and the resume data (which
#: would let the target take the source's word for the data instead of checking it).
_SESSION_KEYS = frozenset({b"rtorrent", b"libtorrent_resume"})
#: How long a loaded item may take to show on the target (0.9.8 loads in the background).
APPEAR_TIMEOUT = 10.0
#: How long the target's hash check may go without hashing another piece before it counts as stuck
#: (it may wait behind other items' checks: rTorrent hashes one item at a time).
HASH_STALL_TIMEOUT = 120.0
_NAMES = re.compile(r"^[A-Za-z0-9_-]+$")
_CHECK_COMMANDS = (
    "d.hashing",
    "d.hashing_failed",
    "d.complete",
    "d.chunks_hashed",
    "d.size_chunks",
    "d.message",
)
_SOURCE_COMMANDS = ("d.complete", "d.state", "d.directory", "d.is_multi_file", "d.custom1", "d.priority")


def pick_connection(info_hash: str, names: Sequence[str]) -> str:
    """The name an item goes to: the highest hash of name and info hash (rendezvous hashing)."""
    return max(names, key=lambda name: hashlib.sha1(f"{name}\0{info_hash.upper()}".encode()).digest())


def transfer_names(text: str) -> tuple[str, ...]:
    """The connection names of a ``transfer=`` value; ValueError says what is wrong."""
    names = tuple(name.strip() for name in text.split(","))
    for name in names:
        if not _NAMES.match(name):
            raise ValueError(f"transfer needs connection names separated by ',', got {text!r}")
    if len(set(names)) != len(names):
        raise ValueError(f"transfer names a connection twice: {text!r}")
    return names


@dataclass(frozen=True)
class _Source:
    """The item as the source holds it, read just before the transfer."""

    started: bool
    directory: str  # rTorrent's path: a multi-file item's own folder, or a single file's directory
    multi_file: bool
    label: str
    priority: int


class _Failed(Exception):
    """One item's transfer failed; the text is its reason."""


class TransferVerb(Verb):
    """Hand each item to the connection it hashes to, with its data checked there first."""

    name: ClassVar[str] = "transfer"
    doing: ClassVar[str] = "Transferring"
    takes_value: ClassVar[bool] = True
    renders_own_value: ClassVar[bool] = True  # the value is a list of names, not a template
    fields: ClassVar[tuple[str, ...]] = ("is_complete",)

    def __init__(self, value_text: str = "") -> None:
        super().__init__(value_text)
        problem = self.check_value(value_text)
        if problem:
            raise ConfigError(problem)
        self.names = transfer_names(value_text)
        self._stopping = threading.Event()

    def check_value(self, value: str) -> str | None:
        try:
            transfer_names(value)
        except ValueError as exc:
            return str(exc)
        return None

    def connection_problem(self, known: Collection[str]) -> str | None:
        unknown = [name for name in self.names if name not in known]
        if unknown:
            return (
                f"transfer names unknown connection(s) {', '.join(unknown)}"
                f" (connections: {', '.join(sorted(known))})"
            )
        return None

    def leaves_alone(self, item: Item, connection: str) -> bool:
        # An incomplete item is still being written where it is: it waits, without an error each tick.
        return not item.get("is_complete", True) or pick_connection(item.hash, self.names) == connection

    def render(self, fields: Mapping[str, Any]) -> str:
        return pick_connection(str(fields["hash"]), self.names)

    def stop(self) -> None:
        self._stopping.set()

    def apply(self, targets: Sequence[Target], run: VerbRun) -> list[str | None]:
        answers: list[str | None] = []
        session_dir: str | None = None
        for target in targets:
            try:
                if session_dir is None:
                    session_dir = _session_dir(run)
                answers.append(self._transfer_one(target, run, session_dir))
            except _Failed as exc:
                answers.append(str(exc))
        return answers

    def _transfer_one(self, target: Target, run: VerbRun, session_dir: str) -> str | None:
        info_hash, goal = target.item.hash, target.value
        destination = run.clients.get(goal)
        if destination is None:
            return f"no connection named {goal!r} in this daemon"
        source = _read_source(run.client, info_hash)
        held = _held_by(destination, info_hash, goal)
        if held == "complete":
            run.log.info("%r #%s is on %r already, complete", target.item.name, info_hash, goal)
        else:
            if held == "ours":
                _erase_copy(destination, info_hash, goal)
            elif held == "other":
                return f"{goal!r} has it already, not complete and not loaded by a transfer: leaving both"
            metafile = _session_metafile(run, session_dir, info_hash)
            self._place_checked(destination, goal, info_hash, metafile, source, run)
        _call(run.client, "the source", ("d.erase", (info_hash,)))
        finish: list[tuple[str, Sequence[Any]]] = [("d.custom.set", (info_hash, MARK_KEY, ""))]
        if source.started:
            finish.insert(0, ("d.start", (info_hash,)))
        try:
            _call(destination, repr(goal), *finish)
        except _Failed as exc:
            # The item is on the target, checked, and gone from the source: say what is left to do.
            what = "starting it" if source.started else "clearing its mark"
            return f"it is on {goal!r} now and erased on the source, but {what} there failed: {exc}"
        return None

    def _place_checked(
        self,
        destination: RtorrentClient,
        goal: str,
        info_hash: str,
        metafile: bytes,
        source: _Source,
        run: VerbRun,
    ) -> None:
        """Load on the target, stopped, at the source's data path, and hash-check it there."""
        _call(destination, repr(goal), ("load.raw", ("", metafile)))
        self._wait_until_loaded(destination, goal, info_hash, run)
        try:
            # As a call's argument the path is data; d.directory_base is the folder of a multi-file
            # item (which may be named other than d.name), d.directory a single file's directory.
            where = "d.directory_base.set" if source.multi_file else "d.directory.set"
            _call(
                destination,
                repr(goal),
                ("d.custom.set", (info_hash, MARK_KEY, run.connection)),
                (where, (info_hash, source.directory)),
                ("d.custom1.set", (info_hash, source.label)),
                ("d.priority.set", (info_hash, source.priority)),
                ("d.check_hash", (info_hash,)),
            )
            self._wait_for_check(destination, goal, info_hash, source, run)
        except _Failed as exc:
            try:
                _erase_copy(destination, info_hash, goal)
            except _Failed as also:
                raise _Failed(f"{exc}; and {also}") from exc
            raise

    def _wait_until_loaded(self, client: RtorrentClient, goal: str, info_hash: str, run: VerbRun) -> None:
        deadline = run.clock.monotonic() + APPEAR_TIMEOUT
        delay = 0.01
        while True:
            answer = _ask(client, repr(goal), ("d.hash", (info_hash,)))
            if not isinstance(answer, FaultError):
                return
            if run.clock.monotonic() > deadline or self._stopping.is_set():
                raise _Failed(f"{goal!r} did not load the metafile (see its log)")
            self._stopping.wait(delay)
            delay = min(delay * 2, 0.5)

    def _wait_for_check(
        self, client: RtorrentClient, goal: str, info_hash: str, source: _Source, run: VerbRun
    ) -> None:
        """Until the target's hash check ends: complete, or _Failed with what the target says."""
        progress, progress_at, delay = -1, run.clock.monotonic(), 0.02
        while True:
            hashing, failed, complete, hashed, chunks, message = _answers(
                client, repr(goal), [(command, (info_hash,)) for command in _CHECK_COMMANDS]
            )
            if int(failed):
                # Both lines set this when a file cannot be read (0.16 also says why in d.message);
                # d.hashing then stays set, so waiting longer would change nothing.
                reason = message or "its hash check failed"
                raise _Failed(f"{goal!r} cannot read the data at {source.directory}: {reason}")
            if not int(hashing) and (int(complete) or int(hashed) >= int(chunks)):
                if int(complete):
                    return
                detail = f": {message}" if message else ""
                raise _Failed(
                    f"{goal!r} does not find the data complete at {source.directory}"
                    f" (its hash check found {_percent(client, goal, info_hash)} of it){detail}"
                )
            now = run.clock.monotonic()
            if int(hashed) != progress:
                progress, progress_at = int(hashed), now
            elif now - progress_at > HASH_STALL_TIMEOUT:
                raise _Failed(f"the hash check on {goal!r} made no progress for {HASH_STALL_TIMEOUT:.0f} s")
            if self._stopping.is_set():
                raise _Failed("the daemon is stopping")
            self._stopping.wait(delay)
            delay = min(delay * 2, 1.0)


def _session_dir(run: VerbRun) -> str:
    """The source's session directory on this machine; _Failed when it keeps none."""
    answer = run.client.call("session.path")
    if not answer:
        raise _Failed("the source keeps no session (session.path is empty): its metafiles cannot be read")
    return run.host_path(str(answer))


def _read_source(client: RtorrentClient, info_hash: str) -> _Source:
    complete, state, directory, multi_file, label, priority = _answers(
        client, "the source", [(command, (info_hash,)) for command in _SOURCE_COMMANDS]
    )
    if not int(complete):
        raise _Failed("it is not complete; only complete items are transferred")
    if not directory:
        raise _Failed("the source reports no directory for it")
    return _Source(bool(int(state)), str(directory), bool(int(multi_file)), str(label), int(priority))


def _held_by(client: RtorrentClient, info_hash: str, goal: str) -> str | None:
    """None when the target does not have the item, else "complete", "ours" (our mark) or "other"."""
    calls = [("d.complete", (info_hash,)), ("d.custom", (info_hash, MARK_KEY))]
    complete, mark = _ask_all(client, repr(goal), calls)
    if isinstance(complete, FaultError):
        return None
    if int(complete) and not isinstance(mark, FaultError) and not mark:
        return "complete"
    if not isinstance(mark, FaultError) and mark:
        return "ours"
    return "other"


def _session_metafile(run: VerbRun, session_dir: str, info_hash: str) -> bytes:
    path = os.path.join(session_dir, f"{info_hash}.torrent")
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_METAFILE_SIZE + 1)
        metafile = without_keys(data, _SESSION_KEYS)
        parsed = parse_metafile(metafile, path)
    except OSError as exc:
        raise _Failed(f"cannot read its metafile {path}: {exc.strerror or exc}") from exc
    except MetafileError as exc:
        raise _Failed(str(exc)) from exc
    if parsed.info_hash != info_hash.upper():
        raise _Failed(f"{path} is the metafile of another item (#{parsed.info_hash})")
    if parsed.magnet is not None:
        raise _Failed("it is a magnet item whose metadata rTorrent has not saved")
    return metafile


def _erase_copy(client: RtorrentClient, info_hash: str, goal: str) -> None:
    _call(client, repr(goal), ("d.erase", (info_hash,)))


def _percent(client: RtorrentClient, goal: str, info_hash: str) -> str:
    calls = [("d.completed_bytes", (info_hash,)), ("d.size_bytes", (info_hash,))]
    done, size = _answers(client, repr(goal), calls)
    return f"{100 * int(done) // max(int(size), 1)}%"


def _ask(client: RtorrentClient, where: str, call: tuple[str, Sequence[Any]]) -> Any:
    return _ask_all(client, where, [call])[0]


def _ask_all(client: RtorrentClient, where: str, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
    """One multicall; a lost connection is this item's failure (the source is untouched)."""
    try:
        return client.multicall(calls)
    except RtorrentError as exc:
        raise _Failed(f"{where} cannot be reached: {exc}") from exc


def _answers(client: RtorrentClient, where: str, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
    answers = _ask_all(client, where, calls)
    for (method, _), answer in zip(calls, answers, strict=True):
        if isinstance(answer, FaultError):
            raise _Failed(f"{method} on {where} failed: {answer}")
    return answers


def _call(client: RtorrentClient, where: str, *calls: tuple[str, Sequence[Any]]) -> None:
    _answers(client, where, list(calls))
