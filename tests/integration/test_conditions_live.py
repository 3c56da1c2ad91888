"""Conditions, fields, fetching and timestamps.rc against a real rTorrent (0.9.8 and 0.16)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import pytest
from sandbox.metafiles import make_metafile
from sandbox.rtorrent import RtorrentSandbox, SandboxFactory

from pyrotorque.conditions import ItemQuery, match_items, parse_condition
from pyrotorque.rtorrent.client import RtorrentClient
from tests.support.polling import wait_for

pytestmark = pytest.mark.rtorrent

STARTABLE = "is_ignored=0 message= prio>0 [ prio>2 OR [ NOT [ traits=audio kind_25=jpg,png,tif,bmp ] ] ]"
TRACKER = "http://tracker.example.org:6969/announce"


class Recording:
    """Wraps the real client and records what is sent (the counting wrapper)."""

    def __init__(self, client: RtorrentClient) -> None:
        self.client = client
        self.sent: list[tuple[str, list[str]]] = []

    def d_multicall(self, view: str, commands: Sequence[str]) -> list[list[Any]]:
        self.sent.append(("d.multicall2", list(commands)))
        return self.client.d_multicall(view, commands)

    def multicall(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        self.sent.append(("system.multicall", [method for method, _ in calls]))
        return self.client.multicall(calls)


def load(rt: RtorrentSandbox, name: str, files: list[tuple[str, int]] | None = None, *commands: str) -> str:
    meta = make_metafile(name, files, size=64 << 10, tracker=TRACKER)
    (info_hash,) = rt.load_metafiles([meta], commands=commands)
    return info_hash


@pytest.fixture
def library(rt: RtorrentSandbox) -> dict[str, str]:
    hashes = {
        "Album": load(rt, "Album", [("01.flac", 900 << 10), ("cover.jpg", 100 << 10)], "d.priority.set=2"),
        "Photo Book": load(rt, "Photo Book", [("01.flac", 600 << 10), ("scan.jpg", 400 << 10)]),
        "Show.S01E01.mkv": load(rt, "Show.S01E01.mkv", None, "d.priority.set=3"),
        "Ignored": load(rt, "Ignored", None, "d.ignore_commands.set=1"),
        "Off": load(rt, "Off", None, "d.priority.set=0", "d.custom1.set=TV/Shows"),
        "Messaged": load(rt, "Messaged", None),
    }
    rt.rpc("d.custom.set", hashes["Show.S01E01.mkv"], "tags", "Foo  bar")
    rt.rpc("d.message.set", hashes["Messaged"], "Tracker: timeout")
    rt.rpc("d.custom.set", hashes["Messaged"], "origin", "rss")
    rt.rpc("d.views.push_back", hashes["Album"], "Seeding")
    # tm_loaded differs per item only by seconds; set distinct values so the sort order is known.
    for offset, info_hash in enumerate(hashes.values()):
        rt.rpc("d.custom.set", info_hash, "tm_loaded", str(1_700_000_000 + offset))
    return hashes


@pytest.fixture
def client(rt: RtorrentSandbox) -> RtorrentClient:
    client = RtorrentClient(rt.url)
    client.server_info()  # protocol detection is not part of what we count
    return client


def test_startable_condition_results_and_round_trips(client: RtorrentClient, library: dict[str, str]) -> None:
    before = client.stats.requests
    items = ItemQuery(STARTABLE, "-prio, loaded, name").fetch(client, "main")
    assert [item.name for item in items] == ["Show.S01E01.mkv", "Album"]
    assert [item.hash for item in items] == [library["Show.S01E01.mkv"], library["Album"]]
    assert client.stats.requests - before == 2  # one d.multicall2, one system.multicall


def test_rpc_counts_do_not_grow_with_items(rt: RtorrentSandbox, client: RtorrentClient) -> None:
    rt.load_items(40, prefix="bulk", commands=["d.priority.set=1"])
    recording = Recording(client)
    assert len(ItemQuery("prio=1 is_open=no", "name").fetch(recording)) == 40
    assert [method for method, _ in recording.sent] == ["d.multicall2"]
    recording.sent.clear()
    # Extension-less single files have no kind; a single file's list is its name and size, so
    # that decides it without asking rTorrent (and without the tracker list).
    assert len(ItemQuery("prio=1 [ kind= OR tracker=nope ]", "name").fetch(recording)) == 40
    assert [method for method, _ in recording.sent] == ["d.multicall2"]
    recording.sent.clear()
    for index in range(5):
        load(rt, f"multi{index}", [("a/b.flac", 1 << 10), ("c.jpg", 3 << 10)], "d.priority.set=1")
    assert len(ItemQuery("prio=1 [ kind= OR tracker=nope ]", "name").fetch(recording)) == 40
    assert [method for method, _ in recording.sent] == ["d.multicall2", "system.multicall"]
    assert sorted(recording.sent[1][1]) == ["f.multicall"] * 5 + ["t.multicall"] * 5
    recording.sent.clear()
    query = ItemQuery("prio=1 kind=jpg", "name")
    assert [item.name for item in query.fetch(recording)] == [f"multi{index}" for index in range(5)]
    assert [item.name for item in query.fetch(recording)] == [f"multi{index}" for index in range(5)]
    assert [method for method, _ in recording.sent] == ["d.multicall2", "system.multicall", "d.multicall2"]
    recording.sent.clear()
    assert ItemQuery("prio=3 kind=flac").fetch(recording) == []
    assert [method for method, _ in recording.sent] == ["d.multicall2"]  # nothing left to look at


def test_single_file_lists_equal_f_multicall(client: RtorrentClient, library: dict[str, str]) -> None:
    """A single file's list is derived from d.name and d.size_bytes; rTorrent agrees."""
    query = ItemQuery(None, "name", fields=["files", "kind_50", "traits", "size", "is_multi_file"])
    items = query.fetch(client)
    assert sorted(item.name for item in items) == sorted(library)
    for item in items:
        listed = client.call("f.multicall", item.hash, "", "f.path=", "f.size_bytes=")
        assert item.files == tuple(path for path, _ in listed)
        if not item.is_multi_file:
            assert [[item.name, item.size]] == listed
    assert sum(not item.is_multi_file for item in items) == 4


def test_field_values(client: RtorrentClient, library: dict[str, str]) -> None:
    fields = [
        "size",
        "prio",
        "is_multi_file",
        "path",
        "kind",
        "kind_50",
        "traits",
        "files",
        "tracker",
        "alias",
        "tagged",
        "custom_1",
        "custom_origin",
        "fno",
        "d_peers_connected",
        "message",
        "is_ignored",
        "loaded",
        "started",
        "views",
        "done",
        "throttle",
        "is_private",
        "metafile",
        "ratio",
    ]
    query = ItemQuery(None, "name", aliases={"EX": [TRACKER]}, fields=fields)
    items = {item.name: item for item in query.fetch(client)}
    album = items["Album"]
    assert album.size == 1000 << 10
    assert album.prio == 2
    assert album.is_multi_file is True
    assert album.fno == 2
    assert album.kind == {"flac", "jpg"}
    assert album["kind_50"] == {"flac"}
    assert album.traits == {"audio", "flac"}
    assert album.files == ("01.flac", "cover.jpg")
    assert album.tracker == TRACKER
    assert album.alias == "EX"
    assert album.path.endswith("/Album")
    assert album.loaded == 1_700_000_000
    assert album.started == 0
    assert album.done == 0.0
    assert album.throttle == "NONE"
    assert album.is_private is False
    assert album.metafile == ""
    assert album.ratio == 0.0
    assert album.views == {"seeding"}  # d.views lists views added to the item, lower-cased
    show = items["Show.S01E01.mkv"]
    assert show.traits == {"tv", "mkv"}
    assert show.tagged == {"foo", "bar"}
    assert show.is_multi_file is False
    assert show.path.endswith("/Show.S01E01.mkv")
    assert items["Off"].custom_1 == "TV/Shows"
    assert items["Messaged"].message == "Tracker: timeout"
    assert items["Messaged"]["custom_origin"] == "rss"
    assert items["Ignored"].is_ignored is True
    assert items["Off"].prio == 0
    assert int(album.d_peers_connected) == 0
    query = ItemQuery(None, fields=["alias"])
    assert {item.alias for item in query.fetch(client)} == {"example.org"}


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("prio=0", ["Off"]),
        ("prio>2", ["Show.S01E01.mkv"]),
        ("is_ignored=yes", ["Ignored"]),
        ("message=", ["Album", "Ignored", "Off", "Photo Book", "Show.S01E01.mkv"]),
        ("message=!", ["Messaged"]),
        ("message=*timeout", ["Messaged"]),
        ("tagged=foo", ["Show.S01E01.mkv"]),
        ("tagged=!", ["Show.S01E01.mkv"]),
        ("tagged=:", ["Album", "Ignored", "Messaged", "Off", "Photo Book"]),
        ("tagged!=:", ["Show.S01E01.mkv"]),
        ("tagged=:foo", []),
        ("tagged=:foo OR tagged=:bar OR tagged=!:", ["Show.S01E01.mkv"]),
        ("custom_1=tv/*", ["Off"]),
        ("custom_origin=rss", ["Messaged"]),
        ("kind_25=jpg", ["Photo Book"]),
        ("kind=jpg", ["Album", "Photo Book"]),
        ("traits=audio", ["Album", "Photo Book"]),
        ("traits=tv", ["Show.S01E01.mkv"]),
        ("files=*/cover.jpg OR files=cover.jpg", ["Album"]),
        ("fno>1", ["Album", "Photo Book"]),
        ("size>500k is_multi_file=yes", ["Album", "Photo Book"]),
        ("size=64k", ["Ignored", "Messaged", "Off", "Show.S01E01.mkv"]),
        ("alias=example.org", ["Album", "Ignored", "Messaged", "Off", "Photo Book", "Show.S01E01.mkv"]),
        ("loaded<2000-01-01", []),
        ("loaded>2023-11-14", ["Album", "Ignored", "Messaged", "Off", "Photo Book", "Show.S01E01.mkv"]),
        ("started<1h OR started>1h", []),
        (r"name=/^\w+\.S\d+E\d+/", ["Show.S01E01.mkv"]),
        ("views=seeding", ["Album"]),
        ("views= name=a*", []),
        ("d_peers_connected>0", []),
    ],
)
def test_conditions(
    client: RtorrentClient, library: dict[str, str], condition: str, expected: list[str]
) -> None:
    assert [item.name for item in match_items(client, condition, sort="name")] == expected


def test_reading_fields_never_writes(
    rt: RtorrentSandbox, client: RtorrentClient, library: dict[str, str]
) -> None:
    def snapshot() -> list[Any]:
        return [
            client.d_multicall(
                "main",
                ["d.hash", "d.priority", "d.custom=kind", "d.custom=m_alias", "d.custom=memo_alias",
                 "d.custom=tm_loaded", "d.custom1", "d.views", "d.ignore_commands", "d.state"],
            )
        ]  # fmt: skip

    before = snapshot()
    recording = Recording(client)
    condition = parse_condition("alias=x OR kind_10=y OR traits=z OR tagged=a OR custom_foo=b OR path=/x/")
    ItemQuery(condition, "-seedtime leechtime stopped", fields=["active", "last_xfer", "tracker"]).fetch(
        recording
    )
    assert snapshot() == before
    sent = [command for _, commands in recording.sent for command in commands]
    assert not [command for command in sent if ".set" in command or "erase" in command]


def test_timestamps_rc(rt: RtorrentSandbox, client: RtorrentClient) -> None:
    leecher = load(rt, "Leecher")
    meta = make_metafile("Seeder", size=64 << 10, payload_dir=rt.download_dir, tracker=TRACKER)
    (seeder,) = rt.load_metafiles([meta])
    loaded = int(rt.rpc("d.custom", leecher, "tm_loaded"))
    assert abs(loaded - time.time()) < 60
    assert rt.rpc("d.custom", leecher, "tm_started") == ""

    rt.rpc("d.start", leecher)
    rt.rpc("d.start", seeder)
    wait_for(lambda: rt.rpc("d.custom", leecher, "tm_started") != "")
    wait_for(lambda: rt.rpc("d.complete", seeder) == 1 and rt.rpc("d.custom", seeder, "tm_completed") != "")
    first_start = rt.rpc("d.custom", leecher, "tm_started")
    assert [item.name for item in match_items(client, "started<2i", sort="name")] == ["Leecher", "Seeder"]
    assert [item.name for item in match_items(client, "completed<2i")] == ["Seeder"]
    assert [item.name for item in match_items(client, "seedtime<1h")] == ["Seeder"]

    time.sleep(1.1)
    rt.rpc("d.stop", leecher)
    wait_for(lambda: "P" in rt.rpc("d.custom", leecher, "activations"))
    rt.rpc("d.start", leecher)
    wait_for(lambda: rt.rpc("d.custom", leecher, "activations").count("R") == 2)
    assert rt.rpc("d.custom", leecher, "tm_started") == first_start  # the FIRST start only
    items = ItemQuery("name=Leecher", fields=["stopped", "leechtime", "started", "seedtime"]).fetch(client)
    (item,) = items
    assert item.stopped >= int(first_start)
    assert item.leechtime is not None and item.leechtime >= 0
    assert item.seedtime is None
    assert [i.name for i in match_items(client, "stopped<1h")] == ["Leecher"]

    # The periodic stamps: run the scans the schedules run, with a threshold every item passes.
    rt.rpc("pyrotorque.tm.xfer_threshold.set", "", -1)
    rt.rpc("pyrotorque.tm.scan_xfer", "")
    rt.rpc("pyrotorque.tm.scan_active", "")
    assert rt.rpc("d.custom", leecher, "tm_last_xfer") != ""
    assert rt.rpc("d.custom", leecher, "tm_last_active") == ""  # no peers in the sandbox
    assert [i.name for i in match_items(client, "last_xfer<1h", sort="name")] == ["Leecher", "Seeder"]
    rt.rpc("pyrotorque.tm.xfer_threshold.set", "", 5000)


def test_timestamps_rc_never_costs_an_item_its_session_files(rtorrent_factory: SandboxFactory) -> None:
    """Loading with a start fires inserted_new and resumed at once; both must leave a whole session.

    A session save requested from those handlers raced 0.16's first full save of the item and left
    some items with only ``HASH.torrent.new`` (gone after a restart) in about one run of four.
    """
    sandbox = rtorrent_factory()
    hashes = sandbox.load_items(20, prefix="stamped", start=True, seed=11)
    sandbox.wait_saved()  # fails on a lost or half-written session file
    stamps = {info_hash: sandbox.rpc("d.custom", info_hash, "tm_loaded") for info_hash in hashes}
    assert all(stamps.values())

    sandbox.kill()  # no save at shutdown: only what was written on insert counts
    sandbox.start()

    assert sorted(sandbox.item_hashes()) == sorted(hashes)
    assert {info_hash: sandbox.rpc("d.custom", info_hash, "tm_loaded") for info_hash in hashes} == stamps


# --- d.multicall.filtered: the pushed filter keeps exactly what our evaluation keeps -------------------

# Every pushable form, alone and mixed with terms that stay on the client.
PUSHABLE_CONDITIONS = [
    "is_open=no is_active=no is_complete=no",
    "is_open=yes",
    "is_active=yes",
    "is_active=no is_open=yes",
    "is_complete=yes",
    "is_complete=no",
    "is_ignored=yes",
    "is_ignored=0",
    "is_private=yes",
    "is_private=no",
    "is_multi_file=yes",
    "is_multi_file=no",
    "is_open=!yes",
    "prio=0",
    "prio=2",
    "prio!=2",
    "prio<>3",
    "prio>0",
    "prio>=2",
    "prio<2",
    "prio<=1",
    "prio=1,3",
    "prio=!1,!3",
    "prio=+1",
    "prio=-3",
    "prio=!+2",
    "prio>1.5",
    "prio<2.5",
    "prio=1.5",
    "prio>=0",
    "prio<0",
    "size>32k",
    "size>=48k",
    "size<32k",
    "size=64k",
    "size!=64k",
    "size>0.03m",
    "size<=1.5k",
    "fno>1",
    "fno=1",
    "ratio>=0",
    "ratio<0.001",
    "ratio>1",
    "ratio=0",
    "up>0",
    "down=0",
    "uploaded=0",
    "uploaded>1k",
    "message=",
    "message=!",
    "message= prio>0",
    "is_ignored=0 message= prio>0 [ prio>2 OR [ NOT [ traits=audio kind_25=jpg,png,tif,bmp ] ] ]",
    "is_open=no is_active=no is_complete=no is_ignored=0 message= prio>0",
    "[ prio=3 OR is_complete=yes ]",
    "[ prio=3 OR is_complete=yes ] is_open=yes",
    "NOT [ prio=1 OR message=! ]",
    "NOT is_open=yes prio<3",
    "[ NOT [ size>32k is_private=yes ] ] is_active=no",
    "[ prio=0 OR [ is_open=yes NOT [ is_complete=no OR message= ] ] ]",
    "[ prio=0 OR name=ps0001* ] is_open=no",
    "name=ps00* prio>1",
    "tagged=foo is_complete=no",
    "kind=bin OR prio=3",
]


def _prepare_states(rt: RtorrentSandbox) -> list[str]:
    """24 items over every combination the pushable fields distinguish, settled (no more changes)."""
    states = ["closed", "leeching", "paused", "seeding", "seeding-paused", "closed-complete"]
    hashes: list[str] = []
    for index in range(24):
        state = states[index % 6]
        complete = state in ("seeding", "seeding-paused", "closed-complete")
        name = f"ps{index:04d}"
        files = [("a.bin", 12 << 10), ("b/c.txt", (4 << 10) + index)] if index % 5 == 1 else None
        meta = make_metafile(
            name,
            files,
            size=(16 << 10) * (1 + index % 4),
            private=index % 3 == 0,
            payload_dir=rt.download_dir if complete else None,
        )
        commands = [f"d.priority.set={(index * 7 // 3) % 4}"]
        if index % 7 == 2:
            commands.append("d.ignore_commands.set=1")
        if index % 8 == 5:
            commands.append("d.custom.set=tags,foo")
        (info_hash,) = rt.load_metafiles([meta], start=state != "closed", commands=commands)
        hashes.append(info_hash)
    for index, info_hash in enumerate(hashes):
        state = states[index % 6]
        if state in ("seeding-paused", "closed-complete", "paused"):
            wait_for(lambda h=info_hash: rt.rpc("d.is_hash_checking", h) == 0)  # type: ignore[misc]
            if state != "paused":
                wait_for(lambda h=info_hash: rt.rpc("d.complete", h) == 1)  # type: ignore[misc]
            rt.rpc("d.stop", info_hash)
            if state == "closed-complete":
                rt.rpc("d.close", info_hash)
        if index % 4 == 1 and state in ("closed", "paused"):
            rt.rpc("d.message.set", info_hash, "Tracker: refused")
    settle(rt)
    return hashes


def settle(rt: RtorrentSandbox, timeout: float = 30.0) -> None:
    """Wait until the items' state columns stop changing (hash checks, tracker errors)."""
    columns = ["d.hash=", "d.is_open=", "d.is_active=", "d.complete=", "d.message=", "d.is_hash_checking="]
    deadline = time.monotonic() + timeout
    before = rt.rpc("d.multicall2", "", "main", *columns)
    while True:
        time.sleep(1.0)
        after = rt.rpc("d.multicall2", "", "main", *columns)
        if after == before and not any(row[-1] for row in after):
            return
        if time.monotonic() > deadline:
            raise AssertionError("the items' states did not settle")
        before = after


class FilteringRecording(Recording):
    """The recording wrapper, able to send d.multicall.filtered (records its filter)."""

    def call(self, method: str, *params: Any) -> Any:
        self.sent.append((method, [str(params[2])] if method == "d.multicall.filtered" else []))
        return self.client.call(method, *params)

    def server_info(self) -> Any:
        return self.client.server_info()


def _random_conditions(count: int, seed: int) -> list[str]:
    """Random ANDs of pushable and client-only terms, with OR groups and NOTs."""
    import random

    rng = random.Random(seed)
    booleans = ["is_open", "is_active", "is_complete", "is_ignored", "is_private", "is_multi_file"]
    operators = ["=", "!=", "<", ">", "<=", ">="]
    sizes = ["16k", "32k", "32769", "48k", "64k", "1.5k", "0.05m", "0"]

    def atom() -> str:
        roll = rng.random()
        if roll < 0.3:
            return f"{rng.choice(booleans)}={rng.choice(['yes', 'no', '!yes', '1', '0'])}"
        if roll < 0.5:
            return f"prio{rng.choice(operators)}{rng.choice(['0', '1', '2', '3', '4', '1.5'])}"
        if roll < 0.65:
            return f"size{rng.choice(operators)}{rng.choice(sizes)}"
        if roll < 0.72:
            return rng.choice(["message=", "message=!", "fno>1", "ratio<0.5", "uploaded=0", "prio=0,2"])
        return rng.choice(["name=ps000*", "name=*3", "tagged=foo", "message=*refused", "kind=txt", "fno=!2"])

    def group(depth: int) -> str:
        parts = [
            atom() if depth > 1 or rng.random() < 0.7 else group(depth + 1) for _ in range(rng.randint(1, 3))
        ]
        joined = " OR ".join(parts) if rng.random() < 0.4 else " ".join(parts)
        text = f"[ {joined} ]"
        return f"NOT {text}" if rng.random() < 0.3 else text

    return [
        " ".join(group(0) if rng.random() < 0.3 else atom() for _ in range(rng.randint(1, 4)))
        for _ in range(count)
    ]


def test_pushdown_equals_client_side_evaluation(rt: RtorrentSandbox, client: RtorrentClient) -> None:
    """With and without the pushed filter, every condition selects the same items; the pushed
    filter alone keeps exactly the items our evaluation of the pushed terms keeps."""
    hashes = _prepare_states(rt)
    rows = client.d_multicall("main", ["d.is_open", "d.is_active", "d.complete", "d.message", "d.priority"])
    assert {tuple(row[:3]) for row in rows} >= {
        (0, 0, 0),
        (1, 1, 0),
        (1, 0, 0),
        (1, 1, 1),
        (1, 0, 1),
        (0, 0, 1),
    }
    assert {bool(row[3]) for row in rows} == {True, False}
    assert {row[4] for row in rows} == {0, 1, 2, 3}
    recording = FilteringRecording(client)
    pushed_count = 0
    for condition in PUSHABLE_CONDITIONS + _random_conditions(150, seed=rt.line.count(".")):
        pushed = ItemQuery(condition, "name").fetch(recording)
        method, _ = recording.sent[0]
        recording.sent.clear()
        plain = ItemQuery(condition, "name", pushdown=False).fetch(recording)
        assert [method for method, _ in recording.sent][:1] == ["d.multicall2"]
        recording.sent.clear()
        assert [item.hash for item in pushed] == [item.hash for item in plain], condition
        query = ItemQuery(condition)
        if query.pushed is None:
            assert method == "d.multicall2", condition
            continue
        pushed_count += 1
        assert method == "d.multicall.filtered", condition
        # Exactness: rTorrent's filter alone keeps what our evaluation of the pushed terms keeps.
        by_rtorrent = client.call("d.multicall.filtered", "", "main", query.pushed.expression, "d.hash=")
        ours = ItemQuery(" ".join(query.pushed.terms), pushdown=False).fetch(client)
        assert sorted(row[0] for row in by_rtorrent) == sorted(item.hash for item in ours), (
            condition,
            query.pushed.expression,
        )
    assert pushed_count > 100
    assert set(hashes) == {item.hash for item in ItemQuery(None).fetch(client)}


def test_pushdown_rpc_and_log(
    client: RtorrentClient, library: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    recording = FilteringRecording(client)
    caplog.set_level("DEBUG", logger="pyrotorque.conditions.fetch")
    items = ItemQuery(STARTABLE, "-prio, loaded, name").fetch(recording)
    assert [item.name for item in items] == ["Show.S01E01.mkv", "Album"]
    assert recording.sent[0] == (
        "d.multicall.filtered",
        ['and={not=$d.ignore_commands=,not=$d.message=,"greater=d.priority=,value=0"}'],
    )
    assert [method for method, _ in recording.sent] == ["d.multicall.filtered", "system.multicall"]
    # Only the undecided survivors of the filter (the two audio albums) need their file lists.
    assert len(recording.sent[1][1]) == 2
    assert "d.multicall.filtered on view 'main', filter and={" in caplog.text
    recording.sent.clear()
    # Nothing pushable, or pushdown switched off: d.multicall2.
    ItemQuery("name=A*").fetch(recording)
    ItemQuery("prio>0", pushdown=False).fetch(recording)
    assert [method for method, _ in recording.sent] == ["d.multicall2", "d.multicall2"]


def test_label_is_ghost_and_restarted_intervals(
    tmp_path: Any, rt: RtorrentSandbox, client: RtorrentClient
) -> None:
    """The new fields read real rTorrent; is_ghost checks this machine's file system."""
    data = tmp_path / "data"
    data.mkdir()
    here = load(rt, "here.iso")
    gone = load(rt, "gone.iso")
    album = load(rt, "Album", [("01.flac", 1 << 10), ("cover.jpg", 1 << 10)])
    # The directories are stored as given (nothing is opened), so they may be host paths on both lines.
    rt.rpc("d.directory.set", here, str(data))
    rt.rpc("d.directory.set", gone, str(data))
    rt.rpc("d.directory_base.set", album, str(data / "Album"))
    (data / "here.iso").write_bytes(b"x")
    rt.rpc("d.custom1.set", here, "TV/Shows")
    rt.rpc("d.custom1.set", album, "tv")
    assert rt.rpc("d.directory", album) == str(data / "Album")

    def names(condition: str) -> list[str]:
        return [item.name for item in match_items(client, condition, sort="name")]

    assert names("is_ghost=yes") == ["Album", "gone.iso"]
    assert names("is_ghost=no") == ["here.iso"]
    (data / "Album").mkdir()
    assert names("is_ghost=yes") == ["gone.iso"]
    assert names("label=tv*") == ["Album", "here.iso"]
    assert names("label=tv") == ["Album"]
    assert names("label=tv/shows") == ["here.iso"]
    assert names("label=") == ["gone.iso"]

    # The peers' example: two resumes in a row (rTorrent went away while it ran) count from the second.
    rt.rpc("d.custom.set", gone, "activations", "R1377390013R1377390082")
    rt.rpc("d.custom.set", gone, "tm_completed", "1377390084")
    rt.rpc("d.custom.set", gone, "tm_started", "1377390013")
    (item,) = ItemQuery("name=gone.iso", fields=["leechtime"]).fetch(client)
    assert item.leechtime == 2
    assert names("leechtime=2") == ["gone.iso"]
    assert names("leechtime>2") == []
