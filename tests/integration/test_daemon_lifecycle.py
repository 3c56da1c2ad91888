"""The daemon as a subprocess, with user jobs: signals and running ticks, the guard file, logging,
directories, stale pid files, configuration sources, pyrocore-style jobs and every exit code."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sandbox.rtorrent import RtorrentSandbox

from tests.integration.test_daemon_cli import PYROTORQUE, TIMEOUT, Daemonland, alive
from tests.support.polling import wait_for

USERJOBS = Path(__file__).resolve().parents[1] / "data" / "userjobs"


def land_with_user_jobs(tmp_path: Path, rtorrent: RtorrentSandbox) -> Iterator[Daemonland]:
    """A Daemonland whose daemons find the test user jobs; stops what it started afterwards."""
    place = Daemonland(tmp_path, rtorrent.url)
    # In front of the caller's path, so the daemon runs the pyrotorque under test, not an installed one.
    place.env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(USERJOBS), os.environ.get("PYTHONPATH")]))
    yield place
    place.run("--stop")
    place.kill_leftover()


@pytest.fixture
def land(tmp_path: Path, rtorrent: RtorrentSandbox) -> Iterator[Daemonland]:
    yield from land_with_user_jobs(tmp_path, rtorrent)


@pytest.fixture
def journal(tmp_path: Path) -> Path:
    return tmp_path / "journal"


def user_job(name: str, handler: str, schedule: str, **params: object) -> str:
    """torque.ini lines for one job of tests/data/userjobs/audit_jobs.py."""
    lines = [f"job.{name}.handler = audit_jobs:{handler}", f"job.{name}.schedule = {schedule}"]
    lines += [f"job.{name}.{key} = {value}" for key, value in params.items()]
    return "".join(line + "\n" for line in lines)


def configure(land: Daemonland, *jobs: str) -> None:
    """Only the given user jobs (connstats switched off)."""
    land.write(schedule="second=*", extra="job.connstats.active = no\n" + "".join(jobs))


def lines_of(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def events(journal: Path) -> list[str]:
    """Journal lines without the options dumps and the dry-run flag."""
    return [line.split(" dry_run=")[0] for line in lines_of(journal) if not line.startswith("options ")]


# --- signals, ticks and the guard file ------------------------------------------------------------


def test_sigterm_waits_for_the_running_tick(land: Daemonland, journal: Path) -> None:
    configure(land, user_job("sleepy", "Sleepy", "second=*", journal=journal, sleep=2))
    land.guard.touch()
    assert land.run().code == 0
    pid = land.pid()
    wait_for(lambda: "tick start sleepy" in events(journal), "a tick to start")
    os.kill(pid, signal.SIGTERM)
    wait_for(lambda: not alive(pid), "the daemon to exit")
    assert events(journal)[-2:] == ["tick end sleepy", "stop sleepy"]
    log = land.log_text()
    asked = log.index("Termination request received (SIGTERM)")
    tick_ended = log.index("tick of sleepy ended", asked)
    assert tick_ended < log.index(f"pyrotorque process #{pid} stopped", asked)
    assert not land.pid_file.exists()


def test_sigint_in_the_foreground_waits_for_the_running_tick_and_exits_0(
    land: Daemonland, journal: Path, tmp_path: Path
) -> None:
    configure(land, user_job("sleepy", "Sleepy", "second=*", journal=journal, sleep=2))
    stderr_path = tmp_path / "stderr"
    with stderr_path.open("w") as stderr:
        daemon = subprocess.Popen(
            [*PYROTORQUE, "--fg", "--debug"], stderr=stderr, env=land.environment(), text=True
        )
    try:
        wait_for(lambda: "tick start sleepy" in events(journal), "a tick to start")
        assert land.pid() == daemon.pid  # no guard file needed, no fork
        daemon.send_signal(signal.SIGINT)
        assert daemon.wait(TIMEOUT) == 0
    finally:
        if daemon.poll() is None:
            daemon.kill()
    assert events(journal)[-2:] == ["tick end sleepy", "stop sleepy"]
    output = stderr_path.read_text()
    assert "Termination request received (SIGINT)" in output
    assert "DEBUG    Looking for jobs to run [apscheduler.scheduler]" in output  # only with --debug
    assert not land.pid_file.exists()


def test_removing_the_guard_file_stops_the_daemon_during_a_long_tick(land: Daemonland, journal: Path) -> None:
    configure(land, user_job("sleepy", "Sleepy", "second=*", journal=journal, sleep=120))
    land.guard.touch()
    assert land.run().code == 0
    pid = land.pid()
    wait_for(lambda: "tick start sleepy" in events(journal), "a tick to start")
    land.guard.unlink()
    # "Within about a second": far less than the tick's 120 s, with room for a loaded machine.
    wait_for(lambda: not alive(pid), "the daemon to exit", timeout=5)
    assert events(journal)[-2:] == ["tick start sleepy", "stop sleepy"]
    assert "Job sleepy: not waiting for its running tick" in land.log_text()
    assert f"pyrotorque process #{pid} stopped" in land.log_text()
    assert not land.pid_file.exists()


def test_sighup_reload_puts_a_changed_schedule_into_effect(land: Daemonland, journal: Path) -> None:
    configure(land, user_job("sleepy", "Sleepy", "year=2099", journal=journal))
    land.guard.touch()
    assert land.run().code == 0
    pid = land.pid()
    wait_for(lambda: "Job sleepy scheduled: year=2099" in land.log_text(), "the first schedule")
    configure(land, user_job("sleepy", "Sleepy", "second=*", journal=journal))
    os.kill(pid, signal.SIGHUP)
    wait_for(lambda: "tick start sleepy" in events(journal), "a tick on the new schedule")
    assert events(journal)[0] == "stop sleepy"  # the old instance stopped before any tick ran
    assert sum(line.startswith("options sleepy") for line in lines_of(journal)) == 2
    assert alive(pid)


# --- logging, directories and the pid file --------------------------------------------------------


def test_cron_logs_to_torque_log_appending_and_follows_logrotate(land: Daemonland) -> None:
    land.log.parent.mkdir()
    land.log.write_text("an older line\n")
    land.guard.touch()
    cron = land.run("--cron")
    assert (cron.code, cron.out, cron.err) == (0, "", "")
    wait_for(lambda: "Stats for" in land.log_text(), "a stats line")
    assert land.log_text().startswith("an older line\n")

    rotated = land.log.with_name("torque.log.1")
    land.log.rename(rotated)  # what logrotate does without copytruncate
    wait_for(lambda: "Stats for" in land.log_text(), "a stats line in the new torque.log")
    assert rotated.read_text().startswith("an older line\n")
    assert "an older line" not in land.log_text()


def test_start_creates_missing_run_and_log_directories(land: Daemonland, tmp_path: Path) -> None:
    (land.dir / "run").rmdir()
    guard = tmp_path / "guard"
    guard.touch()
    started = land.run("--guard-file", str(guard))
    assert started.code == 0, started.err
    assert land.pid_file.is_file() and land.log.is_file()
    assert alive(land.pid())


def test_stale_pid_file_is_replaced(land: Daemonland) -> None:
    # A pid file left by a crash, naming a pid that now belongs to another live process (ours).
    land.pid_file.write_text(f"{os.getpid()}\n")
    status = land.run("--status")
    assert (status.code, status.out.strip()) == (
        3,
        f"pyrotorque is not running (stale pid file of process #{os.getpid()})",
    )
    land.guard.touch()
    started = land.run()
    assert started.code == 0, started.err
    pid = land.pid()
    assert pid != os.getpid() and alive(pid)
    assert f"Removing stale pid file {land.pid_file} of process #{os.getpid()}" in land.log_text()
    assert land.run("--status").code == 0


def test_pid_file_option(land: Daemonland, tmp_path: Path) -> None:
    pid_file = tmp_path / "elsewhere" / "torque.pid"
    land.guard.touch()
    assert land.run("--pid-file", str(pid_file)).code == 0
    assert not land.pid_file.exists()
    pid = int(pid_file.read_text())
    assert land.run("--status", "--pid-file", str(pid_file)).code == 0
    assert land.run("--status").code == 3
    stopped = land.run("--stop", "--pid-file", str(pid_file))
    assert (stopped.code, stopped.out.strip()) == (0, f"pyrotorque process #{pid} stopped")
    assert not alive(pid)


def test_log_levels_of_quiet_verbose_and_debug(land: Daemonland, tmp_path: Path) -> None:
    (land.dir / "torque.ini").write_text("[TORQUE]\njob.connstats.schedule = hour=*\n")
    normal = land.run("--run-once", "connstats")
    assert normal.code == 0 and "INFO     Stats for" in normal.err
    assert " DEBUG " not in normal.err
    quiet = land.run("--run-once", "connstats", "-q")
    assert (quiet.code, quiet.err) == (0, "")
    verbose = land.run("--run-once", "connstats", "-v")
    assert "DEBUG    Loading configuration from" in verbose.err and "Stats for" in verbose.err

    dead = f"scgi://{tmp_path}/dead.socket"
    plain = land.run("--run-once", "connstats", "--url", dead)
    debug = land.run("--run-once", "connstats", "--url", dead, "--debug")
    assert plain.code == debug.code == 69
    assert "Traceback" not in plain.err and "Traceback" in debug.err


# --- configuration sources ------------------------------------------------------------------------


def test_url_from_define_and_environment(land: Daemonland, tmp_path: Path, rtorrent: RtorrentSandbox) -> None:
    dead = f"scgi://{tmp_path}/dead.socket"
    (land.dir / "config.ini").write_text(f"[GLOBAL]\nscgi_url = {dead}\n")
    assert land.run("--check").code == 69
    by_define = land.run("--check", "-D", f"scgi_url={rtorrent.url}")
    assert by_define.code == 0, by_define.err
    assert f"at {rtorrent.url}," in by_define.out
    land.env["PYRO_SCGI_URL"] = rtorrent.url
    by_environment = land.run("--check")
    assert by_environment.code == 0, by_environment.err
    assert f"at {rtorrent.url}," in by_environment.out
    assert land.run("--check", "--url", dead).code == 69  # --url beats them all


def test_config_dir_from_environment_or_option_and_extra_config_files(
    land: Daemonland, tmp_path: Path
) -> None:
    checked = land.run("--check")  # PYRO_CONFIG_DIR names land.dir
    assert "job connstats: pyrotorque.jobs.engine_stats:EngineStats, schedule 'second=*'" in checked.out

    other = tmp_path / "other"
    other.mkdir()
    (other / "config.ini").write_text(f"[GLOBAL]\nscgi_url = {land.url}\n")
    (other / "torque.ini").write_text("[TORQUE]\njob.connstats.schedule = minute=*/3\n")
    from_option = land.run("--check", "--config-dir", str(other))
    assert from_option.code == 0, from_option.err
    assert "schedule 'minute=*/3'" in from_option.out

    (land.dir / "extra.ini").write_text("[TORQUE]\njob.connstats.schedule = minute=*/7\n")
    absolute = tmp_path / "last.ini"
    absolute.write_text("[TORQUE]\njob.connstats.schedule = minute=*/11\n")
    extra = land.run("--check", "--config-file", "extra.ini")
    assert "schedule 'minute=*/7'" in extra.out
    both = land.run("--check", "--config-file", "extra.ini", "--config-file", str(absolute))
    assert "schedule 'minute=*/11'" in both.out
    missing = land.run("--check", "--config-file", "nope.ini")
    assert missing.code == 78 and "nope.ini" in missing.err


# --- jobs written for the original, and typed jobs --------------------------------------------------


def test_a_job_written_for_pyrocore_gets_its_keys_converted_as_the_original_did(
    land: Daemonland, tmp_path: Path
) -> None:
    dump = tmp_path / "params.json"
    params = {
        "journal": dump,
        "limit": "12",
        "flag": "yes",
        "off": "NO",
        "ratio": "1.5",
        "negative": "-1",
        "word": "on",
        "text": "hello world",
        "cmd.nfo": "f.multicall=*.nfo",
    }
    configure(land, user_job("old", "WrittenForPyrocore", 'hour=12 "day=3rd sun"', **params))
    ran = land.run("--run-once", "old", "-n")
    assert ran.code == 0, ran.err
    got = json.loads(dump.read_text())
    assert got["limit"] == ["int", 12]
    assert got["flag"] == ["bool", True]
    assert got["off"] == ["bool", False]
    for key in ("ratio", "negative", "word", "text", "cmd.nfo"):
        assert got[key] == ["str", params[key]], key
    assert got["job_name"] == ["str", "old"]
    assert got["dry_run"] == ["bool", True]  # from -n
    assert got["active"] == ["bool", True]
    assert got["schedule"] == ["dict", {"hour": "12", "day": "3rd sun"}]
    assert got["handler"][0] == "type"  # the class, during the constructor, as in the original
    assert "legacy job old ran" in ran.err


def test_a_second_job_of_the_same_handler_gets_the_handlers_defaults(land: Daemonland, journal: Path) -> None:
    configure(
        land,
        user_job("first", "Sleepy", "hour=*", journal=journal, step=5, sleep=0.5),
        user_job("second", "Sleepy", "hour=*", journal=journal),
    )
    land.guard.touch()
    assert land.run().code == 0
    wait_for(lambda: len([line for line in lines_of(journal) if line.startswith("options")]) == 2, "both")
    options = {
        line.split(" ", 2)[1]: json.loads(line.split(" ", 2)[2])
        for line in lines_of(journal)
        if line.startswith("options ")
    }
    assert options["first"] == {"journal": str(journal), "sleep": 0.5, "step": 5}
    assert options["second"] == {"journal": str(journal), "sleep": 0.0, "step": 1}


# --- every row of the exit code table in docs/cli.md ----------------------------------------------


def test_exit_2_for_usage_errors(land: Daemonland) -> None:
    assert land.run("--no-such-option").code == 2
    assert land.run("-q", "-v").code == 2
    assert land.run("--status", "--stop").code == 2


def test_exit_69_when_rtorrent_cannot_be_reached(land: Daemonland, tmp_path: Path) -> None:
    dead = f"scgi://{tmp_path}/dead.socket"
    for command in (["--check"], ["--run-once", "connstats"], ["--match", "name=x"]):
        result = land.run(*command, "--url", dead)
        assert result.code == 69, command
        assert result.err.startswith("pyrotorque: rTorrent:") and str(tmp_path) in result.err


def test_exit_70_when_no_job_can_start_in_the_daemon_or_a_tick_has_a_bug(land: Daemonland) -> None:
    configure(land, user_job("server", "CannotStart", "hour=*"))
    land.guard.touch()
    started = land.run()
    assert started.code == 70
    assert (
        started.err.strip()
        == "pyrotorque: starting the jobs failed: job server cannot start: port 1 is in use"
    )
    wait_for(lambda: not land.pid_file.exists(), "the failed daemon to remove its pid file")
    assert land.run("--status").code == 3

    configure(land, user_job("buggy", "Crashing", "hour=*"))
    crashed = land.run("--run-once", "buggy")
    assert crashed.code == 70
    assert "pyrotorque: unexpected ZeroDivisionError: bug in the tick" in crashed.err


def test_a_job_that_cannot_start_is_left_out_and_the_others_run(land: Daemonland, journal: Path) -> None:
    configure(
        land,
        user_job("server", "CannotStart", "hour=*"),
        user_job("worker", "Sleepy", "second=*", journal=journal),
    )
    land.guard.touch()
    started = land.run()
    assert started.code == 0, started.err
    assert started.err.strip() == "pyrotorque: started, without: job server cannot start: port 1 is in use"
    wait_for(lambda: "tick end worker" in lines_of(journal), "a tick of the job that could start")
    assert "ERROR    Job server cannot start, left out: port 1 is in use" in land.log_text()
    status = land.run("--status").out
    assert "worker " in status and "server " not in status


def test_exit_74_when_the_pid_file_or_the_log_file_cannot_be_created(
    land: Daemonland, tmp_path: Path
) -> None:
    land.guard.touch()
    (land.dir / "log").write_text("not a directory")
    no_log = land.run()
    assert no_log.code == 74
    assert no_log.err.startswith(f"pyrotorque: cannot open the log file {land.log}")
    (land.dir / "log").unlink()

    blocker = tmp_path / "a-file"
    blocker.write_text("")
    no_pid = land.run("--pid-file", str(blocker / "p.pid"))
    assert no_pid.code == 74
    assert no_pid.err.startswith("pyrotorque: cannot ")
    assert f"pid file {blocker / 'p.pid'}: Not a directory" in no_pid.err
    assert not land.pid_file.exists()


HOLD_THE_LOCK = """
import fcntl, os, signal, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_EX)
os.write(fd, b"%d\\n" % os.getpid())
print("locked", flush=True)
time.sleep(120)
"""


def test_exit_75_when_stop_cannot_stop_the_daemon(land: Daemonland) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_LOCK, str(land.pid_file)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        stopped = land.run("--stop", timeout=40)
        assert stopped.code == 75
        assert stopped.err.strip() == f"pyrotorque: process #{holder.pid} did not stop within 10 s"
        assert holder.poll() is None
    finally:
        holder.kill()
        holder.wait()


def test_exit_78_for_a_bad_configuration_with_check_too(land: Daemonland) -> None:
    (land.dir / "torque.ini").write_text("[TORQUE]\njob.connstats.schedule = minute=61\n")
    checked = land.run("--check")
    assert checked.code == 78
    assert checked.err.startswith("pyrotorque: configuration error: job.connstats.schedule")
    assert f"{land.dir / 'torque.ini'} line 2" in checked.err


def test_a_pyrocore_handler_name_runs_our_stats_job(land: Daemonland) -> None:
    (land.dir / "torque.ini").write_text(
        "[TORQUE]\njob.connstats.active = no\n"
        "job.stats.handler = pyrocore.torrent.jobs:EngineStats\njob.stats.schedule = minute=*\n"
    )
    ran = land.run("--run-once", "stats")
    assert ran.code == 0, ran.err
    assert "Stats for" in ran.err and "[pyrotorque.job.stats]" in ran.err


def test_restart_without_a_running_daemon_starts_one(land: Daemonland) -> None:
    land.guard.touch()
    restarted = land.run("--restart")
    assert restarted.code == 0, restarted.err
    assert restarted.out.strip() == "pyrotorque was not running"
    assert alive(land.pid()) and land.run("--status").code == 0
