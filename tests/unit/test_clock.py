"""The job clock: the system clock, a wrapped wall-time function, and the tests' fake clock."""

from __future__ import annotations

import time
from pathlib import Path

from pyrotorque.clock import SYSTEM_CLOCK, Clock, SystemClock, WallClock, as_clock
from pyrotorque.config import Config
from pyrotorque.jobs.base import JobContext
from tests.support.clock import FakeClock


def test_system_clock_is_the_time_module() -> None:
    before = time.time()
    assert before <= SYSTEM_CLOCK() <= time.time()
    assert abs(SYSTEM_CLOCK.time_ns() / 1e9 - time.time()) < 1
    start = SYSTEM_CLOCK.monotonic()
    SYSTEM_CLOCK.sleep(0.001)
    assert SYSTEM_CLOCK.monotonic() > start


def test_a_plain_function_becomes_a_wall_clock() -> None:
    clock = as_clock(lambda: 1234.5)
    assert isinstance(clock, WallClock)
    assert (clock(), clock.time(), clock.time_ns()) == (1234.5, 1234.5, 1_234_500_000_000)
    assert abs(clock.monotonic() - time.monotonic()) < 1
    system = SystemClock()
    assert as_clock(system) is system


def test_context_clock_stays_callable_for_existing_callers() -> None:
    config = Config(config_dir=Path("/nonexistent"))
    legacy = JobContext(name="q", client=None, config=config, clock=lambda: 42.0)  # type: ignore[arg-type]
    assert legacy.clock() == 42.0 and isinstance(legacy.clock, Clock)
    default = JobContext(name="q", client=None, config=config)  # type: ignore[arg-type]
    assert default.clock is SYSTEM_CLOCK
    fake = FakeClock()
    assert JobContext(name="q", client=None, config=config, clock=fake).clock is fake  # type: ignore[arg-type]


def test_fake_clock_moves_only_when_told() -> None:
    clock = FakeClock(100.0, monotonic_start=5.0)
    assert isinstance(clock, Clock)
    assert (clock(), clock.time_ns(), clock.monotonic()) == (100.0, 100_000_000_000, 5.0)
    clock.advance(1.5)
    clock.sleep(0.25)
    assert (clock.time(), clock.monotonic()) == (101.75, 6.75)
    assert clock.sleeps == [0.25]
