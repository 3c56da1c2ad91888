"""The watchdog of our torque.rc, for real: rTorrent with our includes starts the daemon when the guard
file exists, not without it, and again after the daemon was killed (0.9.8 and 0.16).

The include reads ``PYRO_WATCHDOG_INTERVAL`` from rTorrent's environment, so the schedule fires every
second here instead of every 300 s. rTorrent 0.16 runs in a chroot (the sid root), where our Python
does not exist: there, ``pyrotorque.command`` is a two-line shell script inside the chroot that hands
the watchdog's arguments to this test, which runs the real ``pyrotorque`` with them on the host. What
rTorrent does (the schedule, the guard check and the command line in torque.rc) is the same on both.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sandbox.rtorrent import RtorrentSandbox, SandboxFactory

from tests.support.polling import wait_for

pytestmark = pytest.mark.rtorrent

PYROTORQUE = Path(sys.executable).parent / "pyrotorque"


class Relay:
    """Runs, on the host, the commands the chrooted watchdog asks for (one request file per call)."""

    def __init__(self, rt: RtorrentSandbox, requests: Path) -> None:
        self.rt, self.requests = rt, requests
        self.calls: list[list[str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def _serve(self) -> None:
        while not self._stop.wait(0.05):
            for request in sorted(self.requests.glob("request.*")):
                args = request.read_text().split("\n")[:-1]
                request.unlink()
                mapped = [str(self.rt.host_path(arg)) if arg.startswith("/") else arg for arg in args]
                self.calls.append(mapped)
                subprocess.run([str(PYROTORQUE), *mapped], check=False, timeout=60, env=os.environ.copy())


@pytest.fixture
def watched(
    rtorrent_factory: SandboxFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[RtorrentSandbox, Path]]:
    """A private rTorrent with our includes, its watchdog every second, and the config dir it watches."""
    if not PYROTORQUE.exists():
        pytest.fail(f"{PYROTORQUE} is missing: the package must be installed in the venv (make venv)")
    monkeypatch.setenv("PYRO_WATCHDOG_INTERVAL", "1")
    rt = rtorrent_factory(start=False)
    config_dir = rt.prepare() / "pyroscope"
    (config_dir / "run").mkdir(parents=True)
    (config_dir / "config.ini").write_text(f"[GLOBAL]\nscgi_url = {rt.url}\n")
    (config_dir / "torque.ini").write_text("[TORQUE]\njob.connstats.schedule = second=*\n")
    command = str(PYROTORQUE)
    relay = None
    if rt.chrooted:
        requests = rt.directory / "relay"
        requests.mkdir()
        script = rt.directory / "relay.sh"
        script.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {rt.rt_path(requests)}/request.$$\n')
        script.chmod(0o755)
        command = rt.rt_path(script)
        relay = Relay(rt, requests)
        relay.start()
    rt.extra_rc = (
        f"pyrotorque.command.set = {command}",
        f"pyrotorque.config_dir.set = {rt.rt_path(config_dir)}",
    )
    rt.start()
    try:
        yield rt, config_dir
    finally:
        (config_dir / "run" / "pyrotorque").unlink(missing_ok=True)  # the daemon stops, no new one starts
        subprocess.run([str(PYROTORQUE), "--stop", "--config-dir", str(config_dir)], check=False, timeout=60)
        with contextlib.suppress(FileNotFoundError, ValueError, ProcessLookupError):
            os.kill(int((config_dir / "run" / "pyrotorque.pid").read_text()), signal.SIGKILL)
        if relay is not None:
            relay.stop()


def running_daemon(config_dir: Path) -> int | None:
    """The pid of a live daemon holding the pid file, or None."""
    try:
        pid = int((config_dir / "run" / "pyrotorque.pid").read_text())
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except (FileNotFoundError, ValueError):
        return None
    return pid if state != "Z" else None


def test_the_watchdog_starts_only_with_the_guard_and_again_after_a_kill(
    watched: tuple[RtorrentSandbox, Path],
) -> None:
    _rt, config_dir = watched
    # No guard file: several watchdog runs (one a second) start nothing. Only absence can be shown
    # here, by waiting; the steps below show that the same schedule does start a daemon.
    time.sleep(3.5)
    assert running_daemon(config_dir) is None and not (config_dir / "log").exists()

    (config_dir / "run" / "pyrotorque").touch()
    first = wait_for(lambda: running_daemon(config_dir), "the watchdog to start the daemon")
    cmdline = Path(f"/proc/{first}/cmdline").read_bytes().split(b"\0")
    assert b"--cron" in cmdline and str(config_dir).encode() in cmdline
    wait_for(
        lambda: "Stats for" in (config_dir / "log" / "torque.log").read_text(), "the daemon's first tick"
    )

    os.kill(first, signal.SIGKILL)
    second = wait_for(
        lambda: (pid := running_daemon(config_dir)) not in (None, first) and pid,
        "a new daemon after the kill",
    )
    assert second != first
    log = config_dir / "log" / "torque.log"
    wait_for(lambda: f"pyrotorque started as process #{second}" in log.read_text(), "the new daemon's start")
    assert log.read_text().count("pyrotorque started as process") == 2
