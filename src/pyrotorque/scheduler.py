"""Schedule strings (``second=*/5``, ``hour=12 "day=3rd sun"``) to APScheduler 3 cron triggers.

As in the original, fields less significant than the least significant one given default to
their minimum (``minute=*`` fires at second 0, ``hour=*`` at :00:00); more significant ones
default to ``*``. APScheduler 3's ``CronTrigger`` applies the same rule.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from apscheduler.triggers.cron import CronTrigger

from pyrotorque.config import BadValue, Config, Setting, split_schedule
from pyrotorque.config.convert import parse_int
from pyrotorque.config.jobs import schedule_setting
from pyrotorque.config.settings import SchedulerSettings

#: Cron fields, most significant first.
CRON_FIELDS = ("year", "month", "day", "week", "day_of_week", "hour", "minute", "second")
#: Every name a schedule may use.
SCHEDULE_FIELDS = (*CRON_FIELDS, "start_date", "end_date", "jitter", "timezone")

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


def scheduler_options(config: Config) -> dict[str, Any]:
    """Keyword arguments for an APScheduler 3 scheduler, from the ``apscheduler.*`` keys of [TORQUE].

    ``BackgroundScheduler(**scheduler_options(config))`` gives job defaults (misfire grace time,
    coalescing, max instances), a thread pool of ``apscheduler.threadpool.max_threads`` workers,
    and ``apscheduler.timezone`` if that is set. The daemon reads them once into its
    ``GlobalSettings.scheduler`` and asks it for fresh options for every scheduler it makes.
    """
    return SchedulerSettings.from_torque(config.torque).options()
