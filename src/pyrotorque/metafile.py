"""Read and validate BitTorrent metafiles (``.torrent``): a strict bdecoder and the checks a loader needs.

The decoder is strict where sloppiness would change the info hash or hide a damaged file: no
trailing data, canonical integers and string lengths (no leading zeros, no ``-0``), no duplicate
dict keys, bounded nesting. Unsorted dict keys are accepted (some old creators wrote them); the
info hash is therefore taken over the ``info`` dict's exact bytes in the file, never over a
re-encoding, so it is the hash rTorrent computes too.

Validation follows the original's checks with two deliberate changes, see docs/treewatch.md:
trackerless metafiles (no ``announce``; DHT ``nodes`` and/or ``announce-list``, or nothing at all)
are accepted, and names may start with "." or "~". Names and path parts that could leave the
download directory or are empty ("", ".", "..", anything with "/" or NUL) are rejected.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyrotorque.errors import MetafileError
from pyrotorque.magnet import MagnetLink, is_bare_link, magnet_from_standin, standin_bytes

#: A metafile bigger than this is refused before it is read (a misnamed video file, not metadata).
MAX_METAFILE_SIZE = 64 << 20
_MAX_DEPTH = 64
_SHA1_SIZE = 20
_UNSAFE_PARTS = frozenset({"", ".", ".."})


@dataclass(frozen=True)
class Metafile:
    """A parsed, validated metafile: its bytes, info hash, name, main tracker and file list."""

    path: Path | None
    data: bytes
    info_hash: str
    name: str
    announce: str
    files: tuple[tuple[tuple[str, ...], int], ...]
    is_multi_file: bool
    #: Set for a magnet stand-in (``d10:magnet-uri...e``): no files, the hash comes from the link.
    magnet: MagnetLink | None = None

    @property
    def size(self) -> int:
        """Total payload size in bytes."""
        return sum(length for _parts, length in self.files)


class _BadData(ValueError):
    """Internal: the bencoded data is malformed; carries the reason."""


class _Decoder:
    """A strict recursive-descent bdecoder that remembers where the top-level ``info`` value lies."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.info_span: tuple[int, int] | None = None
        #: Each top-level key's span, from its key's first byte to the end of its value.
        self.top_spans: dict[bytes, tuple[int, int]] = {}

    def decode(self) -> Any:
        value, end = self._value(0, 0)
        if end != len(self.data):
            raise _BadData(f"trailing data at offset {end}")
        return value

    def _value(self, pos: int, depth: int) -> tuple[Any, int]:
        data = self.data
        if pos >= len(data):
            raise _BadData("unexpected end of data")
        if depth > _MAX_DEPTH:
            raise _BadData(f"nested deeper than {_MAX_DEPTH} levels at offset {pos}")
        lead = data[pos]
        if lead == 0x69:  # i
            end = data.find(b"e", pos + 1)
            if end < 0:
                raise _BadData(f"unterminated integer at offset {pos}")
            return _canonical_int(data[pos + 1 : end], pos), end + 1
        if lead == 0x6C:  # l
            items: list[Any] = []
            pos += 1
            while True:
                if pos >= len(data):
                    raise _BadData("unterminated list")
                if data[pos] == 0x65:  # e
                    return items, pos + 1
                item, pos = self._value(pos, depth + 1)
                items.append(item)
        if lead == 0x64:  # d
            return self._dict(pos, depth)
        if 0x30 <= lead <= 0x39:
            return self._string(pos)
        raise _BadData(f"unexpected byte {bytes([lead])!r} at offset {pos}")

    def _dict(self, pos: int, depth: int) -> tuple[dict[bytes, Any], int]:
        data = self.data
        result: dict[bytes, Any] = {}
        pos += 1
        while True:
            if pos >= len(data):
                raise _BadData("unterminated dictionary")
            if data[pos] == 0x65:
                return result, pos + 1
            if not 0x30 <= data[pos] <= 0x39:
                raise _BadData(f"dictionary key is not a string at offset {pos}")
            key_start = pos
            key, pos = self._string(pos)
            if key in result:
                raise _BadData(f"duplicate dictionary key {key!r} at offset {pos}")
            start = pos
            result[key], pos = self._value(pos, depth + 1)
            if depth == 0:
                self.top_spans[key] = (key_start, pos)
                if key == b"info":
                    self.info_span = (start, pos)

    def _string(self, pos: int) -> tuple[bytes, int]:
        data = self.data
        colon = data.find(b":", pos)
        if colon < 0:
            raise _BadData(f"string length without ':' at offset {pos}")
        length = _canonical_int(data[pos:colon], pos)
        if length < 0:
            raise _BadData(f"negative string length at offset {pos}")
        end = colon + 1 + length
        if end > len(data):
            raise _BadData(f"string runs past the end of the data at offset {pos}")
        return data[colon + 1 : end], end


def _canonical_int(digits: bytes, pos: int) -> int:
    """An integer in canonical form: optional '-', no leading zeros, no '-0'."""
    body = digits[1:] if digits[:1] == b"-" else digits
    if not body or not body.isdigit() or digits == b"-0" or (len(body) > 1 and body[:1] == b"0"):
        raise _BadData(f"bad integer {digits[:20]!r} at offset {pos}")
    return int(digits)


def bdecode(data: bytes) -> Any:
    """Decode strict bencode; MetafileError on malformed data. Strings and keys stay bytes."""
    try:
        return _Decoder(data).decode()
    except _BadData as exc:
        raise MetafileError(f"bad bencoded data: {exc}") from None


def without_keys(data: bytes, keys: Collection[bytes]) -> bytes:
    """The bencoded dictionary ``data`` without the top-level ``keys``, every other byte as it was.

    The kept entries are copied, not re-encoded, so the info dictionary (and so the info hash) stays
    exactly as it was even in a metafile whose keys are not sorted. MetafileError on malformed data.
    """
    decoder = _Decoder(data)
    try:
        if not isinstance(decoder.decode(), dict):
            raise _BadData("top level is not a dictionary")
    except _BadData as exc:
        raise MetafileError(f"bad bencoded data: {exc}") from None
    kept = (data[start:end] for key, (start, end) in decoder.top_spans.items() if key not in keys)
    return b"d" + b"".join(kept) + b"e"


def _text(value: bytes) -> str:
    # Old creators wrote names in legacy code pages; show them with replacement characters
    # instead of refusing a metafile rTorrent itself would load.
    return value.decode("utf-8", "replace")


def _safe_part(value: Any, what: str) -> str:
    """A name or path part as text; _BadData if it is not a string or could escape its directory."""
    if not isinstance(value, bytes):
        raise _BadData(f"{what} is not a string")
    text = _text(value)
    if text in _UNSAFE_PARTS or "/" in text or "\0" in text:
        raise _BadData(f"unsafe {what} {text!r}")
    return text


def _length(value: Any, what: str) -> int:
    if not isinstance(value, int) or value < 0:
        raise _BadData(f"{what} is not a non-negative integer")
    return value


def _file_list(info: dict[bytes, Any], name: str) -> tuple[tuple[tuple[str, ...], int], ...]:
    has_length, has_files = b"length" in info, b"files" in info
    if has_length == has_files:
        raise _BadData("info must have exactly one of 'length' and 'files'")
    if has_length:
        return (((name,), _length(info[b"length"], "length")),)
    entries = info[b"files"]
    if not isinstance(entries, list) or not entries:
        raise _BadData("'files' is not a non-empty list")
    files: list[tuple[tuple[str, ...], int]] = []
    seen: set[tuple[str, ...]] = set()
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise _BadData(f"files[{index}] is not a dictionary")
        raw_path = entry.get(b"path")
        if not isinstance(raw_path, list) or not raw_path:
            raise _BadData(f"files[{index}].path is not a non-empty list")
        parts = tuple(_safe_part(part, f"files[{index}].path part") for part in raw_path)
        if parts in seen:
            raise _BadData(f"duplicate file path {'/'.join(parts)!r}")
        seen.add(parts)
        files.append((parts, _length(entry.get(b"length"), f"files[{index}].length")))
    return tuple(files)


def _announce(meta: dict[bytes, Any]) -> str:
    """The main tracker URL: 'announce', else the first URL of 'announce-list', else ''."""
    if b"announce" in meta:
        if not isinstance(meta[b"announce"], bytes):
            raise _BadData("announce URL is not a string")
        return _text(meta[b"announce"])
    tiers = meta.get(b"announce-list")
    if tiers is None:
        return ""
    if not isinstance(tiers, list) or not all(
        isinstance(tier, list) and all(isinstance(url, bytes) for url in tier) for tier in tiers
    ):
        raise _BadData("announce-list is not a list of lists of strings")
    return next((_text(url) for tier in tiers for url in tier), "")


def _check_pieces(info: dict[bytes, Any], total: int) -> None:
    pieces, piece_length = info.get(b"pieces"), info.get(b"piece length")
    if not isinstance(pieces, bytes) or len(pieces) % _SHA1_SIZE:
        raise _BadData("'pieces' is not a string of 20-byte hashes")
    if not isinstance(piece_length, int) or piece_length <= 0:
        raise _BadData("'piece length' is not a positive integer")
    count = len(pieces) // _SHA1_SIZE
    expected = -(-total // piece_length)
    # An empty item has no pieces in theory, but creators write one hash of nothing; accept both.
    if count != expected and not (total == 0 and count == 1):
        raise _BadData(f"{count} piece hashes for {total} bytes in pieces of {piece_length}")


def parse_metafile(data: bytes, source: str = "<bytes>", *, path: Path | None = None) -> Metafile:
    """Decode and validate metafile bytes; MetafileError names ``source`` and the reason."""
    decoder = _Decoder(data)
    try:
        meta = decoder.decode()
        if not isinstance(meta, dict):
            raise _BadData("top level is not a dictionary")
        info = meta.get(b"info")
        if info is None and b"magnet-uri" in meta:
            return _magnet_standin(data, meta[b"magnet-uri"], source, path)
        if not isinstance(info, dict) or decoder.info_span is None:
            raise _BadData("'info' is missing or not a dictionary")
        name = _safe_part(info.get(b"name"), "name")
        files = _file_list(info, name)
        _check_pieces(info, sum(length for _parts, length in files))
        announce = _announce(meta)
    except _BadData as exc:
        raise MetafileError(f"invalid metafile {source}: {exc}") from None
    start, end = decoder.info_span
    return Metafile(
        path=path,
        data=data,
        info_hash=hashlib.sha1(data[start:end]).hexdigest().upper(),
        name=name,
        announce=announce,
        files=files,
        is_multi_file=b"files" in info,
    )


def _magnet_standin(data: bytes, uri: object, source: str, path: Path | None) -> Metafile:
    """A stand-in metafile: rTorrent names its item ``HASH.meta``; we show the link's ``dn`` if any."""
    link = magnet_from_standin(uri, source)
    announce = link.trackers[0] if link.trackers else ""
    name = link.display_name or f"{link.info_hash}.meta"
    return Metafile(path, data, link.info_hash, name, announce, (), False, magnet=link)


def read_metafile(path: Path) -> Metafile:
    """Read and parse a metafile from disk; read errors become MetafileError too.

    A ``.magnet`` file may hold the bare link as text; it becomes the stand-in rTorrent loads.
    """
    try:
        with path.open("rb", buffering=0) as handle:
            # A buffer the file's size, not the cap: read(cap) would allocate 64 MiB for every file.
            expected = min(os.fstat(handle.fileno()).st_size, MAX_METAFILE_SIZE) + 1
            data = handle.read(expected)
            if len(data) == expected:  # it grew since: read on, still up to the cap
                data += handle.read(MAX_METAFILE_SIZE + 1 - len(data))
    except OSError as exc:
        raise MetafileError(f"cannot read metafile {str(path)!r}: {exc.strerror or exc}") from exc
    if len(data) > MAX_METAFILE_SIZE:
        raise MetafileError(f"invalid metafile {str(path)!r}: larger than {MAX_METAFILE_SIZE} bytes")
    if path.suffix == ".magnet" and is_bare_link(data):
        try:
            data = standin_bytes(data.strip().decode("ascii"))
        except UnicodeDecodeError:
            raise MetafileError(f"invalid magnet file {str(path)!r}: not ASCII text") from None
    return parse_metafile(data, repr(str(path)), path=path)
