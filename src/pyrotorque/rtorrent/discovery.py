"""Find rTorrent's SCGI URL: ``--url``, ``PYRO_SCGI_URL``, ``[GLOBAL] scgi_url``, then rtorrent.rc.

From rtorrent.rc, ``network.scgi.open_local`` (old name ``scgi_local``) wins over
``network.scgi.open_port`` (``scgi_port``); the last setting of each kind counts. Comment lines and
commands continued with a trailing backslash are skipped. Values may be quoted, start with ``~``, or
be a ``(cat,…)`` of literals and simple string methods defined earlier in the same file with
``method.insert = name, string|const|private…, value``; anything more dynamic is not evaluated and
the setting is ignored. A listening host of ``0.0.0.0`` or nothing means ``127.0.0.1``. ``import``
lines are not followed.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import quote

from pyrotorque.errors import ConfigError
from pyrotorque.rtorrent.url import parse_url

LOG = logging.getLogger(__name__)

ENV_VAR = "PYRO_SCGI_URL"

_LOCAL_KEYS = frozenset({"network.scgi.open_local", "scgi_local"})
_PORT_KEYS = frozenset({"network.scgi.open_port", "scgi_port"})
_ASSIGNMENT = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*=\s*(.*?)\s*$")
_STRING_METHOD = re.compile(r"^([\w.]+)\s*,\s*([\w|]+)\s*,\s*(.*)$")
_ANY_HOSTS = frozenset({"", "0.0.0.0", "*"})


def scgi_url_from_rtorrent_rc(path: str | Path) -> str | None:
    """The SCGI URL an rtorrent.rc opens (local socket preferred), or None if it opens none.

    A missing file gives None; a file that exists but cannot be read is a ``ConfigError``.
    """
    rc_path = Path(os.path.expanduser(str(path)))
    try:
        text = rc_path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"cannot read rtorrent.rc: {exc.strerror or exc}", path=rc_path) from exc

    strings: dict[str, str] = {}
    local: str | None = None
    port: str | None = None
    for number, key, raw_value in _settings(text):
        if key == "method.insert":
            _remember_string_method(raw_value, strings)
            continue
        if key not in _LOCAL_KEYS and key not in _PORT_KEYS:
            continue
        value = _evaluate(raw_value, strings)
        if value is None:
            LOG.debug("%s line %d: cannot evaluate %s = %s; ignored", rc_path, number, key, raw_value)
            continue
        if key in _LOCAL_KEYS:
            local = value
        else:
            port = value

    if local:
        socket_path = os.path.expanduser(local)
        if not os.path.isabs(socket_path):
            raise ConfigError(f"SCGI socket path {local!r} is not absolute", path=rc_path)
        return _unix_url(socket_path)
    if port:
        return _tcp_url(port, rc_path)
    return None


def resolve_url(
    cli_url: str | None,
    environ: Mapping[str, str],
    global_scgi_url: str | None,
    rtorrent_rc_path: str | Path | None,
) -> str:
    """The first URL found in: ``--url``, ``PYRO_SCGI_URL``, ``[GLOBAL] scgi_url``, the rtorrent.rc.

    The URL found is checked with ``parse_url``; finding none is a ``ConfigError`` listing what was tried.
    """
    candidates = (
        ("--url", cli_url),
        (ENV_VAR, environ.get(ENV_VAR)),
        ("[GLOBAL] scgi_url", global_scgi_url),
    )
    for source, value in candidates:
        if value is not None and value.strip():
            _check(value.strip(), source)
            return value.strip()

    tried = [source for source, _ in candidates]
    if rtorrent_rc_path is not None and str(rtorrent_rc_path).strip():
        rc_path = Path(os.path.expanduser(str(rtorrent_rc_path)))
        url = scgi_url_from_rtorrent_rc(rc_path)
        if url is not None:
            _check(url, f"{rc_path}")
            return url
        state = "no such file" if not rc_path.exists() else "no network.scgi.open_local/open_port"
        tried.append(f"{rc_path} ({state})")
    else:
        tried.append("rtorrent.rc (no path configured)")
    raise ConfigError(f"no rTorrent SCGI URL found; tried {', '.join(tried)}")


def _check(url: str, source: str) -> None:
    try:
        parse_url(url)
    except ConfigError as exc:
        raise ConfigError(f"{exc} (from {source})") from exc


def _settings(text: str) -> list[tuple[int, str, str]]:
    """``(line number, key, raw value)`` for each simple one-line ``key = value`` command."""
    found: list[tuple[int, str, str]] = []
    continued = False
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        was_continued = continued
        continued = stripped.endswith("\\")
        if was_continued or continued or not stripped or stripped.startswith("#"):
            continue
        match = _ASSIGNMENT.match(stripped)
        if match:
            found.append((number, match.group(1), match.group(2)))
    return found


def _remember_string_method(raw_value: str, strings: dict[str, str]) -> None:
    match = _STRING_METHOD.match(raw_value)
    if not match:
        return
    name, kinds, value = match.groups()
    if "string" not in kinds.split("|") and "value" not in kinds.split("|"):
        return
    literal = _literal(value)
    if literal is not None:
        strings[name] = literal


def _literal(text: str) -> str | None:
    """A plain or double-quoted literal; None for anything that would need rTorrent to evaluate."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        inner = text[1:-1]
        return None if '"' in inner else inner
    if any(char in text for char in '(){}$"'):
        return None
    return text


def _evaluate(raw_value: str, strings: Mapping[str, str]) -> str | None:
    """A literal, or ``(cat,…)`` of literals and ``(name)`` references to known string methods."""
    text = raw_value.strip()
    if text.startswith('"') and text.endswith('"') and text[1:].lstrip().startswith("("):
        text = text[1:-1].strip()  # "(cat,…)" quoted as a whole
    if not text.startswith("(cat,") or not text.endswith(")"):
        return _literal(text)
    parts = []
    for argument in _split_top_level(text[len("(cat,") : -1]):
        argument = argument.strip()
        if argument.startswith("(") and argument.endswith(")"):
            name = argument[1:-1].strip()
            if name not in strings:
                return None
            parts.append(strings[name])
        else:
            literal = _literal(argument)
            if literal is None:
                return None
            parts.append(literal)
    return "".join(parts)


def _split_top_level(text: str) -> list[str]:
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    for char in text:
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        depth += (char == "(") - (char == ")")
        current.append(char)
    parts.append("".join(current))
    return parts


def _unix_url(socket_path: str) -> str:
    """``scgi:///path``, percent-quoted so that ``#``, ``?`` and ``%`` in the path survive ``parse_url``."""
    if socket_path.startswith("/~"):
        return socket_path  # parse_url would expand "scgi:///~…"; a bare path is taken literally
    return "scgi://" + quote(socket_path)


def _tcp_url(value: str, rc_path: Path) -> str:
    host, colon, port = value.rpartition(":")
    if not colon or not port.isdigit():
        raise ConfigError(f"SCGI port setting {value!r} is not host:port", path=rc_path)
    host = host.strip("[]")
    if host in _ANY_HOSTS:
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"scgi://[{host}]:{port}" if ":" in host else f"scgi://{host}:{port}"
