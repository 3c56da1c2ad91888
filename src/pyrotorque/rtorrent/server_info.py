"""What the connected rTorrent is (``ServerInfo``), read from one detection multicall.

The detection asks ``system.client_version``, ``system.library_version``, ``system.listMethods``,
``network.rpc.use_jsonrpc`` and ``network.xmlrpc.size_limit``; ``detected_server`` turns the answers
into a ``ServerInfo``: the protocol to speak, the request cap, and which renamed commands to send.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pyrotorque.errors import FaultError, ProtocolError
from pyrotorque.rtorrent.codec import Call
from pyrotorque.rtorrent.limits import request_cap

Protocol = Literal["xml", "json"]

# Present in listMethods from rTorrent 0.16 on; its value says whether JSON-RPC is switched on.
JSONRPC_SWITCH = "network.rpc.use_jsonrpc"
# How large an XML-RPC request may be (512 KiB unless rtorrent.rc raises it); both lines have it.
XMLRPC_SIZE_LIMIT = "network.xmlrpc.size_limit"

DETECTION_CALLS: tuple[Call, ...] = (
    ("system.client_version", ("",)),
    ("system.library_version", ("",)),
    ("system.listMethods", ()),
    (JSONRPC_SWITCH, ("",)),
    (XMLRPC_SIZE_LIMIT, ("",)),
)

#: Commands renamed between rTorrent lines: the old name -> the name later lines know. A call uses the
#: new name only when the server's method list lacks the old one and has the new one, so the table never
#: guesses. Names inside ``d.multicall2`` field strings are not rewritten (none of ours differ).
#: Keep docs/compatibility.md ("Renamed commands") in step with this table.
RENAMED_COMMANDS: dict[str, str] = {
    "schedule2": "schedule",  # 0.16 dropped schedule2; schedule exists on 0.9.8 too
    "schedule_remove2": "schedule.remove",
    "d.multicall2": "d.multicall",  # 0.16.16 dropped, then re-aliased d.multicall2
}

_VERSION_PREFIX = re.compile(r"\d+(?:\.\d+)*")


@dataclass(frozen=True)
class ServerInfo:
    """What the connected rTorrent is: versions, its method names and the protocol in use."""

    client_version: tuple[int, ...]  # (0, 9, 8); leading numeric part of the version text
    library_version: str  # libtorrent version as rTorrent reports it, e.g. "0.13.8"
    methods: frozenset[str]
    protocol: Protocol
    client_version_text: str = ""  # the version exactly as reported, e.g. "0.9.8" or "0.9.8-PS-1.1"
    xmlrpc_size_limit: int | None = None  # network.xmlrpc.size_limit; None when it could not be read

    def has(self, method: str) -> bool:
        """Whether rTorrent lists ``method``."""
        return method in self.methods

    @property
    def request_cap(self) -> int:
        """The largest request body this rTorrent accepts (with a margin; see ``rtorrent.limits``)."""
        return request_cap(self.client_version, self.xmlrpc_size_limit if self.protocol == "xml" else None)

    def command(self, method: str) -> str:
        """The name to send for ``method`` on this server (see ``RENAMED_COMMANDS``)."""
        renamed = RENAMED_COMMANDS.get(method)
        if renamed is not None and method not in self.methods and renamed in self.methods:
            return renamed
        return method


def version_tuple(text: str) -> tuple[int, ...]:
    """``"0.16.17"`` → ``(0, 16, 17)``; ``"0.9.8-PS"`` → ``(0, 9, 8)``; no digits → ``()``."""
    match = _VERSION_PREFIX.match(text.strip())
    return tuple(int(part) for part in match.group().split(".")) if match else ()


def detected_server(answers: Sequence[Any | FaultError], forced: Protocol | None, url: str) -> ServerInfo:
    """The ``ServerInfo`` from the answers to ``DETECTION_CALLS``; ``forced`` overrides the protocol."""
    version, library, methods, json_switch, size_limit = answers
    for answer in (version, library, methods):
        if isinstance(answer, FaultError):
            raise answer
    if not isinstance(methods, list) or not all(isinstance(name, str) for name in methods):
        raise ProtocolError(f"system.listMethods did not answer a list of names ({url})")
    method_names = frozenset(methods)
    offers_json = JSONRPC_SWITCH in method_names and not isinstance(json_switch, FaultError)
    detected: Protocol = "json" if offers_json and _truthy(json_switch) else "xml"
    return ServerInfo(
        client_version=version_tuple(str(version)),
        library_version=str(library),
        methods=method_names,
        protocol=forced or detected,
        client_version_text=str(version),
        xmlrpc_size_limit=size_limit if isinstance(size_limit, int) and size_limit > 0 else None,
    )


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip() not in ("", "0")
    return bool(value)
