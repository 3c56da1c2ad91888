"""The status board (what a daemon publishes for --status) and its text, with a fake clock."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pyrotorque.daemon.status_board import DaemonStatus, StatusBoard, status_path
from pyrotorque.daemon.status_file import parse_json, read_status_view
from pyrotorque.daemon.status_view import status_lines
from pyrotorque.errors import FaultError, TransportError
from pyrotorque.jobs.runner import TickRunner

NOW = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


def board(tmp_path: Path, clock: Clock) -> StatusBoard:
    made = StatusBoard(
        status_path(tmp_path / "pyrotorque.pid"),
        DaemonStatus(4242, NOW - 3700, "scgi:///x", "9.9"),
        clock=clock,
    )
    next_run = datetime.fromtimestamp(NOW + 5, UTC)
    made.set_jobs(
        [("queue", "QueueManager", "second=*/5"), ("watch", "TreeWatch", "second=*/10")], lambda _: next_run
    )
    return made


def test_ticks_through_the_runner_are_counted_with_their_outcomes(tmp_path: Path) -> None:
    clock = Clock()
    published = board(tmp_path, clock)
    outcomes: list[Exception | None] = [
        None,
        TransportError("gone"),
        FaultError(-1, "refused", "d.start"),
        None,
    ]

    def tick() -> None:
        clock.now += 2
        failure = outcomes.pop(0)
        if failure is not None:
            raise failure

    runner = TickRunner("queue", tick, logging.getLogger("test"), clock=clock, observer=published)
    runner()
    assert read_status_view(str(published.path), 4242) is not None
    runner()
    down = read_status_view(str(published.path), 4242)
    assert down is not None and down.reachable is False and down.reachable_since == NOW + 4
    runner()
    runner()
    status = read_status_view(str(published.path), 4242)
    assert status is not None
    queue = status.jobs[0]
    assert (queue.runs, queue.failures, queue.last_outcome) == (4, 2, "ok")
    assert queue.last_error is not None and "refused" in queue.last_error and queue.last_error_at == NOW + 6
    assert status.reachable is True and status.reachable_since == NOW + 6  # a fault is an answer
    assert (queue.last_start, queue.last_end, queue.next_run) == (NOW + 6, NOW + 8, NOW + 5)


def test_a_bug_in_a_job_says_nothing_about_the_connection(tmp_path: Path) -> None:
    published = board(tmp_path, Clock())
    published.tick_ended("queue", "error", "KeyError: 'x'")
    status = read_status_view(str(published.path), 4242)
    assert status is not None and status.reachable is None and status.jobs[0].last_error == "KeyError: 'x'"


def test_a_stale_or_foreign_file_is_ignored(tmp_path: Path) -> None:
    published = board(tmp_path, Clock())
    assert read_status_view(str(published.path), 4243) is None  # another process wrote it
    published.path.write_text(json.dumps({"format": 0, "pid": 4242}))
    assert read_status_view(str(published.path), 4242) is None
    published.path.write_text("{not json")
    assert read_status_view(str(published.path), 4242) is None
    published.remove()
    published.remove()
    assert not published.path.exists() and read_status_view(str(published.path), 4242) is None


def test_the_text_shows_uptime_connection_jobs_and_the_last_error(tmp_path: Path) -> None:
    clock = Clock()
    published = board(tmp_path, clock)
    published.tick_started("queue")
    clock.now += 1.5
    published.tick_ended("queue", "unreachable", "no complete answer from rTorrent within 30s")
    published.tick_started("watch")
    clock.now += 65
    lines = status_lines(published.status, clock.now)
    assert lines[0] == f"version 9.9, up 1h 2m (since {datetime.fromtimestamp(NOW - 3700):%H:%M:%S})"
    assert lines[1] == "rTorrent at scgi:///x: NOT reachable for 1m 5s"
    assert lines[2].split()[:2] == ["job", "schedule"]
    assert lines[3].split()[:5] == [
        "queue",
        "second=*/5",
        f"{datetime.fromtimestamp(NOW + 1.5):%H:%M:%S}",
        "(1.50",
        "s)",
    ]
    assert "unreachable" in lines[3] and lines[3].endswith("1/1")
    assert "running for 1m 5s" in lines[4] and lines[4].endswith("0/0")
    assert lines[5].startswith("last error of queue at ") and lines[5].endswith("within 30s")


HOSTILE_STATUS = [
    {"format": 1, "pid": 7, "url": 'scgi:///a "b"\\c\nd\t\u00e9\u2603\U0001f600', "jobs": []},
    {"x": [1, -2, 3.5, 1e300, -0.0, 2**53 + 1, True, False, None, "", [], {}]},
    {"nested": {"a": {"b": [{"c": "\u0000\u001f"}]}}},
]


@pytest.mark.parametrize("value", HOSTILE_STATUS)
@pytest.mark.parametrize("indent", [None, 1])
def test_the_status_reader_reads_what_json_reads(value: object, indent: int | None) -> None:
    text = json.dumps(value, indent=indent)
    assert parse_json(text) == json.loads(text)
    assert parse_json(f" \n{text}\n ") == json.loads(text)


def test_the_status_reader_reads_json_constants_as_json_does() -> None:
    read = parse_json(json.dumps([float("inf"), float("-inf"), float("nan")]))
    assert isinstance(read, list) and read[:2] == [float("inf"), float("-inf")] and read[2] != read[2]


NOT_JSON = ["", "   ", "{", '{"a": 1} {"b": 2}', '{"a": 1}x', "nope", '{"a": }', "[1,]"]


@pytest.mark.parametrize("text", NOT_JSON)
def test_the_status_reader_refuses_what_json_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        json.loads(text)
    with pytest.raises(ValueError):
        parse_json(text)
