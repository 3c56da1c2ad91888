"""QueueManager logic with a fake client: slot arithmetic, option errors, what is sent and when."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from pyrotorque.config import Config, build_options, job_configs, load_config
from pyrotorque.errors import ConfigError, FaultError
from pyrotorque.jobs.base import JobContext
from pyrotorque.jobs.loader import build_job
from pyrotorque.jobs.queue import QueueManager, QueueOptions, slots

LOGGER = "pyrotorque.job.queue"

#: What a fresh, stopped, queued item answers; tests override single commands.
STOPPED = {
    "d.name": "item",
    "d.is_open": 0,
    "d.is_active": 0,
    "d.state": 0,
    "d.hashing": 0,
    "d.complete": 0,
    "d.ignore_commands": 0,
    "d.priority": 2,
    "d.message": "",
    "d.completed_chunks": 0,
    "d.size_chunks": 4,
    "d.custom=tm_loaded": "",
    "d.down.rate": 0,
    "d.custom=tm_started": "",
}


class FakeClient:
    """Items as command -> value maps; records every request; no d.multicall.filtered."""

    def __init__(self, items: list[dict[str, Any]], faults: Sequence[str] = ()) -> None:
        self.items = [{**STOPPED, "d.hash": f"{index:040X}", **item} for index, item in enumerate(items)]
        self.faults = set(faults)
        self.requests: list[tuple[str, list[str]]] = []

    def d_multicall(self, view: str, commands: Sequence[str]) -> list[list[Any]]:
        self.requests.append(("d.multicall2", list(commands)))
        return [[item[command] for command in commands] for item in self.items]

    def multicall(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        self.requests.append(
            ("system.multicall", [f"{method}({', '.join(map(str, params))})" for method, params in calls])
        )
        results: list[Any] = []
        for method, params in calls:
            if method == "d.start" and params[0] in self.faults:
                results.append(FaultError(-501, "refused"))
            elif method == "t.url":
                results.append("http://tracker.example.net/announce")
            else:
                results.append(0)
        return results

    def server_info(self) -> Any:
        class Info:
            def has(self, method: str) -> bool:
                return method == "print"

        return Info()

    def sent(self, method: str) -> list[str]:
        return [
            call
            for kind, calls in self.requests
            if kind == "system.multicall"
            for call in calls
            if call.startswith(method)
        ]


def queue(client: FakeClient, *, dry_run: bool = False, **options: Any) -> QueueManager:
    context = JobContext(
        name="queue",
        client=client,  # type: ignore[arg-type]
        config=Config(config_dir=Path("/nonexistent")),
        dry_run=dry_run,
        log=logging.getLogger(LOGGER),
        clock=lambda: 1_800_000_000.0,
    )
    return QueueManager(context, QueueOptions(**options))


@pytest.mark.parametrize(
    ("downloading", "minimum", "maximum", "at_once", "expected"),
    [
        (0, 1, 9, 1, 1),  # the defaults: one per tick
        (8, 1, 9, 1, 1),
        (9, 1, 9, 1, 0),  # full
        (12, 1, 9, 3, 0),  # over the max (started by hand): never stops anything, starts nothing
        (0, 1, 9, 3, 3),
        (7, 1, 9, 3, 2),  # start_at_once capped by the free slots
        (0, 4, 2, 1, 4),  # below the minimum, the maximum does not count
        (3, 4, 2, 1, 1),
        (0, 0, 0, 5, 0),  # a zero-length queue starts nothing
        (0, 0, 5, 0, 0),  # start_at_once=0 with no minimum: nothing
    ],
)
def test_slots(downloading: int, minimum: int, maximum: int, at_once: int, expected: int) -> None:
    options = QueueOptions(downloading_min=minimum, downloading_max=maximum, start_at_once=at_once)
    assert slots(downloading, options) == expected


def test_a_started_item_in_its_hash_check_holds_a_slot() -> None:
    client = FakeClient(
        [
            {"d.name": "checking", "d.is_open": 1, "d.state": 1, "d.hashing": 1},
            {"d.name": "waiting"},
        ]
    )
    job = queue(client, downloading_max=1, downloading_min=0)

    job.run()

    assert client.sent("d.start") == []
    assert len(client.requests) == 1  # a full queue never fetches the startable items


def test_starts_in_sort_order_and_announces_names_as_data() -> None:
    client = FakeClient([{"d.name": "low", "d.priority": 1}, {"d.name": "high', d.erase=", "d.priority": 3}])
    job = queue(client, start_at_once=2)

    job.run()

    assert client.sent("d.start") == [f"d.start({1:040X})", f"d.start({0:040X})"]
    assert client.sent("print") == [
        """print(, QueueManager: Started "high', d.erase=" {example.net})""",
        "print(, QueueManager: Started 'low' {example.net})",
    ]


def test_quiet_does_not_write_to_rtorrents_log() -> None:
    client = FakeClient([{}])
    queue(client, quiet=True).run()
    assert client.sent("d.start") and not client.sent("print")


def test_dry_run_sends_no_start(caplog: pytest.LogCaptureFixture) -> None:
    client = FakeClient([{"d.name": "candidate"}])
    with caplog.at_level(logging.INFO, logger=LOGGER):
        queue(client, dry_run=True).run()
    assert client.sent("d.start") == []
    assert [r.getMessage() for r in caplog.records if "WOULD" in r.getMessage()] == [
        f"WOULD start 'candidate' [example.net, #{0:040X}]"
    ]


def test_a_refused_start_is_logged_and_the_others_still_start(caplog: pytest.LogCaptureFixture) -> None:
    client = FakeClient([{"d.name": "first"}, {"d.name": "second"}], faults=[f"{0:040X}"])
    with caplog.at_level(logging.INFO, logger=LOGGER):
        queue(client, start_at_once=2).run()
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert errors == [f"While starting 'first' #{0:040X}: fault -501: refused"]
    assert client.sent("print") == ["print(, QueueManager: Started 'second' {example.net})"]


def _write(config_dir: Path, torque: str) -> list[Any]:
    config_dir.mkdir(exist_ok=True)
    (config_dir / "torque.ini").write_text("[TORQUE]\njob.queue.active = yes\n" + torque)
    return [job for job in job_configs(load_config(config_dir, environ={})) if job.name == "queue"]


def test_a_bad_startable_condition_names_key_file_line_and_position(tmp_path: Path) -> None:
    (job,) = _write(tmp_path, "job.queue.startable = prio>0 [ is_open=no\n")
    with pytest.raises(ConfigError) as caught:
        build_options(QueueOptions, job)
    message = str(caught.value)
    assert "job.queue.startable" in message and "torque.ini" in message and "line 3" in message
    assert "position" in message


def test_a_bad_startable_base_names_its_key(tmp_path: Path) -> None:
    (job,) = _write(tmp_path, "queue_startable_base = is_open=maybe\n")
    config = load_config(tmp_path, environ={})
    context = JobContext(name="queue", client=FakeClient([]), config=config)  # type: ignore[arg-type]
    with pytest.raises(ConfigError) as caught:
        build_job(job, context)
    assert "queue_startable_base" in str(caught.value) and "line 3" in str(caught.value)


def test_a_bad_sort_order_names_the_field(tmp_path: Path) -> None:
    (job,) = _write(tmp_path, "job.queue.sort_fields = -prio, nonsense\n")
    with pytest.raises(ConfigError, match="nonsense"):
        build_options(QueueOptions, job)
