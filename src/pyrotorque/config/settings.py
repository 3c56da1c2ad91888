"""``GlobalSettings``: ``[GLOBAL]``, ``[ANNOUNCE]`` and the daemon-wide ``[TORQUE]`` keys, typed and frozen.

The daemon builds one right after loading the configuration (``GlobalSettings.from_config``), so a bad
value fails there, before anything starts, with key, file and line; the plan, the scheduler and every
job then read the same values from it instead of parsing the sections again. ``GlobalSettings()`` is
what a configuration without any of these keys gives.

Daemon-wide ``[TORQUE]`` keys are the ones that are not ``job.NAME.PARAM``: ``apscheduler.*`` and
``queue_startable_base`` (``httpd.*`` of pyrocore is accepted and not used).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, TypeVar

from pyrotorque.config.convert import BadValue, parse_bool, parse_float, parse_int
from pyrotorque.config.ini import Setting
from pyrotorque.config.jobs import parse_setting
from pyrotorque.config.loader import Config

T = TypeVar("T")

#: The scheduler's logger, as before these keys were read here.
_scheduler_log = logging.getLogger("pyrotorque.scheduler")

#: ``[GLOBAL]`` key: seconds one call to rTorrent may take (the package config.ini sets the default).
RPC_TIMEOUT_KEY = "rpc_timeout"
DEFAULT_RPC_TIMEOUT = 30.0
#: ``[TORQUE]`` key ANDed in front of every queue job's ``startable`` condition.
STARTABLE_BASE_KEY = "queue_startable_base"
#: Used when ``queue_startable_base`` is missing or empty (it is in the package defaults).
STARTABLE_BASE = "is_open=no is_active=no is_complete=no"
#: Where a built-in default is said to come from.
BUILTIN_ORIGIN = "<built-in>"

#: ``apscheduler.*`` keys of pyrocore's APScheduler 2 that have no APScheduler 3 meaning; accepted, ignored.
IGNORED_SCHEDULER_KEYS = frozenset(
    {
        "apscheduler.threadpool.core_threads",
        "apscheduler.threadpool.keepalive",
        "apscheduler.threadpool",
        "apscheduler.daemonic",
        "apscheduler.standalone",
    }
)
KNOWN_SCHEDULER_KEYS = frozenset(
    {
        "apscheduler.misfire_grace_time",
        "apscheduler.coalesce",
        "apscheduler.max_instances",
        "apscheduler.threadpool.max_threads",
        "apscheduler.timezone",
    }
)


def _value(settings: Mapping[str, Setting], key: str, parse: Callable[[str], T], default: T) -> T:
    """``settings[key]`` converted by ``parse``, or ``default``; errors name the key, file and line."""
    return parse_setting(settings, key, parse, default, key=key)


def _at_least_one(settings: Mapping[str, Setting], key: str, default: int) -> int:
    value = _value(settings, key, parse_int, default)
    if value < 1:
        raise settings[key].error(f"must be at least 1, got {value}", key)
    return value


@dataclass(frozen=True)
class SchedulerSettings:
    """The ``apscheduler.*`` keys of ``[TORQUE]``."""

    #: Scheduled runs that may execute at once (the thread pool's size); 1 keeps them serial.
    max_threads: int = 1
    misfire_grace_time: int = 7
    coalesce: bool = True
    max_instances: int = 1
    #: Time zone of all schedules; None for local time.
    timezone: str | None = None

    @classmethod
    def from_torque(cls, torque: Mapping[str, Setting]) -> SchedulerSettings:
        """Read and check the ``apscheduler.*`` keys; unknown ones are errors, APScheduler 2 ones ignored."""
        settings = {key: value for key, value in torque.items() if key.startswith("apscheduler.")}
        for key, setting in settings.items():
            if _ignored_scheduler_key(key):
                _scheduler_log.debug("Ignoring %s (%s): not used with APScheduler 3", key, setting.where())
            elif key not in KNOWN_SCHEDULER_KEYS:
                known = ", ".join(sorted(KNOWN_SCHEDULER_KEYS))
                raise setting.error(f"unknown scheduler key, expected one of {known}", key)
        return cls(
            max_threads=_at_least_one(settings, "apscheduler.threadpool.max_threads", 1),
            misfire_grace_time=_at_least_one(settings, "apscheduler.misfire_grace_time", 7),
            coalesce=_value(settings, "apscheduler.coalesce", parse_bool, True),
            max_instances=_at_least_one(settings, "apscheduler.max_instances", 1),
            timezone=_timezone(settings.get("apscheduler.timezone")),
        )

    def options(self) -> dict[str, Any]:
        """Keyword arguments for ``BackgroundScheduler``, a new dict on every call.

        APScheduler takes its executor's ``type`` out of the dict it is given, so options handed to one
        scheduler cannot make another (``Cannot create executor "default"``): every scheduler, the
        one started again after a failed reload too, needs its own.
        """
        options: dict[str, Any] = {
            "job_defaults": {
                "misfire_grace_time": self.misfire_grace_time,
                "coalesce": self.coalesce,
                "max_instances": self.max_instances,
            },
            "executors": {"default": {"type": "threadpool", "max_workers": self.max_threads}},
        }
        if self.timezone is not None:
            options["timezone"] = self.timezone
        return options


def _ignored_scheduler_key(key: str) -> bool:
    return key in IGNORED_SCHEDULER_KEYS or key.startswith("apscheduler.jobstore.")


def _timezone(setting: Setting | None) -> str | None:
    """``apscheduler.timezone``, checked the way APScheduler reads it; None when not set."""
    if setting is None or not setting.value.strip():
        return None
    from apscheduler.util import astimezone  # only here: the config package is imported everywhere

    name = setting.value.strip()
    try:
        astimezone(name)
    except (ValueError, TypeError, LookupError) as exc:
        raise setting.error(f"unknown time zone {setting.value!r} ({exc})", "apscheduler.timezone") from None
    return name


def _rpc_timeout(setting: Setting | None) -> float:
    """``[GLOBAL] rpc_timeout``: a positive number of seconds; the default when missing or empty."""
    if setting is None or not setting.value.strip():
        return DEFAULT_RPC_TIMEOUT
    try:
        seconds = parse_float(setting.value)
    except BadValue as exc:
        raise setting.error(str(exc), RPC_TIMEOUT_KEY) from None
    if seconds <= 0:
        raise setting.error(f"expected a positive number of seconds, got {setting.value!r}", RPC_TIMEOUT_KEY)
    return seconds


_BUILTIN_STARTABLE_BASE = Setting(STARTABLE_BASE, BUILTIN_ORIGIN)


def _startable_base(setting: Setting | None) -> Setting:
    """``queue_startable_base`` as written (the queue checks the condition), or the built-in one."""
    if setting is None or not setting.value.strip():
        return _BUILTIN_STARTABLE_BASE
    return setting


def _frozen_aliases(aliases: Mapping[str, list[str]]) -> Mapping[str, tuple[str, ...]]:
    return MappingProxyType({alias: tuple(urls) for alias, urls in aliases.items()})


def _no_aliases() -> Mapping[str, tuple[str, ...]]:
    return MappingProxyType({})


@dataclass(frozen=True)
class GlobalSettings:
    """The configuration every part of the daemon shares, read once per load (or reload)."""

    #: ``[GLOBAL] scgi_url``; None when missing (an empty value is kept: the URL search skips it).
    scgi_url: str | None = None
    #: ``[GLOBAL] rtorrent_rc``: where the SCGI address is found when no URL is given.
    rtorrent_rc: str | None = None
    #: ``[GLOBAL] rpc_timeout``: seconds one call to rTorrent may take.
    rpc_timeout: float = DEFAULT_RPC_TIMEOUT
    scheduler: SchedulerSettings = field(default_factory=SchedulerSettings)
    #: ``[TORQUE] queue_startable_base`` with its origin, so a bad condition names file and line.
    queue_startable_base: Setting = _BUILTIN_STARTABLE_BASE
    #: ``[ANNOUNCE]``: tracker alias -> its announce URLs (read-only).
    announce_aliases: Mapping[str, tuple[str, ...]] = field(default_factory=_no_aliases)

    @classmethod
    def from_config(cls, config: Config) -> GlobalSettings:
        """Read and check every key this object holds; ConfigError names the key, file and line."""
        return cls(
            scgi_url=config.global_value("scgi_url"),
            rtorrent_rc=config.global_value("rtorrent_rc"),
            rpc_timeout=_rpc_timeout(config.setting("global", RPC_TIMEOUT_KEY)),
            scheduler=SchedulerSettings.from_torque(config.torque),
            queue_startable_base=_startable_base(config.torque.get(STARTABLE_BASE_KEY)),
            announce_aliases=_frozen_aliases(config.announce_aliases()),
        )
