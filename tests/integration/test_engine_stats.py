"""EngineStats against a real rTorrent, plus its uptime fallbacks with a fake client."""

from __future__ import annotations

import logging
import os
import re
import time
from pathlib import Path
from typing import Any, cast

import pytest
from sandbox.rtorrent import RtorrentSandbox, SandboxFactory

from pyrotorque.config import Config
from pyrotorque.durations import format_duration
from pyrotorque.errors import FaultError
from pyrotorque.jobs.base import JobContext, NoOptions
from pyrotorque.jobs.engine_stats import EngineStats
from pyrotorque.jobs.runner import TickRunner
from pyrotorque.rtorrent.client import RtorrentClient

LINE = re.compile(r"Stats for (?P<name>\S+) - up (?P<up>[^,]+), (?P<items>\d+) items, (?P<stats>.+)")


def stats_job(client: Any) -> EngineStats:
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


def test_logs_name_uptime_items_and_request_stats(
    rt: RtorrentSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    rt.load_items(4, prefix="stats", seed=3)
    client = RtorrentClient(rt.url)
    match = run_and_parse(stats_job(client), caplog)
    assert match["name"] == rt.rpc("session.name", "")
    assert match["items"] == "4"
    now = rt.rpc("system.time", "")
    stamp = rt.rpc("pyrotorque.startup_time", "")
    assert 0 <= now - stamp < 86400
    assert abs(seconds(match["up"]) - (now - stamp)) <= 2
    assert re.match(r"[1-9]\d* requests, ", match["stats"]), match["stats"]
    assert client.stats.requests >= 1


def test_uptime_starts_over_when_rtorrent_restarts(
    rtorrent_factory: SandboxFactory, caplog: pytest.LogCaptureFixture
) -> None:
    private = rtorrent_factory()
    job = stats_job(RtorrentClient(private.url))
    first_stamp = private.rpc("pyrotorque.startup_time", "")
    time.sleep(2.2)
    before = seconds(run_and_parse(job, caplog)["up"])
    assert before >= 2
    private.restart()
    after = seconds(run_and_parse(job, caplog)["up"])  # the same job object and client
    assert private.rpc("pyrotorque.startup_time", "") > first_stamp
    assert after < before


class FakeClient:
    """Answers the stats multicall like an rTorrent without our rc include."""

    def __init__(self, session_path: str, now: int) -> None:
        self.session_path = session_path
        self.now = now
        self.stats = "0 requests"
        self.calls: list[list[tuple[str, Any]]] = []

    def multicall(self, calls: list[tuple[str, Any]]) -> list[Any]:
        self.calls.append(calls)
        answers = {
            "session.name": "box:1234",
            "system.time": self.now,
            "pyrotorque.startup_time": FaultError(-506, "Method 'pyrotorque.startup_time' not defined"),
            "session.path": self.session_path,
            "view.size": 7,
        }
        return [answers[method] for method, _ in calls]


def test_without_our_rc_the_session_lock_file_gives_the_uptime(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    lock = tmp_path / "rtorrent.lock"
    lock.write_text("box:+1234\n")
    os.utime(lock, (1_000_000, 1_000_000))
    client = FakeClient(str(tmp_path), now=1_000_000 + 3725)
    match = run_and_parse(stats_job(cast(Any, client)), caplog)
    assert (match["name"], match["up"], match["items"]) == ("box:1234", "1h 2m", "7")
    assert len(client.calls) == 1  # one system.multicall per tick


def test_without_rc_or_lock_file_the_uptime_is_unknown(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    client = FakeClient(str(tmp_path / "elsewhere"), now=5)
    assert run_and_parse(stats_job(cast(Any, client)), caplog)["up"] == "unknown"


class FakeClock:
    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


def test_while_rtorrent_is_down_one_warning_a_reminder_a_minute_and_info_when_back(
    rtorrent_factory: SandboxFactory, caplog: pytest.LogCaptureFixture
) -> None:
    private = rtorrent_factory()
    job = stats_job(RtorrentClient(private.url, timeout=5))
    clock = FakeClock()
    tick = TickRunner("connstats", job.run, job.log, clock=clock)
    caplog.set_level(logging.DEBUG, logger="pyrotorque.job.connstats")
    tick()
    private.stop()
    caplog.clear()
    for _ in range(26):  # every 5 s for 130 s
        tick()
        clock.now += 5
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 3, warnings  # lost, then reminders after 60 s and 120 s
    assert warnings[0].startswith("Job connstats: rTorrent connection lost: ") and private.url in warnings[0]
    assert "still unreachable after 60 s" in warnings[1] and "still unreachable after 120 s" in warnings[2]
    assert not [r for r in caplog.records if r.levelno == logging.INFO]

    private.start()
    caplog.clear()
    tick()
    infos = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert len(infos) == 2 and LINE.fullmatch(infos[0])  # the tick's stats line, then the runner's
    assert infos[1] == "Job connstats: rTorrent connection is back after 130 s"
    assert not tick.connection_lost
    assert all(r.exc_info is None and r.levelno < logging.ERROR for r in caplog.records)
