"""The control commands stay cheap: they never import the scheduler, the jobs or the rTorrent client.

What they cost is measured by ``make bench`` (bench/control.py); this checks the structure that keeps
it so, in a fresh interpreter per command.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pyrotorque.cli import main
from pyrotorque.daemon.status_board import DaemonStatus, StatusBoard, status_path
from pyrotorque.daemon.status_file import STATUS_FILE_NAME
from pyrotorque.pidfile import PidFile

HEAVY = (
    "apscheduler",
    "pyrotorque.jobs",
    "pyrotorque.rtorrent",
    "pyrotorque.config",
    "pyrotorque.daemon.serve",
    "pyrotorque.daemon.control",
    "pyrotorque.daemon.plan",
)
#: Not even these for the answers of cli_quick: with them a control command costs over twice a bare
#: Python start (bench/control.py).
STDLIB_HEAVY = (
    *("argparse", "logging", "pathlib", "typing", "dataclasses", "contextlib"),
    *("json", "re", "enum", "datetime"),
)
PROBE = """
import sys
from pyrotorque.cli import main
code = main(sys.argv[1:])
heavy = sorted(name for name in sys.modules if name.startswith({heavy!r}) or name in {stdlib!r})
print(code, *heavy)
"""


def modules_after(*args: str, stdlib: tuple[str, ...] = ()) -> tuple[int, list[str]]:
    """The exit code of ``pyrotorque ARGS`` in a fresh interpreter, and the heavy modules it imported."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY, stdlib=stdlib), *args],
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


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--version",), 0),
        (("--status",), 3),
        (("-?",), 3),
        (("--stop",), 0),
        (("--cron", "--running"), 0),
        (("--status", "--pid-file=PID"), 3),
    ],
)
def test_quick_answers_import_no_argparse_logging_or_pathlib(
    tmp_path: Path, args: tuple[str, ...], expected: int
) -> None:
    (tmp_path / "run").mkdir()
    lock = PidFile(tmp_path / "run" / "pyrotorque.pid")
    if "--running" in args:
        lock.acquire(write=True)
    args = tuple(str(tmp_path / "other.pid") if arg == "--pid-file=PID" else arg for arg in args)
    args = tuple(
        f"--pid-file={arg}" if arg.endswith("other.pid") else arg for arg in args if arg != "--running"
    )
    try:
        where = () if args == ("--version",) else ("--config-dir", str(tmp_path))  # --version: alone
        found = modules_after(*args, *where, stdlib=STDLIB_HEAVY)
    finally:
        lock.release()
    assert found == (expected, [])


def test_other_forms_take_the_ordinary_way(tmp_path: Path) -> None:
    # -v is not a quick form: argparse reads it, and logging is set up (the same answer, all the same).
    code, imported = modules_after("--status", "-v", "--config-dir", str(tmp_path), stdlib=STDLIB_HEAVY)
    assert code == 3
    assert "argparse" in imported
    assert "logging" in imported


@pytest.mark.parametrize(
    "args",
    [
        ("--version",),
        ("--status",),
        ("--stop",),
        ("--cron",),
        ("--status", "--running"),
        ("--cron", "--running"),
    ],
)
def test_quick_answers_say_what_the_ordinary_way_says(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...]
) -> None:
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "pyrotorque.pid").write_text("4242\n")  # stale
    (tmp_path / "torque.ini").write_text("[TORQUE]\nthis is not ini\n")  # a start fails, in both ways
    lock = PidFile(tmp_path / "run" / "pyrotorque.pid")
    if "--running" in args:
        lock.acquire(write=True)
    args = tuple(arg for arg in args if arg != "--running")
    where = () if args == ("--version",) else ("--config-dir", str(tmp_path))
    try:
        quick = main([*args, *where])
        said_quick = capsys.readouterr()
        ordinary = main([*args, *where, "-q"])  # -q: not a quick form, and nothing else changes
        said_ordinary = capsys.readouterr()
    finally:
        lock.release()
    assert (quick, said_quick.out, said_quick.err) == (ordinary, said_ordinary.out, said_ordinary.err)
    if args == ("--cron",):
        assert (tmp_path / "log" / "torque.log").exists()


def publish_status(run_dir: Path, pid: int, *, jobs: int = 2) -> None:
    """A status file as a running daemon ``pid`` writes it: one job failed once, one never ran."""
    board = StatusBoard(
        status_path(run_dir / "pyrotorque.pid"),
        DaemonStatus(pid, time.time() - 3700, "scgi:///x/rpc.socket", "9.9"),
        clock=time.time,
    )
    next_run = datetime.now(UTC)
    names = [("queue", "QueueManager", "second=*/5"), ("watch", "TreeWatch", "second=*/10")][:jobs]
    board.set_jobs(names, lambda _: next_run, urls={"default": "scgi:///x/rpc.socket", "disk2": "scgi:///y"})
    if jobs:
        board.tick_started("queue")
        board.tick_ended("queue", "unreachable", "rTorrent at scgi:///x/rpc.socket: gone")


@pytest.mark.parametrize("jobs", [2, 0])
def test_a_running_daemons_status_is_a_quick_answer_with_what_the_ordinary_way_says(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], jobs: int
) -> None:
    (tmp_path / "run").mkdir()
    lock = PidFile(tmp_path / "run" / "pyrotorque.pid")
    lock.acquire(write=True)
    try:
        publish_status(tmp_path / "run", os.getpid(), jobs=jobs)
        assert modules_after("--status", "--config-dir", str(tmp_path), stdlib=STDLIB_HEAVY) == (0, [])
        quick = main(["--status", "--config-dir", str(tmp_path)])
        said_quick = capsys.readouterr()
        ordinary = main(["--status", "--config-dir", str(tmp_path), "-q"])
        said_ordinary = capsys.readouterr()
    finally:
        lock.release()
    assert said_quick.out.startswith(f"pyrotorque is running as process #{os.getpid()}\nversion 9.9, up 1h")
    assert ("queue" in said_quick.out) == bool(jobs)
    assert (quick, said_quick.out, said_quick.err) == (ordinary, said_ordinary.out, said_ordinary.err)


@pytest.mark.parametrize(
    "content", ["", "{not json", '{"format": 1, "pid": PID}', '{"format": 99, "pid": PID, "jobs": []}']
)
def test_a_status_file_of_another_shape_is_no_published_status(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str
) -> None:
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / STATUS_FILE_NAME).write_text(content.replace("PID", str(os.getpid())))
    lock = PidFile(tmp_path / "run" / "pyrotorque.pid")
    lock.acquire(write=True)
    try:
        assert main(["--status", "--config-dir", str(tmp_path)]) == 0
    finally:
        lock.release()
    assert capsys.readouterr().out == (
        f"pyrotorque is running as process #{os.getpid()}\n(it has not published its job status yet)\n"
    )
