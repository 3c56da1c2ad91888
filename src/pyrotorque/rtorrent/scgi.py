"""SCGI framing, without I/O: request headers as a netstring, CGI-style response headers.

A request is ``<len>:CONTENT_LENGTH<NUL><n><NUL>SCGI<NUL>1<NUL>…,<body>``; CONTENT_LENGTH must come
first. The answer is ``Status: 200 OK``-style header lines, an empty line (CRLF or bare LF) and the
body; a missing ``Status`` header means 200, as in CGI.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from pyrotorque.errors import ProtocolError

_MAX_NETSTRING_DIGITS = 10


def request_head(content_length: int, content_type: str, extra: Mapping[str, str] | None = None) -> bytes:
    """The netstring header that precedes a request body of ``content_length`` bytes."""
    pairs = [("CONTENT_LENGTH", str(content_length)), ("SCGI", "1"), ("CONTENT_TYPE", content_type)]
    if extra:
        pairs.extend(extra.items())
    names = set()
    parts = []
    for name, value in pairs:
        if name in names:
            raise ValueError(f"duplicate SCGI header {name}")
        if "\0" in name or "\0" in value or not name:
            raise ValueError(f"SCGI header {name!r} must be non-empty and hold no NUL")
        names.add(name)
        parts.append(f"{name}\0{value}\0")
    headers = "".join(parts).encode("utf-8")
    return b"%d:%s," % (len(headers), headers)


def frame_request(body: bytes, content_type: str, extra: Mapping[str, str] | None = None) -> bytes:
    """A complete SCGI request: header netstring followed by ``body``."""
    return request_head(len(body), content_type, extra) + body


def parse_request(data: bytes) -> tuple[dict[str, str], bytes]:
    """Split an SCGI request into its headers and body (the server side; used by tests and fakes)."""
    colon = data.find(b":", 0, _MAX_NETSTRING_DIGITS + 1)
    if colon <= 0 or not data[:colon].isdigit():
        raise ProtocolError("SCGI request does not start with a netstring length")
    size = int(data[:colon])
    end = colon + 1 + size
    if len(data) <= end or data[end : end + 1] != b",":
        raise ProtocolError("SCGI header netstring is truncated or not terminated by ','")
    fields = data[colon + 1 : end].split(b"\0")
    if fields[-1] != b"" or len(fields) % 2 != 1:
        raise ProtocolError("SCGI headers are not NUL-separated name/value pairs")
    headers: dict[str, str] = {}
    for index in range(0, len(fields) - 1, 2):
        headers[fields[index].decode("utf-8")] = fields[index + 1].decode("utf-8")
    if fields[0] != b"CONTENT_LENGTH" or not headers["CONTENT_LENGTH"].isdigit():
        raise ProtocolError("SCGI headers must start with a numeric CONTENT_LENGTH")
    body = data[end + 1 :]
    if len(body) != int(headers["CONTENT_LENGTH"]):
        raise ProtocolError(
            f"SCGI body has {len(body)} bytes, CONTENT_LENGTH says {headers['CONTENT_LENGTH']}"
        )
    return headers, body


@dataclass(frozen=True)
class ResponseHead:
    """The parsed header block of an SCGI response."""

    status: int
    reason: str
    headers: dict[str, str] = field(default_factory=dict)  # names lower-cased
    body_offset: int = 0  # where the body starts in the buffer that was parsed

    @property
    def content_length(self) -> int | None:
        """The body size the server announced, if it did."""
        value = self.headers.get("content-length")
        return int(value) if value is not None and value.isdigit() else None


# Header blocks are small; never scan a multi-megabyte body for the separator.
_HEAD_SEARCH_LIMIT = 64 * 1024


def find_head_end(buffer: bytes | bytearray, end: int | None = None) -> tuple[int, int] | None:
    """Locate the blank line ending the response headers: (end of headers, start of body), or None."""
    stop = min(len(buffer) if end is None else end, _HEAD_SEARCH_LIMIT)
    crlf = buffer.find(b"\r\n\r\n", 0, stop)
    lf = buffer.find(b"\n\n", 0, stop)
    if crlf < 0 and lf < 0:
        return None
    if crlf >= 0 and (lf < 0 or crlf < lf):
        return crlf, crlf + 4
    return lf, lf + 2


def parse_response_head(buffer: bytes | bytearray, end: int | None = None) -> ResponseHead | None:
    """Parse the response headers in ``buffer[:end]``; None while they are incomplete."""
    found = find_head_end(buffer, end)
    if found is None:
        if (len(buffer) if end is None else end) >= _HEAD_SEARCH_LIMIT:
            raise ProtocolError("SCGI response has no end of headers within 64 KiB")
        return None
    head_end, body_offset = found
    text = bytes(buffer[:head_end]).decode("latin-1")
    headers: dict[str, str] = {}
    for line in text.replace("\r\n", "\n").split("\n"):
        if not line:
            continue
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            raise ProtocolError(f"bad SCGI response header line {line[:80]!r}")
        headers[name.strip().lower()] = value.strip()
    status, reason = 200, "OK"
    if "status" in headers:
        code, _, reason = headers["status"].partition(" ")
        if not code.isdigit():
            raise ProtocolError(f"bad SCGI Status header {headers['status'][:80]!r}")
        status = int(code)
    return ResponseHead(status=status, reason=reason, headers=headers, body_offset=body_offset)


def split_response(data: bytes) -> tuple[ResponseHead, bytes]:
    """Split a complete response into its head and body (checked against Content-Length)."""
    head = parse_response_head(data)
    if head is None:
        raise ProtocolError("SCGI response has no header block")
    body = data[head.body_offset :]
    expected = head.content_length
    if expected is not None and expected != len(body):
        raise ProtocolError(f"SCGI response body has {len(body)} bytes, Content-Length says {expected}")
    return head, body


def frame_response(
    body: bytes, content_type: str = "text/xml", status: str = "200 OK", newline: bytes = b"\r\n"
) -> bytes:
    """A server's answer (for fakes and tests): Status, Content-Type, Content-Length, blank line, body."""
    lines = [f"Status: {status}", f"Content-Type: {content_type}", f"Content-Length: {len(body)}"]
    return newline.join(line.encode("latin-1") for line in lines) + newline * 2 + body
