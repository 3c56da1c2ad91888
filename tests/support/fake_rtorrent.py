"""An in-memory rTorrent that answers on the wire, for the real ``RtorrentClient`` to talk to.

``FakeRtorrent`` is a transport (``request(body, content_type) -> bytes``): the client encodes its
calls, the fake decodes them with the standard library (``xmlrpc.client``, ``json``), runs them on
its items and answers in XML-RPC (with ``system.multicall``) or JSON-RPC (batches) the way the
chosen rTorrent line does: the same fault codes and messages, the same protocol detection answers,
the same request-size cap. So tests that use it exercise the client's encoding, batching, renamed
commands and fault mapping too. What it does was measured on 0.9.8 and 0.16;
tests/integration/test_rtorrent_contract.py runs the same checks against it and a real rTorrent.

Tests see what was sent through ``requests`` (every wire request) and ``sent()`` / ``calls()``
(without the client's protocol detection). Knobs for situations a test sets up: ``down`` (every
request fails as a refused connection, or with the given error), ``fail()`` (an injected fault),
``refuse_loads`` (loads answer 0 but no item appears, as when rTorrent rejects a metafile in its
log), ``paths_visible`` (whether loads by path can read the file), ``on_request`` (a hook run before
each request, e.g. to erase an item meanwhile), ``set_global()`` (a global value such as
``throttle.global_down.total``; the line's own ones start as a fresh rTorrent answers them, see
``GLOBALS``) and ``commands`` (add a command, or delete one to play an rTorrent without it).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
import xmlrpc.client
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from sandbox.metafiles import BencodeError, bdecode, bencode

from pyrotorque.errors import TransportError
from pyrotorque.rtorrent.client import RtorrentClient
from pyrotorque.rtorrent.limits import LARGE_REQUEST_CAP, SMALL_REQUEST_CAP
from tests.support.rtorrent_filter import FILTER_OPERATORS, evaluate_filter, truth

Call = tuple[str, tuple[Any, ...]]
Handler = Callable[..., Any]

LINES: Final = ("0.9.8", "0.16")
VERSIONS: Final = {"0.9.8": "0.9.8", "0.16": "0.16.17"}
LIBRARY_VERSIONS: Final = {"0.9.8": "0.13.8", "0.16": "0.16.17"}

#: The calls of the client's protocol detection; ``sent()`` leaves requests of only these out.
DETECTION_METHODS: Final = frozenset(
    {
        "system.client_version",
        "system.library_version",
        "system.listMethods",
        "network.rpc.use_jsonrpc",
        "network.xmlrpc.size_limit",
    }
)

#: The views every rTorrent has; "name" is sorted by name, the others keep the load order.
VIEWS: Final = (
    "main", "default", "name", "active", "started", "stopped", "complete", "incomplete", "hashing",
    "seeding", "leeching",
)  # fmt: skip

#: What a freshly loaded, stopped item answers for the d.* commands that are not derived.
ITEM_DEFAULTS: Final[dict[str, Any]] = {
    "d.is_open": 0, "d.is_active": 0, "d.state": 0, "d.hashing": 0, "d.complete": 0,
    "d.ignore_commands": 0, "d.priority": 2, "d.message": "", "d.completed_chunks": 0,
    "d.completed_bytes": 0, "d.down.rate": 0, "d.up.rate": 0, "d.down.total": 0, "d.up.total": 0,
    "d.ratio": 0, "d.is_private": 0, "d.directory": "/fake/download", "d.base_path": "",
    "d.tied_to_file": "", "d.creation_date": 0, "d.peers_connected": 0, "d.throttle_name": "",
    "d.timestamp.started": 0, "d.timestamp.finished": 0,
    **{f"d.custom{index}": "" for index in range(1, 6)},
}  # fmt: skip

#: The global values a fresh rTorrent answers (throttle.*, pieces.*, network.*, system.files.*), as
#: measured on 0.9.8 and 0.16.17 in the sandbox; a test changes one with ``set_global``. The limits of
#: memory, sockets and files follow the host (RAM, ulimit) and differ on other machines.
_COMMON_GLOBALS: Final[dict[str, int]] = {
    **{f"throttle.global_{way}.{kind}": 0
       for way in ("down", "up") for kind in ("total", "rate", "max_rate")},
    "throttle.unchoked_downloads": 0, "throttle.unchoked_uploads": 0,
    "throttle.max_downloads.global": 0, "throttle.max_uploads.global": 0,
    "pieces.stats.total_size": 0, "pieces.memory.current": 0, "pieces.memory.block_count": 0,
    "pieces.memory.sync_queue": 0, "pieces.sync.queue_size": 0, "pieces.hash.queue_size": 0,
    "pieces.stats_preloaded": 0, "pieces.stats_not_preloaded": 0, "pieces.preload.type": 0,
    "pieces.preload.min_size": 262144, "pieces.preload.min_rate": 5120,
    "network.http.current_open": 0,
    "system.files.opened_counter": 0, "system.files.closed_counter": 0, "system.files.failed_counter": 0,
}  # fmt: skip
#: Per line: 0.16 renamed network.http.max_open and added network.open_files.
GLOBALS: Final[dict[str, dict[str, int]]] = {
    "0.9.8": {
        **_COMMON_GLOBALS, "pieces.memory.max": 3435973836, "network.open_sockets": 2,
        "network.max_open_sockets": 19488, "network.max_open_files": 256, "network.http.max_open": 32,
    },
    "0.16": {
        **_COMMON_GLOBALS, "pieces.memory.max": 27487790694, "network.open_sockets": 10,
        "network.max_open_sockets": 20000, "network.max_open_files": 2048, "network.open_files": 0,
        "network.http.max_total_connections": 128,
    },
}  # fmt: skip

#: d.* commands with a ``.set`` twin.
SETTABLE: Final = frozenset(
    {"d.priority", "d.message", "d.ignore_commands", "d.directory", "d.tied_to_file", "d.throttle_name"}
    | {f"d.custom{index}" for index in range(1, 6)}
)

_LOADS: Final = ("load.raw", "load.raw_start", "load.raw_verbose", "load.raw_start_verbose")
_PATH_LOADS: Final = ("load.normal", "load.start", "load.verbose", "load.start_verbose")
_DATA_URI: Final = "data:;base64,"


class _Fault(Exception):
    """A fault as rTorrent sends it, with the code each protocol carries."""

    def __init__(self, xml_code: int, json_code: int, message: str, json_message: str | None = None) -> None:
        super().__init__(message)
        self.xml_code = xml_code
        self.json_code = json_code
        self.message = message
        self.json_message = json_message if json_message is not None else message


@dataclass
class FakeItem:
    """One item: its own values for d.* commands, custom values, files, trackers and views."""

    hash: str
    name: str
    files: list[tuple[str, int]] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    custom: dict[str, str] = field(default_factory=dict)
    trackers: list[tuple[str, int]] = field(default_factory=list)
    views: list[str] = field(default_factory=list)
    multi_file: bool | None = None  # None: a single file named like the item is a single-file item
    piece_length: int = 1 << 18
    loaded_by: str = ""  # the load command that added it ("" when a test added it)
    commands: list[str] = field(default_factory=list)  # the load's extra commands, as sent

    @property
    def started(self) -> bool:
        return bool(self.values.get("d.state", 0))

    def value(self, command: str) -> Any:
        """This item's answer to a d.* command without arguments; KeyError for an unknown one."""
        if command in self.values:
            return self.values[command]
        size = sum(size for _, size in self.files)
        multi = self.multi_file
        if multi is None:
            multi = len(self.files) != 1 or self.files[0][0] != self.name
        derived: dict[str, Any] = {
            "d.hash": self.hash,
            "d.name": self.name,
            "d.size_bytes": size,
            "d.size_files": len(self.files),
            "d.is_multi_file": int(multi),
            "d.size_chunks": -(-size // self.piece_length),
            "d.chunk_size": self.piece_length,
            "d.left_bytes": size - int(self.values.get("d.completed_bytes", 0)),
            "d.views": list(self.views),
        }
        if command in derived:
            return derived[command]
        return ITEM_DEFAULTS[command]


@dataclass(frozen=True)
class Request:
    """One request as it arrived: ``method`` is "system.multicall" for a multicall or a JSON batch."""

    protocol: str  # "xml" or "json"
    method: str
    calls: tuple[Call, ...]
    size: int

    @property
    def is_detection(self) -> bool:
        return bool(self.calls) and all(method in DETECTION_METHODS for method, _ in self.calls)


def _dump_int(marshaller: xmlrpc.client.Marshaller, value: int, write: Callable[[str], object]) -> None:
    tag = "i4" if -(2**31) <= value < 2**31 else "i8"
    write(f"<value><{tag}>{value}</{tag}></value>\n")


class _Marshaller(xmlrpc.client.Marshaller):
    """The stdlib marshaller, but large ints go out as <i8> like rTorrent sends them."""

    def __init__(self) -> None:
        super().__init__("utf-8", allow_none=False)
        self.dispatch = {**self.dispatch, int: _dump_int}


def xml_answer(result: Any) -> bytes:
    """An XML-RPC methodResponse holding ``result``."""
    params = _Marshaller().dumps((result,))
    return f'<?xml version="1.0"?>\n<methodResponse>\n{params}</methodResponse>\n'.encode()


def split_command_arguments(text: str) -> list[str]:
    """rTorrent's argument list of a command string: commas split, quotes group, backslash escapes."""
    arguments: list[str] = []
    current: list[str] = []
    quoted = False
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            index += 1
            current.append(text[index])
        elif char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            arguments.append("".join(current))
            current = []
        else:
            current.append(char)
        index += 1
    arguments.append("".join(current))
    return arguments


class FakeRtorrent:
    """An rTorrent of ``line`` ("0.9.8" or "0.16") in memory, reachable as a transport.

    ``jsonrpc``: None for the line's own (0.16 lists ``network.rpc.use_jsonrpc`` and answers 1, 0.9.8
    lacks it); True or False list it and answer 1 or 0. ``version`` overrides the version text.
    """

    url = "scgi:///fake/rtorrent/rpc.socket"

    def __init__(
        self, line: str = "0.9.8", *, version: str | None = None, jsonrpc: bool | None = None
    ) -> None:
        if line not in LINES:
            raise ValueError(f"unknown rTorrent line {line!r}; known: {', '.join(LINES)}")
        self.line = line
        self.version = version if version is not None else VERSIONS[line]
        self.library_version = LIBRARY_VERSIONS[line]
        self.items: dict[str, FakeItem] = {}
        self.views: list[str] = list(VIEWS)
        self.requests: list[Request] = []
        self.printed: list[str] = []  # what print wrote to rTorrent's log
        self.down: bool | Exception = False
        self.refuse_loads = False
        self.paths_visible = True
        self.on_request: Callable[[Request], None] | None = None
        self.session_name = "fake:4242"
        self.xmlrpc_size_limit = 512 << 10
        self.session_path = "/fake/session"
        self.now: float | None = None  # system.time; None: the real time
        self._faults: list[tuple[str, str | None, int, str]] = []
        self.commands: dict[str, Handler] = self._builtin_commands()
        use_json = (line == "0.16") if jsonrpc is None else jsonrpc
        if jsonrpc is not None or line == "0.16":
            self.commands["network.rpc.use_jsonrpc"] = lambda target="": int(use_json)

    # -- what a test sets up ----------------------------------------------------------------------

    def client(self, **kwargs: Any) -> RtorrentClient:
        """A real ``RtorrentClient`` talking to this fake."""
        return RtorrentClient(self.url, transport=self, **kwargs)

    def add_item(
        self,
        info_hash: str,
        name: str,
        files: Sequence[tuple[str, int]] | None = None,
        *,
        values: Mapping[str, Any] | None = None,
        custom: Mapping[str, str] | None = None,
        trackers: Sequence[tuple[str, int]] = (),
    ) -> FakeItem:
        """Add an item; ``values`` are its answers to d.* commands by name (``{"d.priority": 3}``).

        Without ``files`` it is one empty file named like the item.
        """
        item = FakeItem(
            info_hash.upper(),
            name,
            list(files) if files is not None else [(name, 0)],
            dict(values or {}),
            dict(custom or {}),
            list(trackers),
        )
        self.items[item.hash] = item
        return item

    def add_metafile(self, data: bytes, *, start: bool = False) -> FakeItem | None:
        """Add an item from a metafile's bytes as ``load.raw`` would (None for a broken metafile)."""
        return self._load(data, "load.raw_start" if start else "load.raw", ())

    def fail(self, method: str, code: int, message: str, *, target: str | None = None) -> None:
        """From now on ``method`` (on ``target``, or on any target) answers this fault."""
        self._faults.append((method, target, code, message))

    def set_global(self, method: str, value: Any) -> None:
        """A global command answering ``value`` (a callable is called for each answer)."""
        self.commands[method] = (lambda target="", *args: value()) if callable(value) else _constant(value)

    # -- what a test reads ------------------------------------------------------------------------

    def sent(self) -> list[Request]:
        """The requests, without the client's protocol detection."""
        return [request for request in self.requests if not request.is_detection]

    def methods(self) -> list[str]:
        """The method of each request but the detection ("system.multicall" for a multicall)."""
        return [request.method for request in self.sent()]

    def calls(self, prefix: str = "") -> list[Call]:
        """The calls but the detection, in order (multicalls unpacked), methods starting with ``prefix``."""
        return [call for request in self.sent() for call in request.calls if call[0].startswith(prefix)]

    def clear(self) -> None:
        """Forget the requests so far."""
        self.requests.clear()

    # -- the transport ----------------------------------------------------------------------------

    def request(self, body: bytes, content_type: str) -> bytes:
        """Answer one request body, as rTorrent's SCGI socket does."""
        if self.down:
            if isinstance(self.down, Exception):
                raise self.down
            raise TransportError("connection refused (is rTorrent running?)", self.url)
        cap = LARGE_REQUEST_CAP if self.line == "0.16" else SMALL_REQUEST_CAP
        if len(body) > cap:  # both lines reset the connection, no fault
            raise TransportError("connection lost: Connection reset by peer", self.url)
        if content_type == "application/json":
            return self._json(body)
        return self._xml(body)

    def _record(self, protocol: str, method: str, calls: Iterable[Call], size: int) -> None:
        request = Request(protocol, method, tuple(calls), size)
        if self.on_request is not None:
            self.on_request(request)
        self.requests.append(request)

    def _xml(self, body: bytes) -> bytes:
        params, method = xmlrpc.client.loads(body, use_builtin_types=True)
        assert method is not None, "not an XML-RPC call"
        if method == "system.multicall":
            entries: list[dict[str, Any]] = params[0]  # type: ignore[assignment]
            calls = [(entry["methodName"], tuple(entry["params"])) for entry in entries]
            self._record("xml", method, calls, len(body))
            answers: list[Any] = []
            for name, call_params in calls:
                try:
                    answers.append([self._run(name, call_params, "xml")])
                except _Fault as fault:
                    answers.append({"faultCode": fault.xml_code, "faultString": fault.message})
            return xml_answer(answers)
        self._record("xml", method, [(method, tuple(params))], len(body))
        try:
            return xml_answer(self._run(method, tuple(params), "xml"))
        except _Fault as fault:
            return xmlrpc.client.dumps(
                xmlrpc.client.Fault(fault.xml_code, fault.message), methodresponse=True
            ).encode()

    def _json(self, body: bytes) -> bytes:
        payload = json.loads(body)
        if isinstance(payload, list):
            if not payload:
                return json.dumps(_json_error(None, -32600, "invalid request: empty batch")).encode()
            self._record("json", "system.multicall", [_json_call(entry) for entry in payload], len(body))
            return json.dumps([self._json_one(entry) for entry in payload]).encode()
        self._record("json", payload["method"], [_json_call(payload)], len(body))
        return json.dumps(self._json_one(payload)).encode()

    def _json_one(self, entry: dict[str, Any]) -> dict[str, Any]:
        method, params = _json_call(entry)
        try:
            return {"id": entry.get("id"), "jsonrpc": "2.0", "result": self._run(method, params, "json")}
        except _Fault as fault:
            return _json_error(entry.get("id"), fault.json_code, fault.json_message)

    # -- running commands -------------------------------------------------------------------------

    def _run(self, method: str, params: tuple[Any, ...], protocol: str) -> Any:
        if protocol == "json" and method in ("system.multicall", "system.listMethods"):
            raise _unknown_method(method)  # xmlrpc-c's own methods; 0.16's JSON-RPC has neither
        target = params[0] if params and isinstance(params[0], str) else None
        for name, fault_target, code, message in self._faults:
            if name == method and fault_target in (None, target):
                raise _Fault(code, code, message)
        handler = self.commands.get(method)
        if handler is None:
            raise _unknown_method(method)
        return handler(*params)

    def _hash_fault(self) -> _Fault:
        if self.line == "0.9.8":
            return _Fault(-501, -32602, "Could not find info-hash.")
        return _Fault(-503, -32602, "invalid parameters: info-hash not found")

    def item(self, target: Any) -> FakeItem:
        """The item a call targets (an info hash, or ``HASH:t0`` style for a tracker)."""
        if not isinstance(target, str) or not target:
            raise _Fault(-501, -32602, "Unsupported target type found.")
        item = self.items.get(target.split(":", 1)[0].upper())
        if item is None:
            raise self._hash_fault()
        return item

    def _view_items(self, view: Any, missing: str = "Could not find view.") -> list[FakeItem]:
        if view not in self.views:
            raise _Fault(-503, -32602, missing)
        items = list(self.items.values())
        checks: dict[str, Callable[[FakeItem], bool]] = {
            "active": lambda item: bool(item.value("d.is_active")),
            "started": lambda item: item.started,
            "stopped": lambda item: not item.started,
            "complete": lambda item: bool(item.value("d.complete")),
            "incomplete": lambda item: not item.value("d.complete"),
            "hashing": lambda item: bool(item.value("d.hashing")),
            "seeding": lambda item: item.started and bool(item.value("d.complete")),
            "leeching": lambda item: item.started and not item.value("d.complete"),
        }
        if view == "name":
            return sorted(items, key=lambda item: item.name)
        if view in checks:
            return [item for item in items if checks[view](item)]
        if view in ("main", "default"):
            return items
        return [item for item in items if view in item.views]

    def _row(self, item: FakeItem, fields: Sequence[Any]) -> list[Any]:
        row: list[Any] = []
        for spec in fields:
            name, _, argument = str(spec).partition("=")
            if name == "d.custom":
                row.append(item.custom.get(argument, ""))
            elif name in ("t.multicall", "f.multicall"):
                _pattern, *inner = split_command_arguments(argument)
                row.append(self._sub_rows(item, name[0], inner))
            else:
                try:
                    row.append(item.value(name))
                except KeyError:
                    raise _Fault(-503, -32602, f'Command "{name}" does not exist.') from None
        return row

    def _sub_rows(self, item: FakeItem, kind: str, fields: Sequence[Any]) -> list[list[Any]]:
        entries = item.trackers if kind == "t" else item.files
        names = {"t": ("t.url", "t.is_enabled"), "f": ("f.path", "f.size_bytes")}[kind]
        rows = []
        for entry in entries:
            row = []
            for spec in fields:
                name = str(spec).partition("=")[0]
                if name not in names:
                    raise _Fault(-503, -32602, f'Command "{name}" does not exist.')
                row.append(entry[names.index(name)])
            rows.append(row)
        return rows

    def _d_multicall(self, target: Any = None, view: Any = None, *fields: Any) -> list[list[Any]]:
        if target != "":
            raise _Fault(-501, -32602, "Unsupported target type found.")
        return [self._row(item, fields) for item in self._view_items(view)]

    def _d_multicall_filtered(
        self, target: Any = None, view: Any = None, expression: Any = "", *fields: Any
    ) -> list[list[Any]]:
        if target != "":
            raise _Fault(-501, -32602, "Unsupported target type found.")
        items = self._view_items(view, f"Could not find view '{view}'.")
        kept = [item for item in items if truth(evaluate_filter(str(expression), item.value))]
        return [self._row(item, fields) for item in kept]

    def _load(self, data: bytes, method: str, commands: Sequence[Any], tied_to: str = "") -> FakeItem | None:
        # rTorrent answers 0 for every load and reports a bad metafile only in its log.
        try:
            meta = bdecode(data)
            info = meta[b"info"]
            info_hash = hashlib.sha1(bencode(info)).hexdigest().upper()
            name = info[b"name"].decode("utf-8", "replace")
        except (BencodeError, KeyError, TypeError, AttributeError):
            self.printed.append(f"Could not load a metafile with {method}: not a valid metafile")
            return None
        if self.refuse_loads:
            return None
        if info_hash in self.items:  # loaded already: rTorrent ignores the load and its commands
            return None
        if b"files" in info:
            files = [
                ("/".join(part.decode("utf-8", "replace") for part in entry[b"path"]), entry[b"length"])
                for entry in info[b"files"]
            ]
        else:
            files = [(name, info[b"length"])]
        trackers = [(meta[b"announce"].decode(), 1)] if b"announce" in meta else []
        item = FakeItem(
            info_hash,
            name,
            files,
            trackers=trackers,
            multi_file=b"files" in info,
            piece_length=info.get(b"piece length", 1 << 18),
            loaded_by=method,
            commands=[str(command) for command in commands],
        )
        if tied_to:
            item.values["d.tied_to_file"] = tied_to
        if info.get(b"private"):
            item.values["d.is_private"] = 1
        self.items[info_hash] = item
        for command in commands:
            name, _, argument = str(command).partition("=")
            try:  # a failing load command is logged by rTorrent; the item stays
                self._run(name, (info_hash, *split_command_arguments(argument)), "xml")
            except _Fault as fault:
                self.printed.append(f"Load command {command!r} failed: {fault.message}")
        if "start" in method:
            self._start(info_hash)
        return item

    def _load_raw(self, method: str) -> Handler:
        def load(target: Any = "", data: Any = b"", *commands: Any) -> int:
            if isinstance(data, str) and data.startswith(_DATA_URI):
                data = base64.b64decode(data[len(_DATA_URI) :])
            if isinstance(data, bytes):
                self._load(data, method, commands)
            return 0

        return load

    def _load_path(self, method: str) -> Handler:
        def load(target: Any = "", path: Any = "", *commands: Any) -> int:
            file = Path(str(path))
            if self.paths_visible and file.is_file():
                self._load(file.read_bytes(), method, commands, tied_to=str(path))
            return 0

        return load

    def _start(self, target: Any) -> int:
        self.item(target).values.update({"d.state": 1, "d.is_open": 1, "d.is_active": 1})
        return 0

    def _stop(self, target: Any) -> int:
        self.item(target).values.update({"d.state": 0, "d.is_active": 0})
        return 0

    def _erase(self, target: Any) -> int:
        del self.items[self.item(target).hash]
        return 0

    def _custom_set(self, target: Any, key: Any = "", value: Any = "") -> int:
        self.item(target).custom[str(key)] = str(value)
        return 0

    def _setter(self, command: str) -> Handler:
        def set_value(target: Any, value: Any = "") -> int:
            item = self.item(target)
            if isinstance(ITEM_DEFAULTS[command], int):
                try:
                    value = int(value)
                except (TypeError, ValueError):
                    raise _Fault(-503, -32602, "Junk at end of number.") from None
            item.values[command] = value
            return 0

        return set_value

    def _getter(self, command: str) -> Handler:
        return lambda target=None, *args: self.item(target).value(command)

    def _tracker_url(self, target: Any) -> str:
        item = self.item(target)
        _, _, index = str(target).partition(":t")
        position = int(index or 0)
        if position >= len(item.trackers):
            raise _Fault(-501, -32602, "Invalid index.")
        return item.trackers[position][0]

    def _print(self, target: Any = "", *parts: Any) -> int:
        self.printed.append("".join(str(part) for part in parts))
        return 0

    def _time(self) -> float:
        return time.time() if self.now is None else self.now

    def _builtin_commands(self) -> dict[str, Handler]:
        commands: dict[str, Handler] = {
            "system.client_version": lambda target="": self.version,
            "system.library_version": lambda target="": self.library_version,
            "system.listMethods": lambda *args: sorted(self.commands),
            "system.time": lambda target="": int(self._time()),
            # Both lines' default when rtorrent.rc does not raise it (the real sandboxes set 16M).
            "network.xmlrpc.size_limit": lambda target="": self.xmlrpc_size_limit,
            "system.time_usec": lambda target="": int(self._time() * 1_000_000),
            "system.pid": lambda target="": os.getpid(),
            "session.name": lambda target="": self.session_name,
            "session.path": lambda target="": self.session_path,
            "view.list": lambda target="": list(self.views),
            "view.size": lambda target="", view="": len(
                self._view_items(view, f"Could not find view: {view}")
            ),
            "download_list": lambda target="", view="main": [item.hash for item in self._view_items(view)],
            "d.multicall2": self._d_multicall,
            "d.multicall.filtered": self._d_multicall_filtered,
            "d.start": self._start,
            "d.stop": self._stop,
            "d.erase": self._erase,
            "d.custom": lambda target=None, key="": self.item(target).custom.get(str(key), ""),
            "d.custom.set": self._custom_set,
            "f.multicall": lambda target=None, pattern="", *fields: self._sub_rows(
                self.item(target), "f", fields
            ),
            "t.multicall": lambda target=None, pattern="", *fields: self._sub_rows(
                self.item(target), "t", fields
            ),
            "t.url": self._tracker_url,
            "print": self._print,
            "schedule": lambda target="", *args: 0,
            "schedule.remove": lambda target="", *args: 0,
        }
        if self.line == "0.9.8":
            commands["schedule2"] = commands["schedule"]
            commands["schedule_remove2"] = commands["schedule.remove"]
        else:
            commands["d.multicall"] = self._d_multicall  # 0.16 has both names
        derived = ("d.hash", "d.name", "d.size_bytes", "d.size_files", "d.is_multi_file", "d.size_chunks")
        for command in (*ITEM_DEFAULTS, *derived, "d.chunk_size", "d.left_bytes", "d.views"):
            commands[command] = self._getter(command)
        for command in SETTABLE:
            commands[f"{command}.set"] = self._setter(command)
        for method, value in GLOBALS[self.line].items():
            commands[method] = _constant(value)
        for method in _LOADS:
            commands[method] = self._load_raw(method)
        for method in _PATH_LOADS:
            commands[method] = self._load_path(method)
        for operator in FILTER_OPERATORS:  # listed as methods; the fake runs them only inside filters
            commands[operator] = _filter_only(operator)
        return commands


def _constant(value: Any) -> Handler:
    return lambda target="", *args: value


def _filter_only(operator: str) -> Handler:
    def refuse(*args: Any) -> Any:
        raise _Fault(-503, -32602, f"the fake rTorrent runs {operator} only inside d.multicall.filtered")

    return refuse


def _unknown_method(method: str) -> _Fault:
    return _Fault(-506, -32601, f"Method '{method}' not defined", f"method not found: {method}")


def _json_call(entry: dict[str, Any]) -> Call:
    return entry["method"], tuple(entry.get("params", ()))


def _json_error(request_id: Any, code: int, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}, "id": request_id, "jsonrpc": "2.0"}
