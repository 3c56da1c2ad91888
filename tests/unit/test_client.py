"""RtorrentClient against the shared fake rTorrent (its transport): faults, multicall, protocol, stats."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from pyrotorque.errors import (
    ConfigError,
    FaultError,
    HashNotFound,
    ProtocolError,
    RequestTooLarge,
    RtorrentError,
    TransportError,
)
from pyrotorque.rtorrent.client import RtorrentClient, ServerInfo, version_tuple
from pyrotorque.rtorrent.limits import MULTICALL_REQUEST_LIMIT, request_cap
from pyrotorque.rtorrent.transport import MockTransport
from tests.support.fake_rtorrent import FakeRtorrent, xml_answer

BOGUS_HASH = "0123456789ABCDEF0123456789ABCDEF01234567"
USEC = 1_700_000_000_123_456


def rtorrent(line: str = "0.9.8", **kwargs: Any) -> FakeRtorrent:
    """The shared fake with two items and a fixed system.time_usec."""
    fake = FakeRtorrent(line, **kwargs)
    fake.add_item("A" * 40, "Ubuntu ✓", [("ubuntu.iso", 2**40)])
    fake.add_item("B" * 40, "Debian", [("debian.iso", 2**40)])
    fake.set_global("system.time_usec", USEC)
    return fake


def client_for(handler: Callable[[bytes, str], bytes], **kwargs: Any) -> tuple[RtorrentClient, MockTransport]:
    """A client on a purpose-built transport: for answers no rTorrent gives (garbage, failures)."""
    transport = MockTransport(handler)
    return RtorrentClient("scgi:///nowhere/rpc.socket", transport=transport, **kwargs), transport


def test_constructor_does_no_io() -> None:
    def refuse(body: bytes, content_type: str) -> bytes:
        raise AssertionError("no request expected")

    client, transport = client_for(refuse)
    RtorrentClient("/does/not/exist/rpc.socket")  # a real transport, not touched either
    assert transport.requests == []
    assert client.stats.requests == 0


def test_bad_url_and_protocol_are_config_errors() -> None:
    with pytest.raises(ConfigError):
        RtorrentClient("relative.socket")
    with pytest.raises(ConfigError):
        RtorrentClient("/x/rpc.socket", protocol="yaml")


def test_call_sends_exactly_the_params() -> None:
    fake = rtorrent()
    assert fake.client().call("system.time_usec", "") == USEC
    assert fake.requests[-1].calls == (("system.time_usec", ("",)),)
    assert fake.requests[-1].protocol == "xml"


def test_hash_not_found_keeps_code_and_message() -> None:
    client = rtorrent().client()
    with pytest.raises(HashNotFound) as caught:
        client.call("d.name", BOGUS_HASH)
    assert caught.value.code == -501
    assert caught.value.message == "Could not find info-hash."
    assert caught.value.method == "d.name"


def test_other_faults_keep_code_and_message() -> None:
    client = rtorrent().client()
    with pytest.raises(FaultError) as caught:
        client.call("no.such.method", "")
    assert not isinstance(caught.value, HashNotFound)
    assert (caught.value.code, caught.value.message) == (-506, "Method 'no.such.method' not defined")


def test_multicall_returns_faults_as_values() -> None:
    fake = rtorrent()
    results = fake.client().multicall(
        [("d.name", ("A" * 40,)), ("d.name", (BOGUS_HASH,)), ("view.size", ("", "main"))]
    )
    assert results[0] == "Ubuntu ✓"
    assert isinstance(results[1], HashNotFound) and results[1].code == -501
    assert results[2] == 2
    assert [request.method for request in fake.requests] == ["system.multicall"] * 2  # detection, then ours


def test_empty_multicall_sends_nothing() -> None:
    fake = rtorrent()
    assert fake.client().multicall([]) == []
    assert fake.requests == []


def test_d_multicall_adds_missing_equals_and_target() -> None:
    fake = rtorrent()
    rows = fake.client(protocol="xml").d_multicall("main", ["d.hash", "d.name=", "d.size_bytes"])
    assert rows == [["A" * 40, "Ubuntu ✓", 2**40], ["B" * 40, "Debian", 2**40]]
    assert fake.requests[-1].calls == (("d.multicall2", ("", "main", "d.hash=", "d.name=", "d.size_bytes=")),)


def test_detection_is_one_multicall_and_cached() -> None:
    fake = rtorrent("0.9.8")
    client = fake.client()
    info = client.server_info()
    assert info == client.server_info()
    assert isinstance(info, ServerInfo)
    assert (info.client_version, info.library_version, info.protocol) == ((0, 9, 8), "0.13.8", "xml")
    assert "d.multicall2" in info.methods and info.has("system.time_usec")
    assert len(fake.requests) == 1
    client.call("system.time_usec", "")
    client.call("system.time_usec", "")
    assert len(fake.requests) == 3


def test_json_chosen_when_server_offers_it() -> None:
    fake = rtorrent("0.16")
    client = fake.client()
    assert client.server_info().protocol == "json"
    assert client.server_info().client_version == (0, 16, 17)
    assert client.call("system.time_usec", "") == USEC
    assert fake.requests[0].protocol == "xml"  # detection always speaks XML-RPC
    assert fake.requests[-1].protocol == "json"
    with pytest.raises(HashNotFound):
        client.call("d.name", BOGUS_HASH)
    results = client.multicall([("d.name", ("B" * 40,)), ("d.name", (BOGUS_HASH,))])
    assert results[0] == "Debian" and isinstance(results[1], HashNotFound)


def test_json_switched_off_means_xml() -> None:
    fake = rtorrent("0.16", jsonrpc=False)
    client = fake.client()
    assert client.server_info().protocol == "xml"
    client.call("system.time_usec", "")
    assert fake.requests[-1].protocol == "xml"


def test_forced_xml_needs_no_detection() -> None:
    fake = rtorrent("0.16")
    client = fake.client(protocol="xml")
    client.call("system.time_usec", "")
    assert [request.protocol for request in fake.requests] == ["xml"]
    assert client.server_info().protocol == "xml"


def test_forced_json_from_url() -> None:
    fake = rtorrent("0.16")
    client = RtorrentClient("scgi:///x/rpc.socket?rpc=json", transport=fake)
    assert client.call("system.time_usec", "") == USEC
    assert [request.protocol for request in fake.requests] == ["json"]


@pytest.mark.parametrize(
    "failure",
    [
        TransportError("connection refused", "scgi:///nowhere"),
        ProtocolError("bad SCGI response header line 'HTTP/1.1 200'"),
    ],
    ids=["transport", "garbled"],
)
def test_failed_exchange_drops_server_info(failure: RtorrentError) -> None:
    fake = rtorrent("0.9.8")
    client = fake.client()
    assert client.server_info().client_version == (0, 9, 8)
    fake.down = failure
    with pytest.raises(type(failure)):
        client.call("system.time_usec", "")
    fake.down = False
    fake.version = "0.9.9"  # "restarted" as a newer rTorrent
    assert client.server_info().client_version == (0, 9, 9)
    assert client.stats.snapshot().failures == 1


def test_foreign_exceptions_are_translated() -> None:
    def broken(body: bytes, content_type: str) -> bytes:
        raise OSError("boom")

    client, _ = client_for(broken, protocol="xml")
    with pytest.raises(TransportError) as caught:
        client.call("system.time_usec", "")
    assert isinstance(caught.value.__cause__, OSError)

    client, _ = client_for(lambda body, content_type: b"<not xml", protocol="xml")
    with pytest.raises(ProtocolError):
        client.call("system.time_usec", "")


def test_mismatched_multicall_answer_is_protocol_error() -> None:
    answer = xml_answer([["only one"]])
    client, _ = client_for(lambda body, content_type: answer, protocol="xml")
    with pytest.raises(RtorrentError):
        client.multicall([("view.size", ("", "main")), ("view.size", ("", "main"))])


def test_stats_count_requests_bytes_and_latency() -> None:
    fake = rtorrent()
    client = fake.client(protocol="xml")
    client.call("system.time_usec", "")
    client.d_multicall("main", ["d.hash", "d.name"])
    sizes_out = [request.size for request in fake.requests]
    stats = client.stats.snapshot()
    assert stats.requests == 2 and stats.failures == 0
    assert stats.bytes_out == sum(sizes_out)
    assert stats.largest_request == max(sizes_out)
    assert 0 < stats.largest_response <= stats.bytes_in
    assert stats.mean_latency >= 0.0
    line = client.stats.format()
    assert line.startswith("2 requests, ") and "mean latency" in line and "\n" not in line
    assert str(client.stats) == line


def test_stats_are_thread_safe() -> None:
    client = rtorrent().client(protocol="xml")
    threads = [
        threading.Thread(target=lambda: [client.call("view.size", "", "main") for _ in range(50)])
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert client.stats.requests == 200


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0.9.8", (0, 9, 8)), ("0.16.17", (0, 16, 17)), ("0.9.8-PS-1.1", (0, 9, 8)), ("", ()), ("git", ())],
)
def test_version_tuple(text: str, expected: tuple[int, ...]) -> None:
    assert version_tuple(text) == expected


def test_renamed_command_is_sent_under_the_name_the_server_lists() -> None:
    fake = rtorrent("0.16")  # lists schedule, not schedule2
    client = fake.client()
    assert client.call("schedule2", "", "tick", "10", "10", "print=x") == 0
    assert client.multicall([("schedule2", ("", "tock", "10", "10", "print=y"))]) == [0]
    seen = [method for method, _ in fake.calls()]
    assert seen.count("schedule") == 2
    assert "schedule2" not in seen


def test_known_command_is_never_renamed() -> None:
    fake = rtorrent("0.16")  # lists both d.multicall2 and d.multicall
    assert len(fake.client().d_multicall("main", ["d.hash"])) == 2
    seen = [method for method, _ in fake.calls()]
    assert "d.multicall2" in seen and "d.multicall" not in seen


def test_unencodable_parameter_names_the_method() -> None:
    fake = rtorrent()
    with pytest.raises(ProtocolError, match=r"d\.custom\.set"):
        fake.client(protocol="xml").call("d.custom.set", "A" * 40, "key", object())
    assert fake.requests == []  # nothing was sent


@pytest.mark.parametrize("line", ["0.9.8", "0.16"])
def test_a_large_multicall_is_split_below_the_request_limit(line: str) -> None:
    fake = rtorrent(line)
    client = fake.client()
    client.server_info()
    calls = [("d.name", ("A" * 40 if index % 2 else "C" * 40,)) for index in range(20_000)]
    first = len(fake.requests)

    results = client.multicall(calls)

    sizes = [request.size for request in fake.requests[first:]]
    assert len(sizes) > 1 and max(sizes) <= MULTICALL_REQUEST_LIMIT
    assert [result if isinstance(result, str) else type(result) for result in results] == [
        "Ubuntu ✓" if index % 2 else HashNotFound for index in range(20_000)
    ]


@pytest.mark.parametrize(("line", "sent"), [("0.9.8", False), ("0.16", True)])
def test_a_request_above_the_servers_cap_is_refused_unsent(line: str, sent: bool) -> None:
    # 3 MiB of data: above what 0.9.8 accepts (it would reset the connection), below 0.16's 16 MiB.
    fake = rtorrent(line)
    client = fake.client()
    client.server_info()
    before = len(fake.requests)
    if sent:
        assert client.call("load.raw", "", b"x" * (3 << 20)) == 0
    else:
        with pytest.raises(RequestTooLarge) as refused:
            client.call("load.raw", "", b"x" * (3 << 20))
        assert refused.value.method == "load.raw"
        assert refused.value.limit == request_cap((0, 9, 8), fake.xmlrpc_size_limit) < refused.value.size
    assert len(fake.requests) - before == (1 if sent else 0)
