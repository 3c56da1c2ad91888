"""``[CONNECTIONS]``: the rTorrent instances one daemon serves, by name.

``NAME = URL`` names an instance (the URL forms of ``scgi_url``), ``NAME.rpc_timeout = SECONDS`` sets
its call timeout (``[GLOBAL] rpc_timeout`` otherwise). The connection every existing configuration
uses (``--url``, ``PYRO_SCGI_URL``, ``[GLOBAL] scgi_url``, the rtorrent.rc) is the one named
``default``; ``default = URL`` here is the same as ``[GLOBAL] scgi_url``, so giving both is an error
rather than a silent choice. Only checks here: the URLs are resolved and the clients made in the plan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pyrotorque.config.convert import BadValue, parse_float
from pyrotorque.config.ini import Setting
from pyrotorque.config.loader import Config
from pyrotorque.errors import ConfigError
from pyrotorque.rtorrent.url import parse_url

SECTION = "connections"
#: The connection of every job that names none, found the way a single-instance daemon finds it.
DEFAULT_CONNECTION = "default"
_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
_TIMEOUT_SUFFIX = ".rpc_timeout"


@dataclass(frozen=True)
class ConnectionSpec:
    """One named instance: its URL as configured (None for the default: found by discovery)."""

    name: str
    url: str | None
    rpc_timeout: float
    #: Where it was configured (for messages); empty for a default found by discovery.
    where: str = ""


def connection_specs(config: Config, rpc_timeout: float) -> dict[str, ConnectionSpec]:
    """Every configured connection, ``default`` first (its URL None unless ``default = URL`` is given).

    ConfigError names the key, file and line of a bad name, URL or timeout.
    """
    section = config.section(SECTION)
    urls: dict[str, Setting] = {}
    timeouts: dict[str, Setting] = {}
    for key, setting in section.items():
        name, is_timeout = (
            (key[: -len(_TIMEOUT_SUFFIX)], True) if key.endswith(_TIMEOUT_SUFFIX) else (key, False)
        )
        if not _NAME.match(name):
            raise setting.error(
                "bad connection name, expected letters, digits, '_' or '-'", f"[CONNECTIONS] {key}"
            )
        (timeouts if is_timeout else urls)[name] = setting
    for name, setting in timeouts.items():
        if name not in urls and name != DEFAULT_CONNECTION:
            raise setting.error(
                f"no connection named {name!r} is configured", f"[CONNECTIONS] {name}.rpc_timeout"
            )
    _refuse_two_defaults(config, urls.get(DEFAULT_CONNECTION))
    specs = {
        DEFAULT_CONNECTION: _spec(
            DEFAULT_CONNECTION, urls.pop(DEFAULT_CONNECTION, None), timeouts, rpc_timeout
        )
    }
    for name, setting in urls.items():
        specs[name] = _spec(name, setting, timeouts, rpc_timeout)
    return specs


def _spec(name: str, url: Setting | None, timeouts: dict[str, Setting], rpc_timeout: float) -> ConnectionSpec:
    timeout = _timeout(timeouts[name], name) if name in timeouts else rpc_timeout
    if url is None:
        return ConnectionSpec(name, None, timeout)
    value = url.value.strip()
    if not value:
        raise url.error("empty URL", f"[CONNECTIONS] {name}")
    try:
        parse_url(value)
    except ConfigError as exc:
        raise url.error(exc.reason, f"[CONNECTIONS] {name}") from None
    return ConnectionSpec(name, value, timeout, url.where())


def _timeout(setting: Setting, name: str) -> float:
    key = f"[CONNECTIONS] {name}{_TIMEOUT_SUFFIX}"
    try:
        seconds = parse_float(setting.value)
    except BadValue as exc:
        raise setting.error(str(exc), key) from None
    if seconds <= 0:
        raise setting.error(f"expected a positive number of seconds, got {setting.value!r}", key)
    return seconds


def _refuse_two_defaults(config: Config, default_url: Setting | None) -> None:
    scgi_url = config.setting("global", "scgi_url")
    if default_url is not None and scgi_url is not None and scgi_url.value.strip():
        raise default_url.error(
            f"the default connection is also set by [GLOBAL] scgi_url ({scgi_url.where()}); keep one",
            f"[CONNECTIONS] {DEFAULT_CONNECTION}",
        )
