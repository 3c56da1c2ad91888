"""RtorrentClient against a fake rTorrent behind a MockTransport: faults, multicall, protocol, stats."""

from __future__ import annotations

import json
import threading
import xmlrpc.client
from collections.abc import Callable
from typing import Any, ClassVar

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

BOGUS_HASH = "0123456789ABCDEF0123456789ABCDEF01234567"
Method = Callable[..., Any]


class _Marshaller(xmlrpc.client.Marshaller):
    """The stdlib marshaller, but large ints go out as <i8> like rTorrent sends them."""

    dispatch: ClassVar[dict[type, Any]] = dict(xmlrpc.client.Marshaller.dispatch)

    def _dump_int(self, value: int, write: Callable[[str], Any]) -> None:
        tag = "i4" if -(2**31) <= value < 2**31 else "i8"
        write(f"<value><{tag}>{value}</{tag}></value>\n")

    dispatch[int] = _dump_int


def xml_answer(result: Any) -> bytes:
    """An XML-RPC methodResponse holding ``result``."""
    params = _Marshaller("utf-8", allow_none=False).dumps((result,))
    return f'<?xml version="1.0"?>\n<methodResponse>\n{params}</methodResponse>\n'.encode()


class FakeRtorrent:
    """Answers XML-RPC like 0.9.8 and, when ``json`` is on, JSON-RPC like 0.16 (batches, no multicall)."""

    def __init__(self, version: str = "0.9.8", *, json_switch: int | None = None) -> None:
        self.version = version
        self.json_switch = json_switch  # None: the method does not exist (0.9.8)
        self.methods: dict[str, Method] = {
            "system.client_version": lambda target: self.version,
            "system.library_version": lambda target: "0.13.8",
            "system.listMethods": lambda: sorted(self.methods),
            "system.time_usec": lambda target: 1_700_000_000_123_456,
            "d.name": self._d_name,
            "d.multicall2": self._d_multicall2,
            "view.size": lambda target, view: 2,
        }
        if json_switch is not None:
            self.methods["network.rpc.use_jsonrpc"] = lambda target: self.json_switch
        self.items = {"A" * 40: "Ubuntu ✓", "B" * 40: "Debian"}
        self.seen: list[str] = []

    def _d_name(self, target: str) -> str:
        if target not in self.items:
            raise xmlrpc.client.Fault(-501, "Could not find info-hash.")
        return self.items[target]

    def _d_multicall2(self, target: str, view: str, *fields: str) -> list[list[Any]]:
        assert target == ""
        assert all(field.endswith("=") or "=" in field for field in fields)
        rows = []
        for item_hash, name in self.items.items():
            values = {"d.hash=": item_hash, "d.name=": name, "d.size_bytes=": 2**40}
            rows.append([values.get(field, 0) for field in fields])
        return rows

    def run(self, method: str, params: list[Any]) -> Any:
        self.seen.append(method)
        if method not in self.methods:
            raise xmlrpc.client.Fault(-506, f"Method '{method}' not defined")
        return self.methods[method](*params)

    def __call__(self, body: bytes, content_type: str) -> bytes:
        if content_type == "application/json":
            return self._json(body)
        params, method = xmlrpc.client.loads(body, use_builtin_types=True)
        assert method is not None
        try:
            if method == "system.multicall":
                self.seen.append(method)
                answers: list[Any] = []
                for entry in params[0]:
                    try:
                        answers.append([self.run(entry["methodName"], entry["params"])])
                    except xmlrpc.client.Fault as fault:
                        answers.append({"faultCode": fault.faultCode, "faultString": fault.faultString})
                result: Any = answers
            else:
                result = self.run(method, list(params))
        except xmlrpc.client.Fault as fault:
            return xmlrpc.client.dumps(fault, methodresponse=True).encode()
        return xml_answer(result)

    def _json(self, body: bytes) -> bytes:
        request = json.loads(body)
        answers = [self._json_one(entry) for entry in request] if isinstance(request, list) else None
        return json.dumps(answers if answers is not None else self._json_one(request)).encode()

    def _json_one(self, entry: dict[str, Any]) -> dict[str, Any]:
        method = entry["method"]
        if method in ("system.multicall", "system.listMethods"):
            return {"jsonrpc": "2.0", "id": entry.get("id"), "error": {"code": -32601, "message": "nope"}}
        try:
            result = self.run(method, entry.get("params", []))
        except xmlrpc.client.Fault as fault:
            text = "invalid parameters: info-hash not found" if fault.faultCode == -501 else fault.faultString
            return {"jsonrpc": "2.0", "id": entry.get("id"), "error": {"code": -32602, "message": text}}
        return {"jsonrpc": "2.0", "id": entry.get("id"), "result": result}


def client_for(fake: Callable[[bytes, str], bytes], **kwargs: Any) -> tuple[RtorrentClient, MockTransport]:
    transport = MockTransport(fake)
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
    fake = FakeRtorrent()
    client, transport = client_for(fake)
    assert client.call("system.time_usec", "") == 1_700_000_000_123_456
    params, method = xmlrpc.client.loads(transport.requests[-1][0])
    assert (method, params) == ("system.time_usec", ("",))
    assert transport.requests[-1][1] == "text/xml"


def test_hash_not_found_keeps_code_and_message() -> None:
    client, _ = client_for(FakeRtorrent())
    with pytest.raises(HashNotFound) as caught:
        client.call("d.name", BOGUS_HASH)
    assert caught.value.code == -501
    assert caught.value.message == "Could not find info-hash."
    assert caught.value.method == "d.name"


def test_other_faults_keep_code_and_message() -> None:
    client, _ = client_for(FakeRtorrent())
    with pytest.raises(FaultError) as caught:
        client.call("no.such.method", "")
    assert not isinstance(caught.value, HashNotFound)
    assert (caught.value.code, caught.value.message) == (-506, "Method 'no.such.method' not defined")


def test_multicall_returns_faults_as_values() -> None:
    client, transport = client_for(FakeRtorrent())
    results = client.multicall(
        [("d.name", ("A" * 40,)), ("d.name", (BOGUS_HASH,)), ("view.size", ("", "main"))]
    )
    assert results[0] == "Ubuntu ✓"
    assert isinstance(results[1], HashNotFound) and results[1].code == -501
    assert results[2] == 2
    bodies = [xmlrpc.client.loads(body)[1] for body, _ in transport.requests]
    assert bodies.count("system.multicall") == 2  # detection, then ours


def test_empty_multicall_sends_nothing() -> None:
    client, transport = client_for(FakeRtorrent())
    assert client.multicall([]) == []
    assert transport.requests == []


def test_d_multicall_adds_missing_equals_and_target() -> None:
    client, transport = client_for(FakeRtorrent(), protocol="xml")
    rows = client.d_multicall("main", ["d.hash", "d.name=", "d.size_bytes"])
    assert rows == [["A" * 40, "Ubuntu ✓", 2**40], ["B" * 40, "Debian", 2**40]]
    params, method = xmlrpc.client.loads(transport.requests[-1][0])
    assert method == "d.multicall2"
    assert params == ("", "main", "d.hash=", "d.name=", "d.size_bytes=")


def test_detection_is_one_multicall_and_cached() -> None:
    fake = FakeRtorrent("0.9.8")
    client, transport = client_for(fake)
    info = client.server_info()
    assert info == client.server_info()
    assert isinstance(info, ServerInfo)
    assert (info.client_version, info.library_version, info.protocol) == ((0, 9, 8), "0.13.8", "xml")
    assert "d.multicall2" in info.methods and info.has("system.time_usec")
    assert len(transport.requests) == 1
    client.call("system.time_usec", "")
    client.call("system.time_usec", "")
    assert len(transport.requests) == 3


def test_json_chosen_when_server_offers_it() -> None:
    fake = FakeRtorrent("0.16.17", json_switch=1)
    client, transport = client_for(fake)
    assert client.server_info().protocol == "json"
    assert client.server_info().client_version == (0, 16, 17)
    assert client.call("system.time_usec", "") == 1_700_000_000_123_456
    assert transport.requests[0][1] == "text/xml"  # detection always speaks XML-RPC
    assert transport.requests[-1][1] == "application/json"
    with pytest.raises(HashNotFound):
        client.call("d.name", BOGUS_HASH)
    results = client.multicall([("d.name", ("B" * 40,)), ("d.name", (BOGUS_HASH,))])
    assert results[0] == "Debian" and isinstance(results[1], HashNotFound)


def test_json_switched_off_means_xml() -> None:
    client, transport = client_for(FakeRtorrent("0.16.17", json_switch=0))
    assert client.server_info().protocol == "xml"
    client.call("system.time_usec", "")
    assert transport.requests[-1][1] == "text/xml"


def test_forced_xml_needs_no_detection() -> None:
    client, transport = client_for(FakeRtorrent("0.16.17", json_switch=1), protocol="xml")
    client.call("system.time_usec", "")
    assert [content_type for _, content_type in transport.requests] == ["text/xml"]
    assert client.server_info().protocol == "xml"


def test_forced_json_from_url() -> None:
    fake = FakeRtorrent("0.16.17", json_switch=1)
    transport = MockTransport(fake)
    client = RtorrentClient("scgi:///x/rpc.socket?rpc=json", transport=transport)
    assert client.call("system.time_usec", "") == 1_700_000_000_123_456
    assert [content_type for _, content_type in transport.requests] == ["application/json"]


@pytest.mark.parametrize(
    "failure",
    [
        TransportError("connection refused", "scgi:///nowhere"),
        ProtocolError("bad SCGI response header line 'HTTP/1.1 200'"),
    ],
    ids=["transport", "garbled"],
)
def test_failed_exchange_drops_server_info(failure: RtorrentError) -> None:
    fake = FakeRtorrent("0.9.8")
    failing = threading.Event()

    def flaky(body: bytes, content_type: str) -> bytes:
        if failing.is_set():
            raise failure
        return fake(body, content_type)

    client, _ = client_for(flaky)
    assert client.server_info().client_version == (0, 9, 8)
    failing.set()
    with pytest.raises(type(failure)):
        client.call("system.time_usec", "")
    failing.clear()
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
    client, transport = client_for(FakeRtorrent(), protocol="xml")
    client.call("system.time_usec", "")
    client.d_multicall("main", ["d.hash", "d.name"])
    sizes_out = [len(body) for body, _ in transport.requests]
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
    client, _ = client_for(FakeRtorrent(), protocol="xml")
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
    fake = FakeRtorrent("0.16.17")
    fake.methods["schedule"] = lambda target, *args: 0
    client, _ = client_for(fake)
    assert client.call("schedule2", "", "tick", "10", "10", "print=x") == 0
    assert client.multicall([("schedule2", ("", "tock", "10", "10", "print=y"))]) == [0]
    assert fake.seen.count("schedule") == 2
    assert "schedule2" not in fake.seen


def test_known_command_is_never_renamed() -> None:
    fake = FakeRtorrent()
    client, _ = client_for(fake)
    assert len(client.d_multicall("main", ["d.hash"])) == 2
    assert "d.multicall2" in fake.seen and "d.multicall" not in fake.seen


def test_unencodable_parameter_names_the_method() -> None:
    client, transport = client_for(FakeRtorrent(), protocol="xml")
    with pytest.raises(ProtocolError, match=r"d\.custom\.set"):
        client.call("d.custom.set", "A" * 40, "key", object())
    assert transport.requests == []  # nothing was sent


@pytest.mark.parametrize("json_switch", [None, 1])
def test_a_large_multicall_is_split_below_the_request_limit(json_switch: int | None) -> None:
    fake = FakeRtorrent("0.16.17" if json_switch else "0.9.8", json_switch=json_switch)
    client, transport = client_for(fake)
    client.server_info()
    calls = [("d.name", ("A" * 40 if index % 2 else "C" * 40,)) for index in range(20_000)]
    first = len(transport.requests)

    results = client.multicall(calls)

    sizes = [len(body) for body, _ in transport.requests[first:]]
    assert len(sizes) > 1 and max(sizes) <= MULTICALL_REQUEST_LIMIT
    assert [result if isinstance(result, str) else type(result) for result in results] == [
        "Ubuntu ✓" if index % 2 else HashNotFound for index in range(20_000)
    ]


@pytest.mark.parametrize(("version", "json_switch", "sent"), [("0.9.8", None, False), ("0.16.17", 1, True)])
def test_a_request_above_the_servers_cap_is_refused_unsent(
    version: str, json_switch: int | None, sent: bool
) -> None:
    # 3 MiB of data: above what 0.9.8 accepts (it would reset the connection), below 0.16's 16 MiB.
    fake = FakeRtorrent(version, json_switch=json_switch)
    fake.methods["load.raw"] = lambda target, data: 0
    client, transport = client_for(fake)
    client.server_info()
    before = len(transport.requests)
    if sent:
        assert client.call("load.raw", "", b"x" * (3 << 20)) == 0
    else:
        with pytest.raises(RequestTooLarge) as refused:
            client.call("load.raw", "", b"x" * (3 << 20))
        assert refused.value.method == "load.raw"
        assert refused.value.limit == request_cap((0, 9, 8)) < refused.value.size
    assert len(transport.requests) - before == (1 if sent else 0)
