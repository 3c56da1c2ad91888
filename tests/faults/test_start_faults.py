"""Starts under faults: rTorrent not running yet, metafiles dropped while the daemon was down, a stale
pid file of a process long gone."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sandbox.rtorrent import SandboxFactory

from tests.faults.helpers import drop, watch_dir, watch_land
from tests.integration.test_daemon_cli import alive
from tests.support.polling import wait_for


def test_rtorrent_not_running_when_the_daemon_starts(
    rtorrent_factory: SandboxFactory, tmp_path: Path
) -> None:
    sandbox = rtorrent_factory()
    watch = watch_dir(sandbox)
    sandbox.stop()
    land = watch_land(tmp_path, sandbox, watch)
    try:
        started = land.run()
        assert started.code == 0, started.err
        pid = land.pid()
        wait_for(lambda: "rTorrent connection lost" in land.log_text(), "the jobs to notice rTorrent is away")
        meta = drop(watch, "dropped-before-rtorrent-runs", seed=51)
        wait_for(lambda: "stay pending" in land.log_text(), "the file to wait for rTorrent")
        sandbox.start()
        wait_for(lambda: meta.info_hash in sandbox.item_hashes(), "the file loaded once rTorrent runs")
        wait_for(lambda: "connection is back" in land.log_text(), "the jobs to see rTorrent again")
        assert alive(pid) and "Traceback" not in land.log_text()
    finally:
        land.run("--stop")
        land.kill_leftover()


def test_metafiles_dropped_while_the_daemon_is_down_are_loaded_at_the_next_start(
    rtorrent_factory: SandboxFactory, tmp_path: Path
) -> None:
    sandbox = rtorrent_factory()
    watch = watch_dir(sandbox)
    (watch / "nested").mkdir()
    land = watch_land(tmp_path, sandbox, watch)
    try:
        assert land.run().code == 0
        wait_for(lambda: "first start of tree watch" in land.log_text(), "the first scan")
        assert land.run("--stop").code == 0
        metas = [drop(watch, "while-down-1", seed=61), drop(watch / "nested", "while-down-2", seed=62)]
        assert land.run().code == 0
        wait_for(lambda: all(meta.info_hash in sandbox.item_hashes() for meta in metas), "both files loaded")
        assert land.log_text().count("first start of tree watch") == 1  # not mistaken for a first start
    finally:
        land.run("--stop")
        land.kill_leftover()


@pytest.mark.parametrize("content", ["dead", "garbage"])
def test_a_stale_pid_file_does_not_block_a_start(
    content: str, rtorrent_factory: SandboxFactory, tmp_path: Path
) -> None:
    sandbox = rtorrent_factory()
    land = watch_land(tmp_path, sandbox, watch_dir(sandbox))
    if content == "dead":
        gone = subprocess.run(
            [sys.executable, "-c", "import os; print(os.getpid())"],
            capture_output=True,
            text=True,
            check=True,
        )
        stale_pid = int(gone.stdout)  # a crashed daemon's pid: no process has it now
        land.pid_file.write_text(f"{stale_pid}\n")
    else:
        stale_pid = 0
        land.pid_file.write_text("not a pid\x00\n")
    try:
        assert land.run("--status").code == 3
        started = land.run()
        assert started.code == 0, started.err
        pid = land.pid()
        assert alive(pid) and land.run("--status").code == 0
        assert f"Removing stale pid file {land.pid_file} of process #{stale_pid}" in land.log_text()
        stopped = land.run("--stop")
        assert stopped.code == 0 and not alive(pid) and not land.pid_file.exists()
    finally:
        land.run("--stop")
        land.kill_leftover()
