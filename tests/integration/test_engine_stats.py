"""EngineStats against a real rTorrent: the stats line, uptime across restarts, rTorrent going away."""

from __future__ import annotations

import logging
import re
import time

import pytest
from sandbox.rtorrent import RtorrentSandbox, SandboxFactory

from pyrotorque.jobs.runner import TickRunner
from pyrotorque.rtorrent.client import RtorrentClient
from tests.support.clock import FakeClock
from tests.unit.test_engine_stats import LINE, run_and_parse, seconds, stats_job


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


def test_while_rtorrent_is_down_one_warning_a_reminder_a_minute_and_info_when_back(
    rtorrent_factory: SandboxFactory, caplog: pytest.LogCaptureFixture
) -> None:
    private = rtorrent_factory()
    job = stats_job(RtorrentClient(private.url, timeout=5))
    clock = FakeClock(5000.0)
    tick = TickRunner("connstats", job.run, job.log, clock=clock)
    caplog.set_level(logging.DEBUG, logger="pyrotorque.job.connstats")
    tick()
    private.stop()
    caplog.clear()
    for _ in range(26):  # every 5 s for 130 s
        tick()
        clock.advance(5)
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
