"""What a rule does to an item: the verb contract, the table of verbs, and the verbs that are one
rTorrent call per item (start, stop, erase, label, priority).

A verb gets the items one tick chose (``Target``: the fetched item, its rendered value, its fields)
and what it may use (``VerbRun``), and answers one entry per target: None when done, else why not.
One item's trouble is that item's answer, never an exception; an ``RtorrentError`` about the whole
connection may escape to the job runner. The verbs that move or remove data live in their own modules
(verb_delete, verb_move) and so does exec (verb_exec); actions.py has the table of them all.
"""

from __future__ import annotations

import logging
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from pyrotorque.clock import SYSTEM_CLOCK, Clock
from pyrotorque.errors import ConfigError, FaultError
from pyrotorque.jobs.rules.values import ValueTemplate

if TYPE_CHECKING:
    from pyrotorque.conditions import Item
    from pyrotorque.rtorrent.client import RtorrentClient


def job_custom_key(prefix: str, job_name: str) -> str:
    """A ``d.custom`` key of one job (``rule_seedgoal``): characters other than letters, digits and ``_``
    in the job's name become ``_``, so the key is also a field name (``custom_rule_seedgoal``)."""
    return f"{prefix}_" + re.sub(r"[^A-Za-z0-9_]", "_", job_name)


def _same_path(path: str) -> str:
    return path


@dataclass(frozen=True)
class Target:
    """One item a tick acts on."""

    item: Item
    #: The verb's value after ``=``, rendered for this item ("" for verbs without one).
    value: str
    #: The item's field values by name, as templates and exec's environment see them.
    fields: Mapping[str, Any]


@dataclass
class VerbRun:
    """What a verb may use during one tick."""

    client: RtorrentClient
    log: logging.Logger
    dry_run: bool = False
    #: rTorrent's path -> this machine's path (identity unless rTorrent runs in a chroot or container).
    host_path: Callable[[str], str] = _same_path
    #: This machine's path -> rTorrent's.
    rt_path: Callable[[str], str] = _same_path
    #: Host paths that are never removed: "/", home directories, watch roots, rTorrent's default directory.
    protected: frozenset[str] = field(default_factory=frozenset)  # normalized absolute paths
    #: The job's name (for exec's environment and log lines).
    job_name: str = ""
    #: The name of the connection ``client`` talks to, and every connection's client by name (transfer).
    connection: str = "default"
    clients: Mapping[str, RtorrentClient] = field(default_factory=dict)
    #: For the waits of verbs that poll rTorrent (transfer's hash check).
    clock: Clock = SYSTEM_CLOCK


class Verb(ABC):
    """One kind of action; built once per job from the text after ``=`` (checked, not rendered)."""

    name: ClassVar[str]
    #: Item fields the verb reads (fetched with the condition's, in the same round trip).
    fields: ClassVar[tuple[str, ...]] = ()
    #: True for verbs written ``VERB=VALUE``.
    takes_value: ClassVar[bool] = False
    #: True for a verb that renders its value's parts itself (exec: one argv element per part); the job
    #: then hands it the raw text as ``Target.value``.
    renders_own_value: ClassVar[bool] = False
    #: The word of the log line ("Stopping 'NAME' #HASH").
    doing: ClassVar[str] = ""
    #: True for verbs that remove or move data: the run's ``protected`` then includes rTorrent's default
    #: download directory.
    touches_data: ClassVar[bool] = False

    def __init__(self, value_text: str = "") -> None:
        """Check ``value_text`` (TemplateError or ConfigError); no I/O, nothing rendered yet."""
        self.value_text = value_text
        self.template: ValueTemplate | None = None
        if self.takes_value and not self.renders_own_value:
            self.template = ValueTemplate.parse("value", value_text)
            if self.template.is_literal and (problem := self.check_value(value_text)):
                raise ConfigError(problem)

    def render(self, fields: Mapping[str, Any]) -> str:
        """The value for one item: rendered, or the raw text for a verb that renders its own parts.

        Raises TemplateError or ConfigError (a rendered value this verb cannot use)."""
        if self.template is None:
            return self.value_text
        value = self.template.render(fields)
        if problem := self.check_value(value):
            raise ConfigError(problem)
        return value

    def pending_condition(self, job_name: str) -> str | None:
        """A condition for items with unfinished work of this verb in job ``job_name`` (acted on again
        even when the job's condition no longer matches them), or None."""
        return None

    def connection_problem(self, known: Collection[str]) -> str | None:
        """Why this verb cannot work with the daemon's connections ``known`` (checked at load), or None."""
        return None

    def leaves_alone(self, item: Item, connection: str) -> bool:
        """True for a matching item this verb has nothing to do with on ``connection`` (not counted
        against ``max_per_run``, not logged): transfer's items that already are where they belong."""
        return False

    def check_value(self, value: str) -> str | None:
        """Why a rendered ``value`` cannot be used (the job checks a literal one at load), or None."""
        return None

    @abstractmethod
    def apply(self, targets: Sequence[Target], run: VerbRun) -> list[str | None]:
        """Act on ``targets``; one entry per target, None when done, else why it failed."""

    def stop(self) -> None:  # noqa: B027 - optional hook
        """End what ``apply`` still runs in another thread (the job is stopping); nothing by default."""


class _OneCallVerb(Verb):
    """A verb that is one rTorrent call per item, all of a tick's in one multicall."""

    def call(self, target: Target) -> tuple[str, tuple[Any, ...]]:
        raise NotImplementedError

    def apply(self, targets: Sequence[Target], run: VerbRun) -> list[str | None]:
        results = run.client.multicall([self.call(target) for target in targets])
        return [str(result) if isinstance(result, FaultError) else None for result in results]


class StartVerb(_OneCallVerb):
    name, doing = "start", "Starting"

    def call(self, target: Target) -> tuple[str, tuple[Any, ...]]:
        return "d.start", (target.item.hash,)


class StopVerb(_OneCallVerb):
    name, doing = "stop", "Stopping"

    def call(self, target: Target) -> tuple[str, tuple[Any, ...]]:
        return "d.stop", (target.item.hash,)


class EraseVerb(_OneCallVerb):
    """Remove the item from rTorrent; its data stays where it is."""

    name, doing = "erase", "Erasing"

    def call(self, target: Target) -> tuple[str, tuple[Any, ...]]:
        return "d.erase", (target.item.hash,)


class LabelVerb(_OneCallVerb):
    """Set the label (``d.custom1``, where ruTorrent and pyrosimple keep it)."""

    name, doing, takes_value = "label", "Labelling", True

    def call(self, target: Target) -> tuple[str, tuple[Any, ...]]:
        return "d.custom1.set", (target.item.hash, target.value)


class PriorityVerb(_OneCallVerb):
    """Set the item's priority: 0 off, 1 low, 2 normal, 3 high."""

    name, doing, takes_value = "priority", "Setting the priority of", True

    def check_value(self, value: str) -> str | None:
        if value.strip() not in ("0", "1", "2", "3"):
            return f"a priority is 0, 1, 2 or 3, got {value!r}"
        return None

    def call(self, target: Target) -> tuple[str, tuple[Any, ...]]:
        return "d.priority.set", (target.item.hash, int(target.value.strip()))


#: The verbs of this module; actions.py has the table of all of them.
SIMPLE_VERBS: tuple[type[Verb], ...] = (StartVerb, StopVerb, EraseVerb, LabelVerb, PriorityVerb)
