"""``--status`` of a real daemon beside a real rTorrent: up, frozen and gone (docs/cli.md)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sandbox.rtorrent import RtorrentSandbox

from pyrotorque.daemon.status_file import STATUS_FILE_NAME
from tests.integration.test_daemon_cli import Daemonland
from tests.support.polling import wait_for

pytestmark = pytest.mark.rtorrent

JOBS = """job.queue.active = yes
job.queue.schedule = second=*
job.stats2.handler = pyrotorque.jobs.engine_stats:EngineStats
job.stats2.schedule = second=*
"""


@pytest.fixture
def land(tmp_path: Path, rt: RtorrentSandbox) -> Iterator[Daemonland]:
    place = Daemonland(tmp_path, rt.url)
    (place.dir / "config.ini").write_text(f"[GLOBAL]\nscgi_url = {rt.url}\nrpc_timeout = 3\n")
    (place.dir / "torque.ini").write_text(f"[TORQUE]\njob.connstats.schedule = second=*\n{JOBS}")
    try:
        yield place
    finally:
        rt.thaw()
        place.run("--stop", timeout=60)
        place.kill_leftover()


def status(land: Daemonland) -> str:
    result = land.run("--status")
    assert result.code == 0, result.err
    return result.out


def job_line(text: str, name: str) -> str:
    (line,) = [line for line in text.splitlines() if line.startswith(f"{name} ")]
    return line


def test_status_shows_jobs_with_rtorrent_up_frozen_and_gone(land: Daemonland, rt: RtorrentSandbox) -> None:
    land.guard.touch()
    assert land.run().code == 0
    pid = land.pid()
    wait_for(lambda: "1/0" not in status(land) and " ok " in job_line(status(land), "queue"), "runs")

    up = status(land)
    lines = up.splitlines()
    assert lines[0] == f"pyrotorque is running as process #{pid}"
    assert re.match(r"version \S+, up \d+s \(since \d\d:\d\d:\d\d\)", lines[1])
    assert re.match(rf"rTorrent at {re.escape(rt.url)}: reachable for \d+", lines[2])
    assert lines[3].split() == ["job", "schedule", "last", "run", "next", "run", "runs/failed"]
    for name in ("connstats", "queue", "stats2"):
        assert re.match(
            rf"{name} +second=\* +\d\d:\d\d:\d\d \(\d+\.\d\d s\) ok +\d\d:\d\d:\d\d +\d+/0$",
            job_line(up, name),
        )

    # The file is what the daemon publishes: its own pid, the jobs in their order.
    published = json.loads((land.dir / "run" / STATUS_FILE_NAME).read_text())
    assert published["pid"] == pid and [job["name"] for job in published["jobs"]] == [
        "connstats",
        "queue",
        "stats2",
    ]

    rt.freeze()
    wait_for(lambda: "running for" in status(land), "a tick waiting on the frozen rTorrent")
    wait_for(lambda: "NOT reachable" in status(land), "the rpc timeout to end a tick", timeout=30)
    frozen = status(land)
    assert re.search(
        r"last error of \w+ at \d\d:\d\d:\d\d: no complete answer from rTorrent within 3s", frozen
    ), frozen

    rt.thaw()
    wait_for(lambda: "reachable for" in status(land) and "NOT" not in status(land).splitlines()[2], "back")
    # Each job's next tick after the thaw succeeds; then every last error is marked as behind it.
    wait_for(
        lambda: all(" ok " in job_line(status(land), name) for name in ("connstats", "queue", "stats2")), "ok"
    )
    back = status(land)
    errors = [line for line in back.splitlines() if line.startswith("last error of ")]
    assert errors and all(
        re.match(r"last error of \w+ at \d\d:\d\d:\d\d, since then ok: ", line) for line in errors
    )

    rt.stop()
    try:
        wait_for(lambda: "NOT reachable" in status(land), "the outage", timeout=30)
        gone = status(land)
        assert re.search(r"unreachable +\d\d:\d\d:\d\d +\d+/[1-9]", job_line(gone, "queue")), gone
    finally:
        rt.start()

    assert land.run("--stop", timeout=60).code == 0
    assert not (land.dir / "run" / STATUS_FILE_NAME).exists()
