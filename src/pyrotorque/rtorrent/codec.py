"""The codec interface the client uses; one implementation per wire protocol."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from pyrotorque.errors import FaultError, ProtocolError

Call = tuple[str, Sequence[Any]]


class ParamEncodeError(ProtocolError):
    """A call parameter cannot be represented in the wire protocol (type, range or character)."""


class Codec(Protocol):
    """Encodes calls and decodes answers for one RPC protocol."""

    name: str  # "xml" or "json"
    content_type: str

    def encode_call(self, method: str, params: Sequence[Any]) -> bytes:
        """Encode one method call."""
        ...

    def decode_response(self, data: bytes, method: str = "") -> Any:
        """Decode one answer; raise FaultError/HashNotFound for faults, ProtocolError for garbage."""
        ...

    def encode_multicall(self, calls: Sequence[Call]) -> bytes:
        """Encode several calls as one request."""
        ...

    def decode_multicall(self, data: bytes, calls: Sequence[Call]) -> list[Any | FaultError]:
        """Decode the answer to ``encode_multicall``; failed calls become FaultError instances."""
        ...
