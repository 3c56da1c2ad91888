"""Schedule strings (``second=*/5``, ``hour=12 "day=3rd sun"``) to APScheduler 3 cron triggers.

As in the original, fields less significant than the least significant one given default to
their minimum (``minute=*`` fires at second 0, ``hour=*`` at :00:00); more significant ones
default to ``*``. APScheduler 3's ``CronTrigger`` applies the same rule.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

from apscheduler.triggers.cron import CronTrigger

from pyrotorque.config import BadValue, Config, Setting, parse_bool, split_schedule
from pyrotorque.config.convert import parse_int
from pyrotorque.config.jobs import parse_setting, schedule_setting

log = logging.getLogger(__name__)

#: Cron fields, most significant first.
CRON_FIELDS = ("year", "month", "day", "week", "day_of_week", "hour", "minute", "second")
#: Every name a schedule may use.
SCHEDULE_FIELDS = (*CRON_FIELDS, "start_date", "end_date", "jitter", "timezone")
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

TimezoneArg = dt.tzinfo | str | None


def _trigger_kwargs(setting: Setting, key: str) -> dict[str, Any]:
    """Check every field on its own, so an error can name the offending token."""
    kwargs: dict[str, Any] = {}
    for name, value in split_schedule(setting, key).items():
        token = f"{name}={value}"
        if name not in SCHEDULE_FIELDS:
            raise setting.error(
                f"unknown schedule field in {token!r}, expected one of {', '.join(SCHEDULE_FIELDS)}", key
            )
        converted: Any = value
        try:
            if name == "jitter":
                converted = parse_int(value)
                if converted < 0:
                    raise BadValue("jitter must not be negative")
            # A throw-away trigger with only this field makes APScheduler judge the expression.
            CronTrigger(**{name: converted, **({} if name == "timezone" else {"timezone": dt.UTC})})
        except (BadValue, ValueError, TypeError, LookupError) as exc:
            raise setting.error(f"bad schedule field {token!r}: {exc}", key) from None
        kwargs[name] = converted
    return kwargs


def parse_schedule(
    schedule: Setting | str, key: str = "schedule", *, timezone: TimezoneArg = None
) -> CronTrigger:
    """Build a cron trigger; ConfigError names the key, the file, the line and the bad token.

    ``timezone`` is used unless the schedule has its own ``timezone=`` field (default: local time).
    """
    setting = schedule_setting(schedule)
    kwargs = _trigger_kwargs(setting, key)
    if timezone is not None:
        kwargs.setdefault("timezone", timezone)
    try:
        return CronTrigger(**kwargs)
    except (ValueError, TypeError, LookupError) as exc:
        raise setting.error(f"bad schedule {setting.value!r}: {exc}", key) from None


def next_fire_times(trigger: CronTrigger, count: int, start: dt.datetime) -> list[dt.datetime]:
    """The next ``count`` fire times at or after ``start`` (naive: taken in the trigger's timezone)."""
    now = start if start.tzinfo is not None else start.replace(tzinfo=trigger.timezone)
    times: list[dt.datetime] = []
    previous: dt.datetime | None = None
    for _ in range(count):
        fire_time: dt.datetime | None = trigger.get_next_fire_time(previous, now)
        if fire_time is None:
            break
        times.append(fire_time)
        previous = now = fire_time
    return times


def _scheduler_value(settings: Mapping[str, Setting], key: str, parse: Any, default: Any) -> Any:
    return parse_setting(settings, key, parse, default, key=key)


def _positive(setting_key: str, settings: Mapping[str, Setting], default: int) -> int:
    value: int = _scheduler_value(settings, setting_key, parse_int, default)
    if value < 1:
        raise settings[setting_key].error(f"must be at least 1, got {value}", setting_key)
    return value


def scheduler_options(config: Config) -> dict[str, Any]:
    """Keyword arguments for an APScheduler 3 scheduler, from the ``apscheduler.*`` keys of [TORQUE].

    ``BackgroundScheduler(**scheduler_options(config))`` gives job defaults (misfire grace time,
    coalescing, max instances), a thread pool of ``apscheduler.threadpool.max_threads`` workers,
    and ``apscheduler.timezone`` if that is set.
    """
    settings = {key: value for key, value in config.torque.items() if key.startswith("apscheduler.")}
    for key, setting in settings.items():
        if key in IGNORED_SCHEDULER_KEYS or key.startswith("apscheduler.jobstore."):
            log.debug("Ignoring %s (%s): not used with APScheduler 3", key, setting.where())
        elif key not in _KNOWN_SCHEDULER_KEYS:
            known = ", ".join(sorted(_KNOWN_SCHEDULER_KEYS))
            raise setting.error(f"unknown scheduler key, expected one of {known}", key)
    options: dict[str, Any] = {
        "job_defaults": {
            "misfire_grace_time": _positive("apscheduler.misfire_grace_time", settings, 7),
            "coalesce": _scheduler_value(settings, "apscheduler.coalesce", parse_bool, True),
            "max_instances": _positive("apscheduler.max_instances", settings, 1),
        },
        "executors": {
            "default": {
                "type": "threadpool",
                "max_workers": _positive("apscheduler.threadpool.max_threads", settings, 1),
            }
        },
    }
    timezone = settings.get("apscheduler.timezone")
    if timezone is not None and timezone.value.strip():
        try:
            CronTrigger(timezone=timezone.value.strip())
        except (ValueError, TypeError, LookupError) as exc:
            raise timezone.error(
                f"unknown time zone {timezone.value!r} ({exc})", "apscheduler.timezone"
            ) from None
        options["timezone"] = timezone.value.strip()
    return options


_KNOWN_SCHEDULER_KEYS = frozenset(
    {
        "apscheduler.misfire_grace_time",
        "apscheduler.coalesce",
        "apscheduler.max_instances",
        "apscheduler.threadpool.max_threads",
        "apscheduler.timezone",
    }
)
