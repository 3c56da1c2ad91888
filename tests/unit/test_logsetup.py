"""Logging set-up: repeated scheduler warnings are limited, other records pass."""

from __future__ import annotations

import logging

from pyrotorque.logsetup import RepeatLimiter


def record(msg: str, *args: object, level: int = logging.WARNING) -> logging.LogRecord:
    return logging.LogRecord("apscheduler.scheduler", level, __file__, 1, msg, args, None)


def test_same_warning_passes_once_per_interval() -> None:
    now = [1000.0]
    limiter = RepeatLimiter(interval=60, clock=lambda: now[0])
    skipped = 'Execution of job "%s" skipped: maximum number of running instances reached (%d)'
    assert limiter.filter(record(skipped, "queue", 1))
    now[0] += 30
    assert not limiter.filter(record(skipped, "queue", 1))
    assert limiter.filter(record(skipped, "treewatch", 1))  # another job is another warning
    now[0] += 31
    assert limiter.filter(record(skipped, "queue", 1))


def test_lower_levels_are_never_limited() -> None:
    limiter = RepeatLimiter(interval=60, clock=lambda: 0.0)
    assert limiter.filter(record("tick %s", "x", level=logging.INFO))
    assert limiter.filter(record("tick %s", "x", level=logging.INFO))
