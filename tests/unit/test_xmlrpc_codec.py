"""The XML-RPC codec: strict encoder, fast decoder that always agrees with xmlrpc.client."""

from __future__ import annotations

import contextlib
import gc
import math
import re
import xml.etree.ElementTree as ET
import xmlrpc.client
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from pyrotorque.errors import FaultError, HashNotFound, ProtocolError
from pyrotorque.gcpause import CollectorPause
from pyrotorque.rtorrent import xmlrpc as xmlrpc_module
from pyrotorque.rtorrent import xmlrpc_encode, xmlrpc_table, xmlrpc_tokens
from pyrotorque.rtorrent.codec import ParamEncodeError
from pyrotorque.rtorrent.xmlrpc import XMLRPC

DATA = Path(__file__).parent.parent / "data" / "rpc"
LINES = ("0.9.8", "0.16")


# ---------------------------------------------------------------------------------------------
# helpers


def assert_same(ours: Any, reference: Any) -> None:
    """Equal values of identical types all the way down (``True == 1`` does not count)."""
    assert type(ours) is type(reference), (ours, reference)
    if isinstance(reference, list):
        assert len(ours) == len(reference)
        for mine, theirs in zip(ours, reference, strict=True):
            assert_same(mine, theirs)
    elif isinstance(reference, dict):
        assert list(ours) == list(reference)
        for key in reference:
            assert_same(ours[key], reference[key])
    elif isinstance(reference, float) and math.isnan(reference):
        assert math.isnan(ours)
    else:
        assert ours == reference


def reference_outcome(body: bytes) -> tuple[str, Any]:
    """What xmlrpc.client makes of a body: ("value", first param), ("fault", Fault) or ("error", exc)."""
    try:
        values, _ = xmlrpc.client.loads(body, use_builtin_types=True)
    except xmlrpc.client.Fault as fault:
        return "fault", fault
    except Exception as exc:
        return "error", exc
    if not values:
        return "error", IndexError("no params")
    return "value", values[0]


def assert_agrees_with_stdlib(body: bytes) -> None:
    """Our decoder gives the stdlib's value, the same fault, or ProtocolError where it fails."""
    kind, expected = reference_outcome(body)
    if kind == "value":
        assert_same(XMLRPC.decode_response(body), expected)
    elif kind == "fault" and isinstance(expected.faultCode, int) and not isinstance(expected.faultCode, bool):
        with pytest.raises(FaultError) as caught:
            XMLRPC.decode_response(body)
        assert (caught.value.code, caught.value.message) == (expected.faultCode, str(expected.faultString))
    else:
        with pytest.raises(ProtocolError):
            XMLRPC.decode_response(body)


def response(value: Any) -> bytes:
    """The stdlib's methodResponse for one value."""
    return xmlrpc.client.dumps((value,), methodresponse=True, allow_none=True).encode("utf-8")


def indented(body: bytes, space: str = "  ", newline: str = "\n", self_closing: str = "/>") -> bytes:
    """The same document pretty-printed (whitespace only between tags), like other servers write it."""
    root = ET.fromstring(body)
    ET.indent(root, space=space)
    text = ET.tostring(root, encoding="unicode").replace(" />", self_closing)
    return ('<?xml version="1.0" encoding="UTF-8"?>' + newline + text.replace("\n", newline)).encode()


def tinyxml2_like(body: bytes) -> bytes:
    """tinyxml2's printer: 4-space indentation, ``<tag/>`` for empty elements."""
    return indented(body, space="    ")


def crlf(body: bytes) -> bytes:
    """xmlrpc-c's line ends."""
    return body.replace(b"\n", b"\r\n")


def compact(body: bytes) -> bytes:
    """No whitespace between tags at all (and no XML declaration)."""
    text = body.decode()
    text = re.sub(r">\n+<(?!/string>)", "><", text.split("?>", 1)[1].lstrip())
    return text.encode()


def implicit_strings(body: bytes) -> bytes:
    """``<value>text</value>`` instead of ``<value><string>text</string></value>``."""
    return body.replace(b"<value><string>", b"<value>").replace(b"</string></value>", b"</value>")


def as_i8(body: bytes) -> bytes:
    """``<i8>`` where the stdlib writes ``<int>``."""
    return body.replace(b"<int>", b"<i8>").replace(b"</int>", b"</i8>")


VARIANTS: list[Callable[[bytes], bytes]] = [
    lambda body: body,
    indented,
    tinyxml2_like,
    crlf,
    lambda body: crlf(tinyxml2_like(body)),
    compact,
    implicit_strings,
    as_i8,
]


# ---------------------------------------------------------------------------------------------
# encoding


def roundtrip(*params: Any) -> tuple[tuple[Any, ...], str | None]:
    return xmlrpc.client.loads(XMLRPC.encode_call("some.method", params), use_builtin_types=True)


def test_encode_call_scalars_roundtrip_through_the_stdlib() -> None:
    params = ("", "text", 7, -(2**31), 2**31 - 1, True, False, 1.5, b"\x00\xff bytes")
    assert roundtrip(*params) == (params, "some.method")


def test_encode_picks_i4_and_i8_by_size() -> None:
    body = XMLRPC.encode_call("m", [2**31 - 1, -(2**31), 2**31, -(2**31) - 1, 2**63 - 1, -(2**63)]).decode()
    assert re.findall(r"<(i4|i8)>", body) == ["i4", "i4", "i8", "i8", "i8", "i8"]
    assert roundtrip(2**31, 2**63 - 1, -(2**63))[0] == (2**31, 2**63 - 1, -(2**63))


def test_encode_booleans_are_not_ints() -> None:
    body = XMLRPC.encode_call("m", [True, 1]).decode()
    assert "<boolean>1</boolean>" in body and "<i4>1</i4>" in body


def test_encode_nested_containers() -> None:
    params = ([{"methodName": "d.name", "params": ["A" * 40]}, [1, [2, ["x"]]], ()],)
    (decoded,), _ = roundtrip(*params)
    assert decoded == [{"methodName": "d.name", "params": ["A" * 40]}, [1, [2, ["x"]]], []]


@pytest.mark.parametrize(
    "text",
    ["a & b", "<tag>", "]]>", "x > y", "quote \" ' ", "é ✓ 日本語 😀", "tab\tnewline\n", "cr\r", "\r\n"],
)
def test_encode_escapes_text_exactly(text: str) -> None:
    assert roundtrip(text, {text: text})[0] == (text, {text: text})
    body = XMLRPC.encode_call(text, [])
    assert xmlrpc.client.loads(body)[1] == text


@pytest.mark.parametrize(
    "char", ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1f", "\ufffe", "\uffff", "\ud800"]
)
def test_encode_refuses_characters_xml_cannot_carry(char: str) -> None:
    with pytest.raises(
        ParamEncodeError, match=rf"parameter 1 of d.custom1.set: character U\+{ord(char):04X}"
    ):
        XMLRPC.encode_call("d.custom1.set", ["A" * 40, f"bad{char}text"])
    with pytest.raises(ParamEncodeError):
        XMLRPC.encode_call("m", [{f"key{char}": 1}])


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "no type for NoneType"),
        (object(), "no type for object"),
        (2**63, "64 bits"),
        (-(2**63) - 1, "64 bits"),
        (math.inf, "not a finite number"),
        (math.nan, "not a finite number"),
        ({1: "x"}, "not a string"),
        ([1, [None]], r"parameter 0 of m\[1\]\[0\]"),
    ],
)
def test_encode_refuses_what_it_cannot_send(value: Any, message: str) -> None:
    with pytest.raises(ParamEncodeError, match=message):
        XMLRPC.encode_call("m", [value])


def test_param_encode_error_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError):
        XMLRPC.encode_call("m", [None])


def test_encode_multicall_is_system_multicall() -> None:
    body = XMLRPC.encode_multicall([("d.name", ["A" * 40]), ("view.size", ("", "main"))])
    (entries,), method = xmlrpc.client.loads(body)
    assert method == "system.multicall"
    assert entries == [
        {"methodName": "d.name", "params": ["A" * 40]},
        {"methodName": "view.size", "params": ["", "main"]},
    ]


# ---------------------------------------------------------------------------------------------
# decoding: real answers


@pytest.mark.parametrize("line", LINES)
def test_real_multicall_answer_decodes_like_the_stdlib(line: str) -> None:
    body = (DATA / f"rtorrent-{line}-multicall.xml").read_bytes()
    rows = XMLRPC.decode_response(body, "d.multicall2")
    assert_same(rows, xmlrpc.client.loads(body, use_builtin_types=True)[0][0])
    assert len(rows) == 5 and all(len(row) == 20 for row in rows)
    by_name = {row[1]: row for row in rows}
    assert by_name["plain-item"][13] == "tag & <b> ]] > é"
    assert "Ümlaut ✓ 日本語" in by_name
    assert "amp & <lt> \"q\" 'a'" in by_name
    assert by_name["tab\there"][0] == "786EFE249DD04915B87AD1AFF96E345311A7D45C"
    assert by_name["big-one"][8] > 2**32  # i8 intact


@pytest.mark.parametrize("line", LINES)
def test_real_multicall_answer_takes_the_fast_path(line: str) -> None:
    body = (DATA / f"rtorrent-{line}-multicall.xml").read_bytes()
    kind, values = xmlrpc_module._decode_fast(body.decode())
    assert kind == "params" and len(values[0]) == 5


@pytest.mark.parametrize("line", LINES)
def test_real_hash_fault_is_hash_not_found(line: str) -> None:
    body = (DATA / f"rtorrent-{line}-fault-hash.xml").read_bytes()
    with pytest.raises(HashNotFound) as caught:
        XMLRPC.decode_response(body, "d.name")
    assert caught.value.code == (-501 if line == "0.9.8" else -503)
    assert "info-hash" in caught.value.message
    assert caught.value.method == "d.name"


@pytest.mark.parametrize("line", LINES)
def test_real_unknown_method_fault(line: str) -> None:
    body = (DATA / f"rtorrent-{line}-fault-method.xml").read_bytes()
    with pytest.raises(FaultError) as caught:
        XMLRPC.decode_response(body, "no.such.method")
    assert not isinstance(caught.value, HashNotFound)
    assert (caught.value.code, caught.value.message) == (-506, "Method 'no.such.method' not defined")


@pytest.mark.parametrize("line", LINES)
def test_real_system_multicall_answer(line: str) -> None:
    body = (DATA / f"rtorrent-{line}-system-multicall.xml").read_bytes()
    calls = [
        ("d.name", ["5613446C4CC2857C0A0A3D0A56572FEF9AA5111C"]),
        ("d.name", ["0" * 40]),
        ("d.size_bytes", ["x"]),
    ]
    results = XMLRPC.decode_multicall(body, calls)
    assert results[0] == "Ümlaut ✓ 日本語"
    assert isinstance(results[1], HashNotFound) and results[1].method == "d.name"
    assert results[2] == 5572928145


def test_multicall_answer_of_the_wrong_length_is_a_protocol_error() -> None:
    body = response([["one"]])
    with pytest.raises(ProtocolError):
        XMLRPC.decode_multicall(body, [("a", []), ("b", [])])
    with pytest.raises(ProtocolError):
        XMLRPC.decode_multicall(response(["not a one-element list"]), [("a", [])])


# ---------------------------------------------------------------------------------------------
# decoding: forms and types


@pytest.mark.parametrize(
    ("value_xml", "expected"),
    [
        ("<string>abc</string>", "abc"),
        ("abc", "abc"),
        ("", ""),
        ("<string/>", ""),
        ("<string></string>", ""),
        ("  spaced  ", "  spaced  "),
        ("<i4>-5</i4>", -5),
        ("<i8>9223372036854775807</i8>", 2**63 - 1),
        ("<int>42</int>", 42),
        ("<boolean>1</boolean>", True),
        ("<boolean>0</boolean>", False),
        ("<double>-1.25</double>", -1.25),
        ("<base64>AP8=</base64>", b"\x00\xff"),
        ("<dateTime.iso8601>20240229T23:59:58</dateTime.iso8601>", datetime(2024, 2, 29, 23, 59, 58)),
        ("<nil/>", None),
        ("<string>a &amp; b &lt;c&gt; &quot;&apos;</string>", "a & b <c> \"'"),
        ("<string>&#233;&#x2713;&#128512;</string>", "é✓😀"),
        ("<string>line\r\nend\rx</string>", "line\nend\nx"),
        ("<string>keep&#13;cr</string>", "keep\rcr"),
        ("raw &gt; and > both", "raw > and > both"),
        ("<array><data/></array>", []),
        ("<array><data></data></array>", []),
        ("<struct/>", {}),
        (
            "<struct><member><name>k&amp;1</name><value><i4>1</i4></value></member>"
            "<member><name>k</name><value>v</value></member></struct>",
            {"k&1": 1, "k": "v"},
        ),
        ("\n  <array>\n  <data>\n    <value>\n      <i8>1</i8>\n    </value>\n  </data>\n</array>\n", [1]),
    ],
)
def test_decode_forms(value_xml: str, expected: Any) -> None:
    body = f"<?xml version='1.0'?><methodResponse><params><param><value>{value_xml}</value></param></params>"
    body += "</methodResponse>"
    assert_same(XMLRPC.decode_response(body.encode()), expected)
    assert_agrees_with_stdlib(body.encode())


def test_decode_first_of_several_params() -> None:
    body = b"<methodResponse><params><param><value>a</value></param><param><value>b</value></param></params>"
    body += b"</methodResponse>"
    assert XMLRPC.decode_response(body) == "a"


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"garbage",
        b"<methodResponse>",
        b"<methodResponse><params></params></methodResponse>",
        b"<methodResponse></methodResponse>",
        b"<methodResponse><params><param><value><i4>x</i4></value></param></params></methodResponse>",
        b"<methodResponse><params><param><value><boolean>2</boolean></value></param></params></methodResponse>",
        b"<methodResponse><params><param><value><string>a</i4></value></param></params></methodResponse>",
        b"<methodResponse><params><param><value><string>\x01</string></value></param></params></methodResponse>",
        b"<methodResponse><params><param><value><string>a]]>b</string></value></param></params></methodResponse>",
        b"<methodResponse><params><param><value>&bogus;</value></param></params></methodResponse>",
        b"<methodResponse><params><param><value>&#1;</value></param></params></methodResponse>",
        b"<methodResponse><params><param><value>\xff\xfe</value></param></params></methodResponse>",
        b"<methodResponse><params><param><value><array><data><value>1</value></data></struct></value>"
        b"</param></params></methodResponse>",
        b"<methodResponse><fault><value><struct><member><name>faultCode</name><value>x</value></member>"
        b"<member><name>faultString</name><value>m</value></member></struct></value></fault></methodResponse>",
        b"<methodResponse><fault><value><struct></struct></value></fault></methodResponse>",
        b"<methodResponse><fault><value><i4>1</i4></value></fault></methodResponse>",
    ],
)
def test_malformed_answers_are_protocol_errors(body: bytes) -> None:
    with pytest.raises(ProtocolError):
        XMLRPC.decode_response(body, "m")


@pytest.mark.parametrize(
    "body",
    [
        # all outside the fast path's grammar: the stdlib decides, and we must agree with it
        b"<?xml version='1.0' encoding='iso-8859-1'?><methodResponse><params><param><value>\xe9</value>"
        b"</param></params></methodResponse>",
        b"<methodResponse><!-- c --><params><param><value>a</value></param></params></methodResponse>",
        b"<methodResponse><params><param><value><![CDATA[<x>]]></value></param></params></methodResponse>",
        b"<methodResponse><params><param><value><string a='1'>x</string></value></param></params>"
        b"</methodResponse>",
        b"<methodResponse><params><param><value><ex:nil/></value></param></params></methodResponse>",
        b"<methodResponse><params><param><value><i1>3</i1></value></param></params></methodResponse>",
        b"<methodResponse><params><param><value><struct><value>1</value><member><name>a</name><value>2</value>"
        b"</member></struct></value></param></params></methodResponse>",
        b"<methodResponse><params><param><value><struct><member><name>a</name><value>1</value><value>2</value>"
        b"<value>3</value></member></struct></value></param></params></methodResponse>",
        b"<methodResponse><params><value>outside</value><param><value>in</value></param></params></methodResponse>",
        b"\xef\xbb\xbf<methodResponse><params><param><value>bom</value></param></params></methodResponse>",
        b"<methodResponse><params><param><value/></param></params></methodResponse>",
    ],
)
def test_unusual_answers_agree_with_the_stdlib(body: bytes) -> None:
    assert_agrees_with_stdlib(body)


def test_fault_struct_maps_code_and_message() -> None:
    body = xmlrpc.client.dumps(xmlrpc.client.Fault(-503, "Could not find view: x"), methodresponse=True)
    with pytest.raises(FaultError) as caught:
        XMLRPC.decode_response(body.encode(), "view.size")
    assert type(caught.value) is FaultError
    assert (caught.value.code, caught.value.message, caught.value.method) == (
        -503,
        "Could not find view: x",
        "view.size",
    )


# ---------------------------------------------------------------------------------------------
# hypothesis: random values, formats and garbage


def _scalars() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.text(),
        st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=8),
        st.integers(min_value=-(2**31), max_value=2**31 - 1),
        st.booleans(),
        st.floats(allow_nan=False),
        st.binary(max_size=40),
        st.datetimes(min_value=datetime(1000, 1, 1), max_value=datetime(9999, 12, 31)).map(
            lambda moment: moment.replace(microsecond=0)
        ),
        st.none(),
    )


VALUES = st.recursive(
    _scalars(),
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(st.text(max_size=8), children, max_size=4),
    ),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=VALUES, variant=st.sampled_from(range(len(VARIANTS))))
@example(value=[["A" * 40, "name", 0, 2**31 - 1, ""]] * 3, variant=4)
@example(value={"a": [], "b": {}, "c": [[]]}, variant=5)
def test_random_values_decode_like_the_stdlib(value: Any, variant: int) -> None:
    body = response(value)
    try:
        body = VARIANTS[variant](body)
    except ET.ParseError:
        assume(False)  # the stdlib wrote a document that is not XML (control characters): nothing to reformat
    assert_agrees_with_stdlib(body)


@settings(max_examples=200, deadline=None)
@given(
    value=st.recursive(
        st.integers(min_value=-(2**63), max_value=2**63 - 1) | st.text(), st.lists, max_leaves=20
    )
)
def test_our_encoding_of_64_bit_values_decodes_like_the_stdlib(value: Any) -> None:
    pieces: list[str] = []
    try:
        xmlrpc_encode._encode_value(value, pieces, "value")
    except ParamEncodeError:
        assume(False)
    body = f"<?xml version='1.0'?>\n<methodResponse><params><param>{''.join(pieces)}</param></params>"
    body += "</methodResponse>"
    assert_agrees_with_stdlib(body.encode())
    assert_same(XMLRPC.decode_response(body.encode()), value if not isinstance(value, tuple) else list(value))


@settings(max_examples=200, deadline=None)
@given(
    code=st.integers(min_value=-(2**31), max_value=2**31 - 1),
    message=st.text(),
    variant=st.sampled_from(range(5)),
)
def test_random_faults_decode_like_the_stdlib(code: int, message: str, variant: int) -> None:
    body = xmlrpc.client.dumps(xmlrpc.client.Fault(code, message), methodresponse=True).encode()
    try:
        body = VARIANTS[variant](body)
    except ET.ParseError:
        assume(False)
    assert_agrees_with_stdlib(body)
    if reference_outcome(body)[0] == "fault":
        with pytest.raises(FaultError) as caught:
            XMLRPC.decode_response(body)
        assert isinstance(caught.value, HashNotFound) == ("info-hash not found" in message.lower())


@settings(max_examples=300, deadline=None)
@given(value=VALUES, cut=st.integers(min_value=0), junk=st.binary(max_size=6), keep=st.integers(min_value=0))
def test_mangled_answers_agree_with_the_stdlib(value: Any, cut: int, junk: bytes, keep: int) -> None:
    body = response(value)
    cut %= len(body) + 1
    mangled = body[:cut] + junk + body[cut + keep % 8 :]
    assert_agrees_with_stdlib(mangled)


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=200))
def test_garbage_raises_protocol_error_and_nothing_else(data: bytes) -> None:
    with contextlib.suppress(ProtocolError, FaultError):
        XMLRPC.decode_response(data)


# ---------------------------------------------------------------------------------------------
# decoding: lists of rows of scalars (the answers to d.multicall2 & co. take their own fast path)

TRICKY_STRINGS = [
    "",
    " ",
    "  \t ",
    "\n",
    "\r\n",
    "a\rb",
    "<",
    "&",
    "a & b <c> ]] > d",
    "]]",
    "]]>",
    "<value><string>x</string></value>",
    "</string></value>\r\n<value><string>",
    "</data></array></value>\r\n<value><array><data>",
    "&amp;lt;",
    "é ✓ 日本語 😀",
    "\x00",
    "\x01",
    "\x1f",
    "\ufffe",
    "\uffff",
    "string>",
    "i8>1</i8>",
]

TEXTS = st.one_of(
    st.sampled_from(TRICKY_STRINGS),
    st.text(alphabet=st.characters(exclude_categories=("Cs", "Cc")), max_size=12),
    st.text(alphabet="ab <>&]\r\n\t;#x0123456789é✓", max_size=12),
    st.text(max_size=6),  # control characters too: no valid document carries them
)
INTEGERS = st.integers(min_value=-(2**63), max_value=2**63 - 1) | st.integers(min_value=-3, max_value=3)
CELLS = st.one_of(
    TEXTS,
    INTEGERS,
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),
)


@st.composite
def tables(draw: st.DrawFn) -> list[list[Any]]:
    """Rows of equal width, mostly one type per column (as rTorrent answers), now and then not."""
    width = draw(st.integers(min_value=1, max_value=5))
    kinds: list[st.SearchStrategy[Any]] = [TEXTS, INTEGERS, st.booleans(), CELLS]
    columns = [draw(st.sampled_from(kinds)) for _ in range(width)]
    rows = draw(
        st.lists(st.tuples(*columns).map(list), min_size=draw(st.sampled_from([0, 1, 1, 1])), max_size=6)
    )
    odd_one_out = draw(st.booleans())
    if rows and odd_one_out:
        # the odd one out: a nested list, a shorter or longer row, an empty row
        row = draw(st.sampled_from(range(len(rows))))
        odd = draw(st.sampled_from(["nested", "short", "long", "empty"]))
        if odd == "nested":
            rows[row][draw(st.sampled_from(range(width)))] = draw(st.lists(CELLS, max_size=3))
        elif odd == "short":
            rows[row] = rows[row][:-1]
        elif odd == "long":
            rows[row] = [*rows[row], draw(CELLS)]
        else:
            rows[row] = []
    return rows


def xml_text(text: str, references: bool) -> str:
    """Character data as a server could write it: markup escaped; maybe more references."""
    text = text.replace("&", "&amp;").replace("<", "&lt;")
    if references:
        text = (
            text.replace(">", "&gt;").replace("\r", "&#13;").replace("é", "&#233;").replace("✓", "&#x2713;")
        )
        text = text.replace('"', "&quot;").replace("'", "&apos;")
    return text


def xml_cell(value: Any, references: bool, int_tag: str) -> str:
    if isinstance(value, str):
        return f"<value><string>{xml_text(value, references)}</string></value>"
    if isinstance(value, bool):
        return f"<value><boolean>{int(value)}</boolean></value>"
    if isinstance(value, int):
        tag = "i8" if not -(2**31) <= value < 2**31 else int_tag
        return f"<value><{tag}>{value}</{tag}></value>"
    if isinstance(value, float):
        return f"<value><double>{value!r}</double></value>"
    return (
        "<value><array><data>"
        + "".join(xml_cell(item, references, int_tag) for item in value)
        + "</data></array></value>"
    )


TABLE_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\r\n<methodResponse>\r\n<params>\r\n'
TABLE_HEAD += "<param><value><array><data>\r\n"
TABLE_TAIL = "</data></array></value></param>\r\n</params>\r\n</methodResponse>\r\n"


def xmlrpc_c_table(rows: list[list[Any]], references: bool = False, int_tag: str = "i8") -> bytes:
    """A list of rows laid out like xmlrpc-c (rTorrent 0.9.8) and rTorrent 0.16 write it."""
    out = [TABLE_HEAD]
    for row in rows:
        out.append("<value><array><data>\r\n")
        out.extend(xml_cell(value, references, int_tag) + "\r\n" for value in row)
        out.append("</data></array></value>\r\n")
    out.append(TABLE_TAIL)
    return "".join(out).encode("utf-8")


def uses_tokenizer(body: bytes, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Whether decoding ``body`` falls back from the table path to the tokenizer."""
    calls = []
    original = xmlrpc_tokens._build

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(xmlrpc_tokens, "_build", spy)
    xmlrpc_module._decode_fast(body.decode("utf-8"))
    monkeypatch.undo()
    return bool(calls)


@pytest.mark.parametrize("line", LINES)
def test_real_multicall_answer_takes_the_table_path(line: str, monkeypatch: pytest.MonkeyPatch) -> None:
    body = (DATA / f"rtorrent-{line}-multicall.xml").read_bytes()
    assert not uses_tokenizer(body, monkeypatch)


def test_big_table_decodes_like_the_stdlib_on_the_table_path(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [
        [f"{index:040X}", f"name & <{index}> é", index % 3, 2**40 + index, index % 2 == 0, "", index * 0.5]
        for index in range(3000)
    ]
    body = xmlrpc_c_table(rows)
    assert_agrees_with_stdlib(body)
    assert_same(XMLRPC.decode_response(body), rows)
    assert not uses_tokenizer(body, monkeypatch)


@pytest.mark.parametrize(
    ("rows", "fast"),
    [
        ([["a", 1, True, 1.5]], True),
        ([["a", 1], ["b", 2], ["c", 3]], True),
        ([["only"]], True),
        ([["x"], ["y"]], True),
        ([[""], [" "], ["\r\n"], ["&amp;"]], True),
        ([[1, "a"], ["b", 2]], False),  # types swapped in one row
        ([[1, 2], [3]], False),
        ([[1], [2, 3]], False),
        ([[1, 2], []], False),
        ([[], [1, 2]], False),
        ([[1, [2, 3]], [4, [5, 6]]], False),
        ([["a\x00b"]], False),
        ([["a\x01b"]], False),
        ([["a\ufffeb"]], False),
        ([["]]>"]], False),
        ([[True, 1]], True),
        ([[2**63 - 1, -(2**63)]], True),
    ],
)
def test_table_shapes(rows: list[list[Any]], fast: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    body = xmlrpc_c_table(rows)
    assert_agrees_with_stdlib(body)
    if reference_outcome(body)[0] == "value":
        assert uses_tokenizer(body, monkeypatch) != fast


@pytest.mark.parametrize(
    "cell",
    [
        "<value><i8> 5 </i8></value>",
        "<value><i8>1_000</i8></value>",
        "<value><i8>+7</i8></value>",
        "<value><i8>٣</i8></value>",
        "<value><i8>007</i8></value>",
        "<value><i8>5.0</i8></value>",
        "<value><i8>&#49;</i8></value>",
        "<value><i8>1\r</i8></value>",
        "<value><i8></i8></value>",
        "<value><i4>5</i8></value>",
        "<value><boolean>2</boolean></value>",
        "<value><boolean> 1</boolean></value>",
        "<value><double>nan</double></value>",
        "<value><double>-inf</double></value>",
        "<value><double>1e400</double></value>",
        "<value><double>1_0.5</double></value>",
        "<value><string/></value>",
        "<value></value>",
        "<value>implicit</value>",
        "<value><string>a</string>b</value>",
        "<value><string>a &bogus; b</string></value>",
        "<value><string>a & b</string></value>",
        "<value><string>&#1;</string></value>",
        "<value><string>&#x1F600;</string></value>",
        "<value><string>line\r\nend\rx</string></value>",
        "<value><nil/></value>",
        "<value><base64>AP8=</base64></value>",
        "<value> <string>spaced</string> </value>",
        "<value><string>x</string></value><value><string>y</string></value>",
        "<value><array><data/></array></value>",
    ],
)
def test_odd_cells_in_a_table_agree_with_the_stdlib(cell: str) -> None:
    normal = "<value><i8>1</i8></value>\r\n<value><string>s</string></value>\r\n"
    rows = [normal, normal.replace("<value><i8>1</i8></value>", cell), normal]
    for layout in (rows, rows[::-1], [rows[1]], [cell.replace("i8", "string") + "\r\n"] * 2):
        body = (
            TABLE_HEAD
            + "".join(f"<value><array><data>\r\n{row}</data></array></value>\r\n" for row in layout)
            + TABLE_TAIL
        )
        assert_agrees_with_stdlib(body.encode())


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=tables(),
    references=st.booleans(),
    int_tag=st.sampled_from(["i4", "i8", "int"]),
    variant=st.sampled_from(range(len(VARIANTS))),
)
@example(rows=[["a", 1], ["b", 2]], references=False, int_tag="i8", variant=0)
@example(rows=[["a & <b>", "\r"], ["", " "]], references=True, int_tag="i8", variant=4)
def test_random_tables_decode_like_the_stdlib(
    rows: list[list[Any]], references: bool, int_tag: str, variant: int
) -> None:
    body = xmlrpc_c_table(rows, references, int_tag)
    assert_agrees_with_stdlib(body)
    try:
        body = VARIANTS[variant](body)
    except ET.ParseError:
        return  # not XML (e.g. a control character): checked as written above
    assert_agrees_with_stdlib(body)


@settings(max_examples=400, deadline=None)
@given(
    rows=tables(),
    cut=st.integers(min_value=0),
    junk=st.sampled_from(
        [
            b"",
            b"<",
            b"&",
            b"\x00",
            b"\x01",
            b"]]>",
            b"\r\n",
            b" ",
            b"</value>",
            b"<value><i8>",
            b"</value>\r\n<value><",
            b"</data></array></value>\r\n<value><array><data>\r\n",
            b"<value><string>x</string></value>\r\n",
        ]
    )
    | st.binary(max_size=4),
    keep=st.integers(min_value=0),
)
def test_mangled_tables_agree_with_the_stdlib(
    rows: list[list[Any]], cut: int, junk: bytes, keep: int
) -> None:
    body = xmlrpc_c_table(rows)
    cut %= len(body) + 1
    assert_agrees_with_stdlib(body[:cut] + junk + body[cut + keep % 12 :])


@pytest.mark.parametrize(
    "junk", ["&;", "\x00\x00", "ab", "  ", "\n\n", "\r\r", "]]", "\t\n", "é!", "\r\n\r\n", ""]
)
@pytest.mark.parametrize("where", [0, 1, 2])
def test_anything_between_rows_agrees_with_the_stdlib(junk: str, where: int) -> None:
    """What stands between two rows in place of the usual line end (the stdlib ignores stray text)."""
    body = xmlrpc_c_table([["a", 1], ["b", 2], ["c", 3], ["d", 4]]).decode()
    separator = "</data></array></value>\r\n<value><array><data>"
    position = [match.start() for match in re.finditer(re.escape(separator), body)][where]
    position += len("</data></array></value>")
    mangled = body[:position] + junk + body[position + 2 :]
    assert_agrees_with_stdlib(mangled.encode())


@pytest.mark.parametrize("width", [xmlrpc_table._TABLE_MAX_WIDTH, xmlrpc_table._TABLE_MAX_WIDTH + 1])
def test_wide_tables(width: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [
        [f"{row}.{column}" if column % 2 else row * column for column in range(width)] for row in range(3)
    ]
    body = xmlrpc_c_table(rows)
    assert_same(XMLRPC.decode_response(body), rows)
    assert uses_tokenizer(body, monkeypatch) == (width > xmlrpc_table._TABLE_MAX_WIDTH)


# ---------------------------------------------------------------------------------------------
# the garbage collector is held off while big answers are built, and restored afterwards


def big_table() -> bytes:
    body = xmlrpc_c_table([[f"{index:040X}", index] for index in range(5000)])
    assert len(body) >= xmlrpc_module._PAUSE_COLLECTOR_FROM
    return body


@pytest.mark.parametrize("enabled", [True, False])
def test_collector_is_off_while_decoding_a_big_answer_and_restored(
    enabled: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bool] = []
    original = xmlrpc_module._decode_fast

    def spy(text: str) -> tuple[str, list[Any]]:
        seen.append(gc.isenabled())
        return original(text)

    monkeypatch.setattr(xmlrpc_module, "_decode_fast", spy)
    was = gc.isenabled()
    try:
        if not enabled:
            gc.disable()
        assert len(XMLRPC.decode_response(big_table())) == 5000
        assert XMLRPC.decode_response(response("small")) == "small"
        assert gc.isenabled() == enabled
    finally:
        if was:
            gc.enable()
    assert seen == [False, enabled]  # the small answer leaves the collector alone


def test_collector_is_restored_when_decoding_fails() -> None:
    body = big_table()[:-200]  # cut off: the exact parser raises
    assert gc.isenabled()
    with pytest.raises(ProtocolError):
        XMLRPC.decode_response(body)
    assert gc.isenabled()


def test_collector_pause_overlapping_holders() -> None:
    pause = CollectorPause()
    assert gc.isenabled()
    first, second = pause.paused(), pause.paused()
    first.__enter__()
    second.__enter__()
    assert not gc.isenabled()
    first.__exit__(None, None, None)
    assert not gc.isenabled()  # the second holder is still building
    second.__exit__(None, None, None)
    assert gc.isenabled()
