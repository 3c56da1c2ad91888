"""QueueManager (``job.queue``): start stopped items, a few at a time, while few enough are downloading.

Each tick, cheapest question first:

1. Is the intermission since the last batch over?  (no RPC at all while it is not)
2. How many items are downloading?  One fetch, filtered by rTorrent to active incomplete items.
3. Is a slot free?  If not, stop here: the (large) set of stopped items is never fetched in vain.
4. Only with ``min_free`` or ``max_downloading_traffic``: fetch the downloading items again with their
   directory, remaining bytes and rate (queue_space.py); too much traffic stops here.
5. Which stopped items may start?  One fetch filtered by ``queue_startable_base`` and ``startable``,
   sorted by ``sort_fields``; the first few (that fit, with ``min_free``) start with one ``system.multicall``.

The queue never stops anything: ``downloading_max`` is the queue's length, not a limit enforced on
items started by hand (docs/queue.md).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pyrotorque.conditions import Item, ItemQuery, announce_alias, parse_condition
from pyrotorque.config.options import option
from pyrotorque.config.settings import STARTABLE_BASE_KEY
from pyrotorque.errors import FaultError
from pyrotorque.figures import QUEUE_STARTED
from pyrotorque.jobs.base import KIND_QUEUE, Job, JobContext
from pyrotorque.jobs.option_checks import condition_problem, required_condition_problem, sort_problem
from pyrotorque.jobs.queue_space import (
    SPACE_FIELDS,
    TRAFFIC_FIELDS,
    SpaceCheck,
    parse_size,
    size_problem,
    traffic,
)
from pyrotorque.sizes import human_size

#: Always ANDed in front of ``downloading``: what "downloading" means at all. Besides active incomplete
#: items (the original's definition), a started item still in its hash check holds its slot: checking
#: existing data can take minutes, and the original started another item on every tick meanwhile.
DOWNLOADING_BASE = "is_complete=0 [ is_active=1 OR [ is_started=1 is_hashing=1 ] ]"
#: The view both queries read; every item is in it.
VIEW = "main"


@dataclass(frozen=True)
class QueueOptions:
    """The ``job.queue.*`` keys; defaults equal the package's torque.ini."""

    quiet: bool = False
    sort_fields: str = option("-prio, loaded, name", check=sort_problem)
    downloading_min: int = option(1, minimum=0)
    downloading_max: int = option(9, minimum=0)
    start_at_once: int = option(1, minimum=0)
    intermission: float = option(0.0, minimum=0)
    startable: str = option(
        "is_ignored=no done=0 message=/^$|ghost/ prio>0", check=required_condition_problem
    )
    downloading: str = option("", check=condition_problem)
    #: Bytes to keep free on an item's file system after its remaining bytes (sizes as ``10G``; 0: off).
    min_free: str = option("0", check=size_problem)
    #: No start while the downloading items together receive more than this per second (0: off).
    max_downloading_traffic: str = option("0", check=size_problem)


def slots(downloading: int, options: QueueOptions) -> int:
    """How many items one tick may start while ``downloading`` items run (before looking at candidates).

    ``downloading_min`` beats ``start_at_once`` and ``downloading_max``: below the minimum an item starts
    regardless of the maximum; otherwise only while fewer than ``downloading_max`` run. Each start counts.
    """
    allowed = max(options.start_at_once, options.downloading_min - downloading)
    count = 0
    while count < allowed:
        running = downloading + count
        if running >= options.downloading_min and running >= options.downloading_max:
            break
        count += 1
    return count


class QueueManager(Job):
    """Starts startable items in ``sort_fields`` order while fewer than ``downloading_max`` download."""

    Options = QueueOptions
    kind = KIND_QUEUE

    def __init__(self, context: JobContext, options: QueueOptions) -> None:
        super().__init__(context, options)
        self.options: QueueOptions = options
        base = self._startable_base(context)
        startable = parse_condition(f"[ {base} ] [ {options.startable} ]")
        downloading_text = DOWNLOADING_BASE
        if options.downloading.strip():
            downloading_text += f" [ {options.downloading} ]"
        downloading = parse_condition(downloading_text)
        aliases = context.settings.announce_aliases
        self.aliases = aliases
        self.startable_query = ItemQuery(startable, options.sort_fields, aliases)
        self.downloading_query = ItemQuery(downloading, aliases=aliases)
        self.last_start = 0.0
        self.min_free = parse_size(options.min_free)
        self.max_traffic = parse_size(options.max_downloading_traffic)
        self.space = SpaceCheck(self.min_free, self.log) if self.min_free else None
        detail = (SPACE_FIELDS if self.space else ()) + (TRAFFIC_FIELDS if self.max_traffic else ())
        #: The downloading items with what the brakes read; None while both are off.
        self.detail_query = ItemQuery(downloading, aliases=aliases, fields=detail) if detail else None
        if self.space:
            self.startable_query = ItemQuery(startable, options.sort_fields, aliases, fields=SPACE_FIELDS)
        self._traffic_held = False

    def map_paths(self, host_path: Callable[[str], str]) -> None:
        """Read rTorrent's paths through ``host_path`` (when rTorrent runs in a chroot or container)."""
        if self.space:
            self.space.host_path = host_path

    @staticmethod
    def _startable_base(context: JobContext) -> str:
        """``[TORQUE] queue_startable_base`` from the settings, checked; a bad one names its file and line."""
        setting = context.settings.queue_startable_base
        if problem := condition_problem(setting.value):
            raise setting.error(problem, STARTABLE_BASE_KEY)
        return setting.value

    def start(self) -> None:
        """Log the conditions in canonical form, so users see how their text was read."""
        self.log.info(
            "Startable matcher for %r is: [ %s ]", self.context.name, self.startable_query.condition
        )
        self.log.info(
            "Downloading matcher for %r is: [ %s ]", self.context.name, self.downloading_query.condition
        )
        self.context.figures.add(QUEUE_STARTED, (self.context.name,), 0)  # the series exists from the start

    def run(self) -> None:
        """One tick: maybe start a few items."""
        now = self.context.clock()
        if now < self.last_start:  # the clock went backwards
            self.last_start = now
        left = self.last_start + self.options.intermission - now
        if left >= 1:
            self.log.debug(
                "Delaying starts due to %ss intermission, %ds left", self.options.intermission, int(left)
            )
            return

        client = self.context.client
        downloading = len(self.downloading_query.fetch(client, VIEW, now=now))
        free = slots(downloading, self.options)
        if not free:
            self.log.debug(
                "Already downloading %d item(s) out of %d max", downloading, self.options.downloading_max
            )
            return

        # A second fetch of the few downloading items, only now a slot is free: on 0.9.8 (no filtered
        # multicall) the count's fetch reads every item, and a full queue must not pay for these columns.
        details = self.detail_query.fetch(client, VIEW, now=now) if self.detail_query else []
        if self.max_traffic and self._too_much_traffic(details):
            return

        startable = self.startable_query.fetch(client, VIEW, now=now)
        if not startable:
            self.log.debug("No startable items; %d item(s) downloading", downloading)
            return
        chosen = self.space.select(startable, details, free) if self.space else startable[:free]
        if not chosen:
            return
        self._explain(len(chosen), len(startable), downloading)
        self.last_start = now
        self._start(chosen)

    def _explain(self, chosen: int, startable: int, downloading: int) -> None:
        """DEBUG lines on why a tick starts this many items."""
        if startable > chosen:
            self.log.debug(
                "Only starting %d item(s) in this run, %d more could be started", chosen, startable - chosen
            )
        if downloading < self.options.downloading_min:
            self.log.debug(
                "Catching up from %d to a minimum of %d downloading item(s)",
                downloading,
                self.options.downloading_min,
            )

    def _too_much_traffic(self, downloading: list[Item]) -> bool:
        """True while ``downloading`` receive more than ``max_downloading_traffic``; INFO when that begins."""
        rate = traffic(downloading)
        held = rate > self.max_traffic
        if held:
            self.log.log(
                logging.DEBUG if self._traffic_held else logging.INFO,
                "Not starting: %d downloading item(s) receive %s/s, above max_downloading_traffic %s/s",
                len(downloading),
                human_size(rate),
                human_size(self.max_traffic),
            )
        self._traffic_held = held
        return held

    def _start(self, items: list[Item]) -> None:
        """Start ``items`` with one multicall; a fault for one item does not stop the others."""
        client = self.context.client
        aliases = self._aliases(items)
        verb = "WOULD start" if self.context.dry_run else "Starting"
        for item, alias in zip(items, aliases, strict=True):
            self.log.info("%s %r [%s, #%s]", verb, item.name, alias, item.hash)
        if self.context.dry_run:
            return
        results = client.multicall([("d.start", (item.hash,)) for item in items])
        started: list[tuple[Item, str]] = []
        for item, alias, result in zip(items, aliases, results, strict=True):
            if isinstance(result, FaultError):
                self.log.error("While starting %r #%s: %s", item.name, item.hash, result)
            else:
                started.append((item, alias))
        self.context.figures.add(QUEUE_STARTED, (self.context.name,), len(started))
        if started and not self.options.quiet:
            self._announce(started)

    def _aliases(self, items: list[Item]) -> list[str]:
        """The tracker alias of each item, from its first tracker (one multicall; "" when unknown)."""
        urls = self.context.client.multicall([("t.url", (f"{item.hash}:t0",)) for item in items])
        return [
            "" if isinstance(url, FaultError) or not url else announce_alias(str(url), self.aliases)
            for url in urls
        ]

    def _announce(self, started: list[tuple[Item, str]]) -> None:
        """Say in rTorrent's own log what was started; names travel as data, never as commands."""
        client = self.context.client
        if not client.server_info().has("print"):
            return
        calls: list[tuple[str, tuple[Any, ...]]] = [
            ("print", ("", f"QueueManager: Started {item.name!r} {{{alias}}}")) for item, alias in started
        ]
        for result in client.multicall(calls):
            if isinstance(result, FaultError):
                self.log.debug("Could not write to rTorrent's log: %s", result)
