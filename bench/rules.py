"""One Action tick over 10,000 items, against the floor of one raw d.multicall2 of the same view.

The floor fetches every item with every command the rule reads (its condition and the fields its
templates see): what a rule that filters on the client side must transfer on every tick. Two cases,
both ``dry_run`` so every repetition sees the same items:

* idle: the condition matches nothing (a seed goal nobody reached yet), the common tick;
* busy: every item matches, the tick sorts them, takes ``max_per_run`` and reads their trackers for
  ``label={{tracker_alias}}``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from bench import register
from bench.common import BenchContext, print_table, ratio_line, time_interleaved
from pyrotorque.config import Config
from pyrotorque.jobs.base import JobContext
from pyrotorque.jobs.rules import Action, ActionOptions
from pyrotorque.rtorrent.client import RtorrentClient


def _rule(client: RtorrentClient, **options: Any) -> Action:
    context = JobContext(
        name="rule",
        client=client,
        config=Config(config_dir=Path("/nonexistent")),
        dry_run=True,
        log=logging.getLogger("bench.rules"),
    )
    logging.getLogger("bench.rules").setLevel(logging.WARNING)  # no WOULD lines in the figures
    return Action(context, ActionOptions(**options))


@register("rules", "one Action tick (idle / busy) vs. one raw d.multicall2")
def rules_bench(context: BenchContext) -> None:
    """Time an idle and a busy rule tick against the client-side-filtering floor."""
    client = RtorrentClient(context.url)
    client.server_info()
    idle = _rule(client, condition="is_complete=yes ratio>=2", action="stop")
    busy = _rule(client, condition="name=*", action="label={{tracker_alias}}", max_per_run=10)
    commands = list(dict.fromkeys([*idle.query.commands, *busy.query.commands]))

    def floor() -> Any:
        return client.d_multicall("main", commands)

    timings, _ = time_interleaved({"floor": floor, "idle": idle.run, "busy": busy.run}, context.repeat)
    print_table(
        f"rule tick over {context.items:,} items "
        f"(dry run; floor: one d.multicall2 of {len(commands)} commands)",
        [
            ("floor", timings["floor"]),
            ("tick, nothing matches", timings["idle"]),
            ("tick, all match", timings["busy"]),
        ],
        [
            ratio_line("idle tick / floor", timings["idle"], timings["floor"]),
            ratio_line("busy tick / floor", timings["busy"], timings["floor"]),
        ],
    )
