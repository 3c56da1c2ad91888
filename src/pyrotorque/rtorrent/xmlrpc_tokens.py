"""XML-RPC decoding of any answer shape with one tokenizing regular expression (the scanning runs
in C) and one tight loop that builds the values and checks the structure.

It accepts only the strict subset of XML-RPC that xmlrpc-c (rTorrent 0.9.8) and rTorrent 0.16
write; anything else raises ``NotFast`` and the stdlib parser decides.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pyrotorque.rtorrent.xmlrpc_text import WS as _WS
from pyrotorque.rtorrent.xmlrpc_text import NotFast
from pyrotorque.rtorrent.xmlrpc_text import character_data as _unescape

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
_TAIL = re.compile(f"</(?:params|fault)>{_WS}</methodResponse>{_WS}")
_SPACES = re.compile("[ \t\r\n]+")
_MEMBER_NAME = re.compile(f"<member>{_WS}<name>([^<]*)</name>")


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


def _boolean(text: str) -> bool:
    if text == "1":
        return True
    if text == "0":
        return False
    raise NotFast("bad boolean")


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
    """Kind of a structural token that is not in its tightest form; ``NotFast`` if unknown."""
    if token.startswith("<value>") and token.endswith("</value>") and token.count("<") == 2:
        return _IMPLICIT_STRING, token[7:-8]
    if token.startswith("<member>"):
        match = _MEMBER_NAME.fullmatch(token)
        if match is not None:
            return _MEMBER, match.group(1)
    kind = _STRUCTURE.get(_SPACES.sub("", token))
    if kind is None:
        raise NotFast(f"unexpected {token[:40]!r}")
    return kind, ""


def decode_tokens(text: str, kind: str, start: int) -> list[Any]:
    """Decode the body of a ``kind`` ("params" or "fault") answer that starts at ``start``."""
    end = text.rfind(f"</{kind}>")
    if end < start or _TAIL.fullmatch(text, end) is None:
        raise NotFast("unexpected document end")
    if "]]>" in text:  # not allowed in character data; the tokens check every other character
        raise NotFast("']]>' in character data")
    while end > start and text[end - 1] in " \t\r\n":  # else the catch-all would see it
        end -= 1
    if "&" in text:
        return _build(_TOKEN_ANY.findall(text, start, end), kind, unescape=True)
    try:
        return _build(_TOKEN_PLAIN.findall(text, start, end), kind, unescape=False)
    except NotFast:
        if "\r" not in text:
            raise
    # xmlrpc-c ends lines with CRLF; only a CR inside character data needs the slower variant
    return _build(_TOKEN_ANY.findall(text, start, end), kind, unescape=True)


# One function on purpose: it runs once per token of every answer, and its state lives in locals
# (a bound ``append``, no helper calls for common tokens); split up, it would pay for the calls.
def _build(tokens: list[tuple[str, str, str]], kind: str, unescape: bool) -> list[Any]:
    """Build the values from the tokens, checking the structure; ``NotFast`` on anything odd."""

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
                raise NotFast("unbalanced container")
            if closing_struct and len(current) != settled:
                raise NotFast("value outside a struct member")
            items = current
            current, in_struct, member_end, settled = stack.pop()
            append = current.append
            if closing_struct:
                current[-1] = dict(zip(items[::2], items[1::2], strict=True))
        elif token_kind == _MEMBER:
            if not in_struct or member_end != -1 or len(current) != settled:
                raise NotFast("misplaced member")
            append(_unescape(value) if unescape else value)
            member_end = len(current) + 1
        elif token_kind == _END_MEMBER:
            if len(current) != member_end:
                raise NotFast("member without exactly one value")
            settled, member_end = member_end, -1
        elif token_kind == _IMPLICIT_STRING:
            append(_unescape(value) if unescape else value)
        elif token_kind == _EMPTY_ARRAY:
            append([])
        elif token_kind == _EMPTY_STRUCT:
            append({})
        elif token_kind == _OPEN_PARAM:
            if stack or param_start != -1 or kind != "params":
                raise NotFast("misplaced param")
            param_start = len(root)
        else:  # _CLOSE_PARAM
            if stack or len(root) != param_start + 1:
                raise NotFast("param without exactly one value")
            param_start = -1
            params += 1
    if stack or param_start != -1:
        raise NotFast("unclosed element")
    if kind == "params" and len(root) != params:
        raise NotFast("value outside a param")
    if kind == "fault" and len(root) != 1:
        raise NotFast("fault without exactly one value")
    return root
