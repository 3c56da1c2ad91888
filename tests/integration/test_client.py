"""RtorrentClient against a real rTorrent on every selected line (0.9.8: XML-RPC, 0.16: JSON-RPC)."""

from __future__ import annotations

import time

import pytest
from sandbox.metafiles import make_metafile
from sandbox.rtorrent import RtorrentSandbox, SandboxFactory

from pyrotorque.errors import FaultError, HashNotFound, RtorrentTimeout, TransportError
from pyrotorque.rtorrent.client import RtorrentClient

BOGUS_HASH = "0123456789ABCDEF0123456789ABCDEF01234567"
EXPECTED_PROTOCOL = {"0.9.8": "xml", "0.16": "json"}

TWENTY_FIELDS = [
    "d.hash",
    "d.name",
    "d.size_bytes",
    "d.completed_bytes",
    "d.size_chunks",
    "d.chunk_size",
    "d.complete",
    "d.is_open",
    "d.is_active",
    "d.state",
    "d.ratio",
    "d.up.total",
    "d.down.total",
    "d.priority",
    "d.custom1",
    "d.custom=pyro_test",
    "d.directory",
    "d.base_path",
    "d.message",
    "d.creation_date",
]


def test_call_and_detection(rt: RtorrentSandbox) -> None:
    client = RtorrentClient(rt.url, timeout=10)
    info = client.server_info()
    assert info.protocol == EXPECTED_PROTOCOL[rt.line]
    assert info.client_version_text == rt.version
    assert info.client_version[:2] == tuple(int(part) for part in rt.line.split(".")[:2])
    assert "d.multicall2" in info.methods and "system.time_usec" in info.methods
    assert client.call("system.client_version", "") == rt.version
    assert client.call("system.pid", "") == rt.pid


def test_64_bit_integers(rt: RtorrentSandbox) -> None:
    client = RtorrentClient(rt.url, timeout=10)
    usec = client.call("system.time_usec", "")
    assert isinstance(usec, int) and usec > 2**31
    assert abs(usec - time.time() * 1_000_000) < 60 * 1_000_000


def test_forced_protocol(rt: RtorrentSandbox) -> None:
    offered = ["xml", "json"] if rt.line != "0.9.8" else ["xml"]  # 0.9.8 has no JSON-RPC
    for forced in offered:
        client = RtorrentClient(f"{rt.url}?rpc={forced}", timeout=10)
        assert client.call("system.client_version", "") == rt.version
        assert client.stats.requests == 1  # a forced protocol needs no detection request
        assert client.server_info().protocol == forced


def test_hash_not_found(rt: RtorrentSandbox) -> None:
    client = RtorrentClient(rt.url, timeout=10)
    with pytest.raises(HashNotFound) as caught:
        client.call("d.name", BOGUS_HASH)
    assert caught.value.method == "d.name"
    assert caught.value.message


def test_unknown_method_is_a_fault(rt: RtorrentSandbox) -> None:
    client = RtorrentClient(rt.url, timeout=10)
    with pytest.raises(FaultError) as caught:
        client.call("no.such.command", "")
    assert not isinstance(caught.value, HashNotFound)
    assert caught.value.code != 0


def test_multicall_with_faults_as_values(rt: RtorrentSandbox) -> None:
    (item,) = rt.load_items(1, prefix="mc-")
    client = RtorrentClient(rt.url, timeout=10)
    results = client.multicall(
        [
            ("d.name", (item,)),
            ("d.name", (BOGUS_HASH,)),
            ("view.size", ("", "main")),
            ("system.time_usec", ("",)),
        ]
    )
    assert results[0] == "mc-00000"
    assert isinstance(results[1], HashNotFound)
    assert results[2] == 1
    assert isinstance(results[3], int) and results[3] > 2**31


def test_d_multicall_twenty_fields(rt: RtorrentSandbox) -> None:
    hashes = rt.load_items(50, prefix="dm-", commands=["d.custom.set=pyro_test,hello"])
    client = RtorrentClient(rt.url, timeout=30)
    rows = client.d_multicall("main", TWENTY_FIELDS)
    assert len(rows) == 50
    assert all(len(row) == 20 for row in rows)
    assert sorted(row[0] for row in rows) == sorted(hashes)
    by_hash = {row[0]: row for row in rows}
    reference = rt.rpc("d.multicall2", "", "main", *(f"{f}=" if "=" not in f else f for f in TWENTY_FIELDS))
    for expected in reference:
        assert by_hash[expected[0]] == expected
    first = by_hash[hashes[0]]
    assert first[1] == "dm-00000"
    assert first[2] == 64 << 10
    assert first[15] == "hello"


def test_unicode_names(rt: RtorrentSandbox) -> None:
    name = "Ünïcødé ✓ 日本語 — ça va"
    (item,) = rt.load_metafiles([make_metafile(name)])
    client = RtorrentClient(rt.url, timeout=10)
    assert client.call("d.name", item) == name
    assert client.d_multicall("main", ["d.name"]) == [[name]]
    assert client.call("d.custom.set", item, "note", "Grüße ✓") == 0
    assert client.call("d.custom", item, "note") == "Grüße ✓"


def test_empty_view(rt: RtorrentSandbox) -> None:
    assert RtorrentClient(rt.url, timeout=10).d_multicall("main", ["d.hash", "d.name"]) == []


def test_restarted_rtorrent_is_detected_again(rtorrent_factory: SandboxFactory) -> None:
    sandbox = rtorrent_factory()
    client = RtorrentClient(sandbox.url, timeout=10)
    first = client.server_info()
    old_pid = client.call("system.pid", "")
    sandbox.stop()
    with pytest.raises(TransportError) as caught:
        client.call("system.pid", "")
    assert not isinstance(caught.value, RtorrentTimeout)
    assert str(sandbox.socket_path) in str(caught.value)
    sandbox.start()
    requests_before = client.stats.requests
    assert client.call("system.pid", "") == sandbox.pid != old_pid
    assert client.stats.requests == requests_before + 2  # detection ran again, then the call
    assert client.server_info() == first  # same binary: same answers


def test_frozen_rtorrent_times_out(rtorrent_factory: SandboxFactory) -> None:
    sandbox = rtorrent_factory()
    client = RtorrentClient(sandbox.url, timeout=1.0)
    client.server_info()
    sandbox.freeze()  # returns once the kernel shows it stopped: no call can slip through first
    try:
        started = time.monotonic()
        with pytest.raises(RtorrentTimeout):
            client.call("system.pid", "")
        assert time.monotonic() - started < 5
    finally:
        sandbox.thaw()
    assert client.call("system.pid", "") == sandbox.pid


def test_a_multicall_beyond_the_servers_request_cap_still_answers(rt: RtorrentSandbox) -> None:
    """20,000 calls make a request of about 3 MB: above 0.9.8's silent 2 MiB cap if sent as one."""
    (info_hash,) = rt.load_items(1, prefix="many", seed=3)
    client = RtorrentClient(rt.url)
    calls = [("d.custom.set", (info_hash, f"k{index % 7}", f"value {index}")) for index in range(20_000)]

    results = client.multicall(calls)

    assert results == [0] * 20_000
    assert client.call("d.custom", info_hash, "k6") == "value 19998"  # the last of the k6 calls ran last
