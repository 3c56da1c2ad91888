"""Fetching with a fake client: one d.multicall2, at most one system.multicall, filtering and sorting."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from pyrotorque.conditions import Item, ItemQuery, match_items, parse_condition, parse_sort_fields
from pyrotorque.errors import ConditionError, FaultError, HashNotFound

NOW = 1_716_000_000.0


@dataclass
class FakeItem:
    hash: str
    name: str
    values: dict[str, Any] = field(default_factory=dict)
    custom: dict[str, str] = field(default_factory=dict)
    files: list[tuple[str, int]] = field(default_factory=list)
    trackers: list[tuple[str, int]] = field(default_factory=list)

    def command(self, command: str) -> Any:
        command = command.rstrip("=")
        if command == "d.hash":
            return self.hash
        if command == "d.name":
            return self.name
        if command.startswith("d.custom="):
            return self.custom.get(command.split("=", 1)[1], "")
        if command in self.values:
            return self.values[command]
        if command == "d.size_bytes":
            return sum(size for _, size in self.files)
        if command == "d.is_multi_file":
            # Like rTorrent: a single-file item's only file is named like the item.
            return int(len(self.files) != 1 or self.files[0][0] != self.name)
        return self.values.get(command, "" if command in ("d.message", "d.base_path") else 0)


class FakeClient:
    """Answers like rTorrent and records every request."""

    def __init__(self, items: list[FakeItem]) -> None:
        self.items = {item.hash: item for item in items}
        self.requests: list[tuple[str, Any]] = []
        self.erase_before_multicall: set[str] = set()

    def d_multicall(self, view: str, commands: Sequence[str]) -> list[list[Any]]:
        self.requests.append(("d.multicall2", (view, tuple(commands))))
        return [[item.command(command) for command in commands] for item in self.items.values()]

    def multicall(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        self.requests.append(("system.multicall", tuple((method, tuple(params)) for method, params in calls)))
        for gone in self.erase_before_multicall:
            self.items.pop(gone, None)
        results: list[Any] = []
        for method, params in calls:
            item = self.items.get(params[0])
            if item is None:
                results.append(HashNotFound(-501, "info-hash not found"))
            elif method == "f.multicall":
                assert list(params[1:]) == ["", "f.path=", "f.size_bytes="]
                results.append([[path, size] for path, size in item.files])
            elif method == "t.multicall":
                assert list(params[1:]) == ["", "t.url=", "t.is_enabled="]
                results.append([[url, enabled] for url, enabled in item.trackers])
            else:
                results.append(FaultError(-506, f"method {method!r} not defined"))
        return results

    def methods(self) -> list[str]:
        return [method for method, _ in self.requests]


def fake_items() -> list[FakeItem]:
    return [
        FakeItem("A" * 40, "Album", {"d.priority": 2}, {"tm_loaded": "300"},
                 files=[("01.flac", 900), ("cover.jpg", 100)], trackers=[("http://t.one.org/a", 1)]),
        FakeItem("B" * 40, "Photo Book", {"d.priority": 2}, {"tm_loaded": "100"},
                 files=[("01.flac", 600), ("scan.jpg", 400)], trackers=[("http://t.two.org/a", 1)]),
        FakeItem("C" * 40, "Show.S01E01", {"d.priority": 3}, {"tm_loaded": "200"},
                 files=[("a.mkv", 1000)], trackers=[("http://t.one.org/a", 1)]),
        FakeItem("D" * 40, "Ignored", {"d.priority": 2, "d.ignore_commands": 1}, {"tm_loaded": "50"},
                 files=[("x.iso", 5)]),
        FakeItem("E" * 40, "Off", {"d.priority": 0}, {"tm_loaded": "10"}, files=[("x.iso", 5)]),
        FakeItem("F" * 40, "Messaged", {"d.priority": 2, "d.message": "Tracker: timeout"},
                 files=[("y.iso", 5)]),
    ]  # fmt: skip


STARTABLE = "is_ignored=0 message= prio>0 [ prio>2 OR [ NOT [ traits=audio kind_25=jpg,png,tif,bmp ] ] ]"


def test_startable_condition_uses_one_multicall_each() -> None:
    client = FakeClient(fake_items())
    items = ItemQuery(STARTABLE, "-prio, loaded, name").fetch(client, "main", now=NOW)
    # B is audio with 40 % images; A has only 10 %; C is high priority; D ignored; E off; F has a message.
    assert [item.name for item in items] == ["Show.S01E01", "Album"]
    assert client.methods() == ["d.multicall2", "system.multicall"]
    view, commands = client.requests[0][1]
    assert view == "main"
    assert len(commands) == len(set(commands))
    # d.is_multi_file and d.size_bytes give single files' lists without asking rTorrent.
    assert set(commands) == {"d.hash", "d.name", "d.ignore_commands", "d.message", "d.priority",
                             "d.custom=tm_loaded", "d.is_multi_file", "d.size_bytes"}  # fmt: skip
    # Files only for the items whose outcome was still open: not C (prio 3), D, E, F.
    calls = client.requests[1][1]
    assert {params[0] for _, params in calls} == {"A" * 40, "B" * 40}
    assert {method for method, _ in calls} == {"f.multicall"}


def test_no_system_multicall_when_cheap_terms_decide() -> None:
    client = FakeClient(fake_items())
    items = ItemQuery("prio=0 OR [ prio>2 kind=mkv ] is_ignored=no", "name").fetch(client, now=NOW)
    assert client.methods() == ["d.multicall2", "system.multicall"]
    assert [item.name for item in items] == ["Off", "Show.S01E01"]
    client = FakeClient(fake_items())
    ItemQuery("prio>5 kind=mkv").fetch(client, now=NOW)
    assert client.methods() == ["d.multicall2"]


def test_tracker_fields_batch_trackers_for_candidates() -> None:
    client = FakeClient(fake_items())
    query = ItemQuery("prio=2 alias=t.*", "name", aliases={"ONE": ["http://t.one.org/a"]})
    assert [item.name for item in query.fetch(client, now=NOW)] == []
    query = ItemQuery("prio=2 alias=ONE", "name", aliases={"ONE": ["http://t.one.org/a"]})
    client = FakeClient(fake_items())
    assert [item.name for item in query.fetch(client, now=NOW)] == ["Album"]
    calls = client.requests[1][1]
    assert {method for method, _ in calls} == {"t.multicall"}
    assert len(calls) == 4  # prio=2: A, B, D, F
    client = FakeClient(fake_items())
    assert [i.name for i in ItemQuery("prio=3 alias=one.org").fetch(client, now=NOW)] == ["Show.S01E01"]


def test_requested_fields_are_fetched_for_survivors() -> None:
    client = FakeClient(fake_items())
    items = ItemQuery("prio=3", fields=["alias", "kind_50", "loaded"]).fetch(client, now=NOW)
    assert len(items) == 1
    item = items[0]
    assert item.alias == "one.org"
    assert item["kind_50"] == frozenset({"mkv"})
    assert item.loaded == 200
    assert item.hash == "C" * 40
    assert item.prio == 3
    calls = client.requests[1][1]
    assert sorted(method for method, _ in calls) == ["f.multicall", "t.multicall"]


def test_unfetched_fields_are_reported() -> None:
    items = ItemQuery("prio=3").fetch(FakeClient(fake_items()), now=NOW)
    with pytest.raises(KeyError):
        items[0]["size"]
    with pytest.raises(AttributeError):
        _ = items[0].size
    assert items[0].get("size", "n/a") == "n/a"


def test_no_condition_fetches_everything() -> None:
    client = FakeClient(fake_items())
    items = ItemQuery(None, "loaded").fetch(client, now=NOW)
    assert [item.name for item in items] == [
        "Messaged",
        "Off",
        "Ignored",
        "Photo Book",
        "Show.S01E01",
        "Album",
    ]
    assert client.requests[0][1][1] == ("d.hash", "d.name", "d.custom=tm_loaded")


def test_items_erased_meanwhile_are_dropped() -> None:
    client = FakeClient(fake_items())
    client.erase_before_multicall = {"A" * 40}
    items = ItemQuery("kind=flac").fetch(client, now=NOW)
    assert [item.name for item in items] == ["Photo Book"]


def test_other_faults_are_raised() -> None:
    class Broken(FakeClient):
        def multicall(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
            return [FaultError(-506, "nope") for _ in calls]

    with pytest.raises(FaultError):
        ItemQuery("kind=flac").fetch(Broken(fake_items()), now=NOW)


def test_sorting_mixed_directions_is_stable() -> None:
    client = FakeClient(fake_items())
    items = ItemQuery(None, "-prio, loaded, name").fetch(client, now=NOW)
    assert [item.name for item in items] == [
        "Show.S01E01",
        "Messaged",
        "Ignored",
        "Photo Book",
        "Album",
        "Off",
    ]
    items = ItemQuery(None, "prio -name").fetch(FakeClient(fake_items()), now=NOW)
    assert [item.name for item in items] == [
        "Off",
        "Photo Book",
        "Messaged",
        "Ignored",
        "Album",
        "Show.S01E01",
    ]


def test_sort_field_parsing() -> None:
    fields = parse_sort_fields("-prio, loaded name,,kind_25")
    assert [str(sort) for sort in fields] == ["-prio", "loaded", "name", "kind_25"]
    assert parse_sort_fields("") == ()
    with pytest.raises(ConditionError, match="'bogus'") as info:
        parse_sort_fields("-prio, bogus")
    assert info.value.position == 7


def test_match_items_for_the_cli() -> None:
    client = FakeClient(fake_items())
    items = match_items(client, "prio>1", sort="name")
    assert all(isinstance(item, Item) for item in items)
    assert f"{items[0].hash} {items[0].name}" == "A" * 40 + " Album"
    with pytest.raises(ConditionError):
        match_items(client, "prio>")
    with pytest.raises(ConditionError):
        match_items(client, "prio>1", sort="nope")


def test_reading_never_calls_a_setter() -> None:
    client = FakeClient(fake_items())
    condition = parse_condition(
        "alias=x kind_10=y traits=z tagged=a custom_foo=b d_peers_connected>0 path=/x/"
    )
    ItemQuery(condition, "-seedtime leechtime stopped", fields=["active", "last_xfer", "views"]).fetch(client)
    sent = [command for _, (_, commands) in client.requests[:1] for command in commands]
    sent += [method for _, calls in client.requests[1:] for method, _ in calls]
    assert not [command for command in sent if ".set" in command or "erase" in command]


def test_file_lists_are_remembered_between_fetches_of_one_query() -> None:
    client = FakeClient(fake_items())
    query = ItemQuery(STARTABLE, "-prio, loaded, name")
    first = [item.name for item in query.fetch(client, now=NOW)]
    assert client.methods() == ["d.multicall2", "system.multicall"]
    client.requests.clear()
    assert [item.name for item in query.fetch(client, now=NOW)] == first
    assert client.methods() == ["d.multicall2"]  # file lists never change for an info hash
    client.items["G" * 40] = FakeItem("G" * 40, "New Album", {"d.priority": 2}, files=[("a.flac", 1)])
    client.requests.clear()
    # Without tm_loaded it sorts first among the normal priorities.
    assert [item.name for item in query.fetch(client, now=NOW)] == ["Show.S01E01", "New Album", "Album"]
    assert [params[0] for _, params in client.requests[1][1]] == ["G" * 40]
    del client.items["A" * 40]
    query.fetch(client, now=NOW)
    assert "A" * 40 not in query._file_cache  # erased items are forgotten
    # Tracker lists can change, so they are asked for every time.
    client.requests.clear()
    tracker_query = ItemQuery("alias=two.org")
    tracker_query.fetch(client, now=NOW)
    tracker_query.fetch(client, now=NOW)
    assert client.methods() == ["d.multicall2", "system.multicall"] * 2


def test_all_list_calls_go_to_the_client_as_one_multicall() -> None:
    # Splitting a request that would pass rTorrent's cap is the client's job (tests/unit/test_client.py).
    client = FakeClient(fake_items())
    items = ItemQuery("kind=iso,flac,mkv", "name").fetch(client, now=NOW)
    assert len(items) == 6
    assert client.methods() == ["d.multicall2", "system.multicall"]
    assert [len(calls) for _, calls in client.requests[1:]] == [6]
