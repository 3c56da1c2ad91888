"""SCGI framing: netstring requests, CGI-style responses; hypothesis round trips."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pyrotorque.errors import ProtocolError
from pyrotorque.rtorrent import scgi


def test_request_header_layout() -> None:
    framed = scgi.frame_request(b"<xml/>", "text/xml")
    assert framed == b"46:CONTENT_LENGTH\x006\x00SCGI\x001\x00CONTENT_TYPE\x00text/xml\x00,<xml/>"


def test_content_length_comes_first_and_extras_follow() -> None:
    head = scgi.request_head(3, "application/json", {"HTTP_X": "y"})
    fields = head[head.index(b":") + 1 : -1].split(b"\0")
    assert fields[:2] == [b"CONTENT_LENGTH", b"3"]
    assert fields[-3:] == [b"HTTP_X", b"y", b""]


@pytest.mark.parametrize("extra", [{"SCGI": "2"}, {"A\0B": "x"}, {"X": "a\0b"}, {"": "x"}])
def test_bad_request_headers_refused(extra: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        scgi.request_head(0, "text/xml", extra)


header_names = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=20
).filter(lambda name: name not in ("CONTENT_LENGTH", "SCGI", "CONTENT_TYPE"))
# No lone surrogates: they cannot be encoded, and no real header holds one.
header_values = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\0"), max_size=40
)


@given(
    body=st.binary(max_size=2000),
    content_type=header_values,
    extra=st.dictionaries(header_names, header_values, max_size=5),
)
def test_request_round_trip(body: bytes, content_type: str, extra: dict[str, str]) -> None:
    headers, parsed_body = scgi.parse_request(scgi.frame_request(body, content_type, extra))
    assert parsed_body == body
    assert headers["CONTENT_LENGTH"] == str(len(body))
    assert headers["SCGI"] == "1"
    assert headers["CONTENT_TYPE"] == content_type
    for name, value in extra.items():
        assert headers[name] == value


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"x:abc,",
        b"5:abc",
        b"13:CONTENT_LENGTH\x00,",
        b"20:SCGI\x001\x00CONTENT_LENGTH\x000\x00,",
        b"24:CONTENT_LENGTH\x005\x00SCGI\x001\x00,abc",
    ],
)
def test_bad_requests_refused(data: bytes) -> None:
    with pytest.raises(ProtocolError):
        scgi.parse_request(data)


@given(
    body=st.binary(max_size=5000),
    newline=st.sampled_from([b"\r\n", b"\n"]),
    content_type=st.sampled_from(["text/xml", "application/json"]),
)
def test_response_round_trip(body: bytes, newline: bytes, content_type: str) -> None:
    head, parsed = scgi.split_response(scgi.frame_response(body, content_type, newline=newline))
    assert parsed == body
    assert head.status == 200
    assert head.headers["content-type"] == content_type
    assert head.content_length == len(body)


@given(body=st.binary(max_size=3000), cut=st.integers(min_value=0, max_value=100))
def test_incomplete_head_is_none_until_complete(body: bytes, cut: int) -> None:
    framed = scgi.frame_response(body)
    head = scgi.parse_response_head(framed)
    assert head is not None
    end = min(cut, head.body_offset - 1)
    assert scgi.parse_response_head(bytearray(framed), end) is None


def test_status_and_missing_status() -> None:
    head, body = scgi.split_response(b"Status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\nnope")
    assert (head.status, head.reason, body) == (404, "Not Found", b"nope")
    head, body = scgi.split_response(b"Content-Type: text/xml\n\n<x/>")
    assert (head.status, head.content_length, body) == (200, None, b"<x/>")


def test_blank_line_inside_body_is_not_the_head_end() -> None:
    head, body = scgi.split_response(b"Status: 200 OK\r\n\r\nline\n\nmore")
    assert body == b"line\n\nmore"
    assert head.status == 200


@pytest.mark.parametrize(
    "data",
    [
        b"no separator",
        b"Status: abc\r\n\r\n",
        b"Bad header line\r\n\r\n",
        b"Content-Length: 10\r\n\r\nshort",
    ],
)
def test_bad_responses_refused(data: bytes) -> None:
    with pytest.raises(ProtocolError):
        scgi.split_response(data)


def test_endless_head_refused() -> None:
    with pytest.raises(ProtocolError):
        scgi.parse_response_head(b"X-Filler: " + b"a" * 70000)
