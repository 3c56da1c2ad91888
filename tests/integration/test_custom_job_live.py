"""docs/custom-jobs.md's example job, copied into a package of its own on PYTHONPATH, run by a real
``pyrotorque --fg`` against real rTorrent, beside a job whose tick fails."""

from __future__ import annotations

import inspect
import os
from pathlib import Path

import pytest
from sandbox.rtorrent import RtorrentSandbox

from pyrotorque.examples import tracker_messages
from tests.support.foreground import output_so_far, start_foreground, stop_foreground, write_config
from tests.support.polling import wait_for

BROKEN = '''
from pyrotorque import Job


class Broken(Job):
    """A job with a bug in its tick."""

    def run(self) -> None:
        raise ZeroDivisionError("bug in the tick")
'''


def user_package(root: Path) -> Path:
    """``mytorque`` with the example (as a user would copy it) and a broken job, outside our package."""
    package = root / "userpkg" / "mytorque"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "messages.py").write_text(inspect.getsource(tracker_messages))
    (package / "broken.py").write_text(BROKEN)
    return package.parent


def test_the_example_job_runs_in_a_real_daemon_beside_a_failing_one(
    rt: RtorrentSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gone, fine = rt.load_items(2, prefix="msg")
    rt.rpc("d.message.set", gone, "Tracker: [Unregistered torrent]")
    rt.rpc("d.message.set", fine, "Tracker: [Timeout was reached]")
    summary = tmp_path / "summary.txt"
    torque = (
        "[TORQUE]\njob.connstats.active = no\n"
        "job.broken.handler = mytorque.broken:Broken\njob.broken.schedule = second=*\n"
        "job.messages.handler = mytorque.messages:TrackerMessages\njob.messages.schedule = second=*\n"
        f"job.messages.summary = {summary}\n"
    )
    config_dir = write_config(tmp_path / "cfg", rt.url, torque)
    path = os.pathsep.join(filter(None, [str(user_package(tmp_path)), os.environ.get("PYTHONPATH")]))
    monkeypatch.setenv("PYTHONPATH", path)
    daemon = start_foreground(config_dir)
    try:
        wait_for(lambda: summary.exists() and "bug in the tick" in output_so_far(daemon), "both jobs to tick")
        first = summary.read_text()
        # The broken job fails on every tick; the example job goes on writing its summary.
        wait_for(lambda: output_so_far(daemon).count("Job broken failed") >= 2, "the broken job's next tick")
        wait_for(lambda: summary.read_text() != first, "a later summary")
    finally:
        log = stop_foreground(daemon)
    lines = summary.read_text().splitlines()
    assert lines[0].startswith("# 1 item(s) with a matching tracker message at ")
    assert lines[1:] == [f"{gone}\tmsg00000\tTracker: [Unregistered torrent]"]
    assert log.count(f"Tracker message of 'msg00000' (#{gone})") == 1  # once, not on every tick
    assert "ZeroDivisionError: bug in the tick" in log and "Traceback" in log
    assert daemon.returncode == 0
