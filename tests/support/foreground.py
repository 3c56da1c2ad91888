"""A real ``pyrotorque --fg`` process for end-to-end tests: a config dir, the process, its output."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path


def write_config(config_dir: Path, url: str, torque: str, global_extra: str = "") -> Path:
    """A config dir with rTorrent's URL in config.ini and ``torque`` as torque.ini; returns it."""
    (config_dir / "run").mkdir(parents=True, exist_ok=True)
    (config_dir / "config.ini").write_text(f"[GLOBAL]\nscgi_url = {url}\n{global_extra}")
    (config_dir / "torque.ini").write_text(torque)
    return config_dir


def start_foreground(config_dir: Path, *args: str) -> subprocess.Popen[str]:
    """Run ``pyrotorque --fg -v`` on ``config_dir`` (no PYRO_SCGI_URL from outside leaks in)."""
    env = {**os.environ, "PYRO_CONFIG_DIR": str(config_dir)}
    env.pop("PYRO_SCGI_URL", None)
    return subprocess.Popen(
        [sys.executable, "-m", "pyrotorque", "--fg", "-v", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )


def stop_foreground(process: subprocess.Popen[str], timeout: float = 30) -> str:
    """SIGTERM the daemon, wait for it, and return everything it logged."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=timeout)
    return output
