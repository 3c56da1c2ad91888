"""Magnet links and their stand-in metafiles: the strict check, the info hash (hex and base32)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from pyrotorque.errors import MetafileError
from pyrotorque.magnet import MAX_URI_LENGTH, is_bare_link, parse_magnet_uri, standin_bytes
from pyrotorque.metafile import parse_metafile, read_metafile

HEX = "0123456789abcdef0123456789abcdef01234567"
HASH = HEX.upper()
B32 = base64.b32encode(bytes.fromhex(HEX)).decode()
TRACKER = "http://tracker.example:6969/announce"


def test_hex_hash_in_any_case_becomes_upper_case() -> None:
    for digits in (HEX, HASH):
        assert parse_magnet_uri(f"magnet:?xt=urn:btih:{digits}").info_hash == HASH


def test_base32_hash_in_any_case_is_decoded() -> None:
    assert len(B32) == 32
    for digits in (B32, B32.lower()):
        assert parse_magnet_uri(f"magnet:?xt=urn:btih:{digits}").info_hash == HASH


def test_name_and_trackers_are_unescaped() -> None:
    link = parse_magnet_uri(
        f"magnet:?xt=urn:btih:{HEX}&dn=Big+Buck%20Bunny%E2%9C%93&tr=http%3A%2F%2Ft1.example%2Fa"
        f"&tr={TRACKER}&xl=123&ws=http://seed.example/"
    )
    assert link.display_name == "Big Buck Bunny\u2713"
    assert link.trackers == ("http://t1.example/a", TRACKER)


def test_no_tracker_and_no_name() -> None:
    link = parse_magnet_uri(f"magnet:?xt=urn:btih:{HEX}")
    assert (link.display_name, link.trackers) == ("", ())


@pytest.mark.parametrize(
    ("uri", "problem"),
    [
        (f"MAGNET:?xt=urn:btih:{HEX}", "does not start with"),
        (f"magnet:xt=urn:btih:{HEX}", "does not start with"),
        ("magnet:?dn=nothing", "0 xt parameters"),
        (f"magnet:?xt=urn:btih:{HEX}&xt=urn:btih:{HEX}", "2 xt parameters"),
        (f"magnet:?xt=urn:btih:{HEX}&xt=urn:btmh:1220{'ab' * 32}", "2 xt parameters"),
        (f"magnet:?xt=urn:btmh:1220{'ab' * 32}", "not urn:btih:"),
        (f"magnet:?XT=urn:btih:{HEX}", "0 xt parameters"),
        (f"magnet:?xt=URN:BTIH:{HEX}", "not urn:btih:"),
        (f"magnet:?xt=urn:btih:{HEX[:39]}", "neither 40 hex"),
        (f"magnet:?xt=urn:btih:{'Z' * 40}", "neither 40 hex"),
        (f"magnet:?xt=urn:btih:{B32[:31]}1", "neither 40 hex"),
        (f"magnet:?xt=urn:btih:{HEX}&tr=notaurl", "is not a URL"),
        (f"magnet:?xt=urn:btih:{HEX}&tr=", "is not a URL"),
        (f"magnet:?xt=urn:btih:{HEX}&dn=a%2", "'%'"),
        (f"magnet:?xt=urn:btih:{HEX}&dn=a b", "printable ASCII"),
        (f"magnet:?xt=urn:btih:{HEX}\n", "printable ASCII"),
        (f"magnet:?xt=urn:btih:{HEX}&dn=\u00e9", "printable ASCII"),
        (f"magnet:?xt=urn:btih:{HEX}&&dn=x", "not key=value"),
        (f"magnet:?xt=urn:btih:{HEX}&dn", "not key=value"),
        ("magnet:?xt=urn:btih:" + "a" * MAX_URI_LENGTH, "longer than"),
    ],
)
def test_bad_links_are_refused(uri: str, problem: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_magnet_uri(uri)
    assert problem in str(caught.value)


def test_standin_is_a_metafile_with_the_links_hash() -> None:
    data = standin_bytes(f"magnet:?xt=urn:btih:{B32}&dn=Some+Name&tr={TRACKER}")
    assert data.startswith(b"d10:magnet-uri") and data.endswith(b"e")
    meta = parse_metafile(data)
    assert meta.magnet is not None
    assert (meta.info_hash, meta.name, meta.announce, meta.files, meta.size) == (
        HASH,
        "Some Name",
        TRACKER,
        (),
        0,
    )
    assert meta.data == data


def test_standin_without_a_name_is_named_as_rtorrent_names_it() -> None:
    assert parse_metafile(standin_bytes(f"magnet:?xt=urn:btih:{HEX}")).name == f"{HASH}.meta"


def test_standin_with_other_keys_is_accepted_as_rtorrent_does() -> None:
    uri = f"magnet:?xt=urn:btih:{HEX}".encode()
    data = b"d7:comment1:x10:magnet-uri%d:%se" % (len(uri), uri)
    assert parse_metafile(data).info_hash == HASH


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"d10:magnet-urii5ee", "magnet-uri is not a string"),
        (b"d10:magnet-uri6:magnete", "does not start with"),
        (b"d10:magnet-uri21:magnet:?xt=urn:btih:\xffe", "printable ASCII"),
        (standin_bytes(f"magnet:?xt=urn:btih:{HEX}") + b"x", "trailing data"),
    ],
)
def test_bad_standins_are_invalid_metafiles(data: bytes, problem: str) -> None:
    with pytest.raises(MetafileError) as caught:
        parse_metafile(data, "'x.torrent'")
    assert problem in str(caught.value)
    assert "'x.torrent'" in str(caught.value)


def test_a_metafile_with_info_is_never_taken_for_a_magnet() -> None:
    with pytest.raises(MetafileError, match="'info' is missing"):
        parse_metafile(b"d4:infoi1e10:magnet-uri6:magnete")


def test_bare_link_in_a_magnet_file_becomes_a_standin(tmp_path: Path) -> None:
    uri = f"magnet:?xt=urn:btih:{HEX}&tr={TRACKER}"
    path = tmp_path / "x.magnet"
    path.write_text(uri + "\n")
    meta = read_metafile(path)
    assert meta.data == standin_bytes(uri)
    assert meta.info_hash == HASH


def test_bare_link_is_refused_in_a_torrent_file(tmp_path: Path) -> None:
    path = tmp_path / "x.torrent"
    path.write_text(f"magnet:?xt=urn:btih:{HEX}\n")
    with pytest.raises(MetafileError, match="unexpected byte"):
        read_metafile(path)


def test_bad_bare_links_are_invalid(tmp_path: Path) -> None:
    path = tmp_path / "x.magnet"
    path.write_text(f"magnet:?xt=urn:btih:{HEX}\nmagnet:?xt=urn:btih:{HEX}\n")
    with pytest.raises(MetafileError, match="printable ASCII"):
        read_metafile(path)
    path.write_bytes(b"magnet:?xt=urn:btih:\xe9")
    with pytest.raises(MetafileError, match="not ASCII text"):
        read_metafile(path)


def test_bare_link_detection() -> None:
    assert is_bare_link(b"  magnet:?xt=x")
    assert not is_bare_link(standin_bytes("magnet:?xt=x"))
