"""EngineStats with the shared fake rTorrent: the uptime text and its fallbacks without our rc include."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import pytest

from pyrotorque.config import Config
from pyrotorque.durations import format_duration
from pyrotorque.jobs.base import JobContext, NoOptions
from pyrotorque.jobs.engine_stats import EngineStats
from pyrotorque.rtorrent.client import RtorrentClient
from tests.support.fake_rtorrent import FakeRtorrent

LINE = re.compile(r"Stats for (?P<name>\S+) - up (?P<up>[^,]+), (?P<items>\d+) items, (?P<stats>.+)")


def stats_job(client: RtorrentClient) -> EngineStats:
    context = JobContext(
        name="connstats",
        client=client,
        config=Config(config_dir=Path("/nonexistent")),
        log=logging.getLogger("pyrotorque.job.connstats"),
    )
    return EngineStats(context, NoOptions())


def run_and_parse(job: EngineStats, caplog: pytest.LogCaptureFixture) -> re.Match[str]:
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="pyrotorque.job.connstats"):
        job.run()
    (message,) = [r.getMessage() for r in caplog.records if r.name == "pyrotorque.job.connstats"]
    match = LINE.fullmatch(message)
    assert match, message
    return match


def seconds(text: str) -> int:
    units = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
    return sum(int(part[:-1]) * units[part[-1]] for part in text.split())


@pytest.mark.parametrize(
    ("value", "text"),
    [(0, "0s"), (59.9, "59s"), (61, "1m 1s"), (3600, "1h"), (90061, "1d 1h"), (8 * 86400 + 7200, "1w 1d")],
)
def test_uptime_text(value: float, text: str) -> None:
    assert format_duration(value, weeks=True, max_units=2) == text
    assert seconds(text) <= value


def without_our_rc(session_path: str, now: int) -> FakeRtorrent:
    """An rTorrent without our rc include (no pyrotorque.startup_time), with 7 items."""
    fake = FakeRtorrent()
    fake.session_name = "box:1234"
    fake.session_path = session_path
    fake.now = now
    for index in range(7):
        fake.add_item(f"{index:040X}", f"item{index}")
    return fake


def test_without_our_rc_the_session_lock_file_gives_the_uptime(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    lock = tmp_path / "rtorrent.lock"
    lock.write_text("box:+1234\n")
    os.utime(lock, (1_000_000, 1_000_000))
    fake = without_our_rc(str(tmp_path), now=1_000_000 + 3725)
    match = run_and_parse(stats_job(fake.client()), caplog)
    assert (match["name"], match["up"], match["items"]) == ("box:1234", "1h 2m", "7")
    assert fake.methods() == ["system.multicall"]  # one system.multicall per tick


def test_without_rc_or_lock_file_the_uptime_is_unknown(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake = without_our_rc(str(tmp_path / "elsewhere"), now=5)
    assert run_and_parse(stats_job(fake.client()), caplog)["up"] == "unknown"
