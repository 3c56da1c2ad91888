"""Fetch and match the seed's startable condition with its sort order, against the d.multicall2 floor.

The floor is one plain ``d.multicall2`` over the same view with exactly the ``d.*`` commands the
query sends (printed with the results). The floor, the warm fetch and the replayed matching are
timed round-robin, so load from other processes hits them alike; the first fetch of a new query
(which has no file lists cached yet) is timed on its own.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from tests.support.metafiles import make_metafile

from bench import register
from bench.common import BenchContext, print_table, ratio_line, time_call, time_interleaved
from pyrotorque.conditions import ItemQuery
from pyrotorque.rtorrent.client import RtorrentClient

STARTABLE = "is_ignored=0 message= prio>0 [ prio>2 OR [ NOT [ traits=audio kind_25=jpg,png,tif,bmp ] ] ]"
SORT = "-prio, loaded, name"
MULTI_FILE_ITEMS = 1000
BATCH = 2000


class _Replay:
    """Answers with recorded responses, so matching can be timed without any RPC."""

    def __init__(self, rows: list[list[Any]], lists: dict[str, Any]) -> None:
        self.rows = rows
        self.lists = lists

    def d_multicall(self, view: str, commands: Sequence[str]) -> list[list[Any]]:
        return self.rows  # fetching never changes the rows it gets

    def multicall(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        return [self.lists[params[0]] for _, params in calls]


def _batched(client: RtorrentClient, calls: list[tuple[str, Sequence[Any]]]) -> list[Any]:
    return [
        answer
        for start in range(0, len(calls), BATCH)
        for answer in client.multicall(calls[start : start + BATCH])
    ]


def _measure(context: BenchContext, client: RtorrentClient, label: str) -> None:
    query = ItemQuery(STARTABLE, SORT)
    commands = list(query.commands)
    rows = client.d_multicall("main", commands)
    multi = [row[0] for row in rows if row[commands.index("d.is_multi_file")]]
    answers = _batched(
        client, [("f.multicall", [info_hash, "", "f.path=", "f.size_bytes="]) for info_hash in multi]
    )
    replay = _Replay(rows, dict(zip(multi, answers, strict=True)))
    # The first fetch of a query derives single files' lists and asks for multi-file items' lists.
    before = client.stats.requests
    cold, _ = time_call(lambda: ItemQuery(STARTABLE, SORT).fetch(client, "main"), 3)
    cold_requests = (client.stats.requests - before) / 4
    before = client.stats.requests
    timings, results = time_interleaved(
        {
            "floor": lambda: client.d_multicall("main", commands),
            "fetch": lambda: query.fetch(client, "main"),
            "matching": lambda: query.fetch(replay, "main"),
        },
        context.repeat,
    )
    warm_requests = (client.stats.requests - before) / (context.repeat + 1) - 1  # minus the floor's
    floor, fetch, matching = timings["floor"], timings["fetch"], timings["matching"]
    print_table(
        f"conditions [{label}]: startable condition + sort over {len(rows):,} items "
        f"({len(results['fetch']):,} match; {len(multi):,} multi-file; requests per fetch: "
        f"first {cold_requests:.0f}, warm {warm_requests:.0f})",
        [
            ("floor: one d.multicall2, same commands", floor),
            ("first fetch of a new query", cold),
            ("fetch + match + sort (warm)", fetch),
            ("matching alone (replayed answers)", matching),
        ],
        [
            f"floor commands: {', '.join(commands)}",
            ratio_line("first fetch / floor", cold, floor),
            ratio_line("warm fetch / floor", fetch, floor, 1.3),
            ratio_line("matching / fetch", matching, fetch, 0.15),
        ],
    )


@register("conditions", "startable condition with -prio, loaded, name: fetch+match vs. one d.multicall2")
def conditions_bench(context: BenchContext) -> None:
    """Uniform items (all normal priority: all undecided without their file lists), a realistic mix,
    and the mix plus multi-file items whose lists need f.multicall."""
    client = RtorrentClient(context.url)
    client.server_info()
    _measure(context, client, "uniform single files: all undecided without files")
    original = client.d_multicall("main", ["d.hash", "d.priority", "d.ignore_commands"])
    # A queue-like mix: 40 % off, 10 % high priority, 10 % ignoring commands, 40 % normal.
    changes: list[tuple[str, Sequence[Any]]] = []
    for index, (info_hash, _, _) in enumerate(original):
        slot = index % 10
        if slot < 4:
            changes.append(("d.priority.set", [info_hash, 0]))
        elif slot == 4:
            changes.append(("d.priority.set", [info_hash, 3]))
        elif slot == 5:
            changes.append(("d.ignore_commands.set", [info_hash, 1]))
    added: list[str] = []
    try:
        _batched(client, changes)
        _measure(context, client, "mix: 40% off, 10% high, 10% ignored")
        metafiles = [
            make_metafile(
                f"multi{index:05d}", [("cd/01.flac", 900 + index), ("cover.jpg", 100 + index % 300)]
            )
            for index in range(MULTI_FILE_ITEMS)
        ]
        added = context.sandbox.load_metafiles(metafiles)
        _measure(context, client, f"mix + {MULTI_FILE_ITEMS:,} multi-file items (normal priority)")
    finally:
        restore: list[tuple[str, Sequence[Any]]] = []
        for info_hash, priority, ignored in original:
            restore += [
                ("d.priority.set", [info_hash, priority]),
                ("d.ignore_commands.set", [info_hash, ignored]),
            ]
        restore += [("d.erase", [info_hash]) for info_hash in added]
        _batched(client, restore)
        # Later benchmarks expect the sandbox's own items only.
        deadline = time.monotonic() + 60
        while set(added) & set(client.call("download_list", "", "main")) and time.monotonic() < deadline:
            time.sleep(0.05)
