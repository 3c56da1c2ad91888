"""Group the ``[TORQUE]`` keys ``job.NAME.PARAM`` into one ``JobConfig`` per job."""

from __future__ import annotations

import logging
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from pyrotorque.bunch import Bunch
from pyrotorque.config.convert import FALSE_WORDS, TRUE_WORDS, BadValue, parse_bool, parse_int
from pyrotorque.config.ini import Setting
from pyrotorque.config.loader import Config
from pyrotorque.errors import ConfigError

T = TypeVar("T")

#: Keys every job has; they are handled by the daemon and never passed to the job's options.
COMMON_KEYS = frozenset({"handler", "schedule", "active", "dry_run", "log_level", "connection"})
REQUIRED_KEYS = ("handler", "schedule")


@dataclass(frozen=True)
class JobConfig:
    """One configured job: its name, handler, schedule, common flags and job-specific params."""

    name: str
    handler: Setting
    schedule: Setting
    active: bool = True
    dry_run: bool = False
    #: A validated logging level name (``DEBUG``, ``INFO`` ...), or None to inherit.
    log_level: str | None = None
    #: Job-specific keys (without the ``job.NAME.`` prefix), common keys excluded.
    params: dict[str, Setting] = field(default_factory=dict)
    #: ``job.NAME.connection``: the ``[CONNECTIONS]`` name of the job's rTorrent (None: ``default``).
    connection: Setting | None = None

    def key(self, param: str) -> str:
        """The full configuration key of one of this job's params."""
        return f"job.{self.name}.{param}"


def job_configs(config: Config, dry_run: bool = False) -> list[JobConfig]:
    """All jobs of ``[TORQUE]`` (active or not), in the order they were first configured."""
    grouped: dict[str, dict[str, Setting]] = {}
    for key, setting in config.torque.items():
        if key.split(".", 1)[0] != "job":
            continue
        parts = key.split(".", 2)
        if len(parts) != 3 or not parts[1] or not parts[2]:
            raise setting.error("bad job key, expected job.NAME.PARAM", key)
        grouped.setdefault(parts[1], {})[parts[2]] = setting
    return [_job_config(name, settings, dry_run) for name, settings in grouped.items()]


def _job_config(name: str, settings: dict[str, Setting], global_dry_run: bool) -> JobConfig:
    first = next(iter(settings.values()))
    for required in REQUIRED_KEYS:
        if required not in settings:
            raise ConfigError(
                f"job {name!r} (defined at {first.where()}) is missing the required key",
                key=f"job.{name}.{required}",
            )
    return JobConfig(
        name=name,
        handler=settings["handler"],
        schedule=settings["schedule"],
        active=_flag(name, settings, "active", default=True),
        dry_run=_flag(name, settings, "dry_run", default=False) or global_dry_run,
        log_level=_log_level(name, settings.get("log_level")),
        params={param: value for param, value in settings.items() if param not in COMMON_KEYS},
        connection=settings.get("connection"),
    )


def _flag(name: str, settings: Mapping[str, Setting], param: str, *, default: bool) -> bool:
    return parse_setting(settings, param, parse_bool, default, key=f"job.{name}.{param}")


def parse_setting(
    settings: Mapping[str, Setting], param: str, parse: Callable[[str], T], default: T, *, key: str
) -> T:
    """``settings[param]`` converted by ``parse``, or ``default``; errors name ``key``, file and line."""
    setting = settings.get(param)
    if setting is None:
        return default
    try:
        return parse(setting.value)
    except BadValue as exc:
        raise setting.error(str(exc), key) from None


def schedule_setting(schedule: Setting | str) -> Setting:
    """A schedule as a Setting (a bare string, e.g. from tests or ``--check``, has no file)."""
    return schedule if isinstance(schedule, Setting) else Setting(schedule, "<schedule>")


def _log_level(name: str, setting: Setting | None) -> str | None:
    if setting is None or not setting.value.strip():
        return None
    levels = logging.getLevelNamesMapping()
    wanted = setting.value.strip().upper()
    if wanted not in levels or wanted == "NOTSET":
        raise setting.error(
            f"expected a log level (DEBUG, INFO, WARNING, ERROR, CRITICAL), got {setting.value!r}",
            f"job.{name}.log_level",
        )
    return logging.getLevelName(levels[wanted])


def split_schedule(schedule: Setting | str, key: str = "schedule") -> dict[str, str]:
    """Split ``'hour=12 "day=3rd sun"'`` into ``{"hour": "12", "day": "3rd sun"}`` (shell quoting)."""
    setting = schedule_setting(schedule)
    try:
        tokens = shlex.split(setting.value)
    except ValueError as exc:
        raise setting.error(f"cannot split schedule {setting.value!r}: {exc}", key) from None
    if not tokens:
        raise setting.error("empty schedule, expected fields like 'minute=*' or 'second=*/15'", key)
    fields: dict[str, str] = {}
    for token in tokens:
        name, equals, value = token.partition("=")
        if not equals or not name:
            raise setting.error(f"bad schedule field {token!r}, expected NAME=VALUE", key)
        if name in fields:
            raise setting.error(f"schedule field {name!r} is given twice", key)
        fields[name] = value
    return fields


# The one vocabulary as pyrocore's jobs knew it: on/off were not truth words of the original, and a
# job written for pyrocore may compare such a param with the string, so they stay strings here.
_PYROCORE_STRINGS = frozenset({"on", "off"})
_LEGACY_TRUE = TRUE_WORDS - _PYROCORE_STRINGS
_LEGACY_FALSE = FALSE_WORDS - _PYROCORE_STRINGS


def legacy_value(text: str) -> int | bool | str:
    """Convert a value as pyrocore did: digits-only -> int, then truth words -> bool, else str.

    BadValue for more digits than Python's int takes (pyrocore's Python 2 had no such limit).
    """
    if text.isascii() and text.isdigit():
        return parse_int(text)
    if text.lower() in _LEGACY_TRUE:
        return True
    if text.lower() in _LEGACY_FALSE:
        return False
    return text


def _legacy_setting(job: JobConfig, param: str, setting: Setting) -> int | bool | str:
    try:
        return legacy_value(setting.value)
    except BadValue as exc:
        raise setting.error(str(exc), job.key(param)) from None


def legacy_params(job: JobConfig) -> Bunch:
    """The ``Bunch`` a job class written for pyrocore receives as its single constructor argument."""
    params = Bunch({param: _legacy_setting(job, param, setting) for param, setting in job.params.items()})
    params.handler = job.handler.value
    if job.log_level is not None:
        params.log_level = job.log_level
    params.job_name = job.name
    params.dry_run = job.dry_run
    params.active = job.active
    params.schedule = split_schedule(job.schedule, job.key("schedule"))
    return params
