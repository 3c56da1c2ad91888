"""The one exception tree of pyrotorque.

::

    PyrotorqueError
     ├── ConfigError          bad configuration: names the key, the file and the line
     ├── JobLoadError         a job handler that cannot be imported or built
     ├── ConditionError       bad filter condition: names the position of the offending token
     ├── DaemonError          process control: pid file trouble
     │    ├── AlreadyRunning     a daemon holds the pid file (defined in pyrotorque.pidfile)
     │    └── GuardFileMissing   the guard file that allows background starts is missing
     ├── MetafileError        a .torrent file that cannot be read or is not a valid metafile
     ├── TemplateError        a templated load command that cannot be parsed or expanded
     ├── DataError            an item's data that cannot be deleted or moved safely (names the path)
     └── RtorrentError        anything that went wrong talking to rTorrent
          ├── TransportError  could not connect, send or receive (names the URL)
          │    └── RtorrentTimeout   no answer within the configured timeout
          ├── ProtocolError   the answer was not a valid XML-RPC / JSON-RPC response
          ├── RequestTooLarge a request above what the connected rTorrent accepts (not sent)
          └── FaultError      rTorrent answered with a fault (keeps code and message)
               └── HashNotFound    fault -501 or "info-hash not found"

Foreign exceptions (socket, expat, json, xmlrpc faults) are translated only at the
``pyrotorque.rtorrent`` boundary, with ``raise ... from exc``.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's: the control commands import this module, and typing costs
if TYPE_CHECKING:
    from pathlib import Path


class PyrotorqueError(Exception):
    """Base of every error pyrotorque raises on purpose."""


class ConfigError(PyrotorqueError):
    """A configuration value, key or file is wrong; says where."""

    def __init__(
        self,
        message: str,
        *,
        key: str | None = None,
        path: str | Path | None = None,
        line: int | None = None,
    ) -> None:
        self.key = key
        self.path = str(path) if path is not None else None
        self.line = line
        self.reason = message
        where = ""
        if self.path is not None:
            where = f" ({self.path} line {line})" if line is not None else f" ({self.path})"
        prefix = f"{key}: " if key else ""
        if prefix and message.startswith(prefix):  # the reason may already name its key
            message = message[len(prefix) :]
        # The location ends the first line, so a drawing below it (a template, a caret) stays intact.
        first, newline, rest = message.partition("\n")
        super().__init__(f"{prefix}{first}{where}{newline}{rest}")


class JobLoadError(ConfigError):
    """A job's handler cannot be imported, is not a job, or fails to build."""


class ConditionError(PyrotorqueError):
    """A filter condition cannot be parsed; points at the offending token."""

    def __init__(self, message: str, text: str = "", position: int | None = None) -> None:
        self.reason = message
        self.text = text
        self.position = position
        if position is not None and text:
            pointer = " " * position + "^"
            super().__init__(f"{message} at position {position}\n    {text}\n    {pointer}")
        elif text:
            super().__init__(f"{message} in {text!r}")
        else:
            super().__init__(message)


class DaemonError(PyrotorqueError):
    """Process control failed: guard file missing, already running, pid file trouble."""


class GuardFileMissing(DaemonError):
    """The guard file that allows a background start does not exist."""


class MetafileError(PyrotorqueError):
    """A metafile cannot be read or is not valid bencoded torrent metadata; names the file."""


class TemplateError(PyrotorqueError):
    """A templated command cannot be parsed or expanded; names the command."""


class DataError(PyrotorqueError):
    """An item's data cannot be deleted or moved safely, or the attempt failed; names the path."""


class RtorrentError(PyrotorqueError):
    """Talking to rTorrent failed."""


class TransportError(RtorrentError):
    """Could not connect to, send to or receive from rTorrent."""

    def __init__(self, message: str, url: str = "") -> None:
        self.url = url
        super().__init__(f"{message} ({url})" if url else message)


class RtorrentTimeout(TransportError):
    """rTorrent did not answer within the configured timeout."""


class ProtocolError(RtorrentError):
    """The response could not be decoded as XML-RPC or JSON-RPC."""


class RequestTooLarge(RtorrentError):
    """A request is larger than the connected rTorrent accepts; it was not sent.

    rTorrent would drop it by resetting the connection, which looks like rTorrent going away.
    """

    def __init__(self, method: str, size: int, limit: int, url: str = "") -> None:
        self.method = method
        self.size = size
        self.limit = limit
        where = f" ({url})" if url else ""
        super().__init__(f"request for {method} is {size} bytes, above the {limit} bytes accepted{where}")


class FaultError(RtorrentError):
    """rTorrent answered the call with a fault."""

    def __init__(self, code: int, message: str, method: str = "") -> None:
        self.code = code
        self.message = message
        self.method = method
        where = f" in {method}" if method else ""
        super().__init__(f"fault {code}{where}: {message}")


class HashNotFound(FaultError):
    """The info hash given as the target is not loaded in rTorrent."""
