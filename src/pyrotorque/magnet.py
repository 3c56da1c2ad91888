"""Magnet links and the stand-in metafiles that carry them (``d10:magnet-uri<len>:magnet:?...e``).

Browsers and indexer tools save a magnet link as a tiny bencoded dictionary with one ``magnet-uri``
key; rTorrent loads such a file (``load.raw`` of its bytes) as a magnet item named ``HASH.meta``.
Some tools (Sonarr's and Radarr's blackhole) write the bare link as text into a ``.magnet`` file
instead; ``standin_bytes`` turns that into the stand-in rTorrent takes.

The check is strict, and no looser than rTorrent (measured on 0.9.8 and 0.16): the link starts with
``magnet:?``; it has exactly one ``xt``, which is ``urn:btih:`` with 40 hex digits or 32 base32
characters (any case), since rTorrent refuses a ``urn:btmh:`` (v2 or hybrid) link and takes the
last of several ``btih``; every ``%`` escape is well formed; the link is printable ASCII; every
``tr`` is a URL (``scheme://host...``). rTorrent itself takes 40 non-hex characters on 0.9.8 and
makes up a hash from them: a link like that is refused here.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from urllib.parse import unquote, unquote_to_bytes

from pyrotorque.errors import MetafileError

_PREFIX = "magnet:?"
_BTIH = "urn:btih:"
_HEX_HASH = re.compile(r"[0-9A-Fa-f]{40}")
_BASE32_HASH = re.compile(r"[A-Za-z2-7]{32}")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_TRACKER_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/?#\s]+.*")
#: A link longer than this is not a magnet link someone saved (a stand-in is ~100-2000 bytes).
MAX_URI_LENGTH = 64 << 10


@dataclass(frozen=True)
class MagnetLink:
    """A checked magnet link: its info hash (40 upper-case hex digits), display name and trackers."""

    uri: str
    info_hash: str
    display_name: str
    trackers: tuple[str, ...]


def _info_hash(value: str) -> str:
    """The info hash of an ``xt`` value, as 40 upper-case hex digits; ValueError names what is wrong."""
    if not value.startswith(_BTIH):
        raise ValueError(f"xt {value[:40]!r} is not urn:btih: (rTorrent loads only BitTorrent v1 links)")
    digits = value[len(_BTIH) :]
    if _HEX_HASH.fullmatch(digits):
        return digits.upper()
    if _BASE32_HASH.fullmatch(digits):
        return base64.b32decode(digits.upper()).hex().upper()
    raise ValueError(f"btih {digits[:48]!r} is neither 40 hex digits nor 32 base32 characters")


def _params(query: str) -> list[tuple[str, str]]:
    """The ``key=value`` parts of a link's query, values still %-escaped."""
    params = []
    for part in query.split("&"):
        key, equals, value = part.partition("=")
        if not key or not equals:
            raise ValueError(f"parameter {part[:40]!r} is not key=value")
        params.append((key, value))
    return params


def parse_magnet_uri(uri: str) -> MagnetLink:
    """Check a magnet link strictly; ValueError names the first problem."""
    if len(uri) > MAX_URI_LENGTH:
        raise ValueError(f"longer than {MAX_URI_LENGTH} characters")
    if not uri.isascii() or not uri.isprintable() or " " in uri:
        raise ValueError("contains characters other than printable ASCII (spaces must be escaped)")
    if not uri.startswith(_PREFIX):
        raise ValueError(f"does not start with {_PREFIX!r}")
    if _BAD_ESCAPE.search(uri):
        raise ValueError("has a '%' that is not followed by two hex digits")
    params = _params(uri[len(_PREFIX) :])
    topics = [value for key, value in params if key == "xt"]
    if len(topics) != 1:
        raise ValueError(f"has {len(topics)} xt parameters, not exactly one")
    info_hash = _info_hash(unquote(topics[0]))
    trackers = []
    for key, value in params:
        if key == "tr":
            tracker = unquote(value)
            if not _TRACKER_URL.fullmatch(tracker):
                raise ValueError(f"tracker {tracker[:60]!r} is not a URL")
            trackers.append(tracker)
    names = [value for key, value in params if key == "dn"]
    display_name = unquote_to_bytes(names[0].replace("+", " ")).decode("utf-8", "replace") if names else ""
    return MagnetLink(uri, info_hash, display_name, tuple(trackers))


def magnet_from_standin(value: object, source: str) -> MagnetLink:
    """The checked link of a stand-in's ``magnet-uri`` value; MetafileError names ``source``."""
    try:
        if not isinstance(value, bytes):
            raise ValueError("is not a string")
        try:
            text = value.decode("ascii")
        except UnicodeDecodeError:
            raise ValueError("contains characters other than printable ASCII") from None
        return parse_magnet_uri(text)
    except ValueError as exc:
        raise MetafileError(f"invalid magnet stand-in {source}: magnet-uri {exc}") from None


def standin_bytes(uri: str) -> bytes:
    """The bencoded stand-in rTorrent loads for a magnet link: ``d10:magnet-uri<len>:<uri>e``."""
    data = uri.encode("ascii")
    return b"d10:magnet-uri%d:%se" % (len(data), data)


def is_bare_link(data: bytes) -> bool:
    """True when a file holds a bare link as text (a ``.magnet`` file), not a bencoded stand-in."""
    return data.lstrip().startswith(_PREFIX.encode())
