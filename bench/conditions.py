"""Fetch and match the seed's startable condition with its sort order, against the d.multicall2 floor."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bench import register
from bench.common import BenchContext, Timing, print_table, ratio_line, time_call
from pyrotorque.conditions import ItemQuery
from pyrotorque.rtorrent.client import RtorrentClient

STARTABLE = "is_ignored=0 message= prio>0 [ prio>2 OR [ NOT [ traits=audio kind_25=jpg,png,tif,bmp ] ] ]"
SORT = "-prio, loaded, name"


class _Replay:
    """Answers with recorded responses, so matching can be timed without any RPC."""

    def __init__(self, rows: list[list[Any]], lists: list[Any]) -> None:
        self.rows = rows
        self.lists = lists

    def d_multicall(self, view: str, commands: Sequence[str]) -> list[list[Any]]:
        return [list(row) for row in self.rows]

    def multicall(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        return self.lists[: len(calls)]


def _measure(context: BenchContext, client: RtorrentClient, label: str) -> list[tuple[str, Timing]]:
    query = ItemQuery(STARTABLE, SORT)
    commands = list(query.commands)
    floor, rows = time_call(lambda: client.d_multicall("main", commands), context.repeat)
    # The first fetch of a query asks for every undecided item's file list; later ones reuse them.
    cold, _ = time_call(lambda: ItemQuery(STARTABLE, SORT).fetch(client, "main"), 3)
    before = client.stats.requests
    fetch, items = time_call(lambda: query.fetch(client, "main"), context.repeat)
    per_fetch = (client.stats.requests - before) / (context.repeat + 1)
    # Replay the same answers to time matching, sorting and building items alone.
    file_calls = [("f.multicall", [row[0], "", "f.path=", "f.size_bytes="]) for row in rows]
    lists = [
        answer
        for start in range(0, len(file_calls), 2000)
        for answer in client.multicall(file_calls[start : start + 2000])
    ]
    replay = _Replay(rows, lists)
    matching, _ = time_call(lambda: query.fetch(replay, "main"), context.repeat)
    print_table(
        f"conditions [{label}]: startable condition + sort over {len(rows):,} items "
        f"({len(items):,} match, {per_fetch:.0f} requests per fetch)",
        [
            ("floor: one d.multicall2, same commands", floor),
            ("first fetch of a query (asks for files)", cold),
            ("fetch + match + sort (warm)", fetch),
            ("matching alone (replayed answers)", matching),
        ],
        [
            ratio_line("first fetch / floor", cold, floor),
            ratio_line("warm fetch / floor", fetch, floor, 1.3),
            ratio_line("matching / fetch", matching, fetch, 0.15),
        ],
    )
    return [("floor", floor), ("fetch", fetch), ("matching", matching)]


@register("conditions", "startable condition with -prio, loaded, name: fetch+match vs. one d.multicall2")
def conditions_bench(context: BenchContext) -> None:
    """Uniform items (all normal priority: every item needs its file list), then a realistic mix."""
    client = RtorrentClient(context.url)
    client.server_info()
    _measure(context, client, "uniform: every item needs its files")
    hashes = [row[0] for row in client.d_multicall("main", ["d.hash", "d.priority"])]
    original = client.d_multicall("main", ["d.hash", "d.priority", "d.ignore_commands"])
    # A queue-like mix: 40 % off, 10 % high priority, 10 % ignoring commands, 40 % normal.
    changes: list[tuple[str, Sequence[Any]]] = []
    for index, info_hash in enumerate(hashes):
        slot = index % 10
        if slot < 4:
            changes.append(("d.priority.set", [info_hash, 0]))
        elif slot == 4:
            changes.append(("d.priority.set", [info_hash, 3]))
        elif slot == 5:
            changes.append(("d.ignore_commands.set", [info_hash, 1]))
    try:
        for start in range(0, len(changes), 2000):
            client.multicall(changes[start : start + 2000])
        _measure(context, client, "mix: 40% off, 10% high, 10% ignored")
    finally:
        restore: list[tuple[str, Sequence[Any]]] = []
        for info_hash, priority, ignored in original:
            restore += [
                ("d.priority.set", [info_hash, priority]),
                ("d.ignore_commands.set", [info_hash, ignored]),
            ]
        for start in range(0, len(restore), 2000):
            client.multicall(restore[start : start + 2000])
