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
from pyrotorque.jobs.queue_space import Disk, disk_of
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


# -- min_free and max_downloading_traffic ----------------------------------------------------------

MIB = 1 << 20
DOWNLOADING = {"d.is_open": 1, "d.is_active": 1, "d.state": 1}


def disks(job: QueueManager, table: dict[str, tuple[int, int]]) -> list[str]:
    """Give the job's space check these file systems (directory -> (device, free)); returns paths asked."""
    asked: list[str] = []

    def disk_of(path: str) -> Disk | None:
        asked.append(path)
        return Disk(*table[path]) if path in table else None

    assert job.space is not None
    job.space.disk_of = disk_of
    return asked


def test_min_free_parses_sizes_and_rejects_nonsense(tmp_path: Path) -> None:
    fake = rtorrent([])
    assert queue(fake, min_free="10G").min_free == 10 << 30
    assert queue(fake, min_free="1.5m").min_free == 3 * MIB // 2
    assert queue(fake, max_downloading_traffic="4096").max_traffic == 4096
    (job,) = _write(tmp_path, "job.queue.min_free = ten gigs\n")
    with pytest.raises(ConfigError, match=r"job\.queue\.min_free"):
        build_options(QueueOptions, job)


def test_the_item_that_does_not_fit_is_skipped_and_the_next_one_starts(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake = rtorrent(
        [
            {"d.name": "running", **DOWNLOADING, "d.left_bytes": 30 * MIB, "d.directory": "/a"},
            {"d.name": "big", "d.priority": 3, "d.left_bytes": 80 * MIB, "d.directory": "/a"},
            {"d.name": "small", "d.left_bytes": 50 * MIB, "d.directory": "/a/sub"},
            {"d.name": "other", "d.left_bytes": 50 * MIB, "d.directory": "/b"},
        ]
    )
    job = queue(fake, min_free="10m", start_at_once=3)
    disks(job, {"/a": (1, 100 * MIB), "/a/sub": (1, 100 * MIB), "/b": (2, 55 * MIB)})
    with caplog.at_level(logging.INFO, logger=LOGGER):
        job.run()
    # big: 100 - 30 reserved - 80 < 10; small: 100 - 30 - 50 = 20 >= 10; other: 55 - 50 < 10.
    assert sent(fake, "d.start") == [f"d.start({2:040X})"]
    skipped = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Not starting")]
    assert skipped == [
        f"Not starting 'big' #{1:040X}: needs 80.0 MiB, 100.0 MiB free in '/a', "
        "30.0 MiB reserved for items downloading there, min_free 10.0 MiB",
        f"Not starting 'other' #{3:040X}: needs 50.0 MiB, 55.0 MiB free in '/b', "
        "0 bytes reserved for items downloading there, min_free 10.0 MiB",
    ]


def test_items_picked_in_one_tick_reserve_their_bytes_for_the_next() -> None:
    fake = rtorrent([{"d.name": f"item{n}", "d.left_bytes": 40 * MIB, "d.directory": "/a"} for n in range(3)])
    job = queue(fake, min_free="0", start_at_once=3)
    assert job.space is None  # 0 is off: no space check at all
    job = queue(fake, min_free="1", start_at_once=3)
    disks(job, {"/a": (1, 100 * MIB)})
    job.run()
    assert sent(fake, "d.start") == [f"d.start({0:040X})", f"d.start({1:040X})"]


def test_a_skipped_item_is_logged_once_until_its_figures_change(caplog: pytest.LogCaptureFixture) -> None:
    fake = rtorrent([{"d.name": "big", "d.left_bytes": 800 * MIB, "d.directory": "/a"}])
    job = queue(fake, min_free="1m")
    table = {"/a": (1, 500 * MIB)}
    disks(job, table)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        job.run()
        job.run()
        table["/a"] = (1, 500 * MIB + 4096)  # a few blocks freed: the same figures for a log reader
        job.run()
        assert len([r for r in caplog.records if "Not starting" in r.getMessage()]) == 1
        table["/a"] = (1, 600 * MIB)  # 100 MiB more room: worth a line
        job.run()
        fake.items[f"{0:040X}"].values["d.left_bytes"] = 700 * MIB  # its own size changed
        job.run()
        job.run()
    messages = [r.getMessage() for r in caplog.records if "Not starting" in r.getMessage()]
    assert [m.split(": needs ")[1].split(" in ")[0] for m in messages] == [
        "800.0 MiB, 500.0 MiB free",
        "800.0 MiB, 600.0 MiB free",
        "700.0 MiB, 600.0 MiB free",
    ]
    assert sent(fake, "d.start") == []
    table["/a"] = (1, 1000 * MIB)
    job.run()
    assert sent(fake, "d.start") == [f"d.start({0:040X})"]


def test_an_item_without_a_known_file_system_is_not_started(caplog: pytest.LogCaptureFixture) -> None:
    fake = rtorrent([{"d.name": "nowhere", "d.left_bytes": 1, "d.directory": "relative/dir"}])
    job = queue(fake, min_free="1")
    with caplog.at_level(logging.INFO, logger=LOGGER):
        job.run()
    assert sent(fake, "d.start") == []
    assert any("no file system found for 'relative/dir'" in r.getMessage() for r in caplog.records)


def test_disk_of_uses_the_nearest_existing_parent(tmp_path: Path) -> None:
    found = disk_of(str(tmp_path / "not" / "yet"))
    assert found is not None and found.device == tmp_path.stat().st_dev and found.free > 0
    assert disk_of("relative") is None


def test_no_start_while_downloading_traffic_is_above_the_maximum(caplog: pytest.LogCaptureFixture) -> None:
    fake = rtorrent(
        [
            {"d.name": "fast", **DOWNLOADING, "d.down.rate": 600 << 10},
            {"d.name": "slow", **DOWNLOADING, "d.down.rate": 500 << 10},
            {"d.name": "waiting"},
        ]
    )
    job = queue(fake, max_downloading_traffic="1m")
    with caplog.at_level(logging.INFO, logger=LOGGER):
        job.run()
        job.run()
    assert sent(fake, "d.start") == []
    held = [r.getMessage() for r in caplog.records if "max_downloading_traffic" in r.getMessage()]
    assert held == [
        "Not starting: 2 downloading item(s) receive 1.1 MiB/s, above max_downloading_traffic 1.0 MiB/s"
    ]
    fake.items[f"{0:040X}"].values["d.down.rate"] = 524 << 10  # 1,048,576 - 1,024 bytes/s together
    job.run()
    assert sent(fake, "d.start") == [f"d.start({2:040X})"]


def test_a_full_queue_fetches_no_more_with_the_brakes_on() -> None:
    items: list[dict[str, Any]] = [
        {"d.name": "running", **DOWNLOADING, "d.down.rate": 1},
        {"d.name": "waiting"},
    ]
    plain, braked = rtorrent(items), rtorrent(items)
    queue(plain, downloading_max=1, downloading_min=0).run()
    queue(braked, downloading_max=1, downloading_min=0, min_free="1g", max_downloading_traffic="1m").run()
    assert [(r.method, r.calls, r.size) for r in braked.sent()] == [
        (r.method, r.calls, r.size) for r in plain.sent()
    ]
    assert len(plain.sent()) == 1
