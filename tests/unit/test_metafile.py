"""The metafile reader: strict bdecoding, validation, the info hash from the file's own bytes."""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sandbox.metafiles import bencode, make_metafile

from pyrotorque.errors import MetafileError
from pyrotorque.metafile import MAX_METAFILE_SIZE, bdecode, parse_metafile, read_metafile

PIECE = b"\x01" * 20


def info_dict(**changes: Any) -> dict[str, Any]:
    info: dict[str, Any] = {"name": "item", "piece length": 16384, "pieces": PIECE, "length": 100}
    info.update(changes)
    return {key: value for key, value in info.items() if value is not None}


def meta_bytes(info: dict[str, Any] | None = None, **top: Any) -> bytes:
    meta: dict[str, Any] = {"announce": "http://tracker.example/announce", "info": info or info_dict()}
    meta.update(top)
    return bencode({key: value for key, value in meta.items() if value is not None})


def test_single_file_item() -> None:
    built = make_metafile("single.bin", size=300_000)
    parsed = parse_metafile(built.data)
    assert parsed.info_hash == built.info_hash
    assert parsed.name == "single.bin"
    assert parsed.files == ((("single.bin",), 300_000),)
    assert parsed.is_multi_file is False
    assert parsed.size == 300_000
    assert parsed.announce == "http://127.0.0.1:6969/announce"
    assert parsed.data == built.data
    assert parsed.path is None


def test_multi_file_item() -> None:
    built = make_metafile("album", [("cd1/a.flac", 1000), ("cd2/b.flac", 2000), ("cover.jpg", 0)])
    parsed = parse_metafile(built.data)
    assert parsed.info_hash == built.info_hash
    assert parsed.is_multi_file is True
    assert parsed.files == ((("cd1", "a.flac"), 1000), (("cd2", "b.flac"), 2000), (("cover.jpg",), 0))
    assert parsed.size == 3000


def test_read_metafile_keeps_the_path(tmp_path: Path) -> None:
    built = make_metafile("on-disk")
    target = tmp_path / "x.torrent"
    target.write_bytes(built.data)
    parsed = read_metafile(target)
    assert parsed.path == target
    assert parsed.info_hash == built.info_hash


def test_read_metafile_unreadable_names_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "gone.torrent"
    with pytest.raises(MetafileError, match=r"gone\.torrent"):
        read_metafile(missing)


def test_read_metafile_refuses_huge_files(tmp_path: Path) -> None:
    target = tmp_path / "big.torrent"
    with target.open("wb") as handle:
        handle.truncate(MAX_METAFILE_SIZE + 1)
    with pytest.raises(MetafileError, match=r"big\.torrent.*larger than"):
        read_metafile(target)


def test_read_metafile_reads_a_file_that_grew_after_its_size_was_taken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The buffer is sized from fstat; a writer still appending must not leave us with a truncated copy.
    built = make_metafile("grown")
    target = tmp_path / "grown.torrent"
    target.write_bytes(built.data)
    real_fstat = os.fstat

    def early_size(fd: int) -> os.stat_result:
        stat = list(real_fstat(fd))
        stat[6] = 10  # st_size as it was when the writer had written 10 bytes
        return os.stat_result(stat)

    monkeypatch.setattr("pyrotorque.metafile.os.fstat", early_size)
    assert read_metafile(target).info_hash == built.info_hash


def test_info_hash_is_taken_over_the_files_own_bytes_even_with_unsorted_keys() -> None:
    # Keys written out of order: a re-encoding would sort them and hash something else.
    info = b"d6:lengthi100e4:name4:item12:piece lengthi16384e6:pieces20:" + PIECE + b"e"
    unsorted = b"d4:info" + info + b"8:announce3:urle"
    parsed = parse_metafile(unsorted)
    assert parsed.info_hash == hashlib.sha1(info).hexdigest().upper()
    assert parsed.announce == "url"


def test_trackerless_metafiles_are_accepted() -> None:
    dht_only = parse_metafile(meta_bytes(announce=None, nodes=[["127.0.0.1", 6881]]))
    assert dht_only.announce == ""
    bare = parse_metafile(meta_bytes(announce=None))
    assert bare.announce == ""


def test_announce_list_gives_the_main_tracker_when_announce_is_missing() -> None:
    tiers = [[], ["udp://first.example:80"], ["http://second.example/a"]]
    parsed = parse_metafile(meta_bytes(None, announce=None, **{"announce-list": tiers}))
    assert parsed.announce == "udp://first.example:80"


def test_names_with_a_leading_dot_or_tilde_are_accepted() -> None:
    assert parse_metafile(meta_bytes(info_dict(name=".hidden"))).name == ".hidden"
    assert parse_metafile(meta_bytes(info_dict(name="~tilde"))).name == "~tilde"


def test_legacy_encoded_names_are_shown_with_replacement_characters() -> None:
    parsed = parse_metafile(meta_bytes(info_dict(name=b"caf\xe9")))
    assert parsed.name == "caf\ufffd"


def test_empty_item_with_one_hash_of_nothing_is_accepted() -> None:
    parsed = parse_metafile(meta_bytes(info_dict(length=0)))
    assert parsed.size == 0


MALFORMED = [
    (b"", "unexpected end"),
    (b"d4:info", "unexpected end"),
    (b"de junk", "trailing data"),
    (b"dee", "trailing data"),
    (b"i01e", "bad integer"),
    (b"i-0e", "bad integer"),
    (b"ie", "bad integer"),
    (b"i12", "unterminated integer"),
    (b"03:abc", "bad integer"),
    (b"5:abc", "runs past the end"),
    (b"l", "unterminated list"),
    (b"d", "unterminated dictionary"),
    (b"di1e1:ae", "key is not a string"),
    (b"d1:ai1e1:ai2ee", "duplicate dictionary key"),
    (b"x", "unexpected byte"),
    (b"l" * 100 + b"e" * 100, "nested deeper"),
]


@pytest.mark.parametrize(("data", "reason"), MALFORMED)
def test_malformed_bencode_is_rejected(data: bytes, reason: str) -> None:
    with pytest.raises(MetafileError, match=reason):
        parse_metafile(data, "'sample.torrent'")
    with pytest.raises(MetafileError, match=reason):
        bdecode(data)


def test_error_names_the_source() -> None:
    with pytest.raises(MetafileError, match=r"invalid metafile 'where\.torrent': top level"):
        parse_metafile(b"le", "'where.torrent'")


INVALID = [
    (bencode([1]), "top level is not a dictionary"),
    (bencode({"announce": "x"}), "'info' is missing"),
    (bencode({"announce": "x", "info": "text"}), "'info' is missing"),
    (meta_bytes(announce=5), "announce URL is not a string"),
    (meta_bytes(None, announce=None, **{"announce-list": ["flat"]}), "announce-list"),
    (meta_bytes(info_dict(name=None)), "name is not a string"),
    (meta_bytes(info_dict(name="")), "unsafe name ''"),
    (meta_bytes(info_dict(name="..")), "unsafe name"),
    (meta_bytes(info_dict(name=".")), "unsafe name"),
    (meta_bytes(info_dict(name="a/b")), "unsafe name"),
    (meta_bytes(info_dict(name="/etc")), "unsafe name"),
    (meta_bytes(info_dict(name="nul\0byte")), "unsafe name"),
    (meta_bytes(info_dict(length=None)), "exactly one of"),
    (meta_bytes(info_dict(files=[{"path": ["a"], "length": 100}])), "exactly one of"),
    (meta_bytes(info_dict(length=-1)), "length is not a non-negative"),
    (meta_bytes(info_dict(length="100")), "length is not a non-negative"),
    (meta_bytes(info_dict(length=None, files=[])), "non-empty list"),
    (meta_bytes(info_dict(length=None, files=["x"])), r"files\[0\] is not a dictionary"),
    (meta_bytes(info_dict(length=None, files=[{"path": [], "length": 1}])), "path is not a non-empty"),
    (meta_bytes(info_dict(length=None, files=[{"path": ["a", ".."], "length": 1}])), "unsafe files"),
    (meta_bytes(info_dict(length=None, files=[{"path": ["", "a"], "length": 1}])), "unsafe files"),
    (meta_bytes(info_dict(length=None, files=[{"path": ["a/b"], "length": 1}])), "unsafe files"),
    (meta_bytes(info_dict(length=None, files=[{"path": [1], "length": 1}])), "not a string"),
    (meta_bytes(info_dict(length=None, files=[{"path": ["a"]}])), "length is not a non-negative"),
    (
        meta_bytes(
            info_dict(length=None, files=[{"path": ["a"], "length": 1}, {"path": ["a"], "length": 2}])
        ),
        "duplicate file path 'a'",
    ),
    (meta_bytes(info_dict(pieces=b"\x01" * 19)), "20-byte hashes"),
    (meta_bytes(info_dict(pieces=None)), "20-byte hashes"),
    (meta_bytes(info_dict(**{"piece length": 0})), "'piece length' is not a positive"),
    (meta_bytes(info_dict(length=16385)), "1 piece hashes for 16385 bytes"),
    (meta_bytes(info_dict(pieces=PIECE * 2)), "2 piece hashes for 100 bytes"),
]


@pytest.mark.parametrize(("data", "reason"), INVALID)
def test_invalid_metafiles_are_rejected_with_the_reason(data: bytes, reason: str) -> None:
    with pytest.raises(MetafileError, match=reason):
        parse_metafile(data)


# --- Property tests against the test-support builder --------------------------------------------------

safe_part = st.text(
    st.characters(blacklist_characters="/\0", blacklist_categories=["Cs"]), min_size=1, max_size=12
).filter(lambda text: text not in (".", ".."))


@given(
    name=safe_part,
    paths=st.lists(st.lists(safe_part, min_size=1, max_size=3), min_size=1, max_size=6, unique_by=tuple),
    lengths=st.lists(st.integers(min_value=0, max_value=5 << 20), min_size=6, max_size=6),
    tracker=st.text(max_size=30),
)
def test_multi_file_round_trip(name: str, paths: list[list[str]], lengths: list[int], tracker: str) -> None:
    files = [("/".join(parts), length) for parts, length in zip(paths, lengths, strict=False)]
    built = make_metafile(name, files, tracker=tracker, piece_length=1 << 16)
    parsed = parse_metafile(built.data)
    assert parsed.info_hash == built.info_hash
    assert parsed.name == name
    assert parsed.files == tuple(
        (tuple(parts), length) for parts, (_, length) in zip(paths, files, strict=False)
    )
    assert parsed.size == built.size
    assert parsed.announce == tracker


@given(name=safe_part, size=st.integers(min_value=0, max_value=1 << 30), private=st.booleans())
def test_single_file_round_trip(name: str, size: int, private: bool) -> None:
    built = make_metafile(name, size=size, private=private, piece_length=1 << 20)
    parsed = parse_metafile(built.data)
    assert (parsed.info_hash, parsed.name, parsed.size) == (built.info_hash, name, size)
    assert parsed.files == (((name,), size),)


@given(data=st.binary(max_size=200))
def test_arbitrary_bytes_either_parse_or_raise_metafile_error(data: bytes) -> None:
    # Anything else (IndexError, RecursionError, UnicodeError) would fail the test.
    with contextlib.suppress(MetafileError):
        parse_metafile(data)


@given(cut=st.integers(min_value=0))
def test_every_truncation_is_rejected(cut: int) -> None:
    data = make_metafile("truncated", [("a", 10), ("b", 20)]).data
    with pytest.raises(MetafileError):
        parse_metafile(data[: cut % len(data)])
