"""XML-RPC encoding: a strict encoder that refuses what XML or XML-RPC cannot carry."""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Sequence
from typing import Any

from pyrotorque.rtorrent.codec import ParamEncodeError

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
