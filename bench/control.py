"""The control commands' cost: ``--version``, ``--status``, ``--stop`` and ``--cron`` while a daemon runs.

The watchdog of torque.rc runs ``pyrotorque --cron`` every 5 minutes for years, and scripts call
``--status``; each is a fresh interpreter, so its cost is the imports. Each command runs as a
subprocess of this interpreter, round-robin with a bare ``python -c pass`` (the floor, measured in
the same run); the target is at most 2x the floor. Each runs as users and the watchdog run it: the
``pyrotorque`` console script (what pip writes into ``bin/pyrotorque``), not ``python -m
pyrotorque``, which adds ``runpy`` and is shown once for comparison. "Running" is this process holding
the pid file's lock and its status file with three jobs, which is all a control command looks at;
``--stop`` is timed with no daemon (with one, it waits for that daemon's own stop). No rTorrent is
needed: the sandbox of the context is not used.

Also runnable alone: ``python -m bench.control [--repeat N] [--src OTHER/src]``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bench import register
from bench.common import DEFAULT_REPEAT, BenchContext, Timing, print_table, ratio_line, time_interleaved
from pyrotorque.daemon.status_board import DaemonStatus, StatusBoard, status_path
from pyrotorque.pidfile import PidFile

TARGET = 2.0
SRC = Path(__file__).resolve().parents[1] / "src"


def _runner(argv: list[str], env: dict[str, str], expect: int) -> Callable[[], int]:
    def run() -> int:
        code = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env).returncode
        if code != expect:
            raise RuntimeError(f"{' '.join(argv[1:])} exited {code}, expected {expect}")
        return code

    return run


def _publish_status(pid_path: Path) -> None:
    """The status file a running daemon with three jobs publishes, for ``--status (running)``."""
    board = StatusBoard(
        status_path(pid_path), DaemonStatus(os.getpid(), time.time(), "scgi:///x", "bench"), clock=time.time
    )
    jobs = [
        ("queue", "QueueManager", "second=*/5"),
        ("watch", "TreeWatch", "second=*/10"),
        ("stats", "EngineStats", "minute=*"),
    ]
    board.set_jobs(jobs, lambda _: datetime.now(UTC))
    for name, _, _ in jobs:
        board.tick_started(name)
        board.tick_ended(name, "ok")


def measure(repeat: int, src: Path = SRC) -> dict[str, Timing]:
    """Median timings of the floor and of each control command (subprocesses, round-robin)."""
    with tempfile.TemporaryDirectory(prefix="pyrotorque-bench-") as temporary:
        idle, busy = Path(temporary) / "idle", Path(temporary) / "busy"
        for directory in (idle, busy):
            (directory / "run").mkdir(parents=True)
            # A URL, so that a tree whose --cron reads the configuration first can be timed too.
            (directory / "config.ini").write_text("[GLOBAL]\nscgi_url = scgi:///nonexistent/rpc.socket\n")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(src), os.environ.get("PYTHONPATH", "")])}
        env.pop("PYRO_CONFIG_DIR", None)
        # pip compiles an installed package's bytecode; a machine that sets PYTHONDONTWRITEBYTECODE
        # would make every run compile our modules from source. The cache goes to a private folder
        # (the warm-up run fills it), so the source tree is left as it was.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(Path(temporary) / "pycache")
        # What pip writes as bin/pyrotorque for the [project.scripts] entry point.
        script = Path(temporary) / "pyrotorque"
        script.write_text("import sys\nfrom pyrotorque.cli import main\nsys.exit(main())\n")
        command = [sys.executable, str(script)]
        commands = {
            "python -c pass": _runner([sys.executable, "-c", "pass"], env, 0),
            "--version": _runner([*command, "--version"], env, 0),
            "--status (running)": _runner([*command, "--status", "--config-dir", str(busy)], env, 0),
            "--status (not running)": _runner([*command, "--status", "--config-dir", str(idle)], env, 3),
            "--stop (not running)": _runner([*command, "--stop", "--config-dir", str(idle)], env, 0),
            "--cron (running)": _runner([*command, "--cron", "--config-dir", str(busy)], env, 0),
            "python -m pyrotorque --cron (running)": _runner(
                [sys.executable, "-m", "pyrotorque", "--cron", "--config-dir", str(busy)], env, 0
            ),
        }
        lock = PidFile(busy / "run" / "pyrotorque.pid")
        lock.acquire(write=True)  # what a running daemon holds
        _publish_status(busy / "run" / "pyrotorque.pid")
        try:
            timings, _ = time_interleaved(commands, repeat)
        finally:
            lock.release()
    return timings


def report(repeat: int, src: Path = SRC) -> None:
    """Print the table and each command's ratio to the floor."""
    timings = measure(repeat, src)
    floor = timings.pop("python -c pass")
    ratios = [
        ratio_line(f"{name} / bare python", timing, floor, None if name.startswith("python -m") else TARGET)
        for name, timing in timings.items()
    ]
    rows = [("python -c pass", floor), *timings.items()]
    print_table("Control commands (fresh interpreter each)", rows, ratios)


@register("control", "--version, --status, --stop, --cron (running): time as a ratio to `python -c pass`")
def control_benchmark(context: BenchContext) -> None:
    """Print the control commands' cost; the sandbox is not needed."""
    report(max(context.repeat, 10))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=max(DEFAULT_REPEAT, 20))
    parser.add_argument("--src", type=Path, default=SRC, help="the source tree to time (e.g. an older one)")
    options = parser.parse_args()
    report(options.repeat, options.src)
