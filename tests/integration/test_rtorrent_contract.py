"""Contract: the fake rTorrent (tests/support/fake_rtorrent.py) answers like a real one.

Every test here runs once per fake line and once per selected real line (the ``rpc_backend``
fixture), with the same body, through the real ``RtorrentClient``. A test that passes on the fake
but fails on a real rTorrent means the fake (and the unit tests built on it) must change.
"""

from __future__ import annotations

import pytest
from sandbox.metafiles import make_metafile

from pyrotorque.conditions import parse_condition
from pyrotorque.conditions.pushdown import push_down
from pyrotorque.errors import FaultError, HashNotFound
from tests.support.contract import RpcBackend
from tests.support.polling import wait_for

BOGUS_HASH = "0123456789ABCDEF0123456789ABCDEF01234567"
TRACKER = "http://tracker.example.org:6969/announce"
#: The fault codes of an unknown info hash, as the client reports them (JSON codes are mapped).
HASH_FAULT_CODE = {"0.9.8": -501, "0.16": -503}


def test_detection_sees_the_lines_protocol_and_commands(rpc_backend: RpcBackend) -> None:
    info = rpc_backend.client().server_info()
    assert info.protocol == ("xml" if rpc_backend.line == "0.9.8" else "json")
    assert info.client_version[:2] == tuple(int(part) for part in rpc_backend.line.split(".")[:2])
    assert info.library_version
    for method in ("d.multicall2", "d.multicall.filtered", "load.raw_start_verbose", "load.start", "print"):
        assert info.has(method), method
    assert info.has("network.rpc.use_jsonrpc") == (rpc_backend.line == "0.16")
    assert info.has("schedule2") == (rpc_backend.line == "0.9.8")
    assert info.has("d.multicall") == (rpc_backend.line == "0.16")
    assert not info.has("no.such.command")


@pytest.mark.parametrize("protocol", [None, "xml"], ids=["auto", "xml"])
def test_faults_map_to_our_errors(rpc_backend: RpcBackend, protocol: str | None) -> None:
    client = rpc_backend.client(protocol)
    for method in ("d.name", "d.start", "d.stop", "d.erase", "d.custom1"):
        with pytest.raises(HashNotFound) as caught:
            client.call(method, BOGUS_HASH)
        assert (caught.value.code, caught.value.method) == (HASH_FAULT_CODE[rpc_backend.line], method)
    with pytest.raises(HashNotFound):
        client.call("f.multicall", BOGUS_HASH, "", "f.path=")
    with pytest.raises(FaultError) as unknown:
        client.call("no.such.command", "")
    assert not isinstance(unknown.value, HashNotFound)
    assert unknown.value.code == -506
    assert "no.such.command" in unknown.value.message


@pytest.mark.parametrize("protocol", [None, "xml"], ids=["auto", "xml"])
def test_d_multicall_faults(rpc_backend: RpcBackend, protocol: str | None) -> None:
    rpc_backend.load([make_metafile("fault-rows")])
    client = rpc_backend.client(protocol)
    with pytest.raises(FaultError) as view:
        client.d_multicall("nosuchview", ["d.hash"])
    assert (view.value.code, view.value.message) == (-503, "Could not find view.")
    with pytest.raises(FaultError) as field:
        client.d_multicall("main", ["d.hash", "d.bogus"])
    assert (field.value.code, field.value.message) == (-503, 'Command "d.bogus" does not exist.')
    with pytest.raises(FaultError) as filtered:
        client.call("d.multicall.filtered", "", "nosuchview", "d.is_open=", "d.hash=")
    assert (filtered.value.code, filtered.value.message) == (-503, "Could not find view 'nosuchview'.")
    with pytest.raises(FaultError) as size:
        client.call("view.size", "", "nosuchview")
    assert size.value.message == "Could not find view: nosuchview"
    assert not isinstance(size.value, HashNotFound)


def test_multicall_answers_in_call_order_with_faults_as_values(rpc_backend: RpcBackend) -> None:
    first, second = rpc_backend.load([make_metafile("order-b"), make_metafile("order-a")])
    results = rpc_backend.client().multicall(
        [
            ("d.name", (second,)),
            ("d.name", (BOGUS_HASH,)),
            ("view.size", ("", "main")),
            ("no.such.command", ("",)),
            ("d.name", (first,)),
            ("d.custom.set", (first, "note", "Grüße ✓")),
            ("d.custom", (first, "note")),
            ("d.custom", (first, "unset")),
            ("system.time_usec", ("",)),
        ]
    )
    assert results[0] == "order-a"
    assert isinstance(results[1], HashNotFound) and results[1].code == HASH_FAULT_CODE[rpc_backend.line]
    assert results[2] == 2
    assert isinstance(results[3], FaultError) and not isinstance(results[3], HashNotFound)
    assert results[3].code == -506
    assert results[4:8] == ["order-b", 0, "Grüße ✓", ""]
    assert isinstance(results[8], int) and results[8] > 2**31


#: Global values the exporter reads; the last three exist on one line only.
GLOBALS = (
    "throttle.global_down.total", "throttle.global_up.rate", "throttle.global_up.max_rate",
    "throttle.unchoked_uploads", "throttle.max_downloads.global", "pieces.memory.current",
    "pieces.memory.max", "pieces.preload.min_size", "pieces.hash.queue_size", "network.open_sockets",
    "network.max_open_files", "network.http.current_open", "system.files.opened_counter",
    "network.http.max_open", "network.http.max_total_connections", "network.open_files",
)  # fmt: skip


def test_global_values_and_the_names_each_line_has(rpc_backend: RpcBackend) -> None:
    client = rpc_backend.client()
    info = client.server_info()
    answers = dict(zip(GLOBALS, client.multicall([(name, ("",)) for name in GLOBALS]), strict=True))
    old = rpc_backend.line == "0.9.8"
    assert info.has("network.http.max_open") == old
    assert info.has("network.http.max_total_connections") == (not old)
    assert info.has("network.open_files") == (not old)
    for name, answer in answers.items():
        if info.has(name):
            assert isinstance(answer, int) and answer >= 0, (name, answer)
        else:
            assert isinstance(answer, FaultError) and answer.code == -506, (name, answer)
            assert name in answer.message
    # Fresh defaults the exporter tests rely on; the limits themselves follow the host.
    assert answers["pieces.preload.min_size"] == 262144
    for limit in (
        "pieces.memory.max",
        "network.http.max_open" if old else "network.http.max_total_connections",
    ):
        value = answers[limit]
        assert isinstance(value, int) and value > 0, (limit, value)


def test_views_keep_load_order_and_name_order(rpc_backend: RpcBackend) -> None:
    names = ["charlie", "alpha", "bravo"]
    # One at a time: 0.9.8 may add the items of one multicall of loads in any order.
    hashes = [info_hash for name in names for info_hash in rpc_backend.load([make_metafile(name)])]
    client = rpc_backend.client()
    assert client.d_multicall("main", ["d.name"]) == [[name] for name in names]
    assert client.d_multicall("name", ["d.name", "d.hash"]) == sorted(
        [[name, info_hash] for name, info_hash in zip(names, hashes, strict=True)]
    )
    assert client.call("d.start", hashes[1]) == 0
    wait_for(lambda: client.d_multicall("started", ["d.hash"]) == [[hashes[1]]], "the started view")
    assert client.d_multicall("stopped", ["d.name"]) == [["charlie"], ["bravo"]]
    assert client.call("view.size", "", "started") == 1
    assert client.call("d.stop", hashes[1]) == 0
    wait_for(lambda: client.d_multicall("started", ["d.hash"]) == [], "the stopped item leaving the view")
    assert client.d_multicall("main", ["d.name", "d.state", "d.is_open", "d.is_active"])[1] == [
        "alpha",
        0,
        1,  # stopped items stay open
        0,
    ]
    assert set(client.call("view.list", "")) >= {"main", "default", "name", "started", "stopped"}


def test_item_values_files_and_trackers(rpc_backend: RpcBackend) -> None:
    single = make_metafile("single.iso", size=96 << 10, piece_length=1 << 15, tracker=TRACKER)
    multi = make_metafile("Album", [("01.flac", 40 << 10), ("cover.jpg", 8 << 10)], private=True)
    rpc_backend.load([single, multi])
    client = rpc_backend.client()
    fields = ["d.hash", "d.name", "d.size_bytes", "d.size_files", "d.is_multi_file", "d.size_chunks",
              "d.is_private", "d.priority", "d.complete", "d.state", "d.message", "d.custom1",
              "d.custom=tm_none", "d.ignore_commands", "d.ratio", "d.up.total"]  # fmt: skip
    rows = sorted(client.d_multicall("main", fields), key=lambda row: row[1])  # loaded together: any order
    assert rows == [
        [multi.info_hash, "Album", 48 << 10, 2, 1, 1, 1, 2, 0, 0, "", "", "", 0, 0, 0],
        [single.info_hash, "single.iso", 96 << 10, 1, 0, 3, 0, 2, 0, 0, "", "", "", 0, 0, 0],
    ]
    nested = dict(client.d_multicall("main", ["d.hash", "t.multicall=,t.url=,t.is_enabled="]))
    assert nested[single.info_hash] == [[TRACKER, 1]]
    files = client.multicall(
        [
            ("f.multicall", (info_hash, "", "f.path=", "f.size_bytes="))
            for info_hash in (single.info_hash, multi.info_hash)
        ]
    )
    assert files == [[["single.iso", 96 << 10]], [["01.flac", 40 << 10], ["cover.jpg", 8 << 10]]]
    assert client.call("t.url", f"{single.info_hash}:t0") == TRACKER


def test_d_multicall_filtered_with_a_view(rpc_backend: RpcBackend) -> None:
    metas = [make_metafile(f"filter-{index}") for index in range(4)]
    hashes = rpc_backend.load(metas)
    client = rpc_backend.client()
    client.multicall([("d.priority.set", (hashes[0], 0)), ("d.priority.set", (hashes[3], 3))])
    client.call("d.start", hashes[1])
    wait_for(lambda: client.call("view.size", "", "started") == 1, "the started item")

    def filtered(view: str, condition: str) -> list[str]:
        pushed = push_down(parse_condition(condition).root)
        assert pushed is not None, condition
        rows = client.call("d.multicall.filtered", "", view, pushed.expression, "d.name=")
        return sorted(row[0] for row in rows)  # a real rTorrent's order differs from the view's here

    assert filtered("main", "prio>0") == ["filter-1", "filter-2", "filter-3"]
    assert filtered("main", "prio=0,3 is_open=no") == ["filter-0", "filter-3"]
    assert filtered("stopped", "prio>=2") == ["filter-2", "filter-3"]
    assert filtered("started", "NOT [ prio=2 OR message=! ]") == []
    assert filtered("name", "is_active=no is_multi_file=no size>0") == ["filter-0", "filter-2", "filter-3"]


def test_loading_items_and_their_commands(rpc_backend: RpcBackend) -> None:
    client = rpc_backend.client()
    plain, started = make_metafile("loaded-plain"), make_metafile("loaded-started")
    commands = [
        "d.custom1.set=TV/Shows",
        "d.priority.set=3",
        'd.custom.set=note,"a,b c"',
        "d.custom2.set=x\\,y",
    ]
    rpc_backend.load([plain], commands=commands)
    rpc_backend.load([started], start=True)
    wait_for(lambda: client.call("d.state", started.info_hash) == 1, "the started load")
    assert client.multicall(
        [
            ("d.custom1", (plain.info_hash,)),
            ("d.priority", (plain.info_hash,)),
            ("d.custom", (plain.info_hash, "note")),
            ("d.custom2", (plain.info_hash,)),
            ("d.state", (plain.info_hash,)),
            ("d.is_active", (started.info_hash,)),
        ]
    ) == ["TV/Shows", 3, "a,b c", "x,y", 0, 1]

    # A second load of a loaded item is ignored, its commands too; a broken metafile loads nothing.
    assert client.call("load.raw", "", plain.data, "d.custom1.set=again") == 0
    assert client.call("load.raw_verbose", "", b"not a metafile") == 0
    assert client.call("d.custom1", plain.info_hash) == "TV/Shows"
    assert sorted(rpc_backend.hashes()) == sorted([plain.info_hash, started.info_hash])

    # By path: rTorrent reads the file and ties the item to it.
    by_path = make_metafile("loaded-by-path")
    path = rpc_backend.write_metafile(by_path, "by-path.torrent")
    assert client.call("load.start", "", path, "d.custom3.set=path") == 0
    rpc_backend.wait_for_items([by_path.info_hash])
    wait_for(lambda: client.call("d.state", by_path.info_hash) == 1, "the started load by path")
    assert client.multicall(
        [("d.tied_to_file", (by_path.info_hash,)), ("d.custom3", (by_path.info_hash,))]
    ) == [
        path,
        "path",
    ]
    assert (
        client.call("load.normal", "", rpc_backend.write_metafile(by_path, "gone.torrent") + ".missing") == 0
    )


def test_erase(rpc_backend: RpcBackend) -> None:
    (info_hash,) = rpc_backend.load([make_metafile("erased")])
    client = rpc_backend.client()
    first, second = client.multicall([("d.erase", (info_hash,)), ("d.erase", (info_hash,))])
    assert first == 0 and isinstance(second, HashNotFound)
    wait_for(lambda: rpc_backend.hashes() == [], "the erased item to go")
    with pytest.raises(HashNotFound):
        client.call("d.name", info_hash)
    assert client.d_multicall("main", ["d.hash"]) == []
