"""The test-support metafile builder and its bencode codec."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sandbox.metafiles import BencodeError, bdecode, bencode, info_hash_of, make_metafile

# Everything bdecode can return: ints, byte strings, lists, dicts with byte-string keys.
bencoded_values = st.recursive(
    st.integers() | st.binary(max_size=40),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.binary(max_size=10), children, max_size=5)
    ),
    max_leaves=30,
)


@given(bencoded_values)
def test_bencode_round_trip(value: Any) -> None:
    assert bdecode(bencode(value)) == value


@given(bencoded_values)
def test_bencode_is_canonical(value: Any) -> None:
    encoded = bencode(value)
    assert bencode(bdecode(encoded)) == encoded


def test_bencode_known_encodings() -> None:
    assert bencode(0) == b"i0e"
    assert bencode(-42) == b"i-42e"
    assert bencode("spam") == b"4:spam"
    assert bencode(["a", 1]) == b"l1:ai1ee"
    # Keys are sorted as raw bytes, whatever order the dict has.
    assert bencode({"zz": 1, "a": b"", "B": []}) == b"d1:Ble1:a0:2:zzi1ee"


def test_bencode_encodes_str_as_utf8() -> None:
    assert bencode("é") == b"2:\xc3\xa9"


def test_bencode_rejects_booleans_and_floats() -> None:
    with pytest.raises(TypeError):
        bencode(True)
    with pytest.raises(TypeError):
        bencode(1.5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "bad",
    [
        b"",
        b"i01e",
        b"i-0e",
        b"ie",
        b"i1",
        b"5:abc",
        b"l",
        b"d1:bi1e1:ai2ee",
        b"d1:ai1e1:ai2ee",
        b"i1ei2e",
        b"x",
    ],
)
def test_bdecode_rejects_malformed_or_non_canonical(bad: bytes) -> None:
    with pytest.raises(BencodeError):
        bdecode(bad)


def test_info_hash_is_sha1_of_the_bencoded_info_dict() -> None:
    meta = make_metafile("item", size=300_000, piece_length=1 << 16)
    decoded = bdecode(meta.data)
    expected = hashlib.sha1(bencode(decoded[b"info"])).hexdigest().upper()
    assert meta.info_hash == expected == info_hash_of(meta.data)
    assert len(meta.info_hash) == 40


def test_same_arguments_give_identical_bytes() -> None:
    first = make_metafile("same", size=123_456, seed=7)
    assert make_metafile("same", size=123_456, seed=7) == first
    assert make_metafile("same", size=123_456, seed=8).info_hash != first.info_hash
    assert make_metafile("other", size=123_456, seed=7).info_hash != first.info_hash


def test_single_file_layout() -> None:
    meta = make_metafile(
        "single", size=100_000, piece_length=1 << 15, tracker="http://t.invalid/a", private=True
    )
    decoded = bdecode(meta.data)
    info = decoded[b"info"]
    assert decoded[b"announce"] == b"http://t.invalid/a"
    assert info[b"name"] == b"single"
    assert info[b"length"] == 100_000
    assert info[b"private"] == 1
    assert len(info[b"pieces"]) == 20 * 4  # ceil(100000 / 32768)
    assert meta.size == 100_000


def test_multi_file_layout() -> None:
    meta = make_metafile("multi", [("a.bin", 10), ("sub/dir/b.txt", 70_000)], piece_length=1 << 15)
    info = bdecode(meta.data)[b"info"]
    assert b"length" not in info
    assert b"private" not in info
    assert info[b"files"] == [
        {b"length": 10, b"path": [b"a.bin"]},
        {b"length": 70_000, b"path": [b"sub", b"dir", b"b.txt"]},
    ]
    assert len(info[b"pieces"]) == 20 * 3
    assert meta.size == 70_010


def _pieces_of(data: bytes, piece_length: int) -> bytes:
    return b"".join(
        hashlib.sha1(data[start : start + piece_length]).digest()
        for start in range(0, len(data), piece_length)
    )


def test_payload_matches_piece_hashes_single(tmp_path: Path) -> None:
    meta = make_metafile("one", size=70_001, piece_length=1 << 14, payload_dir=tmp_path)
    payload = (tmp_path / "one").read_bytes()
    assert len(payload) == 70_001
    assert bdecode(meta.data)[b"info"][b"pieces"] == _pieces_of(payload, 1 << 14)


def test_payload_matches_piece_hashes_across_file_boundaries(tmp_path: Path) -> None:
    files = [("x/first", 5_000), ("second", 40_000), ("third", 1)]
    meta = make_metafile("many", files, piece_length=1 << 14, payload_dir=tmp_path)
    payload = b"".join((tmp_path / "many" / path).read_bytes() for path, _ in files)
    assert len(payload) == 45_001
    assert bdecode(meta.data)[b"info"][b"pieces"] == _pieces_of(payload, 1 << 14)


def test_payload_is_deterministic(tmp_path: Path) -> None:
    first = make_metafile("p", size=50_000, payload_dir=tmp_path / "a", seed=3)
    second = make_metafile("p", size=50_000, payload_dir=tmp_path / "b", seed=3)
    assert first == second
    assert (tmp_path / "a" / "p").read_bytes() == (tmp_path / "b" / "p").read_bytes()


@pytest.mark.parametrize("piece_length", [0, 3000, -16384])
def test_piece_length_must_be_a_power_of_two(piece_length: int) -> None:
    with pytest.raises(ValueError):
        make_metafile("x", piece_length=piece_length)


@pytest.mark.parametrize("path", ["", "/", "a/../b", "./a"])
def test_bad_file_paths_are_rejected(path: str) -> None:
    with pytest.raises(ValueError):
        make_metafile("x", [(path, 1)])
