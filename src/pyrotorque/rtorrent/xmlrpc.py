"""XML-RPC codec: a strict encoder and a fast decoder with an exact fallback to the stdlib parser.

The decoder has two fast paths. The answer to ``d.multicall2`` and its kin (a list of rows of
scalars, by far the biggest answers) is matched row by row with one pattern built from the layout
of its first row, and converted one column at a time. Any other answer is tokenized with one
regular expression (the scanning runs in C) and built in a tight loop. Both accept only a
strict subset of XML-RPC: the shapes xmlrpc-c (rTorrent 0.9.8) and rTorrent 0.16 write. Anything
else (comments, CDATA, attributes, odd encodings, unknown entities, misplaced values, ...) makes
them give up (the table path to the tokenizer, the tokenizer to ``xmlrpc.client.loads``), so the
result is always exactly what the stdlib gives with ``use_builtin_types=True``, only faster.

This module holds that order and the codec; the parts live in xmlrpc_encode (encoder),
xmlrpc_table (the table path), xmlrpc_tokens (the tokenizer) and xmlrpc_text (what they share).
"""

from __future__ import annotations

import re
import xmlrpc.client
from collections.abc import Sequence
from typing import Any

from pyrotorque.errors import FaultError, ProtocolError
from pyrotorque.gcpause import PAUSE_COLLECTOR_FROM, collector_paused
from pyrotorque.rtorrent.codec import Call
from pyrotorque.rtorrent.faults import fault_error
from pyrotorque.rtorrent.xmlrpc_encode import encode_call
from pyrotorque.rtorrent.xmlrpc_table import TABLE_START, decode_table
from pyrotorque.rtorrent.xmlrpc_text import WS as _WS
from pyrotorque.rtorrent.xmlrpc_text import NotFast
from pyrotorque.rtorrent.xmlrpc_tokens import decode_tokens

_HEAD = re.compile(
    f"""(?:<\\?xml[ \t\r\n]+version=(["'])1\\.0\\1(?:[ \t\r\n]+encoding=(["'])(?i:utf-8)\\2)?{_WS}\\?>)?"""
    f"{_WS}<methodResponse>{_WS}<(params|fault)>"
)


def _decode_fast(text: str) -> tuple[str, list[Any]]:
    """Decode a well-behaved answer to ("params" or "fault", values); ``NotFast`` otherwise."""
    head = _HEAD.match(text)
    if head is None:
        raise NotFast("unexpected document start")
    kind = head.group(3)
    if kind == "params":
        table_start = TABLE_START.match(text, head.end())
        if table_start is not None:
            try:
                return kind, [decode_table(text, table_start.end())]
            except NotFast:
                pass  # some other shape after all, or something odd: the tokenizer decides
    return kind, decode_tokens(text, kind, head.end())


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
