"""XML-RPC codec: a strict encoder and a fast decoder with an exact fallback to the stdlib parser.

The decoder has two fast paths. The answer to ``d.multicall2`` and its kin (a list of rows of
scalars, by far the biggest answers) is matched row by row with one pattern built from the layout
of its first row, and converted one column at a time. Any other answer is tokenized with one
regular expression (the scanning runs in C) and built in a tight loop. Both accept only a
strict subset of XML-RPC: the shapes xmlrpc-c (rTorrent 0.9.8) and rTorrent 0.16 write. Anything
else (comments, CDATA, attributes, odd encodings, unknown entities, misplaced values, ...) makes
them give up (the table path to the tokenizer, the tokenizer to ``xmlrpc.client.loads``), so the
result is always exactly what the stdlib gives with ``use_builtin_types=True``, only faster.
"""

from __future__ import annotations

import base64
import functools
import math
import re
import xmlrpc.client
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from pyrotorque.errors import FaultError, ProtocolError
from pyrotorque.gcpause import PAUSE_COLLECTOR_FROM, collector_paused
from pyrotorque.rtorrent.codec import Call, ParamEncodeError
from pyrotorque.rtorrent.faults import fault_error

# --------------------------------------------------------------------------------------------------
# Encoding

# Characters XML 1.0 cannot carry at all, not even as character references.
_UNENCODABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_I4_MIN, _I4_MAX = -(2**31), 2**31 - 1
_I8_MIN, _I8_MAX = -(2**63), 2**63 - 1


def _escape(text: str, where: str) -> str:
    """Escape text for element content; refuse characters XML cannot represent."""
    bad = _UNENCODABLE.search(text)
    if bad is not None:
        raise ParamEncodeError(
            f"cannot send {where}: character U+{ord(bad.group()):04X} at position {bad.start()} "
            "cannot be represented in XML"
        )
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if "\r" in text:
        # a literal CR would arrive as LF (XML end-of-line normalisation)
        text = text.replace("\r", "&#13;")
    return text


def _encode_value(value: Any, out: list[str], where: str) -> None:
    """Append the ``<value>`` element for one Python value to ``out``."""
    if isinstance(value, str):
        out.append(f"<value><string>{_escape(value, where)}</string></value>")
    elif isinstance(value, bool):
        out.append(f"<value><boolean>{int(value)}</boolean></value>")
    elif isinstance(value, int):
        if _I4_MIN <= value <= _I4_MAX:
            out.append(f"<value><i4>{value}</i4></value>")
        elif _I8_MIN <= value <= _I8_MAX:
            out.append(f"<value><i8>{value}</i8></value>")
        else:
            raise ParamEncodeError(f"cannot send {where}: integer {value} does not fit in 64 bits")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ParamEncodeError(f"cannot send {where}: {value!r} is not a finite number")
        out.append(f"<value><double>{value!r}</double></value>")
    elif isinstance(value, bytes | bytearray | memoryview):
        out.append(f"<value><base64>{base64.b64encode(value).decode('ascii')}</base64></value>")
    elif isinstance(value, list | tuple):
        out.append("<value><array><data>")
        for index, item in enumerate(value):
            _encode_value(item, out, f"{where}[{index}]")
        out.append("</data></array></value>")
    elif isinstance(value, dict):
        out.append("<value><struct>")
        for key, item in value.items():
            if not isinstance(key, str):
                raise ParamEncodeError(f"cannot send {where}: struct key {key!r} is not a string")
            out.append(f"<member><name>{_escape(key, where)}</name>")
            _encode_value(item, out, f"{where}[{key!r}]")
            out.append("</member>")
        out.append("</struct></value>")
    else:
        raise ParamEncodeError(f"cannot send {where}: XML-RPC has no type for {type(value).__name__}")


def encode_call(method: str, params: Sequence[Any]) -> bytes:
    """Encode one ``methodCall`` as UTF-8 bytes."""
    out = [
        '<?xml version="1.0"?>\n<methodCall><methodName>',
        _escape(method, "method name"),
        "</methodName><params>",
    ]
    for index, param in enumerate(params):
        out.append("<param>")
        _encode_value(param, out, f"parameter {index} of {method}")
        out.append("</param>")
    out.append("</params></methodCall>\n")
    return "".join(out).encode("utf-8")


# --------------------------------------------------------------------------------------------------
# Fast decoding


class _NotFast(Exception):
    """The fast path does not handle this answer; use the exact parser."""


_WS = "[ \t\r\n]*+"  # XML whitespace only (\s would also match Unicode spaces); possessive: no backtracking
_SCALARS = r"string|i4|i8|int|boolean|double|base64|dateTime\.iso8601|nil"
# Character data: no markup, and none of the characters a well-formed document cannot contain
# (expat refuses them; such an answer goes to the exact parser, which raises).
_TEXT = "[^<\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]*+"
# Character data that is exactly its value: no references to expand, no line ends to normalise.
_PLAIN_TEXT = "[^<&\r\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]*+"


def _tokenizer(text: str) -> re.Pattern[str]:
    """A tokenizer whose character data matches ``text``; one match: (scalar tag, scalar text, other).

    ``other`` is a structural token or a single character nothing else matched; every position of
    the body is covered, so nothing the fast path does not understand can slip through unseen.
    """
    return re.compile(
        _WS
        + "(?:"
        + f"<value>{_WS}<({_SCALARS})(?:/>|>({text})</\\1>){_WS}</value>"
        + "|("
        + f"<value>{text}</value>"
        + f"|<value>{_WS}<array>{_WS}<data>"
        + f"|</data>{_WS}</array>{_WS}</value>"
        + f"|<value>{_WS}<array>{_WS}<data/>{_WS}</array>{_WS}</value>"
        + f"|<value>{_WS}<struct>"
        + f"|</struct>{_WS}</value>"
        + f"|<value>{_WS}<struct/>{_WS}</value>"
        + f"|<member>{_WS}<name>{text}</name>"
        + "|</member>|<param>|</param>"
        + "|."
        + "))",
        re.DOTALL,
    )


# Two variants of one grammar: the common one where every scalar's text is its value as it
# stands, and one for answers with references or carriage returns inside character data.
_TOKEN_PLAIN = _tokenizer(_PLAIN_TEXT)
_TOKEN_ANY = _tokenizer(_TEXT)
_HEAD = re.compile(
    f"""(?:<\\?xml[ \t\r\n]+version=(["'])1\\.0\\1(?:[ \t\r\n]+encoding=(["'])(?i:utf-8)\\2)?{_WS}\\?>)?"""
    f"{_WS}<methodResponse>{_WS}<(params|fault)>"
)
_TAIL = re.compile(f"</(?:params|fault)>{_WS}</methodResponse>{_WS}")
_SPACES = re.compile("[ \t\r\n]+")
_MEMBER_NAME = re.compile(f"<member>{_WS}<name>([^<]*)</name>")
_REFERENCE = re.compile("&(?:#([0-9]+)|#x([0-9a-fA-F]+)|(amp|lt|gt|quot|apos));|&")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}

_OPEN_ARRAY, _CLOSE_ARRAY, _EMPTY_ARRAY, _OPEN_STRUCT, _CLOSE_STRUCT, _EMPTY_STRUCT = range(6)
_END_MEMBER, _OPEN_PARAM, _CLOSE_PARAM, _IMPLICIT_STRING, _MEMBER = range(6, 11)
_STRUCTURE = {
    "<value><array><data>": _OPEN_ARRAY,
    "</data></array></value>": _CLOSE_ARRAY,
    "<value><array><data/></array></value>": _EMPTY_ARRAY,
    "<value><struct>": _OPEN_STRUCT,
    "</struct></value>": _CLOSE_STRUCT,
    "<value><struct/></value>": _EMPTY_STRUCT,
    "</member>": _END_MEMBER,
    "<param>": _OPEN_PARAM,
    "</param>": _CLOSE_PARAM,
}


def _reference(match: re.Match[str]) -> str:
    """Expand one entity or character reference exactly as expat would, or give up."""
    decimal, hexadecimal, name = match.groups()
    if name:
        return _NAMED[name]
    if not (decimal or hexadecimal):
        raise _NotFast("bare ampersand")
    code = int(decimal) if decimal else int(hexadecimal, 16)
    if not (
        code in (0x9, 0xA, 0xD)
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    ):
        raise _NotFast("reference to a character XML does not allow")
    return chr(code)


def _unescape(text: str) -> str:
    """Character data as an XML parser reports it: line ends normalised, references expanded."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "&" in text:
        text = _REFERENCE.sub(_reference, text)
    return text


def _boolean(text: str) -> bool:
    if text == "1":
        return True
    if text == "0":
        return False
    raise _NotFast("bad boolean")


def _iso8601(text: str) -> datetime:
    return datetime.strptime(text, "%Y%m%dT%H:%M:%S")


def _base64(text: str) -> bytes:
    return base64.decodebytes(text.encode("ascii"))


def _nil(text: str) -> None:
    return None


# Same conversions as xmlrpc.client's Unmarshaller with use_builtin_types=True.
_CONVERT: dict[str, Callable[[str], Any]] = {
    "i4": int,
    "i8": int,
    "int": int,
    "boolean": _boolean,
    "double": float,
    "base64": _base64,
    "dateTime.iso8601": _iso8601,
    "nil": _nil,
}


def _classify(token: str) -> tuple[int, str]:
    """Kind of a structural token that is not in its tightest form; ``_NotFast`` if unknown."""
    if token.startswith("<value>") and token.endswith("</value>") and token.count("<") == 2:
        return _IMPLICIT_STRING, token[7:-8]
    if token.startswith("<member>"):
        match = _MEMBER_NAME.fullmatch(token)
        if match is not None:
            return _MEMBER, match.group(1)
    kind = _STRUCTURE.get(_SPACES.sub("", token))
    if kind is None:
        raise _NotFast(f"unexpected {token[:40]!r}")
    return kind, ""


def _decode_fast(text: str) -> tuple[str, list[Any]]:
    """Decode a well-behaved answer to ("params" or "fault", values); ``_NotFast`` otherwise."""
    head = _HEAD.match(text)
    if head is None:
        raise _NotFast("unexpected document start")
    kind = head.group(3)
    if kind == "params":
        table_start = _TABLE_START.match(text, head.end())
        if table_start is not None:
            try:
                return kind, [_decode_table(text, table_start.end())]
            except _NotFast:
                pass  # some other shape after all, or something odd: the tokenizer decides
    end = text.rfind(f"</{kind}>")
    if end < head.end() or _TAIL.fullmatch(text, end) is None:
        raise _NotFast("unexpected document end")
    if "]]>" in text:  # not allowed in character data; the tokens check every other character
        raise _NotFast("']]>' in character data")
    start = head.end()
    while end > start and text[end - 1] in " \t\r\n":  # else the catch-all would see it
        end -= 1
    if "&" in text:
        return kind, _build(_TOKEN_ANY.findall(text, start, end), kind, unescape=True)
    try:
        return kind, _build(_TOKEN_PLAIN.findall(text, start, end), kind, unescape=False)
    except _NotFast:
        if "\r" not in text:
            raise
    # xmlrpc-c ends lines with CRLF; only a CR inside character data needs the slower variant
    return kind, _build(_TOKEN_ANY.findall(text, start, end), kind, unescape=True)


def _build(tokens: list[tuple[str, str, str]], kind: str, unescape: bool) -> list[Any]:
    """Build the values from the tokens, checking the structure; ``_NotFast`` on anything odd."""

    root: list[Any] = []
    current = root
    # per open container: the parent's (list, in_struct, member_end, settled)
    stack: list[tuple[list[Any], bool, int, int]] = []
    in_struct = False
    member_end = -1  # in a struct member: the length ``current`` must have at </member>
    settled = 0  # in a struct: its length after the last complete member (scalars outside members show)
    param_start = -1  # len(root) at <param>; -1 outside a param
    params = 0
    append = current.append
    for tag, value, other in tokens:
        if tag:
            if unescape:
                value = _unescape(value)
            # the two types rTorrent answers with, tested first; the rest by table
            if tag == "string":
                append(value)
            elif tag == "i8":
                append(int(value))
            else:
                append(_CONVERT[tag](value))
            continue
        token_kind = _STRUCTURE.get(other)
        if token_kind is None:
            token_kind, value = _classify(other)
        if token_kind in (_OPEN_ARRAY, _OPEN_STRUCT):
            child: list[Any] = []
            append(child)
            stack.append((current, in_struct, member_end, settled))
            current, in_struct, member_end, settled = child, token_kind == _OPEN_STRUCT, -1, 0
            append = current.append
        elif token_kind in (_CLOSE_ARRAY, _CLOSE_STRUCT):
            closing_struct = token_kind == _CLOSE_STRUCT
            if not stack or closing_struct != in_struct or member_end != -1:
                raise _NotFast("unbalanced container")
            if closing_struct and len(current) != settled:
                raise _NotFast("value outside a struct member")
            items = current
            current, in_struct, member_end, settled = stack.pop()
            append = current.append
            if closing_struct:
                current[-1] = dict(zip(items[::2], items[1::2], strict=True))
        elif token_kind == _MEMBER:
            if not in_struct or member_end != -1 or len(current) != settled:
                raise _NotFast("misplaced member")
            append(_unescape(value) if unescape else value)
            member_end = len(current) + 1
        elif token_kind == _END_MEMBER:
            if len(current) != member_end:
                raise _NotFast("member without exactly one value")
            settled, member_end = member_end, -1
        elif token_kind == _IMPLICIT_STRING:
            append(_unescape(value) if unescape else value)
        elif token_kind == _EMPTY_ARRAY:
            append([])
        elif token_kind == _EMPTY_STRUCT:
            append({})
        elif token_kind == _OPEN_PARAM:
            if stack or param_start != -1 or kind != "params":
                raise _NotFast("misplaced param")
            param_start = len(root)
        else:  # _CLOSE_PARAM
            if stack or len(root) != param_start + 1:
                raise _NotFast("param without exactly one value")
            param_start = -1
            params += 1
    if stack or param_start != -1:
        raise _NotFast("unclosed element")
    if kind == "params" and len(root) != params:
        raise _NotFast("value outside a param")
    if kind == "fault" and len(root) != 1:
        raise _NotFast("fault without exactly one value")
    return root


# --------------------------------------------------------------------------------------------------
# Fastest decoding: a list of rows of scalars
#
# The answer to d.multicall2 (and f./t./p.multicall) is an array of equally long arrays of
# scalars, each column of one type. The first row gives the layout: the exact text that opens a
# row, separates two cells, closes a row and separates two rows, and the type tag of each column.
# From it we build one regular expression that matches one whole row and captures the texts of
# its cells, and ``findall`` runs it over all rows in C. ``zip`` turns the rows into columns, each
# column is converted by its type with ``map``, and ``zip`` makes rows again. No single value is
# looked at in Python.
#
# ``findall`` skips what does not match, so we check that the matches tile the body: every match
# after the first starts with the row separator, and together they are exactly as long as the
# body. The text pattern refuses "<" and every character XML forbids, so each cell is exactly
# what the layout says it is. Anything else raises ``_NotFast`` (the tokenizer then decides).

_TABLE_START = re.compile(f"{_WS}<param>{_WS}<value>{_WS}<array>{_WS}<data>{_WS}")
_TABLE_END = re.compile(
    f"</data>{_WS}</array>{_WS}</value>{_WS}</param>{_WS}</params>{_WS}</methodResponse>{_WS}"
)
_ROW_OPEN = re.compile(f"<value>{_WS}<array>{_WS}<data>{_WS}")
_ROW_CLOSE = re.compile(f"{_WS}</data>{_WS}</array>{_WS}</value>")
_WHITESPACE = re.compile(_WS)
_TABLE_TAGS = "string|i4|i8|int|boolean|double"
_TABLE_CELL = re.compile(f"<value><({_TABLE_TAGS})>[^<]*</\\1></value>")
# Character data as the tokenizer's _TEXT, but with the forbidden characters written out (a class
# of ranges is as fast as one of single characters here).
_CELL_TEXT = "([^<\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]*+)"
_BOOLEANS = {"0": False, "1": True}
# Wider rows are rare, and their one-off pattern compilation would cost more than it saves.
_TABLE_MAX_WIDTH = 64


def _skip_whitespace(text: str, position: int) -> int:
    """The position of the first character at or after ``position`` that is not XML whitespace."""
    match = _WHITESPACE.match(text, position)
    return position if match is None else match.end()


def _table_layout(text: str, start: int, end: int) -> tuple[str, str, str, str, list[str]]:
    """The first row's layout: (row open, cell separator, row close, row separator, column tags)."""
    opening = _ROW_OPEN.match(text, start, end)
    if opening is None:
        raise _NotFast("not a row")
    cursor = opening.end()
    tags: list[str] = []
    gaps: set[str] = set()
    while True:
        cell = _TABLE_CELL.match(text, cursor, end)
        if cell is None:
            raise _NotFast("not a scalar cell")
        tags.append(cell.group(1))
        gap_end = _skip_whitespace(text, cell.end())
        if not text.startswith("<value>", gap_end):
            break
        gaps.add(text[cell.end() : gap_end])
        cursor = gap_end
    if len(gaps) > 1:
        raise _NotFast("cells separated differently")
    closing = _ROW_CLOSE.match(text, cell.end(), end)
    if closing is None:
        raise _NotFast("row does not close")
    cell_gap = gaps.pop() if gaps else ""
    # what follows the close matters only if another row follows
    row_gap = text[closing.end() : _skip_whitespace(text, closing.end())]
    return opening.group(), cell_gap, "</value>" + closing.group(), row_gap, tags


@functools.lru_cache(maxsize=32)
def _row_patterns(
    row_open: str, cell_gap: str, row_close: str, row_gap: str, tags: tuple[str, ...]
) -> tuple[re.Pattern[str], re.Pattern[str], int]:
    """Patterns for the first row and for each further one (with the row separator before it),
    and the length of a row without its texts. Compiling takes about 0.25 ms a column: cached."""
    cells = re.escape("</value>" + cell_gap).join(f"<value><{tag}>{_CELL_TEXT}</{tag}>" for tag in tags)
    row = re.escape(row_open) + cells + re.escape(row_close)
    layout = len(row_open) + len(row_close) + (len(tags) - 1) * len("</value>" + cell_gap)
    layout += sum(len(f"<value><{tag}></{tag}>") for tag in tags)
    return re.compile(row), re.compile(re.escape(row_gap) + row), layout


def _table_column(texts: Sequence[str], joined: str, tag: str) -> Sequence[Any]:
    """Convert one column's texts (``joined``: all of them in one) as xmlrpc.client would.

    Raises ``_NotFast`` where the result might differ.
    """
    if "]" in joined and "]]>" in joined:  # only inside a text (or, harmlessly, across two)
        raise _NotFast("']]>' in character data")
    if tag == "string":
        if "&" in joined or "\r" in joined:
            return list(map(_unescape, texts))
        return texts
    if "&" in joined or "\r" in joined:  # rare enough for the general path
        raise _NotFast("reference or CR in a number")
    if tag == "boolean":
        return list(map(_BOOLEANS.__getitem__, texts))  # KeyError on anything else: not fast
    # the very conversions xmlrpc.client applies to the same text, so the same values or errors
    convert: Callable[[str], Any] = float if tag == "double" else int
    distinct = set(texts)
    if len(distinct) * 4 > len(texts):
        return list(map(convert, texts))
    # many columns hold a few distinct values (states, flags, priorities): convert each once
    values = {text: convert(text) for text in distinct}
    return list(map(values.__getitem__, texts))


def _decode_table(text: str, start: int) -> list[list[Any]]:
    """Decode a list of rows of scalars whose first row starts at ``start``; ``_NotFast`` otherwise."""
    end = text.rfind("</data>")
    if end < start or _TABLE_END.fullmatch(text, end) is None:
        raise _NotFast("not a single list")
    while end > start and text[end - 1] in " \t\r\n":
        end -= 1
    if end == start:
        raise _NotFast("empty list")  # cheap for the tokenizer
    row_open, cell_gap, row_close, row_gap, tags = _table_layout(text, start, end)
    if len(tags) > _TABLE_MAX_WIDTH:
        raise _NotFast("too wide to be worth a pattern")
    first_row, next_row, layout = _row_patterns(row_open, cell_gap, row_close, row_gap, tuple(tags))
    first = first_row.match(text, start, end)
    if first is None:
        raise _NotFast("first row")  # it gave the layout; only a forbidden character can do this
    matches: list[Any] = next_row.findall(text, first.end(), end)
    matches.insert(0, first.groups() if len(tags) > 1 else first.group(1))
    columns = list(zip(*matches, strict=True)) if len(tags) > 1 else [matches]
    # matches are as long as layout, separators and texts together; the body only if they tile it
    joined = ["".join(column) for column in columns]
    texts = sum(map(len, joined))
    if len(matches) * layout + (len(matches) - 1) * len(row_gap) + texts != end - start:
        raise _NotFast("something between the rows")
    converted = list(map(_table_column, columns, joined, tags))
    return list(map(list, zip(*converted, strict=True)))


def _decode_exact(data: bytes) -> tuple[str, list[Any]]:
    """Decode with the stdlib parser; every failure becomes ``ProtocolError``."""
    try:
        values, _ = xmlrpc.client.loads(data, use_builtin_types=True)
    except xmlrpc.client.Fault as fault:
        return "fault", [{"faultCode": fault.faultCode, "faultString": fault.faultString}]
    except Exception as exc:  # the stdlib raises many kinds on garbage; all mean the same here
        raise ProtocolError(f"not a valid XML-RPC response: {type(exc).__name__}: {exc}") from exc
    return "params", list(values)


_PAUSE_COLLECTOR_FROM = PAUSE_COLLECTOR_FROM


def parse_response(data: bytes) -> tuple[str, list[Any]]:
    """Parse an XML-RPC ``methodResponse`` into ("params", values) or ("fault", [fault struct])."""
    if len(data) < _PAUSE_COLLECTOR_FROM:
        return _parse_response(data)
    with collector_paused():
        return _parse_response(data)


def _parse_response(data: bytes) -> tuple[str, list[Any]]:
    try:
        text = data.decode("utf-8")
        return _decode_fast(text)
    except Exception:  # anything unusual: the exact parser decides, including what is an error
        return _decode_exact(data)


def _fault_from(value: Any, method: str) -> FaultError:
    """Build the exception for a fault struct, or fail with ``ProtocolError`` if it is not one."""
    if (
        isinstance(value, dict)
        and value.keys() == {"faultCode", "faultString"}
        and isinstance(value["faultCode"], int)
        and not isinstance(value["faultCode"], bool)
    ):
        return fault_error(value["faultCode"], str(value["faultString"]), method)
    raise ProtocolError(f"malformed fault in the answer to {method or 'a call'}: {value!r:.200}")


class XmlRpcCodec:
    """XML-RPC as rTorrent speaks it."""

    name = "xml"
    content_type = "text/xml"

    def encode_call(self, method: str, params: Sequence[Any]) -> bytes:
        """Encode one method call."""
        return encode_call(method, params)

    def decode_response(self, data: bytes, method: str = "") -> Any:
        """Decode one answer: its first value, or raise FaultError/HashNotFound/ProtocolError."""
        kind, values = parse_response(data)
        if kind == "fault":
            raise _fault_from(values[0], method)
        if not values:
            raise ProtocolError(f"answer to {method or 'a call'} carries no value")
        return values[0]

    def encode_multicall(self, calls: Sequence[Call]) -> bytes:
        """Encode several calls as one system.multicall."""
        entries = [{"methodName": method, "params": list(params)} for method, params in calls]
        return encode_call("system.multicall", [entries])

    def decode_multicall(self, data: bytes, calls: Sequence[Call]) -> list[Any | FaultError]:
        """Decode a system.multicall answer; failed calls become FaultError instances."""
        results = self.decode_response(data, "system.multicall")
        if not isinstance(results, list) or len(results) != len(calls):
            raise ProtocolError(
                f"system.multicall answered {len(results) if isinstance(results, list) else results!r:.40}"
                f" results for {len(calls)} calls"
            )
        out: list[Any | FaultError] = []
        for (method, _), entry in zip(calls, results, strict=True):
            if isinstance(entry, dict):
                out.append(_fault_from(entry, method))
            elif isinstance(entry, list) and len(entry) == 1:
                out.append(entry[0])
            else:
                raise ProtocolError(f"malformed system.multicall entry for {method}: {entry!r:.200}")
        return out


XMLRPC = XmlRpcCodec()

__all__ = ["XMLRPC", "XmlRpcCodec", "encode_call", "parse_response"]
