"""Where rTorrent listens: ``Endpoint`` and ``parse_url``.

Accepted forms:

- ``scgi:///abs/path`` (or ``scgi+unix:///abs/path``), ``scgi://~/path``, ``~/path``, ``~user/path``
  or a bare ``/abs/path``: SCGI over a unix socket (``~`` is expanded; relative paths are refused).
- ``scgi://host:port``: SCGI over TCP (the port is required).
- ``http://[user:pass@]host[:port]/path`` and ``https://…``: XML-RPC (or JSON-RPC) by HTTP POST,
  e.g. behind a web server's ``/RPC2`` mount; user and password become HTTP basic auth.

Query options (only on URLs with a scheme; a bare path is taken literally):

- ``rpc=xml`` / ``rpc=json`` forces the wire protocol; ``rpc=auto`` (the default) lets the client
  choose from what the server reports.
- ``verify=no`` (or another false word of the one yes/no vocabulary: ``false``, ``off``, ``0``, ``n``,
  ``f``, ``-``) turns off TLS certificate and host name checks on ``https``; ``verify=yes`` (or another
  true word; ``+`` is written ``%2B`` in a URL) keeps them, as by default. ``verify`` is refused on
  other schemes.

Unknown schemes, query keys or values are a ``ConfigError`` naming the URL.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal
from urllib.parse import SplitResult, parse_qsl, unquote, urlencode, urlsplit

from pyrotorque.config.convert import bool_word
from pyrotorque.errors import ConfigError

Kind = Literal["unix", "tcp", "http", "https"]
Protocol = Literal["xml", "json"]

_UNIX_SCHEMES = frozenset({"scgi", "scgi+unix"})
# Query keys this module interprets; anything else on http(s) URLs is passed on to the server.
_KNOWN_KEYS = frozenset({"rpc", "verify"})


@dataclass(frozen=True)
class Endpoint:
    """A parsed rTorrent address: how to reach it and which protocol to force, if any."""

    kind: Kind
    url: str  # the text as given, with any password masked (safe for messages and logs)
    path: str = ""  # socket path (unix) or request path (http)
    host: str = ""
    port: int = 0
    username: str | None = None
    password: str | None = None
    verify_tls: bool = True
    protocol: Protocol | None = None  # None: choose automatically

    def __repr__(self) -> str:
        # Never show the password in tracebacks or logs.
        return f"Endpoint({self.url!r})"


def parse_url(text: str) -> Endpoint:
    """Parse an rTorrent URL or socket path into an ``Endpoint``; bad input raises ``ConfigError``."""
    raw = text.strip()
    if not raw:
        raise ConfigError("empty rTorrent URL")
    if raw.startswith("~"):
        return _unix_endpoint(raw, os.path.expanduser(raw), None)
    if raw.startswith("/"):
        return Endpoint(kind="unix", url=raw, path=raw)

    parts = urlsplit(raw)
    # From here on, messages show the URL with its password masked.
    raw = masked_url(raw)
    scheme = parts.scheme.lower()
    if not scheme or "://" not in raw:
        raise ConfigError(f"not an rTorrent URL or absolute socket path: {raw!r}")
    options = _parse_query(raw, parts.query)
    protocol = _protocol_option(raw, options)
    verify = _verify_option(raw, options, scheme)
    if parts.fragment:
        raise ConfigError(f"unexpected '#' fragment in rTorrent URL {raw!r}")

    if scheme in _UNIX_SCHEMES and not _is_tcp(scheme, parts.netloc):
        _refuse_unknown_keys(raw, options)
        return _unix_url_endpoint(raw, parts, protocol)
    if scheme == "scgi":
        _refuse_unknown_keys(raw, options)
        return _tcp_endpoint(raw, parts.hostname, _port(raw, parts), parts.path, protocol)
    if scheme in ("http", "https"):
        return _http_endpoint(raw, parts, options, protocol, verify)
    raise ConfigError(f"unsupported scheme {scheme!r} in rTorrent URL {raw!r} (use scgi, http or https)")


def _unix_url_endpoint(raw: str, parts: SplitResult, protocol: Protocol | None) -> Endpoint:
    """A unix socket named by a URL: ``scgi:///path``, ``scgi://~/path``, ``scgi:///~/path``."""
    if parts.netloc not in ("", "~"):
        raise ConfigError(f"a unix socket URL names no host: {raw!r}")
    path = unquote(parts.path)
    if parts.netloc == "~":
        path = os.path.expanduser("~" + path)
    elif path.startswith("/~"):
        path = os.path.expanduser(path[1:])
    return _unix_endpoint(raw, path, protocol)


def _http_endpoint(
    raw: str, parts: SplitResult, options: list[tuple[str, str]], protocol: Protocol | None, verify: bool
) -> Endpoint:
    """An HTTP(S) endpoint; query keys that are not ours stay in the path."""
    if not parts.hostname:
        raise ConfigError(f"no host in rTorrent URL {raw!r}")
    extra_query = _other_query(options)
    https = parts.scheme.lower() == "https"
    return Endpoint(
        kind="https" if https else "http",
        url=raw,
        path=(parts.path or "/") + (f"?{extra_query}" if extra_query else ""),
        host=parts.hostname,
        port=_port(raw, parts) or (443 if https else 80),
        username=unquote(parts.username) if parts.username is not None else None,
        password=unquote(parts.password) if parts.password is not None else None,
        verify_tls=verify,
        protocol=protocol,
    )


def _is_tcp(scheme: str, netloc: str) -> bool:
    if scheme == "scgi+unix":
        return False
    return netloc not in ("", "~")


def _unix_endpoint(raw: str, path: str, protocol: Protocol | None) -> Endpoint:
    if not os.path.isabs(path):
        what = "cannot expand '~' in" if path.startswith("~") else "socket path is not absolute in"
        raise ConfigError(f"{what} rTorrent URL {raw!r}")
    return Endpoint(kind="unix", url=raw, path=path, protocol=protocol)


def _tcp_endpoint(raw: str, host: str | None, port: int, path: str, protocol: Protocol | None) -> Endpoint:
    if not host:
        raise ConfigError(f"no host in rTorrent URL {raw!r}")
    if not port:
        raise ConfigError(f"SCGI over TCP needs a port: {raw!r} (e.g. scgi://127.0.0.1:5000)")
    if path not in ("", "/"):
        raise ConfigError(f"SCGI over TCP takes no path: {raw!r}")
    return Endpoint(kind="tcp", url=raw, host=host, port=port, protocol=protocol)


def _port(raw: str, parts: SplitResult) -> int:
    try:
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"bad port in rTorrent URL {raw!r}") from exc
    return int(port) if port is not None else 0


def _parse_query(raw: str, query: str) -> list[tuple[str, str]]:
    try:
        return parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError as exc:
        raise ConfigError(f"bad query in rTorrent URL {raw!r}") from exc


def _protocol_option(raw: str, options: list[tuple[str, str]]) -> Protocol | None:
    values = [value.lower() for key, value in options if key == "rpc"]
    if not values:
        return None
    if len(values) > 1 or values[0] not in ("xml", "json", "auto"):
        raise ConfigError(f"rpc= must be one of xml, json, auto in rTorrent URL {raw!r}")
    value = values[0]
    if value == "xml":
        return "xml"
    if value == "json":
        return "json"
    return None


def _verify_option(raw: str, options: list[tuple[str, str]], scheme: str) -> bool:
    values = [value.lower() for key, value in options if key == "verify"]
    if not values:
        return True
    if scheme != "https":
        raise ConfigError(f"verify= only applies to https in rTorrent URL {raw!r}")
    verify = bool_word(values[0]) if len(values) == 1 else None
    if verify is not None:
        return verify
    raise ConfigError(f"verify= must be yes or no in rTorrent URL {raw!r}")


def _other_query(options: list[tuple[str, str]]) -> str:
    return urlencode([(key, value) for key, value in options if key not in _KNOWN_KEYS])


def _refuse_unknown_keys(raw: str, options: list[tuple[str, str]]) -> None:
    unknown = sorted({key for key, _ in options if key not in _KNOWN_KEYS})
    if unknown:
        raise ConfigError(f"unknown option {', '.join(unknown)} in rTorrent URL {raw!r} (known: rpc, verify)")


def masked_url(raw: str) -> str:
    """The URL with the password of its ``user:password@`` part shown as ``***``; anything else as is."""
    scheme, sep, rest = raw.partition("://")
    authority, slash, tail = rest.partition("/")
    userinfo, at, hostport = authority.rpartition("@")
    if not sep or not at or ":" not in userinfo:
        return raw
    user = userinfo.split(":", 1)[0]
    return f"{scheme}://{user}:***@{hostport}{slash}{tail}"
