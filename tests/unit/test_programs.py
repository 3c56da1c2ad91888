"""programs.py with real programs: argv without a shell, env, cwd, timeout, bounded output, failures."""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path

import pytest

from pyrotorque.jobs.rules.programs import OUTPUT_TAIL, ProgramRunner
from tests.support.clock import FakeClock
from tests.support.polling import wait_for

LOGGER = "pyrotorque.job.programs-test"


def runner() -> ProgramRunner:
    return ProgramRunner(logging.getLogger(LOGGER))


def test_echo_gets_its_arguments_byte_for_byte() -> None:
    hostile = "a b; $(touch x) `id` 'q\" \\ \n é -x"
    result = runner().run(["/bin/echo", "-n", hostile])
    assert result.ok and result.status == 0 and result.reason is None
    assert result.stdout == hostile.encode()
    assert result.stderr == b""


def test_no_shell_reads_metacharacters(tmp_path: Path) -> None:
    marker = tmp_path / "made"
    result = runner().run([sys.executable, "-c", "import sys; print(len(sys.argv))", f"$(touch {marker})"])
    assert result.stdout == b"2\n"
    assert not marker.exists()


def test_env_is_the_daemons_plus_the_given_variables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYRO_TEST_INHERITED", "from-daemon")
    code = "import os; print(os.environ['PYRO_TEST_INHERITED'], os.environ['EXTRA'], os.getcwd())"
    result = runner().run([sys.executable, "-c", code], env={"EXTRA": "x y"}, cwd=str(tmp_path))
    assert result.stdout.decode().split() == ["from-daemon", "x", "y", str(tmp_path)]


def test_stdin_is_empty() -> None:
    result = runner().run([sys.executable, "-c", "import sys; print(repr(sys.stdin.read()))"])
    assert result.stdout == b"''\n"


def test_non_zero_exit_is_a_result_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, LOGGER):
        result = runner().run(["/bin/sh", "-c", "echo broken >&2; exit 3"])
    assert not result.ok
    assert result.status == 3 and result.reason == "exit status 3"
    assert result.stderr == b"broken\n"
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "'/bin/sh'" in warnings[0].getMessage() and "exit status 3" in warnings[0].getMessage()
    assert "broken" in warnings[0].getMessage()
    assert any(r.levelno == logging.DEBUG and "'-c'" in r.getMessage() for r in caplog.records)


def test_failure_level_is_the_callers(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, LOGGER):
        runner().run(["/bin/sh", "-c", "exit 1"], failure_level=logging.ERROR)
    assert [r.levelno for r in caplog.records if r.levelno >= logging.WARNING] == [logging.ERROR]


def test_timeout_kills_the_whole_group(tmp_path: Path) -> None:
    # The shell starts a child that would outlive it; both must be gone after the timeout.
    pid_file = tmp_path / "child.pid"
    script = f"sleep 60 & echo $! > {pid_file}; wait"
    result = runner().run(["/bin/sh", "-c", script], timeout=2)
    assert result.timed_out and not result.ok
    assert result.reason == "killed after the timeout of 2 s"
    assert result.status is not None and result.status < 0
    child = int(pid_file.read_text())
    # SIGKILL is delivered asynchronously and the child is not ours to reap: it dies soon, not at once.
    wait_for(lambda: not _alive(child), "the killed grandchild to be gone")


def _alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie counts as gone: it was killed, only its parent has not reaped it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_a_background_child_holding_the_pipes_is_bounded_by_the_timeout() -> None:
    result = runner().run(["/bin/sh", "-c", "sleep 60 & exit 0"], timeout=0.5)
    assert result.timed_out
    assert result.status == 0  # the program itself ended; its child held stdout open


def test_output_is_bounded_to_the_tail() -> None:
    code = (
        "import sys\n"
        "sys.stdout.buffer.write(b'x' * (10 * 1024 * 1024) + b'THE-END')\n"
        "sys.stderr.buffer.write(b'e' * (3 * 1024 * 1024) + b'ERR-END')\n"
    )
    result = runner().run([sys.executable, "-c", code], timeout=30)
    assert result.ok
    assert len(result.stdout) == OUTPUT_TAIL and result.stdout.endswith(b"THE-END")
    assert len(result.stderr) == OUTPUT_TAIL and result.stderr.endswith(b"ERR-END")


def test_tail_size_is_honoured() -> None:
    small = ProgramRunner(logging.getLogger(LOGGER), tail=10)
    result = small.run(["/bin/echo", "0123456789abcdef"])
    assert result.stdout == b"789abcdef\n"


@pytest.mark.parametrize(
    ("argv", "reason"),
    [
        (["/nonexistent/program"], "program not found: '/nonexistent/program'"),
        (["no-such-program-on-path-xyz"], "program not found: 'no-such-program-on-path-xyz'"),
        ([], "no program given"),
        ([""], "no program given"),
        (["/bin/echo", "a\0b"], "cannot be started: embedded null byte"),
    ],
)
def test_programs_that_cannot_start_are_results(argv: list[str], reason: str) -> None:
    result = runner().run(argv)
    assert result.status is None and not result.ok
    assert result.reason == reason


def test_a_file_that_is_not_executable(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    script = tmp_path / "script.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o644)
    with caplog.at_level(logging.WARNING, LOGGER):
        result = runner().run([str(script)])
    assert result.reason == f"permission denied: {str(script)!r}"
    assert "permission denied" in caplog.text


def test_a_missing_working_directory(tmp_path: Path) -> None:
    missing = str(tmp_path / "gone")
    result = runner().run(["/bin/echo"], cwd=missing)
    assert result.reason is not None and missing in result.reason and "working directory" in result.reason


def test_killed_by_a_signal() -> None:
    result = runner().run(["/bin/sh", "-c", "kill -TERM $$"])
    assert result.status == -15 and result.reason == "killed by signal SIGTERM"


def test_stop_kills_a_running_program_and_refuses_new_ones() -> None:
    programs = runner()
    results = []
    thread = threading.Thread(target=lambda: results.append(programs.run(["sleep", "60"], timeout=60)))
    thread.start()
    _wait_for_a_running_program(programs)
    programs.stop()
    thread.join(10)
    assert not thread.is_alive()
    assert results[0].status == -9 and not results[0].ok
    assert programs.run(["/bin/echo"]).reason == "the job is stopping"


def _wait_for_a_running_program(programs: ProgramRunner) -> None:
    """Until the runner has started its program (observed, not timed)."""
    event = threading.Event()
    while not programs._running:
        event.wait(0.01)
    pid = next(iter(programs._running)).pid
    while not Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"sleep"):
        event.wait(0.01)


def test_the_jobs_clock_measures_the_run() -> None:
    clock = FakeClock()
    result = ProgramRunner(logging.getLogger(LOGGER), clock).run(["/bin/true"])
    assert result.ok and result.seconds == 0.0  # the fake clock stood still
