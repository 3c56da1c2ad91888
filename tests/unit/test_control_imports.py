"""The control commands stay cheap: they never import the scheduler, the jobs or the rTorrent client.

What they cost is measured by ``make bench`` (bench/control.py); this checks the structure that keeps
it so, in a fresh interpreter per command.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pyrotorque.pidfile import PidFile

HEAVY = (
    "apscheduler",
    "pyrotorque.jobs",
    "pyrotorque.rtorrent",
    "pyrotorque.config",
    "pyrotorque.daemon.serve",
)
PROBE = """
import sys
from pyrotorque.cli import main
code = main(sys.argv[1:])
heavy = sorted(name for name in sys.modules if name.startswith({heavy!r}))
print(code, *heavy)
"""


def modules_after(*args: str) -> tuple[int, list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY), *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    code, *heavy = done.stdout.splitlines()[-1].split()  # the command's own output comes first
    return int(code), heavy


@pytest.mark.parametrize(
    ("args", "expected"),
    [(("--version",), 0), (("--status",), 3), (("--stop",), 0), (("--status", "--running"), 0)],
)
def test_control_commands_import_nothing_heavy(tmp_path: Path, args: tuple[str, ...], expected: int) -> None:
    (tmp_path / "run").mkdir()
    lock = PidFile(tmp_path / "run" / "pyrotorque.pid")
    if "--running" in args:
        lock.acquire(write=True)  # what a running daemon holds
        args = tuple(arg for arg in args if arg != "--running")
    try:
        assert modules_after(*args, "--config-dir", str(tmp_path)) == (expected, [])
    finally:
        lock.release()


def test_cron_while_running_reads_no_configuration(tmp_path: Path) -> None:
    (tmp_path / "run").mkdir()
    (tmp_path / "torque.ini").write_text("[TORQUE]\nthis is not ini\n")  # never read
    lock = PidFile(tmp_path / "run" / "pyrotorque.pid")
    lock.acquire(write=True)
    try:
        assert modules_after("--cron", "--config-dir", str(tmp_path)) == (0, [])
    finally:
        lock.release()
    code, _ = modules_after("--cron", "--config-dir", str(tmp_path))
    assert code == 78  # not running: the configuration is read (and found broken) before any start
