"""XML-RPC codec (placeholder on the stdlib; to be replaced by the fast decoder)."""

from __future__ import annotations

import xmlrpc.client
from collections.abc import Sequence
from typing import Any
from xml.parsers.expat import ExpatError

from pyrotorque.errors import FaultError, ProtocolError
from pyrotorque.rtorrent.codec import Call
from pyrotorque.rtorrent.faults import fault_error


class XmlRpcCodec:
    """XML-RPC as rTorrent speaks it."""

    name = "xml"
    content_type = "text/xml"

    def encode_call(self, method: str, params: Sequence[Any]) -> bytes:
        """Encode one method call."""
        return xmlrpc.client.dumps(tuple(params), method, allow_none=False).encode("utf-8")

    def decode_response(self, data: bytes, method: str = "") -> Any:
        """Decode one answer."""
        try:
            result, _ = xmlrpc.client.loads(data, use_builtin_types=True)
        except xmlrpc.client.Fault as exc:
            raise fault_error(int(exc.faultCode), str(exc.faultString), method) from exc
        except (ExpatError, xmlrpc.client.ResponseError, ValueError) as exc:
            raise ProtocolError(f"bad XML-RPC response to {method or 'call'}: {exc}") from exc
        return result[0]

    def encode_multicall(self, calls: Sequence[Call]) -> bytes:
        """Encode several calls as one system.multicall."""
        entries = [{"methodName": m, "params": list(p)} for m, p in calls]
        return self.encode_call("system.multicall", [entries])

    def decode_multicall(self, data: bytes, calls: Sequence[Call]) -> list[Any | FaultError]:
        """Decode a system.multicall answer."""
        results = self.decode_response(data, "system.multicall")
        out: list[Any | FaultError] = []
        for (method, _), entry in zip(calls, results, strict=True):
            if isinstance(entry, dict):
                out.append(fault_error(int(entry["faultCode"]), str(entry["faultString"]), method))
            else:
                out.append(entry[0])
        return out


XMLRPC = XmlRpcCodec()
