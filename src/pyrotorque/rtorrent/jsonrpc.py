"""JSON-RPC 2.0 codec for rTorrent 0.16, which answers JSON over the SCGI socket for JSON requests.

What 0.16.17 does (checked against a real instance): it takes a request with ``CONTENT_TYPE:
application/json`` over the same socket as XML-RPC; several calls go as a JSON-RPC batch array
(``system.multicall`` and the other ``system.*`` methods of xmlrpc-c do not exist over JSON); an
empty batch is refused; errors carry JSON-RPC codes (-32602 for every command failure, -32601 for
an unknown method), which are reported with the code the XML-RPC path gives for the same failure.
Integers are 64-bit both ways; floats as parameters are refused by rTorrent; binary data (for
``load.raw``) goes as a ``data:`` URI with base64, which ``load.raw`` accepts.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Sequence
from typing import Any

from pyrotorque.errors import FaultError, ProtocolError
from pyrotorque.gcpause import PAUSE_COLLECTOR_FROM, collector_paused
from pyrotorque.rtorrent.codec import Call, ParamEncodeError
from pyrotorque.rtorrent.faults import jsonrpc_fault_error

_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1
_DATA_URI_PREFIX = "data:;base64,"


def _prepare(value: Any, where: str) -> Any:
    """Check one parameter and turn it into what ``json.dumps`` writes as rTorrent expects it."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        if not _INT_MIN <= value <= _INT_MAX:
            raise ParamEncodeError(f"cannot send {where}: integer {value} does not fit in 64 bits")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ParamEncodeError(f"cannot send {where}: {value!r} is not a finite number")
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return _DATA_URI_PREFIX + base64.b64encode(value).decode("ascii")
    if isinstance(value, list | tuple):
        return [_prepare(item, f"{where}[{index}]") for index, item in enumerate(value)]
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise ParamEncodeError(f"cannot send {where}: object key {key!r} is not a string")
            out[key] = _prepare(item, f"{where}[{key!r}]")
        return out
    raise ParamEncodeError(f"cannot send {where}: JSON-RPC has no type for {type(value).__name__}")


def _request(method: str, params: Sequence[Any], request_id: int) -> dict[str, Any]:
    """One JSON-RPC request object, parameters checked."""
    prepared = [_prepare(param, f"parameter {index} of {method}") for index, param in enumerate(params)]
    return {"jsonrpc": "2.0", "id": request_id, "method": method, "params": prepared}


def _dump(payload: Any) -> bytes:
    """Serialise a request; refuse text that is not valid Unicode (lone surrogates)."""
    try:
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ParamEncodeError(f"cannot send text that is not valid Unicode: {exc}") from exc


def _load(data: bytes, method: str) -> Any:
    """Parse an answer body; anything that is not JSON is a ``ProtocolError``."""
    try:
        if len(data) < PAUSE_COLLECTOR_FROM:
            return json.loads(data)
        with collector_paused():
            return json.loads(data)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError, absurd nesting
        raise ProtocolError(f"not a valid JSON-RPC response to {method or 'a call'}: {exc}") from exc


def _error(error: Any, method: str) -> FaultError:
    """The exception for one JSON-RPC error object."""
    if not isinstance(error, dict):
        raise ProtocolError(f"malformed JSON-RPC error in the answer to {method or 'a call'}: {error!r:.200}")
    code, message = error.get("code"), error.get("message")
    if not isinstance(code, int) or isinstance(code, bool) or not isinstance(message, str):
        raise ProtocolError(f"malformed JSON-RPC error in the answer to {method or 'a call'}: {error!r:.200}")
    return jsonrpc_fault_error(code, message, method)


def _outcome(response: Any, method: str) -> Any:
    """The result of one response object, or the ``FaultError`` it carries (returned, not raised)."""
    if not isinstance(response, dict):
        raise ProtocolError(f"JSON-RPC answer to {method or 'a call'} is not an object: {response!r:.200}")
    if "error" in response:
        return _error(response["error"], method)
    if "result" not in response:
        raise ProtocolError(f"JSON-RPC answer to {method or 'a call'} has neither result nor error")
    return response["result"]


class JsonRpcCodec:
    """JSON-RPC 2.0 as rTorrent 0.16 speaks it."""

    name = "json"
    content_type = "application/json"

    def encode_call(self, method: str, params: Sequence[Any]) -> bytes:
        """Encode one method call."""
        return _dump(_request(method, params, 1))

    def decode_response(self, data: bytes, method: str = "") -> Any:
        """Decode one answer: its result, or raise FaultError/HashNotFound/ProtocolError."""
        outcome = _outcome(_load(data, method), method)
        if isinstance(outcome, FaultError):
            raise outcome
        return outcome

    def encode_multicall(self, calls: Sequence[Call]) -> bytes:
        """Encode several calls as one JSON-RPC batch (ids are the positions)."""
        return _dump([_request(method, params, index) for index, (method, params) in enumerate(calls)])

    def decode_multicall(self, data: bytes, calls: Sequence[Call]) -> list[Any | FaultError]:
        """Decode a batch answer in call order; failed calls become FaultError instances."""
        if not calls:
            return []  # rTorrent refuses an empty batch; there is nothing to report either way
        answer = _load(data, "batch")
        if isinstance(answer, dict):  # the whole batch was refused (parse error, invalid request)
            outcome = _outcome(answer, "batch")
            if isinstance(outcome, FaultError):
                raise outcome
            raise ProtocolError("JSON-RPC batch answered with a single result")
        if not isinstance(answer, list) or len(answer) != len(calls):
            size = len(answer) if isinstance(answer, list) else type(answer).__name__
            raise ProtocolError(f"JSON-RPC batch of {len(calls)} calls answered with {size}")
        by_id: dict[int, Any] = {}
        for response in answer:
            request_id = response.get("id") if isinstance(response, dict) else None
            if not isinstance(request_id, int) or not 0 <= request_id < len(calls) or request_id in by_id:
                raise ProtocolError(f"JSON-RPC batch answer with a bad id: {response!r:.200}")
            by_id[request_id] = response
        return [_outcome(by_id[index], method) for index, (method, _) in enumerate(calls)]


JSONRPC = JsonRpcCodec()
