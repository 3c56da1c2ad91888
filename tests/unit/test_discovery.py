"""SCGI URL discovery: rtorrent.rc parsing and the resolution order."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pyrotorque.errors import ConfigError
from pyrotorque.rtorrent.discovery import resolve_url, scgi_url_from_rtorrent_rc
from pyrotorque.rtorrent.url import parse_url

HOME = os.path.expanduser("~")


def write_rc(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rtorrent.rc"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("network.scgi.open_local = /run/rt/rpc.socket\n", "scgi:///run/rt/rpc.socket"),
        ("scgi_local = /run/rt/rpc.socket\n", "scgi:///run/rt/rpc.socket"),
        ("network.scgi.open_local=~/rt/rpc.socket\n", f"scgi://{HOME}/rt/rpc.socket"),
        ('network.scgi.open_local = "/run/rt/rpc.socket"\n', "scgi:///run/rt/rpc.socket"),
        ("network.scgi.open_port = 127.0.0.1:5000\n", "scgi://127.0.0.1:5000"),
        ("scgi_port = localhost:5001\n", "scgi://localhost:5001"),
        ("network.scgi.open_port = 0.0.0.0:5002\n", "scgi://127.0.0.1:5002"),
        ("network.scgi.open_port = :5003\n", "scgi://127.0.0.1:5003"),
        ("network.scgi.open_port = [::]:5004\n", "scgi://[::1]:5004"),
        # the local socket wins, wherever it appears
        ("scgi_port = :5000\nnetwork.scgi.open_local = /x/s\n", "scgi:///x/s"),
        ("network.scgi.open_local = /x/s\nscgi_port = :5000\n", "scgi:///x/s"),
        # the last setting of a kind counts
        ("scgi_local = /old/s\nnetwork.scgi.open_local = /new/s\n", "scgi:///new/s"),
        # comments and backslash-continued commands are skipped
        ("# network.scgi.open_local = /commented/s\nscgi_port = :5000\n", "scgi://127.0.0.1:5000"),
        (
            "method.insert = x, simple, \\\n    network.scgi.open_local = /continued/s\nscgi_port = :5000\n",
            "scgi://127.0.0.1:5000",
        ),
        # (cat, …) with a string method defined earlier
        (
            'method.insert = cfg.basedir, private|const|string, (cat,"/srv/rt/")\n'
            "method.insert = cfg.home, private|const|string, /srv/rt/\n"
            'network.scgi.open_local = (cat,(cfg.home),".session/rpc.socket")\n',
            "scgi:///srv/rt/.session/rpc.socket",
        ),
        ("", None),
        ("session.path.set = /x/session\n", None),
    ],
)
def test_rtorrent_rc(tmp_path: Path, text: str, expected: str | None) -> None:
    assert scgi_url_from_rtorrent_rc(write_rc(tmp_path, text)) == expected


def test_dynamic_value_is_ignored(tmp_path: Path) -> None:
    rc = write_rc(tmp_path, "network.scgi.open_local = (cat,(session.path),rpc.socket)\nscgi_port = :5000\n")
    assert scgi_url_from_rtorrent_rc(rc) == "scgi://127.0.0.1:5000"


def test_missing_rc_is_none(tmp_path: Path) -> None:
    assert scgi_url_from_rtorrent_rc(tmp_path / "absent.rc") is None


def test_unreadable_rc_is_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        scgi_url_from_rtorrent_rc(tmp_path)  # a directory
    assert str(tmp_path) in str(caught.value)


@pytest.mark.parametrize("text", ["network.scgi.open_local = relative.socket\n", "scgi_port = nope\n"])
def test_bad_rc_values(tmp_path: Path, text: str) -> None:
    with pytest.raises(ConfigError):
        scgi_url_from_rtorrent_rc(write_rc(tmp_path, text))


def test_resolution_order(tmp_path: Path) -> None:
    rc = write_rc(tmp_path, "network.scgi.open_local = /from/rc\n")
    env = {"PYRO_SCGI_URL": "scgi:///from/env"}
    assert resolve_url("scgi:///from/cli", env, "scgi:///from/global", rc) == "scgi:///from/cli"
    assert resolve_url(None, env, "scgi:///from/global", rc) == "scgi:///from/env"
    assert resolve_url("", {"PYRO_SCGI_URL": " "}, "scgi:///from/global", rc) == "scgi:///from/global"
    assert resolve_url(None, {}, None, rc) == "scgi:///from/rc"
    assert resolve_url(None, {}, "", str(rc)) == "scgi:///from/rc"


def test_nothing_found_says_what_was_tried(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve_url(None, {}, None, tmp_path / "absent.rc")
    message = str(caught.value)
    for source in ("--url", "PYRO_SCGI_URL", "[GLOBAL] scgi_url", "absent.rc", "no such file"):
        assert source in message
    rc = write_rc(tmp_path, "# nothing\n")
    with pytest.raises(ConfigError, match=r"no network\.scgi\.open_local"):
        resolve_url(None, {}, None, rc)
    with pytest.raises(ConfigError, match="no path configured"):
        resolve_url(None, {}, None, None)


def test_bad_url_names_its_source() -> None:
    with pytest.raises(ConfigError, match="PYRO_SCGI_URL"):
        resolve_url(None, {"PYRO_SCGI_URL": "relative.socket"}, None, None)


@pytest.mark.parametrize(
    "socket_path",
    [
        "/tmp/rt #1/rpc.socket",
        "/tmp/what?/rpc.socket",
        "/tmp/a%41/rpc.socket",
        "/~/rpc.socket",
        "/tmp/ü.socket",
    ],
)
def test_socket_paths_from_rtorrent_rc_survive_url_parsing(tmp_path: Path, socket_path: str) -> None:
    rc = write_rc(tmp_path, f'network.scgi.open_local = "{socket_path}"\n')
    url = resolve_url(None, {}, None, rc)
    assert parse_url(url).path == socket_path
