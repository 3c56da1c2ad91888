"""Schedule strings to APScheduler 3 cron triggers, fire times and scheduler options."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from pyrotorque.config import Config, Setting, load_config
from pyrotorque.errors import ConfigError
from pyrotorque.scheduler import next_fire_times, parse_schedule, scheduler_options

UTC = dt.UTC
#: A fixed Wednesday morning, a little after a full minute.
START = dt.datetime(2025, 1, 1, 10, 17, 23, tzinfo=UTC)


def fire_times(schedule: str, count: int = 3, start: dt.datetime = START) -> list[dt.datetime]:
    return next_fire_times(parse_schedule(schedule, timezone=UTC), count, start)


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=UTC)


class TestDefaultRule:
    """Fields below the least significant one given default to their minimum."""

    def test_minute_star_fires_at_second_zero(self) -> None:
        assert fire_times("minute=*") == [
            at(2025, 1, 1, 10, 18, 0),
            at(2025, 1, 1, 10, 19),
            at(2025, 1, 1, 10, 20),
        ]

    def test_second_step_fires_every_15_seconds(self) -> None:
        assert fire_times("second=*/15", 4) == [
            at(2025, 1, 1, 10, 17, 30),
            at(2025, 1, 1, 10, 17, 45),
            at(2025, 1, 1, 10, 18, 0),
            at(2025, 1, 1, 10, 18, 15),
        ]

    def test_hour_star_fires_on_the_hour(self) -> None:
        assert fire_times("hour=*", 2) == [at(2025, 1, 1, 11, 0, 0), at(2025, 1, 1, 12, 0, 0)]

    def test_weekday_fires_at_midnight(self) -> None:
        assert fire_times("day_of_week=mon", 2) == [at(2025, 1, 6), at(2025, 1, 13)]

    def test_more_significant_fields_default_to_every_value(self) -> None:
        assert fire_times("minute=5", 2) == [at(2025, 1, 1, 11, 5), at(2025, 1, 1, 12, 5)]


class TestSchedules:
    def test_quoted_field_with_a_space(self) -> None:
        # The third Sunday of each month at noon.
        assert fire_times('hour=12 "day=3rd sun"', 3) == [
            at(2025, 1, 19, 12),
            at(2025, 2, 16, 12),
            at(2025, 3, 16, 12),
        ]

    def test_lists_ranges_and_steps(self) -> None:
        assert fire_times("hour=9-17/4 minute=0,30", 4) == [
            at(2025, 1, 1, 13, 0),
            at(2025, 1, 1, 13, 30),
            at(2025, 1, 1, 17, 0),
            at(2025, 1, 1, 17, 30),
        ]

    def test_start_given_equal_to_a_fire_time_includes_it(self) -> None:
        assert fire_times("minute=*", 1, at(2025, 1, 1, 10, 17, 0)) == [at(2025, 1, 1, 10, 17, 0)]

    def test_end_date_limits_the_list(self) -> None:
        times = fire_times("hour=* end_date=2025-01-01T12:30:00+00:00", 5)
        assert times == [at(2025, 1, 1, 11), at(2025, 1, 1, 12)]

    def test_start_date(self) -> None:
        assert fire_times("hour=0 start_date=2025-03-01", 1)[0].date() == dt.date(2025, 3, 1)

    def test_timezone_field(self) -> None:
        trigger = parse_schedule("hour=12 timezone=Europe/Berlin")
        (fire,) = next_fire_times(trigger, 1, START)
        assert fire.astimezone(UTC) == at(2025, 1, 1, 11, 0)

    def test_naive_start_is_taken_in_the_trigger_timezone(self) -> None:
        trigger = parse_schedule("minute=*", timezone=UTC)
        assert next_fire_times(trigger, 1, dt.datetime(2025, 1, 1, 10, 17, 23)) == [at(2025, 1, 1, 10, 18)]

    def test_jitter_is_accepted(self) -> None:
        assert parse_schedule("minute=* jitter=5", timezone=UTC).jitter == 5

    def test_setting_or_text(self) -> None:
        setting = Setting("second=*/5", "/cfg/torque.ini", 7)
        assert str(parse_schedule(setting, timezone=UTC)) == str(parse_schedule("second=*/5", timezone=UTC))


class TestScheduleErrors:
    @pytest.mark.parametrize(
        ("schedule", "fragment"),
        [
            ("hour", "'hour', expected NAME=VALUE"),
            ("=5", "'=5', expected NAME=VALUE"),
            ("hour=12 day=3rd sun", "'sun', expected NAME=VALUE"),
            ("foo=1", "unknown schedule field in 'foo=1'"),
            ("hour=25", "'hour=25'"),
            ("minute=*/x", "'minute=*/x'"),
            ('"day=3rd xyz"', "'day=3rd xyz'"),
            ("day_of_week=funday", "'day_of_week=funday'"),
            ("jitter=soon", "'jitter=soon'"),
            ("jitter=-1", "'jitter=-1'"),
            ("timezone=Mars/Olympus", "'timezone=Mars/Olympus'"),
            ("start_date=yesterday", "'start_date=yesterday'"),
            ("hour=1 hour=2", "'hour' is given twice"),
            ('hour="12', "cannot split schedule"),
            ("", "empty schedule"),
            ("  ", "empty schedule"),
        ],
    )
    def test_errors_name_key_file_line_and_token(self, schedule: str, fragment: str) -> None:
        setting = Setting(schedule, "/cfg/torque.ini", 12)
        with pytest.raises(ConfigError) as info:
            parse_schedule(setting, "job.queue.schedule")
        message = str(info.value)
        assert info.value.key == "job.queue.schedule"
        assert message.startswith("job.queue.schedule: ")
        assert message.endswith("(/cfg/torque.ini line 12)")
        assert fragment in message


def torque_config(tmp_path: Path, text: str = "") -> Config:
    (tmp_path / "config.ini").write_text("[GLOBAL]\n")
    (tmp_path / "torque.ini").write_text("[TORQUE]\n" + text)
    return load_config(tmp_path, environ={})


class TestSchedulerOptions:
    def test_package_defaults(self, tmp_path: Path) -> None:
        assert scheduler_options(torque_config(tmp_path)) == {
            "job_defaults": {"misfire_grace_time": 7, "coalesce": True, "max_instances": 1},
            "executors": {"default": {"type": "threadpool", "max_workers": 1}},
        }

    def test_overrides_and_timezone(self, tmp_path: Path) -> None:
        config = torque_config(
            tmp_path,
            "apscheduler.misfire_grace_time = 30\napscheduler.coalesce = no\napscheduler.max_instances = 2\n"
            "apscheduler.threadpool.max_threads = 4\napscheduler.timezone = Europe/Berlin\n",
        )
        options = scheduler_options(config)
        assert options["job_defaults"] == {"misfire_grace_time": 30, "coalesce": False, "max_instances": 2}
        assert options["executors"]["default"]["max_workers"] == 4
        assert options["timezone"] == "Europe/Berlin"

    def test_apscheduler_accepts_them(self, tmp_path: Path) -> None:
        config = torque_config(tmp_path, "apscheduler.misfire_grace_time = 11\n")
        scheduler = BackgroundScheduler(**scheduler_options(config))
        assert scheduler._job_defaults["misfire_grace_time"] == 11
        assert scheduler._job_defaults["coalesce"] is True

    def test_old_apscheduler2_keys_are_ignored(self, tmp_path: Path) -> None:
        config = torque_config(
            tmp_path,
            "apscheduler.threadpool.core_threads = 1\napscheduler.threadpool.keepalive = 20\n"
            "apscheduler.daemonic = True\napscheduler.jobstore.default.class = x\n",
        )
        assert scheduler_options(config)["job_defaults"]["max_instances"] == 1

    @pytest.mark.parametrize(
        ("text", "key", "fragment"),
        [
            (
                "apscheduler.misfire_grace_time = soon\n",
                "apscheduler.misfire_grace_time",
                "expected an integer",
            ),
            ("apscheduler.misfire_grace_time = 0\n", "apscheduler.misfire_grace_time", "at least 1"),
            ("apscheduler.coalesce = perhaps\n", "apscheduler.coalesce", "expected a boolean"),
            ("apscheduler.threadpool.max_threads = 0\n", "apscheduler.threadpool.max_threads", "at least 1"),
            ("apscheduler.timezone = Mars/Olympus\n", "apscheduler.timezone", "unknown time zone"),
            ("apscheduler.bogus = 1\n", "apscheduler.bogus", "unknown scheduler key"),
        ],
    )
    def test_bad_values(self, tmp_path: Path, text: str, key: str, fragment: str) -> None:
        with pytest.raises(ConfigError) as info:
            scheduler_options(torque_config(tmp_path, text))
        assert info.value.key == key
        assert info.value.line == 2
        assert fragment in str(info.value)
