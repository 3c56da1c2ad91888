"""``pyrotorque --check`` while rTorrent cannot be reached: the jobs first, then the problem, exit 69."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from pyrotorque.cli import main

TORQUE_INI = """\
[TORQUE]
job.connstats.schedule = hour=*
job.queue.active = yes
job.queue.schedule = second=*/15
job.nightly.handler = pyrotorque.jobs.queue:QueueManager
job.nightly.schedule = hour=3
"""


def nobody_listens() -> str:
    """A TCP URL on 127.0.0.1 whose port was free a moment ago (bound, then closed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"scgi://127.0.0.1:{port}"


@pytest.mark.parametrize("url", ["tcp", "unix"])
def test_check_lists_every_job_then_reports_the_connection(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "torque.ini").write_text(TORQUE_INI)
    dead = nobody_listens() if url == "tcp" else f"scgi://{tmp_path}/nothing.socket"

    code = main(["--check", "--config-dir", str(tmp_path), "--url", dead])

    out, err = capsys.readouterr()
    assert code == 69
    jobs = [line for line in out.splitlines() if line.startswith("job ")]
    assert [line.split(":")[0] for line in jobs] == ["job connstats", "job queue", "job nightly"]
    assert "job queue: pyrotorque.jobs.queue:QueueManager, schedule 'second=*/15', next run at 20" in out
    assert "job nightly: pyrotorque.jobs.queue:QueueManager, schedule 'hour=3', next run at " in out
    assert "03:00:00" in jobs[2]
    assert out.startswith("configuration OK: ")
    assert "rTorrent 0." not in out
    assert err.startswith("pyrotorque: rTorrent:") and len(err.splitlines()) == 1
