"""The exporter's ``job.NAME.*`` keys and their checks (docs/exporter.md explains each)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pyrotorque.config.options import option
from pyrotorque.errors import ConditionError
from pyrotorque.jobs.exporter.auth import check_hash
from pyrotorque.jobs.exporter.metrics import GROUP_NAMES, item_fields

_METRIC_PREFIX = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")


def _check_groups(names: tuple[str, ...]) -> str | None:
    unknown = [name for name in names if name not in GROUP_NAMES]
    if unknown:
        return f"unknown metric group {', '.join(map(repr, unknown))}; known groups: {', '.join(GROUP_NAMES)}"
    return None


def _check_prefix(prefix: str) -> str | None:
    if prefix and not _METRIC_PREFIX.fullmatch(prefix):
        return f"{prefix!r} is not a valid start of a Prometheus metric name ([A-Za-z_:][A-Za-z0-9_:]*)"
    return None


def _check_item_entries(specs: tuple[str, ...]) -> str | None:
    try:
        fields = item_fields(specs)
    except ConditionError as exc:
        return str(exc)
    names = [field.name for field in fields]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        return f"entries that give the same name twice: {', '.join(twice)}"
    return None


def _check_user(user: str) -> str | None:
    if ":" in user:
        return "a basic auth user name cannot contain ':'"
    return None


@dataclass(frozen=True)
class ExporterOptions:
    """The ``job.exporter.*`` keys; the defaults match the package's torque.ini."""

    addr: str = option("127.0.0.1", help="address to listen on (loopback by default)")
    port: int = option(8000, minimum=0, maximum=65535, help="TCP port; 0 picks a free one")
    jobs: tuple[str, ...] = option(
        ("system",), check=_check_groups, help="metric groups: system, tracker, item"
    )
    prefix: str = option("rtorrent_", check=_check_prefix, help="prefix of every metric name")
    item_stats: tuple[str, ...] = option(
        ("down.total", "up.total"), check=_check_item_entries, help="d.* values exported per item"
    )
    item_labels: tuple[str, ...] = option(
        ("hash", "name"), check=_check_item_entries, help="d.* values that label the item metrics"
    )
    daemon_metrics: bool = option(
        True, help="serve pyrotorque's own pyrotorque_* metrics (off for a second, item-only exporter)"
    )
    scrape_timeout: float = option(
        5.0, minimum=0.1, maximum=300, help="seconds a scrape waits for rTorrent before it answers up 0"
    )
    scrape_cache: float = option(
        1.0, minimum=0, maximum=300, help="seconds one collection's result serves further scrapes"
    )
    max_connections: int = option(10, minimum=1, maximum=1000, help="requests handled at the same time")
    read_timeout: float = option(
        5.0, minimum=0.1, maximum=300, help="seconds a request may take to arrive (and each write)"
    )
    tls_cert: str = option("", help="PEM certificate (chain) file: serve HTTPS; relative to the config dir")
    tls_key: str = option("", help="PEM private key file, unless the key is in tls_cert")
    auth_user: str = option("", check=_check_user, help="basic auth user name (with auth_password_hash)")
    auth_password_hash: str = option(
        "", check=check_hash, help="pbkdf2_sha256$… hash of the password (pyrotorque --hash-password)"
    )

    def __post_init__(self) -> None:
        if bool(self.auth_user) != bool(self.auth_password_hash):
            raise ValueError("auth_user and auth_password_hash go together: set both or neither")
        if self.tls_key and not self.tls_cert:
            raise ValueError("tls_key needs tls_cert")
