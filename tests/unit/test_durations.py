"""Durations as text, as their two users show them: the template helper and the stats job's uptime."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import pytest

from pyrotorque.config import Config
from pyrotorque.durations import format_duration
from pyrotorque.jobs.base import JobContext, NoOptions
from pyrotorque.jobs.engine_stats import EngineStats
from pyrotorque.jobs.treewatch.templates import HELPERS
from tests.support.fake_rtorrent import FakeRtorrent

# (seconds, h.duration in a template, the uptime of the stats line). The template shows every unit
# down to seconds and no weeks; the stats line shows weeks and at most two units from the largest
# one, zeros included (so "1d 0h" is "1d", never "1d 5s"); a negative uptime (clock skew) is "0s".
DURATIONS: list[tuple[float, str, str]] = [
    (0, "0s", "0s"),
    (0.9, "0s", "0s"),
    (59.9, "59s", "59s"),
    (60, "1m", "1m"),
    (61, "1m 1s", "1m 1s"),
    (3600, "1h", "1h"),
    (3723, "1h 2m 3s", "1h 2m"),
    (86400, "1d", "1d"),
    (86405, "1d 5s", "1d"),
    (90061, "1d 1h 1m 1s", "1d 1h"),
    (8 * 86400 + 7200, "8d 2h", "1w 1d"),
    (14 * 86400, "14d", "2w"),
    (21 * 86400 + 59, "21d 59s", "3w"),
    (30 * 86400, "30d", "4w 2d"),
    (400 * 86400 + 1, "400d 1s", "57w 1d"),
    (-0.5, "0s", "0s"),
    # The helper counts down from a negative day, as it always did.
    (-5, "-1d 23h 59m 55s", "0s"),
    (-90061, "-2d 22h 58m 59s", "0s"),
]


@pytest.mark.parametrize(("seconds", "helper", "uptime"), DURATIONS)
def test_template_helper(seconds: float, helper: str, uptime: str) -> None:
    assert HELPERS.duration(seconds) == helper


def test_template_helper_takes_what_int_takes() -> None:
    assert HELPERS.duration("90") == "1m 30s"
    assert HELPERS.duration(True) == "1s"


@pytest.mark.parametrize(("seconds", "helper", "uptime"), [row for row in DURATIONS if row[0] == int(row[0])])
def test_stats_line_uptime(
    seconds: float, helper: str, uptime: str, caplog: pytest.LogCaptureFixture
) -> None:
    stamp = 1_000_000_000
    fake = FakeRtorrent()  # answers the stats multicall with a start stamp ``seconds`` before its time
    fake.session_name = "box:1"
    fake.now = stamp + int(seconds)
    fake.set_global("pyrotorque.startup_time", stamp)
    context = JobContext(
        name="connstats",
        client=fake.client(),
        config=Config(config_dir=Path("/nonexistent")),
        log=logging.getLogger("pyrotorque.job.connstats"),
    )
    with caplog.at_level(logging.INFO, logger="pyrotorque.job.connstats"):
        EngineStats(context, NoOptions()).run()
    (message,) = [record.getMessage() for record in caplog.records]
    match = re.fullmatch(r"Stats for box:1 - up (?P<up>[^,]+), 0 items, \d+ requests, .+", message)
    assert match, message
    assert match["up"] == uptime


@pytest.mark.parametrize(
    ("seconds", "options", "text"),
    [
        (90061, {}, "1d 1h 1m 1s"),
        (90061, {"max_units": 3}, "1d 1h 1m"),
        (90061, {"max_units": 1}, "1d"),
        (86400 + 5, {"max_units": 4}, "1d 5s"),
        (8 * 86400, {"weeks": True}, "1w 1d"),
        (7 * 86400 + 1, {"weeks": True, "max_units": 4}, "1w"),
        (7 * 86400 + 1, {"weeks": True, "max_units": 5}, "1w 1s"),
        (0, {"weeks": True, "max_units": 1}, "0s"),
    ],
)
def test_format_duration_options(seconds: float, options: dict[str, Any], text: str) -> None:
    assert format_duration(seconds, **options) == text
