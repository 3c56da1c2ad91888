"""Fetching from the shared fake rTorrent: one d.multicall2, at most one system.multicall, matching, order."""

from __future__ import annotations

from typing import Any

import pytest

from pyrotorque.conditions import Item, ItemQuery, match_items, parse_condition, parse_sort_fields
from pyrotorque.errors import ConditionError, FaultError
from tests.support.fake_rtorrent import FakeRtorrent, Request

NOW = 1_716_000_000.0


def fetched(fake: FakeRtorrent, index: int = 0) -> tuple[str, tuple[str, ...]]:
    """The view and the commands (without their trailing "=") of the ``index``-th request's d.multicall2."""
    ((method, params),) = fake.sent()[index].calls
    assert method == "d.multicall2" and params[0] == ""
    return params[1], tuple(field[:-1] if field.endswith("=") else field for field in params[2:])


def batched(fake: FakeRtorrent, index: int = 1) -> tuple[tuple[str, tuple[Any, ...]], ...]:
    """The calls of the ``index``-th request, a system.multicall."""
    request = fake.sent()[index]
    assert request.method == "system.multicall"
    return request.calls


def fake_items() -> FakeRtorrent:
    fake = FakeRtorrent()
    # Without d.multicall.filtered every fetch is the plain one (test_conditions_pushdown.py has the other).
    del fake.commands["d.multicall.filtered"]
    items: list[tuple[Any, ...]] = [
        (
            "A" * 40,
            "Album",
            {"d.priority": 2},
            {"tm_loaded": "300"},
            [("01.flac", 900), ("cover.jpg", 100)],
            [("http://t.one.org/a", 1)],
        ),
        (
            "B" * 40,
            "Photo Book",
            {"d.priority": 2},
            {"tm_loaded": "100"},
            [("01.flac", 600), ("scan.jpg", 400)],
            [("http://t.two.org/a", 1)],
        ),
        (
            "C" * 40,
            "Show.S01E01",
            {"d.priority": 3},
            {"tm_loaded": "200"},
            [("a.mkv", 1000)],
            [("http://t.one.org/a", 1)],
        ),
        (
            "D" * 40,
            "Ignored",
            {"d.priority": 2, "d.ignore_commands": 1},
            {"tm_loaded": "50"},
            [("x.iso", 5)],
            [],
        ),
        ("E" * 40, "Off", {"d.priority": 0}, {"tm_loaded": "10"}, [("x.iso", 5)], []),
        ("F" * 40, "Messaged", {"d.priority": 2, "d.message": "Tracker: timeout"}, {}, [("y.iso", 5)], []),
    ]
    for info_hash, name, values, custom, files, trackers in items:
        fake.add_item(info_hash, name, files, values=values, custom=custom, trackers=trackers)
    return fake


STARTABLE = "is_ignored=0 message= prio>0 [ prio>2 OR [ NOT [ traits=audio kind_25=jpg,png,tif,bmp ] ] ]"


def test_startable_condition_uses_one_multicall_each() -> None:
    fake = fake_items()
    client = fake.client()
    items = ItemQuery(STARTABLE, "-prio, loaded, name").fetch(client, "main", now=NOW)
    # B is audio with 40 % images; A has only 10 %; C is high priority; D ignored; E off; F has a message.
    assert [item.name for item in items] == ["Show.S01E01", "Album"]
    assert fake.methods() == ["d.multicall2", "system.multicall"]
    view, commands = fetched(fake)
    assert view == "main"
    assert len(commands) == len(set(commands))
    # d.is_multi_file and d.size_bytes give single files' lists without asking rTorrent.
    assert set(commands) == {"d.hash", "d.name", "d.ignore_commands", "d.message", "d.priority",
                             "d.custom=tm_loaded", "d.is_multi_file", "d.size_bytes"}  # fmt: skip
    # Files only for the items whose outcome was still open: not C (prio 3), D, E, F.
    calls = batched(fake)
    assert {params[0] for _, params in calls} == {"A" * 40, "B" * 40}
    assert {method for method, _ in calls} == {"f.multicall"}


def test_no_system_multicall_when_cheap_terms_decide() -> None:
    fake = fake_items()
    client = fake.client()
    items = ItemQuery("prio=0 OR [ prio>2 kind=mkv ] is_ignored=no", "name").fetch(client, now=NOW)
    assert fake.methods() == ["d.multicall2", "system.multicall"]
    assert [item.name for item in items] == ["Off", "Show.S01E01"]
    fake = fake_items()
    client = fake.client()
    ItemQuery("prio>5 kind=mkv").fetch(client, now=NOW)
    assert fake.methods() == ["d.multicall2"]


def test_tracker_fields_batch_trackers_for_candidates() -> None:
    fake = fake_items()
    client = fake.client()
    query = ItemQuery("prio=2 alias=t.*", "name", aliases={"ONE": ["http://t.one.org/a"]})
    assert [item.name for item in query.fetch(client, now=NOW)] == []
    query = ItemQuery("prio=2 alias=ONE", "name", aliases={"ONE": ["http://t.one.org/a"]})
    fake = fake_items()
    client = fake.client()
    assert [item.name for item in query.fetch(client, now=NOW)] == ["Album"]
    calls = batched(fake)
    assert {method for method, _ in calls} == {"t.multicall"}
    assert len(calls) == 4  # prio=2: A, B, D, F
    fake = fake_items()
    client = fake.client()
    assert [i.name for i in ItemQuery("prio=3 alias=one.org").fetch(client, now=NOW)] == ["Show.S01E01"]


def test_requested_fields_are_fetched_for_survivors() -> None:
    fake = fake_items()
    client = fake.client()
    items = ItemQuery("prio=3", fields=["alias", "kind_50", "loaded"]).fetch(client, now=NOW)
    assert len(items) == 1
    item = items[0]
    assert item.alias == "one.org"
    assert item["kind_50"] == frozenset({"mkv"})
    assert item.loaded == 200
    assert item.hash == "C" * 40
    assert item.prio == 3
    calls = batched(fake)
    assert sorted(method for method, _ in calls) == ["f.multicall", "t.multicall"]


def test_unfetched_fields_are_reported() -> None:
    items = ItemQuery("prio=3").fetch(fake_items().client(), now=NOW)
    with pytest.raises(KeyError):
        items[0]["size"]
    with pytest.raises(AttributeError):
        _ = items[0].size
    assert items[0].get("size", "n/a") == "n/a"


def test_no_condition_fetches_everything() -> None:
    fake = fake_items()
    client = fake.client()
    items = ItemQuery(None, "loaded").fetch(client, now=NOW)
    assert [item.name for item in items] == [
        "Messaged",
        "Off",
        "Ignored",
        "Photo Book",
        "Show.S01E01",
        "Album",
    ]
    assert fetched(fake)[1] == ("d.hash", "d.name", "d.custom=tm_loaded")


def test_items_erased_meanwhile_are_dropped() -> None:
    fake = fake_items()
    client = fake.client()

    def erase_meanwhile(request: Request) -> None:
        if request.method == "system.multicall":
            fake.items.pop("A" * 40, None)

    fake.on_request = erase_meanwhile
    items = ItemQuery("kind=flac").fetch(client, now=NOW)
    assert [item.name for item in items] == ["Photo Book"]


def test_other_faults_are_raised() -> None:
    fake = fake_items()
    fake.fail("f.multicall", -506, "nope")
    with pytest.raises(FaultError):
        ItemQuery("kind=flac").fetch(fake.client(), now=NOW)


def test_sorting_mixed_directions_is_stable() -> None:
    fake = fake_items()
    client = fake.client()
    items = ItemQuery(None, "-prio, loaded, name").fetch(client, now=NOW)
    assert [item.name for item in items] == [
        "Show.S01E01",
        "Messaged",
        "Ignored",
        "Photo Book",
        "Album",
        "Off",
    ]
    items = ItemQuery(None, "prio -name").fetch(fake_items().client(), now=NOW)
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
    fake = fake_items()
    client = fake.client()
    items = match_items(client, "prio>1", sort="name")
    assert all(isinstance(item, Item) for item in items)
    assert f"{items[0].hash} {items[0].name}" == "A" * 40 + " Album"
    with pytest.raises(ConditionError):
        match_items(client, "prio>")
    with pytest.raises(ConditionError):
        match_items(client, "prio>1", sort="nope")


def test_reading_never_calls_a_setter() -> None:
    fake = fake_items()
    client = fake.client()
    condition = parse_condition(
        "alias=x kind_10=y traits=z tagged=a custom_foo=b d_peers_connected>0 path=/x/"
    )
    ItemQuery(condition, "-seedtime leechtime stopped", fields=["active", "last_xfer", "views"]).fetch(client)
    sent = list(fetched(fake)[1])
    sent += [method for request in fake.sent()[1:] for method, _ in request.calls]
    assert not [command for command in sent if ".set" in command or "erase" in command]


def test_file_lists_are_remembered_between_fetches_of_one_query() -> None:
    fake = fake_items()
    client = fake.client()
    query = ItemQuery(STARTABLE, "-prio, loaded, name")
    first = [item.name for item in query.fetch(client, now=NOW)]
    assert fake.methods() == ["d.multicall2", "system.multicall"]
    fake.clear()
    assert [item.name for item in query.fetch(client, now=NOW)] == first
    assert fake.methods() == ["d.multicall2"]  # file lists never change for an info hash
    fake.add_item("G" * 40, "New Album", [("a.flac", 1)], values={"d.priority": 2})
    fake.clear()
    # Without tm_loaded it sorts first among the normal priorities.
    assert [item.name for item in query.fetch(client, now=NOW)] == ["Show.S01E01", "New Album", "Album"]
    assert [params[0] for _, params in batched(fake)] == ["G" * 40]
    del fake.items["A" * 40]
    query.fetch(client, now=NOW)
    assert "A" * 40 not in query._file_cache  # erased items are forgotten
    # Tracker lists can change, so they are asked for every time.
    fake.clear()
    tracker_query = ItemQuery("alias=two.org")
    tracker_query.fetch(client, now=NOW)
    tracker_query.fetch(client, now=NOW)
    assert fake.methods() == ["d.multicall2", "system.multicall"] * 2


def test_all_list_calls_go_to_the_client_as_one_multicall() -> None:
    # Splitting a request that would pass rTorrent's cap is the client's job (tests/unit/test_client.py).
    fake = fake_items()
    client = fake.client()
    items = ItemQuery("kind=iso,flac,mkv", "name").fetch(client, now=NOW)
    assert len(items) == 6
    assert fake.methods() == ["d.multicall2", "system.multicall"]
    assert [len(request.calls) for request in fake.sent()[1:]] == [6]


def test_label_and_is_ghost_on_the_fake(tmp_path: Any) -> None:
    fake = FakeRtorrent()
    del fake.commands["d.multicall.filtered"]
    (tmp_path / "Here").mkdir()
    (tmp_path / "here.iso").write_bytes(b"x")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    directory = str(tmp_path)
    single = {"d.directory": directory, "d.is_multi_file": 0}
    fake.add_item("1" * 40, "Here", [("a", 1), ("b", 1)], values={
        "d.directory": str(tmp_path / "Here"), "d.is_multi_file": 1, "d.custom1": "TV/Shows",
    })  # fmt: skip
    fake.add_item("2" * 40, "here.iso", values={**single, "d.custom1": "tv"})
    fake.add_item("3" * 40, "gone.iso", values=single)
    # An open item's d.base_path wins over d.directory.
    fake.add_item("4" * 40, "moved", [("a", 1), ("b", 1)], values={
        "d.directory": str(tmp_path / "Here"), "d.base_path": str(tmp_path / "elsewhere"),
        "d.is_multi_file": 1,
    })  # fmt: skip
    fake.add_item("5" * 40, "dangling", values=single)
    fake.add_item("6" * 40, "nowhere", values={"d.directory": "", "d.is_multi_file": 0})  # no path: no ghost
    client = fake.client()

    def names(condition: str) -> list[str]:
        return [item.name for item in ItemQuery(condition, "name").fetch(client, now=NOW)]

    assert names("is_ghost=yes") == ["dangling", "gone.iso", "moved"]
    assert names("is_ghost=no") == ["Here", "here.iso", "nowhere"]
    assert names("label=tv*") == ["Here", "here.iso"]
    assert names("label=") == ["dangling", "gone.iso", "moved", "nowhere"]
    fake.clear()
    assert names("label=tv") == ["here.iso"]
    assert set(fetched(fake)[1]) == {"d.hash", "d.name", "d.custom1"}  # label is d.custom1, nothing more
    (tmp_path / "gone.iso").write_bytes(b"")  # found again: no longer a ghost on the next fetch
    assert names("is_ghost=yes") == ["dangling", "moved"]
    items = ItemQuery(None, "name", fields=["label", "is_ghost"]).fetch(client, now=NOW)
    assert {item.name: (item.label, item.is_ghost) for item in items} == {
        "dangling": ("", True), "gone.iso": ("", False), "Here": ("TV/Shows", False),
        "here.iso": ("tv", False), "moved": ("", True), "nowhere": ("", None),
    }  # fmt: skip
