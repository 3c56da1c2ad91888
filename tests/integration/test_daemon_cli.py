"""``pyrotorque`` as a subprocess against a real rTorrent: start, status, stop, restart, guard, reload."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sandbox.metafiles import make_metafile
from sandbox.rtorrent import RtorrentSandbox, SandboxFactory

from tests.support.polling import wait_for

PYROTORQUE = [sys.executable, "-m", "pyrotorque"]
TIMEOUT = 20.0


@dataclass
class Result:
    code: int
    out: str
    err: str


class Daemonland:
    """A config dir for one test, a way to run the CLI in it, and cleanup of what it started."""

    def __init__(self, root: Path, url: str) -> None:
        self.dir = root / "cfg"
        (self.dir / "run").mkdir(parents=True)
        self.url = url
        #: Extra environment for the commands (e.g. PYTHONPATH for user jobs).
        self.env: dict[str, str] = {}
        self.write(schedule="second=*")

    @property
    def guard(self) -> Path:
        return self.dir / "run" / "pyrotorque"

    @property
    def pid_file(self) -> Path:
        return self.dir / "run" / "pyrotorque.pid"

    @property
    def log(self) -> Path:
        return self.dir / "log" / "torque.log"

    def write(self, *, schedule: str, extra: str = "") -> None:
        (self.dir / "config.ini").write_text(f"[GLOBAL]\nscgi_url = {self.url}\n")
        (self.dir / "torque.ini").write_text(
            f"[TORQUE]\njob.connstats.schedule = {schedule}\njob.connstats.log_level = INFO\n{extra}"
        )

    def environment(self) -> dict[str, str]:
        env = {**os.environ, "PYRO_CONFIG_DIR": str(self.dir)}
        env.pop("PYRO_SCGI_URL", None)
        return {**env, **self.env}

    def run(self, *args: str, timeout: float = TIMEOUT) -> Result:
        done = subprocess.run(
            [*PYROTORQUE, *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=self.environment(),
            check=False,
        )
        return Result(done.returncode, done.stdout, done.stderr)

    def pid(self) -> int:
        return int(self.pid_file.read_text())

    def log_text(self) -> str:
        return self.log.read_text() if self.log.exists() else ""

    def kill_leftover(self) -> None:
        with contextlib.suppress(FileNotFoundError, ValueError, ProcessLookupError):
            os.kill(self.pid(), signal.SIGKILL)


def alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie left for a non-reaping init counts as gone)."""
    try:
        os.kill(pid, 0)
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except (ProcessLookupError, FileNotFoundError):
        return False
    return state != "Z"


@pytest.fixture
def land(tmp_path: Path, rtorrent: RtorrentSandbox) -> Iterator[Daemonland]:
    place = Daemonland(tmp_path, rtorrent.url)
    yield place
    place.run("--stop")
    place.kill_leftover()


def test_background_start_status_refused_second_start_and_stop(land: Daemonland) -> None:
    land.guard.touch()
    started = land.run()
    assert started.code == 0, started.err
    pid = land.pid()
    assert pid != os.getpid() and alive(pid)

    status = land.run("--status")
    assert status.code == 0
    assert status.out.splitlines()[0] == f"pyrotorque is running as process #{pid}"

    second = land.run()
    assert second.code == 75
    assert second.err.strip() == f"pyrotorque: pyrotorque is already running as process #{pid}, not starting"

    cron = land.run("--cron")
    assert (cron.code, cron.out, cron.err) == (0, "", "")

    wait_for(lambda: "Stats for" in land.log_text(), "a stats line in the log")

    stopped = land.run("--stop")
    assert (stopped.code, stopped.out.strip()) == (0, f"pyrotorque process #{pid} stopped")
    assert not alive(pid) and not land.pid_file.exists()
    assert land.run("--status").code == 3
    again = land.run("--stop")
    assert (again.code, again.out.strip()) == (0, "pyrotorque was not running")


def test_start_without_guard_file_is_refused_visibly(land: Daemonland) -> None:
    refused = land.run()
    assert refused.code == 75
    assert f"guard file {land.guard} not found" in refused.err
    assert len(refused.err.strip().splitlines()) == 1
    assert not land.pid_file.exists()

    cron = land.run("--cron")
    assert cron.code == 75
    assert not land.pid_file.exists()
    assert "not found, not starting" in land.log_text()

    land.guard.touch()
    assert land.run("--cron").code == 0
    assert land.run("--status").code == 0
    wait_for(lambda: "pyrotorque started as process" in land.log_text(), "the start in torque.log")


def test_removing_the_guard_file_stops_the_daemon(land: Daemonland) -> None:
    land.guard.touch()
    assert land.run().code == 0
    pid = land.pid()
    land.guard.unlink()
    wait_for(lambda: not alive(pid), "the daemon to exit", timeout=5)
    assert "disappeared, stopping" in land.log_text()
    assert land.run("--status").code == 3


def test_restart_replaces_the_daemon(land: Daemonland) -> None:
    land.guard.touch()
    assert land.run().code == 0
    first = land.pid()
    restarted = land.run("--restart")
    assert restarted.code == 0, restarted.err
    assert f"process #{first} stopped" in restarted.out
    second = land.pid()
    assert second != first and alive(second) and not alive(first)


def test_sighup_reloads_and_a_bad_reload_keeps_the_old_config(land: Daemonland) -> None:
    land.guard.touch()
    assert land.run().code == 0
    pid = land.pid()
    wait_for(lambda: "Job connstats scheduled: second=*" in land.log_text(), "the first schedule")

    land.write(schedule="second=*/2")
    os.kill(pid, signal.SIGHUP)
    wait_for(lambda: "Job connstats scheduled: second=*/2" in land.log_text(), "the reloaded schedule")
    assert "Configuration reloaded" in land.log_text()

    land.write(schedule="fortnight=3")
    os.kill(pid, signal.SIGHUP)
    wait_for(lambda: "Reload failed" in land.log_text(), "the failed reload")
    assert "job.connstats.schedule" in land.log_text().split("Reload failed", 1)[1]
    assert alive(pid) and land.run("--status").code == 0


@pytest.mark.parametrize(
    ("extra", "key", "fragment"),
    [
        ("job.connstats.schedule = fortnight=3\n", "job.connstats.schedule", "fortnight=3"),
        (
            "job.mine.handler = no_such_module:Job\njob.mine.schedule = minute=*\n",
            "job.mine.handler",
            "cannot import no_such_module",
        ),
        (
            "job.queue.active = yes\njob.queue.handler = pyrocore.torrent.watch:Nope\n",
            "job.queue.handler",
            "cannot import pyrocore.torrent.watch",
        ),
        ("job.connstats.colour = blue\n", "job.connstats.colour", "unknown key"),
        # A built-in job switched on without the key it cannot work without.
        ("job.treewatch.active = yes\n", "job.treewatch.path", "must name the folder"),
        ("job.queue.active = yes\njob.queue.startable = prio>\n", "job.queue.startable", "position"),
    ],
)
def test_bad_config_fails_in_the_terminal_naming_the_key(
    land: Daemonland, extra: str, key: str, fragment: str
) -> None:
    land.guard.touch()
    (land.dir / "torque.ini").write_text(f"[TORQUE]\n{extra}")
    failed = land.run()
    assert failed.code == 78
    assert failed.err.startswith(f"pyrotorque: configuration error: {key}")
    assert fragment in failed.err
    assert "torque.ini line" in failed.err
    assert len(failed.err.strip().splitlines()) == 1
    assert not land.pid_file.exists()


def test_check_lists_jobs_and_next_runs(land: Daemonland) -> None:
    checked = land.run("--check")
    assert checked.code == 0, checked.err
    assert "rTorrent 0." in checked.out
    assert "job connstats: pyrotorque.jobs.engine_stats:EngineStats, schedule 'second=*', next run at" in (
        checked.out
    )


def test_check_with_rtorrent_unreachable_exits_69(land: Daemonland, tmp_path: Path) -> None:
    checked = land.run("--check", "--url", f"scgi://{tmp_path}/nothing.socket")
    assert checked.code == 69
    assert checked.err.startswith("pyrotorque: rTorrent:")


def test_run_once_runs_one_tick_in_the_foreground(land: Daemonland) -> None:
    ran = land.run("--run-once", "connstats")
    assert ran.code == 0, ran.err
    assert "Stats for" in ran.err
    assert not land.pid_file.exists()
    unknown = land.run("--run-once", "nope")
    assert unknown.code == 78 and "no job named 'nope'" in unknown.err


def test_match_prints_hash_and_name(land: Daemonland, rt: RtorrentSandbox) -> None:
    hashes = rt.load_items(3, prefix="matchme", seed=5)
    matched = land.run("--match", "name=matchme00001")
    assert (matched.code, matched.out.split()) == (0, [hashes[1], "matchme00001"])
    assert land.run("--match", "name=nothing-like-this").code == 1
    bad = land.run("--match", "prio>>")
    assert bad.code == 2 and bad.err.startswith("pyrotorque: bad condition:")


def test_daemon_survives_rtorrent_going_away_and_coming_back(
    tmp_path: Path, rtorrent_factory: SandboxFactory
) -> None:
    private = rtorrent_factory()
    land = Daemonland(tmp_path, private.url)
    try:
        land.guard.touch()
        assert land.run().code == 0
        wait_for(lambda: "Stats for" in land.log_text(), "a stats line")
        private.stop()
        wait_for(lambda: "rTorrent connection lost" in land.log_text(), "the lost-connection warning")
        private.start()
        wait_for(lambda: "rTorrent connection is back" in land.log_text(), "the connection-back line")
        wait_for(lambda: "Stats for" in land.log_text().split("connection is back", 1)[1], "stats again")
        assert "Traceback" not in land.log_text()
        assert land.log_text().count("rTorrent connection lost") == 1
        assert land.run("--status").code == 0
    finally:
        land.run("--stop")
        land.kill_leftover()


def test_torque_rc_watchdog_starts_the_daemon_only_with_the_guard_file(
    tmp_path: Path, rtorrent: RtorrentSandbox
) -> None:
    methods = rtorrent.rpc("system.listMethods")
    assert {"pyrotorque.watchdog", "pyrotorque.startup_time", "pyrotorque.command"} <= set(methods)
    if rtorrent.chrooted:
        return  # inside the chroot there is no pyrotorque to start; the rc loaded, which is the point
    land = Daemonland(tmp_path, rtorrent.url)
    launcher = tmp_path / "pyrotorque-launcher"
    launcher.write_text(f'#!/bin/sh\nexec {sys.executable} -m pyrotorque "$@"\n')
    launcher.chmod(0o755)
    rtorrent.rpc("pyrotorque.command.set", "", str(launcher))
    rtorrent.rpc("pyrotorque.config_dir.set", "", str(land.dir))
    try:
        rtorrent.rpc("pyrotorque.watchdog", "")
        assert land.run("--status").code == 3  # no guard file, no daemon
        land.guard.touch()
        rtorrent.rpc("pyrotorque.watchdog", "")
        wait_for(lambda: land.run("--status").code == 0, "the daemon started by rTorrent")
        pid = land.pid()
        rtorrent.rpc("pyrotorque.watchdog", "")  # a running daemon makes the next call a no-op
        assert land.pid() == pid and alive(pid)
        assert "--cron" in Path(f"/proc/{pid}/cmdline").read_text()
    finally:
        rtorrent.rpc("pyrotorque.config_dir.set", "", "")
        rtorrent.rpc("pyrotorque.command.set", "", "pyrotorque")
        land.run("--stop")
        land.kill_leftover()


def test_load_pending_loads_what_a_first_start_would_only_record(
    land: Daemonland, rt: RtorrentSandbox, tmp_path: Path
) -> None:
    tree = tmp_path / "tree"
    meta = make_metafile("pending-by-cli")
    (tree / "sub").mkdir(parents=True)
    (tree / "sub" / "x.torrent").write_bytes(meta.data)
    stamp = time.time() - 60  # there for a while (a scan leaves files of the last 5 s to their writer)
    os.utime(tree / "sub" / "x.torrent", (stamp, stamp))
    land.write(
        schedule="second=*",
        extra=f"job.treewatch.path = {tree}\njob.treewatch.loaded = move:{tmp_path / 'done'}\n",
    )
    ran = land.run("--load-pending", "treewatch")
    assert ran.code == 0, ran.err
    assert meta.info_hash in rt.item_hashes()
    assert (tmp_path / "done" / "sub" / "x.torrent").read_bytes() == meta.data
    not_a_watch = land.run("--load-pending", "connstats")
    assert not_a_watch.code == 78 and "is not a tree watch" in not_a_watch.err
