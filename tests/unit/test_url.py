"""parse_url: every accepted form, and the refusals (ConfigError naming the URL, password masked)."""

from __future__ import annotations

import os

import pytest

from pyrotorque.errors import ConfigError
from pyrotorque.rtorrent.url import Endpoint, parse_url

HOME = os.path.expanduser("~")


@pytest.mark.parametrize(
    ("text", "kind", "path", "host", "port"),
    [
        ("scgi:///run/rt/rpc.socket", "unix", "/run/rt/rpc.socket", "", 0),
        ("scgi+unix:///run/rt/rpc.socket", "unix", "/run/rt/rpc.socket", "", 0),
        ("/run/rt/rpc.socket", "unix", "/run/rt/rpc.socket", "", 0),
        ("  /run/rt/rpc.socket\n", "unix", "/run/rt/rpc.socket", "", 0),
        ("~/rt/rpc.socket", "unix", f"{HOME}/rt/rpc.socket", "", 0),
        ("scgi://~/rt/rpc.socket", "unix", f"{HOME}/rt/rpc.socket", "", 0),
        ("scgi:///~/rt/rpc.socket", "unix", f"{HOME}/rt/rpc.socket", "", 0),
        ("scgi:///with%20space/s", "unix", "/with space/s", "", 0),
        ("scgi://127.0.0.1:5000", "tcp", "", "127.0.0.1", 5000),
        ("scgi://rt.example:5000/", "tcp", "", "rt.example", 5000),
        ("scgi://[::1]:5000", "tcp", "", "::1", 5000),
        ("http://rt.example/RPC2", "http", "/RPC2", "rt.example", 80),
        ("http://rt.example", "http", "/", "rt.example", 80),
        ("https://rt.example:8443/RPC2", "https", "/RPC2", "rt.example", 8443),
        ("https://rt.example/RPC2?session=1", "https", "/RPC2?session=1", "rt.example", 443),
    ],
)
def test_accepted_forms(text: str, kind: str, path: str, host: str, port: int) -> None:
    endpoint = parse_url(text)
    assert (endpoint.kind, endpoint.path, endpoint.host, endpoint.port) == (kind, path, host, port)
    assert endpoint.protocol is None
    assert endpoint.verify_tls is True


def test_endpoint_is_frozen() -> None:
    endpoint = parse_url("/x/rpc.socket")
    with pytest.raises(AttributeError):
        endpoint.path = "/y"  # type: ignore[misc]
    assert isinstance(endpoint, Endpoint)


@pytest.mark.parametrize(
    ("text", "protocol"),
    [
        ("scgi:///x/s?rpc=json", "json"),
        ("scgi:///x/s?rpc=XML", "xml"),
        ("scgi:///x/s?rpc=auto", None),
        ("scgi://h:1?rpc=json", "json"),
        ("https://h/RPC2?rpc=xml", "xml"),
    ],
)
def test_rpc_query_forces_protocol(text: str, protocol: str | None) -> None:
    assert parse_url(text).protocol == protocol


def test_basic_auth_and_verify_off() -> None:
    endpoint = parse_url("https://alice:s%3Acret@h:8443/RPC2?verify=no&rpc=json")
    assert (endpoint.username, endpoint.password) == ("alice", "s:cret")
    assert endpoint.verify_tls is False
    assert endpoint.protocol == "json"
    assert endpoint.path == "/RPC2"
    assert "cret" not in endpoint.url and "cret" not in repr(endpoint)
    assert endpoint.url.startswith("https://alice:***@h:8443/")


@pytest.mark.parametrize("word", ["no", "false", "0", "off", "NO"])
def test_verify_false_words(word: str) -> None:
    assert parse_url(f"https://h/?verify={word}").verify_tls is False


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("rpc.socket", "rpc.socket"),
        ("localhost:5000", "localhost:5000"),
        ("scgi://h", "needs a port"),
        ("scgi://h:70000", "bad port"),
        ("scgi://h:1/path", "takes no path"),
        ("scgi+unix://host/x", "names no host"),
        ("ftp://h/x", "unsupported scheme"),
        ("scgi:///x?rpc=yaml", "rpc="),
        ("scgi:///x?rpc=xml&rpc=json", "rpc="),
        ("scgi:///x?colour=blue", "unknown option colour"),
        ("http://h/?verify=no", "only applies to https"),
        ("https://h/?verify=maybe", "yes or no"),
        ("http:///RPC2", "no host"),
        ("~no-such-user-pyrotorque/x", "cannot expand"),
        ("scgi:///x#frag", "fragment"),
    ],
)
def test_refusals_name_the_url(text: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_url(text)
    assert fragment in str(caught.value)
    if text.strip():
        assert text.split("?")[0].split("#")[0] in str(caught.value)


def test_refusal_masks_password() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_url("http://bob:hunter2@h/?verify=no")
    assert "hunter2" not in str(caught.value)
    assert "bob:***@h" in str(caught.value)
