"""A stop always stops: ``--stop`` and SIGTERM end the daemon within ``STOP_BOUND`` even while its
ticks and its tree watch wait in calls to a frozen (SIGSTOPped) rTorrent; nothing is lost."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from sandbox.rtorrent import SandboxFactory

from pyrotorque.daemon.control import STOP_TIMEOUT
from pyrotorque.daemon.serve import STOP_BOUND
from tests.faults.helpers import drop, open_sockets, watch_dir, watch_land
from tests.integration.test_daemon_cli import alive
from tests.support.polling import wait_for


def test_the_bound_is_shorter_than_the_wait_of_stop() -> None:
    assert STOP_BOUND < STOP_TIMEOUT


def test_stop_ends_the_daemon_mid_tick_with_rtorrent_frozen_and_the_cut_load_happens_next_start(
    rtorrent_factory: SandboxFactory, tmp_path: Path
) -> None:
    sandbox = rtorrent_factory()
    watch = watch_dir(sandbox)
    land = watch_land(tmp_path, sandbox, watch)
    try:
        started = land.run()
        assert started.code == 0, started.err
        pid = land.pid()
        wait_for(lambda: "first start of tree watch" in land.log_text(), "the tree watch's first scan")
        wait_for(lambda: "Stats for" in land.log_text(), "a connstats tick")

        sandbox.freeze()
        meta = drop(watch, "cut-by-the-stop")
        # One connstats tick and the tree watch's look at the new file, both waiting on rTorrent.
        wait_for(lambda: open_sockets(pid) >= 2, "two calls in flight to the frozen rTorrent")

        status = land.run("--status")  # answers from the status file: rTorrent is not asked
        assert status.code == 0
        assert status.out.splitlines()[0] == f"pyrotorque is running as process #{pid}"
        assert "running for" in status.out

        asked = time.monotonic()
        stopped = land.run("--stop", timeout=60)
        took = time.monotonic() - asked
        assert (stopped.code, stopped.out.strip()) == (0, f"pyrotorque process #{pid} stopped"), stopped.err
        assert not alive(pid) and not land.pid_file.exists()
        print(f"--stop with a frozen rTorrent took {took:.1f} s (bound {STOP_BOUND:.0f} s)")
    finally:
        sandbox.thaw()
    log = land.log_text()
    assert "Cutting the rTorrent calls still running: the daemon is stopping" in log
    assert f"pyrotorque process #{pid} stopped" in log
    assert "Traceback" not in log

    # The file whose load the stop cut is loaded (or found loaded) by the next start, and kept.
    restarted = land.run()
    assert restarted.code == 0, restarted.err
    wait_for(lambda: meta.info_hash in sandbox.item_hashes(), "the cut file's item in rTorrent")
    after_restart = land.log_text().split(f"pyrotorque process #{pid} stopped", 1)[1]
    wait_for(
        lambda: "cut-by-the-stop" in land.log_text().split(f"pyrotorque process #{pid} stopped", 1)[1],
        "the second daemon to handle the file",
    )
    assert (watch / "cut-by-the-stop.torrent").exists()
    assert "Traceback" not in after_restart
    assert land.run("--stop").code == 0


def test_sigterm_during_a_tick_waiting_on_a_frozen_rtorrent_ends_the_daemon_in_bound(
    rtorrent_factory: SandboxFactory, tmp_path: Path
) -> None:
    sandbox = rtorrent_factory()
    land = watch_land(tmp_path, sandbox, watch_dir(sandbox))
    try:
        assert land.run().code == 0
        pid = land.pid()
        wait_for(lambda: "Stats for" in land.log_text(), "a connstats tick")
        sandbox.freeze()
        wait_for(lambda: open_sockets(pid) >= 1, "a connstats tick waiting on the frozen rTorrent")
        asked = time.monotonic()
        os.kill(pid, signal.SIGTERM)
        wait_for(lambda: not alive(pid), "the daemon to end", timeout=STOP_BOUND + 20)
        print(f"SIGTERM with a frozen rTorrent: gone after {time.monotonic() - asked:.1f} s")
    finally:
        sandbox.thaw()
        land.kill_leftover()
    log = land.log_text()
    assert "Termination request received (SIGTERM)" in log
    assert "Job connstats: tick cut short while stopping: call cut short: the daemon is stopping" in log
    assert "rTorrent connection lost" not in log
    assert f"pyrotorque process #{pid} stopped" in log
    assert not land.pid_file.exists()
