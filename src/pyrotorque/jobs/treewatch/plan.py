"""How the tree watch loads one metafile: the load mode table and the RPC calls.

Pure logic, no I/O: ``plan_load`` turns ``load_mode``, ``queued`` and the path flags into the target
state; ``raw_load_call`` builds the ``load.raw*`` call and ``path_load_call`` a load by path, for
metafiles too big to send (the client refuses those, see ``pyrotorque.rtorrent.limits``).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

#: File name endings the watch reacts to (case-sensitive, as in the original); ``.magnet`` files hold a
#: magnet link, bare or as a stand-in metafile.
METAFILE_SUFFIXES = (".torrent", ".load", ".start", ".queue", ".magnet")

PRIORITY_OFF = "d.priority.set=0"


def is_metafile_name(name: str) -> bool:
    """True for the file names the watch loads (``*.torrent``, ``*.load``, ``*.start``, ``*.queue``, …)."""
    return name.endswith(METAFILE_SUFFIXES) and name not in METAFILE_SUFFIXES


@dataclass(frozen=True)
class LoadPlan:
    """The target state of one load: started at once, left for the queue, and with priority off."""

    start: bool
    queued: bool
    priority_off: bool

    @property
    def state(self) -> str:
        """The log suffix: ``[normal]``, ``[started]``, ``[queued] [startable]``, ``[queued] [normal]``."""
        if self.queued:
            return "[queued] [startable]" if self.start else "[queued] [normal]"
        return "[started]" if self.start else "[normal]"

    @property
    def starts_now(self) -> bool:
        """True when the item is loaded started (only without the queue)."""
        return self.start and not self.queued


def plan_load(load_mode: str, queued: bool, flags: Collection[str]) -> LoadPlan:
    """The mode table of the original (spec §4.5): flags "start" beats "load"; "queue" forces queueing."""
    start = load_mode.strip().lower() in ("start", "started")
    if "start" in flags:
        start = True
    elif "load" in flags:
        start = False
    queue = queued or "queue" in flags
    return LoadPlan(start=start, queued=queue, priority_off=queue and not start)


def post_load_commands(plan: LoadPlan, rendered: Sequence[str]) -> list[str]:
    """The commands rTorrent runs on the new item: the rendered ``cmd.*`` in order, then prio off if asked."""
    commands = list(rendered)
    if plan.priority_off:
        commands.append(PRIORITY_OFF)
    return commands


def raw_load_call(
    plan: LoadPlan, data: bytes, commands: Sequence[str], *, verbose: bool
) -> tuple[str, list[Any]]:
    """``load.raw[_start][_verbose]("", DATA, COMMAND...)``: the bytes never become a path to expand."""
    method = "load.raw_start" if plan.starts_now else "load.raw"
    return (f"{method}_verbose" if verbose else method), ["", data, *commands]


def path_load_call(
    plan: LoadPlan, path: str, commands: Sequence[str], *, verbose: bool
) -> tuple[str, list[Any]]:
    """``load.[start_]verbose("", PATH, COMMAND...)`` for metafiles too big to send; rTorrent ties them."""
    if plan.starts_now:
        method = "load.start_verbose" if verbose else "load.start"
    else:
        method = "load.verbose" if verbose else "load.normal"
    return method, ["", path, *commands]
