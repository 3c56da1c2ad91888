"""The flock-guarded pid file: exclusive lock, stale detection, inheritance across fork."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pyrotorque.errors import DaemonError
from pyrotorque.pidfile import PidFile, PidStatus, probe


def test_missing_pid_file_is_not_running(tmp_path: Path) -> None:
    status = probe(tmp_path / "run" / "p.pid")
    assert (status.running, status.pid, status.exists) == (False, 0, False)


def test_acquire_creates_directory_writes_pid_and_release_removes(tmp_path: Path) -> None:
    path = tmp_path / "run" / "p.pid"
    pid_file = PidFile(path)
    pid_file.acquire()
    assert path.read_text() == f"{os.getpid()}\n"
    status = probe(path)
    assert status.running and status.pid == os.getpid()
    pid_file.release()
    pid_file.release()  # idempotent
    assert not path.exists()
    assert not probe(path).running


def test_second_acquire_is_refused_while_held(tmp_path: Path) -> None:
    path = tmp_path / "p.pid"
    first = PidFile(path)
    first.acquire()
    try:
        with pytest.raises(DaemonError, match=rf"already running as process #{os.getpid()}"):
            PidFile(path).acquire()
        assert path.read_text() == f"{os.getpid()}\n"  # the refused attempt did not clobber it
    finally:
        first.release()


def test_stale_pid_file_is_detected_and_replaced(tmp_path: Path) -> None:
    path = tmp_path / "p.pid"
    path.write_text("999999\n")
    status = probe(path)
    assert (status.running, status.pid, status.exists) == (False, 999999, True)
    pid_file = PidFile(path)
    pid_file.acquire()
    try:
        assert path.read_text() == f"{os.getpid()}\n"
    finally:
        pid_file.release()


def test_garbage_pid_file_is_stale_with_pid_zero(tmp_path: Path) -> None:
    path = tmp_path / "p.pid"
    path.write_text("not a pid")
    assert probe(path) == PidStatus(running=False, pid=0, exists=True)


def test_lock_survives_in_a_forked_child_after_the_parent_lets_go(tmp_path: Path) -> None:
    path = tmp_path / "p.pid"
    ready_r, ready_w = os.pipe()
    done_r, done_w = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        try:
            pid_file = PidFile(path)
            pid_file.acquire()
            grandchild = os.fork()
            if grandchild == 0:
                pid_file.write_pid()
                os.write(ready_w, b"x")
                os.read(done_r, 1)  # hold the inherited lock until the test says so
                pid_file.release()
            os._exit(0)
        finally:
            os._exit(1)
    os.waitpid(child, 0)  # the "launcher" is gone
    os.read(ready_r, 1)
    status = probe(path)
    assert status.running and status.pid not in (0, child, os.getpid())
    os.write(done_w, b"x")
    for fd in (ready_r, ready_w, done_r, done_w):
        os.close(fd)


def test_write_pid_without_lock_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DaemonError):
        PidFile(tmp_path / "p.pid").write_pid()
