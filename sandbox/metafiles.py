"""Deterministic, valid BitTorrent metafiles for tests and benchmarks (own bencode codec)."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_TRACKER = "http://127.0.0.1:6969/announce"
DEFAULT_SIZE = 1 << 20
DEFAULT_PIECE_LENGTH = 256 << 10
_SHA1_SIZE = 20
# Payload is generated and hashed in blocks so large items never sit in memory whole.
_BLOCK = 1 << 20


class BencodeError(ValueError):
    """The input is not canonical bencode."""


Bencodable = int | bytes | str | list[Any] | tuple[Any, ...] | dict[Any, Any]


def bencode(value: Bencodable) -> bytes:
    """Encode ints, bytes, str (as UTF-8), lists/tuples and dicts (keys sorted as bytes)."""
    out: list[bytes] = []
    _encode_into(value, out)
    return b"".join(out)


def _encode_into(value: Any, out: list[bytes]) -> None:
    # bool is an int subclass; bencode has no booleans, so refuse rather than guess.
    if isinstance(value, bool):
        raise TypeError("bencode has no booleans; use 0 or 1")
    if isinstance(value, int):
        out.append(b"i%de" % value)
    elif isinstance(value, str):
        _encode_into(value.encode("utf-8"), out)
    elif isinstance(value, bytes | bytearray):
        out.append(b"%d:" % len(value))
        out.append(bytes(value))
    elif isinstance(value, list | tuple):
        out.append(b"l")
        for element in value:
            _encode_into(element, out)
        out.append(b"e")
    elif isinstance(value, dict):
        keys = {(key.encode("utf-8") if isinstance(key, str) else key): key for key in value}
        if len(keys) != len(value):
            raise ValueError("dict has keys that collide once encoded")
        if not all(isinstance(key, bytes) for key in keys):
            raise TypeError("bencode dict keys must be str or bytes")
        out.append(b"d")
        for encoded_key in sorted(keys):
            _encode_into(encoded_key, out)
            _encode_into(value[keys[encoded_key]], out)
        out.append(b"e")
    else:
        raise TypeError(f"cannot bencode {type(value).__name__}")


def bdecode(data: bytes) -> Any:
    """Decode canonical bencode; strings come back as bytes, dict keys as bytes."""
    value, end = _decode_at(data, 0)
    if end != len(data):
        raise BencodeError(f"trailing data at offset {end}")
    return value


def _decode_at(data: bytes, pos: int) -> tuple[Any, int]:
    if pos >= len(data):
        raise BencodeError("unexpected end of data")
    lead = data[pos : pos + 1]
    if lead == b"i":
        end = data.find(b"e", pos)
        if end < 0:
            raise BencodeError(f"unterminated integer at offset {pos}")
        return _parse_int(data[pos + 1 : end], pos), end + 1
    if lead == b"l":
        items: list[Any] = []
        pos += 1
        while data[pos : pos + 1] != b"e":
            item, pos = _decode_at(data, pos)
            items.append(item)
        return items, pos + 1
    if lead == b"d":
        result: dict[bytes, Any] = {}
        previous: bytes | None = None
        pos += 1
        while data[pos : pos + 1] != b"e":
            key, pos = _decode_at(data, pos)
            if not isinstance(key, bytes):
                raise BencodeError(f"dict key is not a string at offset {pos}")
            if previous is not None and key <= previous:
                raise BencodeError(f"dict keys not strictly sorted at offset {pos}")
            result[key], pos = _decode_at(data, pos)
            previous = key
        return result, pos + 1
    if lead.isdigit():
        colon = data.find(b":", pos)
        if colon < 0:
            raise BencodeError(f"string length without ':' at offset {pos}")
        length = _parse_int(data[pos:colon], pos)
        if length < 0 or data[pos : pos + 1] == b"-":
            raise BencodeError(f"negative string length at offset {pos}")
        end = colon + 1 + length
        if end > len(data):
            raise BencodeError(f"string runs past the end at offset {pos}")
        return data[colon + 1 : end], end
    raise BencodeError(f"unexpected byte {lead!r} at offset {pos}")


def _parse_int(digits: bytes, pos: int) -> int:
    text = digits.decode("ascii", "replace")
    body = text.removeprefix("-")
    # Canonical form only: no "-0", no leading zeros, no sign tricks.
    if not body.isdigit() or not body.isascii() or text == "-0" or (len(body) > 1 and body[0] == "0"):
        raise BencodeError(f"bad integer {text!r} at offset {pos}")
    return int(text)


@dataclass(frozen=True)
class Metafile:
    """One built metafile: its bytes, its info hash (upper-case hex) and the item name."""

    data: bytes
    info_hash: str
    name: str
    size: int = 0
    files: tuple[tuple[str, int], ...] = ()


def info_hash_of(metafile: bytes) -> str:
    """The upper-case hex SHA-1 of the bencoded ``info`` dict of a metafile."""
    meta = bdecode(metafile)
    return hashlib.sha1(bencode(meta[b"info"])).hexdigest().upper()


def make_metafile(
    name: str,
    files: Sequence[tuple[str, int]] | None = None,
    *,
    size: int = DEFAULT_SIZE,
    tracker: str = DEFAULT_TRACKER,
    private: bool = False,
    piece_length: int = DEFAULT_PIECE_LENGTH,
    payload_dir: Path | None = None,
    seed: int = 0,
    comment: str | None = None,
) -> Metafile:
    """Build a deterministic metafile; with ``payload_dir``, also write its payload there.

    ``files`` makes a multi-file item (paths relative to the item directory, "/" separated);
    without it the item is one file of ``size`` bytes.  Without ``payload_dir`` the piece
    hashes are derived from the seed (cheap, but a hash check finds nothing); with it the real
    payload is written to ``payload_dir/name[/path]`` and the pieces match it, so a hash check
    finds the item complete.  The same arguments always give the same bytes.
    """
    if piece_length <= 0 or piece_length & (piece_length - 1):
        raise ValueError(f"piece_length must be a power of two, got {piece_length}")
    file_list = tuple((path, int(length)) for path, length in files) if files is not None else ()
    if any(length < 0 for _, length in file_list) or size < 0:
        raise ValueError("sizes must not be negative")
    total = sum(length for _, length in file_list) if files is not None else size
    info: dict[str, Any] = {"name": name, "piece length": piece_length}
    if files is not None:
        info["files"] = [{"length": length, "path": _path_parts(path)} for path, length in file_list]
    else:
        info["length"] = size
    if private:
        info["private"] = 1

    rng_seed = f"{seed}\0{name}"
    if payload_dir is None:
        info["pieces"] = _fake_pieces(rng_seed, _piece_count(total, piece_length))
    else:
        targets = (
            [(payload_dir / name / path, length) for path, length in file_list]
            if files is not None
            else [(payload_dir / name, size)]
        )
        info["pieces"] = _write_payload(rng_seed, targets, piece_length)

    meta: dict[str, Any] = {"announce": tracker, "created by": "pyrotorque tests", "info": info}
    if comment is not None:
        meta["comment"] = comment
    return Metafile(
        data=bencode(meta),
        info_hash=hashlib.sha1(bencode(info)).hexdigest().upper(),
        name=name,
        size=total,
        files=file_list if files is not None else ((name, size),),
    )


def _path_parts(path: str) -> list[str]:
    parts = [part for part in path.split("/") if part]
    if not parts or any(part in (".", "..") for part in parts):
        raise ValueError(f"bad file path in metafile: {path!r}")
    return parts


def _piece_count(total: int, piece_length: int) -> int:
    return max(1, -(-total // piece_length))


def _fake_pieces(rng_seed: str, count: int) -> bytes:
    rng = random.Random(rng_seed)
    return rng.randbytes(_SHA1_SIZE * count)


def _payload_blocks(rng_seed: str, targets: Sequence[tuple[Path, int]]) -> Iterator[bytes]:
    """Write each target file from one seeded byte stream and yield the stream in order."""
    rng = random.Random(rng_seed)
    for path, length in targets:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            remaining = length
            while remaining > 0:
                block = rng.randbytes(min(_BLOCK, remaining))
                handle.write(block)
                remaining -= len(block)
                yield block


def _write_payload(rng_seed: str, targets: Sequence[tuple[Path, int]], piece_length: int) -> bytes:
    pieces: list[bytes] = []
    pending = bytearray()
    for block in _payload_blocks(rng_seed, targets):
        pending += block
        while len(pending) >= piece_length:
            pieces.append(hashlib.sha1(pending[:piece_length]).digest())
            del pending[:piece_length]
    if pending or not pieces:
        pieces.append(hashlib.sha1(bytes(pending)).digest())
    return b"".join(pieces)
