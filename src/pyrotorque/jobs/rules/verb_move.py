"""``move=DIR``: move each item's data into DIR without a re-download (the rTorrent side).

Per item, one after the other (a copy can take long, and each item's outcome is its own):

1. read the item fresh: started?, directory, multi-file?, complete?, its file list, our marker;
2. skip it if its data is already in DIR (finishing an interrupted move first); refuse a protected path;
3. mark it (``d.custom=move_JOB``: was it started, where was its data), stop and close it, so
   rTorrent holds no file open and writes nothing;
4. data_move.place: a rename, or copy + verify + place under DIR/NAME (the source untouched);
5. point rTorrent at the new place (``d.directory_base.set``) and save its session file;
6. start it again if it was started; data_move.remove_source (copies only); clear the marker.

If step 4 fails the item still points at its complete source and is started again. After a crash,
the marker lets the next run start the item again and remove a source that is left over. d.base_path
is stale for a closed item (it keeps the old path until the item is opened again), so the data path
is computed from d.directory, d.name and d.is_multi_file. docs/rules.md has what a crash at each
step leaves behind.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from pyrotorque.errors import DataError, FaultError
from pyrotorque.jobs.rules.data_move import Placement, ensure_directory, place, remove_source
from pyrotorque.jobs.rules.verbs import Target, Verb, VerbRun, job_custom_key

_STATE_COMMANDS = ("d.state", "d.directory", "d.is_multi_file", "d.complete")


def marker_key(job_name: str) -> str:
    """The custom field where a job marks its moves in progress: "STARTED PATH" (1 or 0, the old data
    path). One per job, so a job finishes its own interrupted moves and no other job's."""
    return job_custom_key("move", job_name)


@dataclass(frozen=True)
class _Item:
    """What the move reads from rTorrent just before it acts (a tick may have started it since)."""

    hash: str
    name: str
    started: bool
    directory: str  # rTorrent's path: a multi-file item's own folder, or a single file's directory
    multi_file: bool
    files: dict[str, int] | None  # only for a complete item: then its sizes are final
    marker: tuple[bool, str] | None  # an interrupted move: was the item started, where was its data

    @property
    def data_path(self) -> str:
        return self.directory if self.multi_file else os.path.join(self.directory, self.name)


class _Failed(Exception):
    """One item's move failed; the text is its reason."""


class MoveVerb(Verb):
    """Move the data into the directory given as the value (rTorrent's path), then restart the item."""

    name: ClassVar[str] = "move"
    doing: ClassVar[str] = "Moving"
    takes_value: ClassVar[bool] = True
    touches_data: ClassVar[bool] = True

    def check_value(self, value: str) -> str | None:
        if not os.path.isabs(value.strip()):
            return f"move needs an absolute directory, got {value!r}"
        return None

    def pending_condition(self, job_name: str) -> str | None:
        # An item this job stopped and moved but did not start again (a crash) may no longer match the
        # job's condition (``directory=/srv/incoming*``): its marker brings it back until it is finished.
        return f'custom_{marker_key(job_name)}!=""'

    def apply(self, targets: Sequence[Target], run: VerbRun) -> list[str | None]:
        return [self._move_one(target, run) for target in targets]

    def _move_one(self, target: Target, run: VerbRun) -> str | None:
        try:
            key = marker_key(run.job_name)
            item = _read(run, target.item.hash, target.item.name, key)
            directory = Path(os.path.normpath(run.host_path(target.value.strip())))
            source = Path(os.path.normpath(run.host_path(item.data_path)))
            if source.parent == directory:
                _finish_earlier_move(run, item, source, key)
                return None
            if str(source) in run.protected or source.parent == source:
                return f"refusing to move {source}: a protected path"
            if ensure_directory(directory):
                run.log.info("Created the directory %s", directory)
            _call(run, ("d.custom.set", (item.hash, key, f"{int(item.started)} {item.data_path}")))
            placement = _stopped_move(run, item, source, directory, key)
            remove_source(placement)  # on failure the marker stays: a later run removes it
            _call(run, ("d.custom.set", (item.hash, key, "")))
        except (DataError, _Failed) as exc:
            return str(exc)
        return None


def _stopped_move(run: VerbRun, item: _Item, source: Path, directory: Path, key: str) -> Placement:
    """Stop and close, place the data, switch rTorrent to it; start the item again whatever happened."""
    failure: Exception | None = None
    try:
        _call(run, ("d.stop", (item.hash,)), ("d.close", (item.hash,)))
        placement = place(source, directory, item.files)
        _switch(run, item, placement)
    except (DataError, _Failed) as exc:
        failure = exc
    calls: list[tuple[str, Sequence[Any]]] = [("d.start", (item.hash,))] if item.started else []
    if failure is not None:  # the item is as it was: at its source, started again if it was
        calls.append(("d.custom.set", (item.hash, key, "")))
    try:
        _call(run, *calls)
    except _Failed as exc:
        failure = _Failed(f"{failure}; and {exc}") if failure else exc
    if failure is not None:
        raise failure
    return placement


def _finish_earlier_move(run: VerbRun, item: _Item, source: Path, key: str) -> None:
    """The data is in place; an interrupted move may have left the item stopped or its source behind."""
    if item.marker is None:
        run.log.debug("%r #%s is already in %s", item.name, item.hash, source.parent)
        return
    was_started, old_path = item.marker
    old = Path(os.path.normpath(run.host_path(old_path)))
    if old != source and old.name == source.name and os.path.lexists(old):
        remove_source(place(old, source.parent, item.files))  # only a verified copy's source goes
    calls: list[tuple[str, Sequence[Any]]] = [("d.start", (item.hash,))] if was_started else []
    _call(run, *calls, ("d.custom.set", (item.hash, key, "")))
    run.log.info("Finished the interrupted move of %r #%s from %s", item.name, item.hash, old)


def _read(run: VerbRun, info_hash: str, name: str, key: str) -> _Item:
    calls: list[tuple[str, Sequence[Any]]] = [(command, (info_hash,)) for command in _STATE_COMMANDS]
    calls.append(("d.custom", (info_hash, key)))
    calls.append(("f.multicall", (info_hash, "", "f.path=", "f.size_bytes=")))
    answers: list[Any] = []
    for answer in run.client.multicall(calls):
        if isinstance(answer, FaultError):
            raise _Failed(f"cannot read the item: {answer}")
        answers.append(answer)
    state, directory, multi_file, complete, marker_text, file_rows = answers
    if not directory:
        raise _Failed("rTorrent reports no directory for it")
    files = {str(path): int(size) for path, size in file_rows} if int(complete) else None
    marker = _marker(str(marker_text))
    started = bool(int(state)) or (marker is not None and marker[0])
    return _Item(info_hash, name, started, str(directory), bool(int(multi_file)), files, marker)


def _marker(text: str) -> tuple[bool, str] | None:
    started, _, path = text.partition(" ")
    return (started == "1", path) if path.startswith("/") else None


def _switch(run: VerbRun, item: _Item, placement: Placement) -> None:
    """Point rTorrent at the placed data; on failure a rename is undone (a copy keeps its source)."""
    # d.directory_base is the item's own folder for a multi-file item (which may be named other than
    # d.name) and the file's directory for a single file: the one call that is exact for both.
    new_base = placement.target if item.multi_file else placement.target.parent
    try:
        _call(run, ("d.directory_base.set", (item.hash, run.rt_path(str(new_base)))))
    except _Failed as exc:
        if placement.source_left or placement.target == placement.source:
            raise
        try:  # a rename is undone, so the item finds its data where it still points
            os.rename(placement.target, placement.source)
        except OSError as undo:
            raise _Failed(f"{exc}; the data stays at {placement.target}: {undo.strerror}") from exc
        raise
    saved = run.client.multicall([("d.save_full_session", (item.hash,))])
    if isinstance(saved[0], FaultError):  # rTorrent saves it again on its own schedule, and on exit
        run.log.warning("Could not save the session of %r #%s: %s", item.name, item.hash, saved[0])


def _call(run: VerbRun, *calls: tuple[str, Sequence[Any]]) -> None:
    """Send ``calls`` in one multicall; _Failed names the first that failed."""
    if not calls:
        return
    for (method, _), answer in zip(calls, run.client.multicall(list(calls)), strict=True):
        if isinstance(answer, FaultError):
            raise _Failed(f"{method} failed: {answer}")
