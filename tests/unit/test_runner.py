"""The tick wrapper's logging policy, driven by a fake clock."""

from __future__ import annotations

import logging
import threading

import pytest

from pyrotorque.errors import FaultError, TransportError
from pyrotorque.jobs.runner import TickRunner


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class ScriptedTick:
    """Raises the queued exceptions one per call; None means a successful tick."""

    def __init__(self) -> None:
        self.outcomes: list[BaseException | None] = []

    def __call__(self) -> None:
        outcome = self.outcomes.pop(0)
        if outcome is not None:
            raise outcome


@pytest.fixture
def setup(caplog: pytest.LogCaptureFixture) -> tuple[TickRunner, ScriptedTick, FakeClock]:
    caplog.set_level(logging.DEBUG, logger="test.runner")
    clock = FakeClock()
    tick = ScriptedTick()
    runner = TickRunner("stats", tick, logging.getLogger("test.runner"), clock=clock)
    return runner, tick, clock


def lines(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == level]


def test_lost_connection_warns_once_then_reminds_once_a_minute_then_info_when_back(
    setup: tuple[TickRunner, ScriptedTick, FakeClock], caplog: pytest.LogCaptureFixture
) -> None:
    runner, tick, clock = setup
    down = TransportError("cannot connect", "scgi:///x")
    tick.outcomes = [down] * 14 + [None]
    for _ in range(14):  # every 5 s for 65 s
        runner()
        clock.now += 5
    assert runner.connection_lost
    warnings = lines(caplog, logging.WARNING)
    assert len(warnings) == 2
    assert "connection lost" in warnings[0] and "scgi:///x" in warnings[0]
    assert "still unreachable after 60 s" in warnings[1]
    assert lines(caplog, logging.INFO) == []
    runner()
    assert not runner.connection_lost
    assert lines(caplog, logging.INFO) == ["Job stats: rTorrent connection is back after 70 s"]
    assert all(r.exc_info is None for r in caplog.records)


def test_success_without_previous_loss_logs_nothing(
    setup: tuple[TickRunner, ScriptedTick, FakeClock], caplog: pytest.LogCaptureFixture
) -> None:
    runner, tick, _ = setup
    tick.outcomes = [None, None]
    runner()
    runner()
    assert caplog.records == []


def test_repeated_fault_is_warned_once_per_interval(
    setup: tuple[TickRunner, ScriptedTick, FakeClock], caplog: pytest.LogCaptureFixture
) -> None:
    runner, tick, clock = setup
    fault = FaultError(-506, "Method 'x' not defined", "x")
    tick.outcomes = [fault, fault, fault, FaultError(-1, "other")]
    runner()
    clock.now += 30
    runner()
    clock.now += 31
    runner()
    runner()
    warnings = lines(caplog, logging.WARNING)
    assert len(warnings) == 3
    assert "Method 'x' not defined" in warnings[0]
    assert "other" in warnings[2]
    assert not runner.connection_lost


def test_unexpected_exception_is_logged_with_traceback_and_swallowed(
    setup: tuple[TickRunner, ScriptedTick, FakeClock], caplog: pytest.LogCaptureFixture
) -> None:
    runner, tick, _ = setup
    tick.outcomes = [ZeroDivisionError("boom"), None]
    runner()
    (record,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert record.exc_info is not None and record.exc_info[0] is ZeroDivisionError
    runner()  # the next tick still runs
    assert tick.outcomes == []


def test_running_and_wait_idle_follow_the_tick() -> None:
    entered, release = threading.Event(), threading.Event()

    def tick() -> None:
        entered.set()
        release.wait(10)
        raise TransportError("gone", "scgi:///x")  # the counter must drop on errors too

    runner = TickRunner("slow", tick, logging.getLogger("test.runner"))
    assert not runner.running and runner.wait_idle(0)
    worker = threading.Thread(target=runner)
    worker.start()
    assert entered.wait(10)
    assert runner.running
    assert not runner.wait_idle(0.05)
    release.set()
    assert runner.wait_idle(10)
    assert not runner.running
    worker.join(10)


def test_a_wake_during_a_tick_becomes_one_run_right_after_it() -> None:
    reruns: list[str] = []
    runner: TickRunner

    def tick() -> None:
        assert runner.defer_wake()  # woken while running: deferred
        assert runner.defer_wake()  # twice: still one rerun

    runner = TickRunner("queue", tick, logging.getLogger("test.runner"), rerun=reruns.append)
    runner()

    assert reruns == ["queue"]
    assert not runner.defer_wake()  # idle: the caller moves the next run itself
    runner = TickRunner("queue", lambda: None, logging.getLogger("test.runner"), rerun=reruns.append)
    runner()
    assert reruns == ["queue"]  # no wake, no rerun
