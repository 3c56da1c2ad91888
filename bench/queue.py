"""One QueueManager tick over 10,000 items, against the floor of one raw d.multicall2 of the same view.

The floor fetches every item with every command the queue's two conditions read: what a queue that
filters and counts on the client side must transfer on every tick (pyrosimple does this). Two cases:

* full: ``downloading_max`` items are downloading, so a tick only counts them;
* free slot: a tick counts, fetches the startable items sorted, and picks one (``dry_run``, so the
  state is the same for every repetition); first with every item startable (the worst case), then
  with 90 % of the items at priority off, as on a client where most items are not waiting to start.

The three are timed round-robin, so load from other processes hits them alike.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench import register
from bench.common import BenchContext, print_table, ratio_line, time_interleaved
from pyrotorque.config import Config
from pyrotorque.jobs.base import JobContext
from pyrotorque.jobs.queue import QueueManager, QueueOptions
from pyrotorque.rtorrent.client import RtorrentClient

DOWNLOADING_MAX = 9


def _queue(client: RtorrentClient, **options: Any) -> QueueManager:
    context = JobContext(
        name="queue",
        client=client,
        config=Config(config_dir=Path("/nonexistent")),
        dry_run=True,
        log=logging.getLogger("bench.queue"),
    )
    return QueueManager(context, QueueOptions(**options))


def _wait_active(client: RtorrentClient, count: int) -> None:
    deadline = time.monotonic() + 60
    while sum(1 for (active,) in client.d_multicall("main", ["d.is_active"]) if active) != count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"rTorrent did not reach {count} active items in time")
        time.sleep(0.1)


@register("queue", "one QueueManager tick (full queue / free slot) vs. one raw d.multicall2")
def queue_bench(context: BenchContext) -> None:
    """Time a tick with a full queue and with a free slot against the client-side-filtering floor."""
    client = RtorrentClient(context.url)
    client.server_info()
    job = _queue(client, downloading_max=DOWNLOADING_MAX)
    commands: Sequence[str] = list(
        dict.fromkeys([*job.startable_query.commands, *job.downloading_query.commands])
    )
    hashes = [row[0] for row in client.d_multicall("main", ["d.hash"])]
    running = hashes[:DOWNLOADING_MAX]

    def floor() -> Any:
        return client.d_multicall("main", commands)

    client.multicall([("d.start", (info_hash,)) for info_hash in running])
    try:
        _wait_active(client, len(running))
        full, _ = time_interleaved({"floor": floor, "tick": job.run}, context.repeat)
    finally:
        client.multicall([(method, (h,)) for h in running for method in ("d.stop", "d.close")])
        _wait_active(client, 0)
    free, _ = time_interleaved({"floor": floor, "tick": job.run}, context.repeat)
    parked = [h for index, h in enumerate(hashes) if index % 10]
    client.multicall([("d.priority.set", (h, 0)) for h in parked])
    try:
        few, _ = time_interleaved({"floor": floor, "tick": job.run}, context.repeat)
    finally:
        client.multicall([("d.priority.set", (h, 2)) for h in parked])
    print_table(
        f"queue tick over {len(hashes):,} items "
        f"(dry run; floor: one d.multicall2 of {len(commands)} commands)",
        [
            ("floor, full-queue round", full["floor"]),
            ("tick, full queue (count only)", full["tick"]),
            ("floor, free-slot round", free["floor"]),
            ("tick, free slot (count + startable + sort)", free["tick"]),
            ("floor, 10%-startable round", few["floor"]),
            ("tick, free slot, 10% startable", few["tick"]),
        ],
        [
            ratio_line("full-queue tick / floor", full["tick"], full["floor"]),
            ratio_line("free-slot tick / floor (all startable)", free["tick"], free["floor"]),
            ratio_line("free-slot tick / floor (10% startable)", few["tick"], few["floor"]),
        ],
    )
