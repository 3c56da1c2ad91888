"""A real ``pyrotorque --fg`` process for end-to-end tests: a config dir, the process, its output."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path


def write_config(config_dir: Path, url: str, torque: str, global_extra: str = "") -> Path:
    """A config dir with rTorrent's URL in config.ini and ``torque`` as torque.ini; returns it."""
    (config_dir / "run").mkdir(parents=True, exist_ok=True)
    (config_dir / "config.ini").write_text(f"[GLOBAL]\nscgi_url = {url}\n{global_extra}")
    (config_dir / "torque.ini").write_text(torque)
    return config_dir


def start_foreground(config_dir: Path, *args: str) -> subprocess.Popen[str]:
    """Run ``pyrotorque --fg -v`` on ``config_dir`` (no PYRO_SCGI_URL from outside leaks in).

    A thread reads the output as it comes: a pipe nobody reads fills up (64 KiB) and the daemon's
    next log line would block every job, which a busy test (hundreds of loads) reaches quickly.
    """
    env = {**os.environ, "PYRO_CONFIG_DIR": str(config_dir)}
    env.pop("PYRO_SCGI_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "pyrotorque", "--fg", "-v", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    lines: list[str] = []
    reader = threading.Thread(target=_collect, args=(process, lines), name="daemon-output", daemon=True)
    reader.start()
    _OUTPUT[process.pid] = (reader, lines)
    return process


def output_so_far(process: subprocess.Popen[str]) -> str:
    """What the daemon printed until now."""
    return "".join(_OUTPUT[process.pid][1])


def stop_foreground(process: subprocess.Popen[str], timeout: float = 30) -> str:
    """SIGTERM the daemon, wait for it, and return everything it logged."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    process.wait(timeout)
    reader, lines = _OUTPUT.pop(process.pid)
    reader.join(timeout)
    return "".join(lines)


_OUTPUT: dict[int, tuple[threading.Thread, list[str]]] = {}


def _collect(process: subprocess.Popen[str], lines: list[str]) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line)
