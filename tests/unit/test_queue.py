"""QueueManager logic with the shared fake rTorrent: slot arithmetic, option errors, what is sent and when."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from pyrotorque.clock import as_clock
from pyrotorque.config import Config, build_options, job_configs, load_config
from pyrotorque.errors import ConfigError
from pyrotorque.jobs.base import JobContext
from pyrotorque.jobs.loader import build_job
from pyrotorque.jobs.queue import QueueManager, QueueOptions, slots
from tests.support.fake_rtorrent import FakeRtorrent

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


def rtorrent(items: list[dict[str, Any]], faults: Sequence[str] = ()) -> FakeRtorrent:
    """The shared fake with these items (STOPPED, then each dict); d.start of ``faults`` is refused."""
    fake = FakeRtorrent()
    del fake.commands["d.multicall.filtered"]  # the plain fetch; the pushdown tests have the other
    for index, item in enumerate(items):
        values = {**STOPPED, **item}
        custom = {key.split("=", 1)[1]: value for key, value in values.items() if key.startswith("d.custom=")}
        plain = {key: value for key, value in values.items() if not key.startswith("d.custom=")}
        trackers = [("http://tracker.example.net/announce", 1)]
        fake.add_item(f"{index:040X}", plain["d.name"], values=plain, custom=custom, trackers=trackers)
    for info_hash in faults:
        fake.fail("d.start", -501, "refused", target=info_hash)
    return fake


def sent(fake: FakeRtorrent, method: str) -> list[str]:
    """The multicall entries of ``method``, as ``method(param, ...)``."""
    return [
        f"{name}({', '.join(map(str, params))})"
        for request in fake.sent()
        if request.method == "system.multicall"
        for name, params in request.calls
        if name.startswith(method)
    ]


def queue(fake: FakeRtorrent, *, dry_run: bool = False, **options: Any) -> QueueManager:
    context = JobContext(
        name="queue",
        client=fake.client(),
        config=Config(config_dir=Path("/nonexistent")),
        dry_run=dry_run,
        log=logging.getLogger(LOGGER),
        clock=as_clock(lambda: 1_800_000_000.0),
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
    fake = rtorrent(
        [
            {"d.name": "checking", "d.is_open": 1, "d.state": 1, "d.hashing": 1},
            {"d.name": "waiting"},
        ]
    )
    job = queue(fake, downloading_max=1, downloading_min=0)

    job.run()

    assert sent(fake, "d.start") == []
    assert len(fake.sent()) == 1  # a full queue never fetches the startable items


def test_starts_in_sort_order_and_announces_names_as_data() -> None:
    fake = rtorrent([{"d.name": "low", "d.priority": 1}, {"d.name": "high', d.erase=", "d.priority": 3}])
    job = queue(fake, start_at_once=2)

    job.run()

    assert sent(fake, "d.start") == [f"d.start({1:040X})", f"d.start({0:040X})"]
    assert sent(fake, "print") == [
        """print(, QueueManager: Started "high', d.erase=" {example.net})""",
        "print(, QueueManager: Started 'low' {example.net})",
    ]


def test_quiet_does_not_write_to_rtorrents_log() -> None:
    fake = rtorrent([{}])
    queue(fake, quiet=True).run()
    assert sent(fake, "d.start") and not sent(fake, "print")


def test_dry_run_sends_no_start(caplog: pytest.LogCaptureFixture) -> None:
    fake = rtorrent([{"d.name": "candidate"}])
    with caplog.at_level(logging.INFO, logger=LOGGER):
        queue(fake, dry_run=True).run()
    assert sent(fake, "d.start") == []
    assert [r.getMessage() for r in caplog.records if "WOULD" in r.getMessage()] == [
        f"WOULD start 'candidate' [example.net, #{0:040X}]"
    ]


def test_a_refused_start_is_logged_and_the_others_still_start(caplog: pytest.LogCaptureFixture) -> None:
    fake = rtorrent([{"d.name": "first"}, {"d.name": "second"}], faults=[f"{0:040X}"])
    with caplog.at_level(logging.INFO, logger=LOGGER):
        queue(fake, start_at_once=2).run()
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert errors == [f"While starting 'first' #{0:040X}: fault -501 in d.start: refused"]
    assert sent(fake, "print") == ["print(, QueueManager: Started 'second' {example.net})"]


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
    context = JobContext(name="queue", client=rtorrent([]).client(), config=config)
    with pytest.raises(ConfigError) as caught:
        build_job(job, context)
    assert "queue_startable_base" in str(caught.value) and "line 3" in str(caught.value)


def test_a_bad_sort_order_names_the_field(tmp_path: Path) -> None:
    (job,) = _write(tmp_path, "job.queue.sort_fields = -prio, nonsense\n")
    with pytest.raises(ConfigError, match="nonsense"):
        build_options(QueueOptions, job)
