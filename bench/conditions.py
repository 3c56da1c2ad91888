"""Fetch and match the seed's startable condition with its sort order, against the d.multicall2 floor.

A second case is the queue's real question: the base condition (stopped, incomplete) plus the
startable condition, over a view where 90 % of the items are started. There rTorrent can cut the
rows itself (``d.multicall.filtered``), so the fetch is compared with the same floor and with the
same query forced to plain ``d.multicall2``.

The floor is one plain ``d.multicall2`` over the same view with exactly the ``d.*`` commands the
query sends (printed with the results). The floor, the warm fetch and the replayed matching are
timed round-robin, so load from other processes hits them alike; the first fetch of a new query
(which has no file lists cached yet) is timed on its own.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from sandbox.metafiles import make_metafile

from bench import register
from bench.common import BenchContext, print_table, ratio_line, time_call, time_interleaved
from pyrotorque.conditions import ItemQuery
from pyrotorque.rtorrent.client import RtorrentClient

STARTABLE = "is_ignored=0 message= prio>0 [ prio>2 OR [ NOT [ traits=audio kind_25=jpg,png,tif,bmp ] ] ]"
SORT = "-prio, loaded, name"
QUEUE_BASE = "is_open=no is_active=no is_complete=no"
STARTED_SHARE = 0.9
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
    plain = ItemQuery(STARTABLE, SORT, pushdown=False)
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
            "plain": lambda: plain.fetch(client, "main"),
            "matching": lambda: plain.fetch(replay, "main"),
        },
        context.repeat,
    )
    # Minus the floor's and the plain fetch's (the same count as the warm fetch).
    warm_requests = (client.stats.requests - before) / (context.repeat + 1) / 2 - 0.5
    floor, fetch, matching = timings["floor"], timings["fetch"], timings["matching"]
    print_table(
        f"conditions [{label}]: startable condition + sort over {len(rows):,} items "
        f"({len(results['fetch']):,} match; {len(multi):,} multi-file; requests per fetch: "
        f"first {cold_requests:.0f}, warm {warm_requests:.0f})",
        [
            ("floor: one d.multicall2, same commands", floor),
            ("first fetch of a new query", cold),
            ("fetch + match + sort (warm)", fetch),
            ("the same, forced d.multicall2 (no pushdown)", timings["plain"]),
            ("matching alone (replayed answers)", matching),
        ],
        [
            f"floor commands: {', '.join(commands)}",
            ratio_line("first fetch / floor", cold, floor),
            ratio_line("warm fetch / floor", fetch, floor, 1.3),
            ratio_line("warm fetch without pushdown / floor", timings["plain"], floor, 1.3),
            # Matching is timed over all rows, so it is compared with the fetch of all rows.
            ratio_line("matching / fetch without pushdown", matching, timings["plain"], 0.15),
        ],
    )


def _set_states(client: RtorrentClient, calls: list[tuple[str, Sequence[Any]]], open_count: int) -> None:
    """Send start/stop calls, then wait until rTorrent reports ``open_count`` open items."""
    _batched(client, calls)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        rows = client.d_multicall("main", ["d.is_open"])
        if sum(1 for (is_open,) in rows if is_open) == open_count:
            return
        time.sleep(0.2)
    raise RuntimeError(f"the items did not reach {open_count} open items in time")


def _measure_pushdown(context: BenchContext, client: RtorrentClient) -> None:
    """The queue's base + startable condition with 90 % of the items started."""
    hashes = [row[0] for row in client.d_multicall("main", ["d.hash"])]
    started = [info_hash for index, info_hash in enumerate(hashes) if index % 10 < STARTED_SHARE * 10]
    condition = f"{QUEUE_BASE} {STARTABLE}"
    query = ItemQuery(condition, SORT)
    plain = ItemQuery(condition, SORT, pushdown=False)
    assert query.pushed is not None
    commands = list(query.commands)
    started_at = time.perf_counter()
    _set_states(client, [("d.start", [info_hash]) for info_hash in started], len(started))
    setup = time.perf_counter() - started_at
    try:
        before = client.stats.requests
        timings, results = time_interleaved(
            {
                "floor": lambda: client.d_multicall("main", commands),
                "pushed": lambda: query.fetch(client, "main"),
                "plain": lambda: plain.fetch(client, "main"),
            },
            context.repeat,
        )
        requests = (client.stats.requests - before) / (context.repeat + 1) - 1  # minus the floor's
        if [item.hash for item in results["pushed"]] != [item.hash for item in results["plain"]]:
            raise AssertionError("the pushed filter changed the result")
        floor, pushed, fallback = timings["floor"], timings["pushed"], timings["plain"]
        print_table(
            f"conditions [queue: {len(started):,} of {len(hashes):,} items started in {setup:.1f} s]: "
            f"base + startable + sort ({len(results['pushed']):,} match; "
            f"requests per pushed+plain pair {requests:.0f})",
            [
                ("floor: one d.multicall2, same commands", floor),
                ("fetch, filter pushed to d.multicall.filtered", pushed),
                ("fetch, forced d.multicall2 (no pushdown)", fallback),
            ],
            [
                f"query: {condition}",
                f"pushed filter: {query.pushed.expression}",
                ratio_line("pushed fetch / floor", pushed, floor),
                ratio_line("forced d.multicall2 fetch / floor", fallback, floor),
            ],
        )
    finally:
        stops: list[tuple[str, Sequence[Any]]] = [
            (method, [info_hash]) for info_hash in started for method in ("d.stop", "d.close")
        ]
        _set_states(client, stops, 0)
        _clear_messages(client)


def _clear_messages(client: RtorrentClient) -> None:
    """Remove the tracker errors that starting left behind (the later cases need ``message=``)."""
    deadline = time.monotonic() + 60
    quiet_since = time.monotonic()
    while time.monotonic() < deadline:
        messaged = [row[0] for row in client.d_multicall("main", ["d.hash", "d.message"]) if row[1]]
        if messaged:
            _batched(client, [("d.message.set", [info_hash, ""]) for info_hash in messaged])
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since > 2:
            return  # no new message for 2 s: the stopped items' last announces are over
        time.sleep(0.2)
    raise RuntimeError("tracker messages kept coming back")


@register("conditions", "startable condition with -prio, loaded, name: fetch+match vs. one d.multicall2")
def conditions_bench(context: BenchContext) -> None:
    """Uniform items (all normal priority: all undecided without their file lists), a realistic mix,
    and the mix plus multi-file items whose lists need f.multicall."""
    client = RtorrentClient(context.url)
    client.server_info()
    _measure(context, client, "uniform single files: all undecided without files")
    _measure_pushdown(context, client)
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
