"""QueueManager against a real rTorrent (0.9.8 and 0.16): what starts, in which order, and what never does."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sandbox.metafiles import make_metafile
from sandbox.rtorrent import RtorrentSandbox, SandboxFactory

from pyrotorque.clock import as_clock
from pyrotorque.config import Config
from pyrotorque.errors import TransportError
from pyrotorque.jobs.base import JobContext
from pyrotorque.jobs.queue import QueueManager, QueueOptions
from pyrotorque.rtorrent.client import RtorrentClient
from tests.support.polling import wait_for

pytestmark = pytest.mark.rtorrent

LOGGER = "pyrotorque.job.queue"


class Clock:
    """A settable clock, so intermissions need no sleeping."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def queue_job(
    url: str,
    *,
    clock: Clock | None = None,
    dry_run: bool = False,
    config: Config | None = None,
    **options: Any,
) -> QueueManager:
    context = JobContext(
        name="queue",
        client=RtorrentClient(url),
        config=Config(config_dir=Path("/nonexistent")),
        dry_run=dry_run,
        log=logging.getLogger(LOGGER),
        clock=as_clock(clock or Clock()),  # a wall-time function, wrapped as JobContext does
    )
    job = QueueManager(context, QueueOptions(**options))
    job.start()
    return job


def started(rt: RtorrentSandbox, hashes: list[str]) -> list[str]:
    """The hashes of ``hashes`` that are started, in the given order.

    ``d.state`` turns 1 at ``d.start``; ``d.is_active`` may follow a moment later, after a hash check.
    """
    states = rt.multicall([("d.state", [info_hash]) for info_hash in hashes])
    return [info_hash for info_hash, state in zip(hashes, states, strict=True) if state == [1]]


def load_queue(rt: RtorrentSandbox, count: int, prefix: str = "queued") -> list[str]:
    """``count`` stopped items with distinct, increasing tm_loaded stamps (oldest first)."""
    hashes = rt.load_items(count, prefix=prefix, seed=count)
    for offset, info_hash in enumerate(hashes):
        rt.rpc("d.custom.set", info_hash, "tm_loaded", str(1_700_000_000 + offset))
    return hashes


def test_starts_one_per_tick_up_to_downloading_max_in_sort_order(rt: RtorrentSandbox) -> None:
    hashes = load_queue(rt, 5)
    rt.rpc("d.priority.set", hashes[3], 3)  # high priority goes first, whatever its age
    job = queue_job(rt.url, downloading_max=2, downloading_min=1, start_at_once=1)

    job.run()
    assert started(rt, hashes) == [hashes[3]]
    wait_for(lambda: rt.multicall([("d.is_open", [hashes[3]]), ("d.is_active", [hashes[3]])]) == [[1], [1]])
    job.run()
    assert started(rt, hashes) == [hashes[0], hashes[3]]  # then the oldest
    job.run()
    job.run()
    assert started(rt, hashes) == [hashes[0], hashes[3]]  # the queue is full


def test_downloading_min_beats_start_at_once_and_items_started_by_hand_count(rt: RtorrentSandbox) -> None:
    hashes = load_queue(rt, 6)
    rt.rpc("d.start", hashes[5])  # started by hand: counts as downloading
    job = queue_job(rt.url, downloading_min=4, downloading_max=2, start_at_once=1)

    job.run()

    assert started(rt, hashes) == [*hashes[:3], hashes[5]]  # caught up to 4, past the max of 2


def test_never_starts_complete_ignored_or_off_items(rt: RtorrentSandbox) -> None:
    waiting = load_queue(rt, 1, prefix="waiting")
    seeded = make_metafile("seeded", size=64 << 10, payload_dir=rt.download_dir)
    (complete,) = rt.load_metafiles([seeded])
    rt.rpc("d.check_hash", complete)
    ignored, off = load_queue(rt, 2, prefix="blocked")
    rt.rpc("d.ignore_commands.set", ignored, 1)
    rt.rpc("d.priority.set", off, 0)
    job = queue_job(rt.url, downloading_max=10, downloading_min=10, start_at_once=10)
    wait_for(lambda: rt.rpc("d.complete", complete) == 1)

    job.run()

    assert started(rt, [*waiting, complete, ignored, off]) == waiting


def test_a_custom_startable_condition_cannot_override_the_base(rt: RtorrentSandbox) -> None:
    seeded = make_metafile("finished", size=64 << 10, payload_dir=rt.download_dir)
    (complete,) = rt.load_metafiles([seeded])
    rt.rpc("d.check_hash", complete)
    wait_for(lambda: rt.rpc("d.complete", complete) == 1)
    job = queue_job(rt.url, startable="name=finished", downloading_max=5)

    job.run()

    assert started(rt, [complete]) == []


def test_the_downloading_condition_decides_what_occupies_a_slot(rt: RtorrentSandbox) -> None:
    hashes = load_queue(rt, 3)
    rt.rpc("d.start", hashes[0])
    rt.rpc("d.priority.set", hashes[0], 1)  # low priority: hidden from the count
    counting_all = queue_job(rt.url, downloading_max=1, downloading_min=0)
    counting_high = queue_job(rt.url, downloading_max=1, downloading_min=0, downloading="prio>1")

    counting_all.run()
    assert started(rt, hashes) == [hashes[0]]
    counting_high.run()
    assert started(rt, hashes) == hashes[:2]


def test_intermission_holds_the_next_batch(rt: RtorrentSandbox) -> None:
    hashes = load_queue(rt, 3)
    clock = Clock()
    job = queue_job(rt.url, clock=clock, intermission=60, downloading_max=5, downloading_min=0)

    job.run()
    clock.now += 59
    job.run()
    assert started(rt, hashes) == hashes[:1]
    clock.now += 1
    job.run()
    assert started(rt, hashes) == hashes[:2]


def test_dry_run_logs_and_starts_nothing(rt: RtorrentSandbox, caplog: pytest.LogCaptureFixture) -> None:
    hashes = load_queue(rt, 2)
    job = queue_job(rt.url, dry_run=True, start_at_once=2, downloading_max=5)

    with caplog.at_level(logging.INFO, logger=LOGGER):
        job.run()

    assert started(rt, hashes) == []
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("WOULD start")]
    assert lines == [f"WOULD start 'queued{i:05d}' [127.0.0.1, #{hashes[i]}]" for i in range(2)]


def test_start_is_logged_with_the_tracker_alias(
    rt: RtorrentSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    meta = make_metafile("tracked", size=64 << 10, tracker="http://tracker.example.org:6969/announce")
    (info_hash,) = rt.load_metafiles([meta])
    job = queue_job(rt.url, quiet=False)

    with caplog.at_level(logging.INFO, logger=LOGGER):
        job.run()

    assert started(rt, [info_hash]) == [info_hash]
    assert f"Starting 'tracked' [example.org, #{info_hash}]" in [r.getMessage() for r in caplog.records]


def test_rtorrent_going_away_fails_the_tick_and_the_next_tick_recovers(
    rtorrent_factory: SandboxFactory,
) -> None:
    sandbox = rtorrent_factory()
    hashes = load_queue(sandbox, 2)
    job = queue_job(sandbox.url, downloading_max=5, downloading_min=0)
    sandbox.stop()

    with pytest.raises(TransportError):
        job.run()

    sandbox.start()
    job.run()
    assert len(started(sandbox, hashes)) == 1


def test_a_pyrocore_torque_ini_runs_the_queue_as_written(rt: RtorrentSandbox, tmp_path: Path) -> None:
    hashes = load_queue(rt, 3)
    config_dir = tmp_path / "cfg"
    config_dir.mkdir()
    (config_dir / "config.ini").write_text(f"[GLOBAL]\nscgi_url = {rt.url}\n")
    (config_dir / "torque.ini").write_text(
        "[TORQUE]\n"
        "job.queue.handler = pyrocore.torrent.queue:QueueManager\n"
        "job.queue.schedule = second=*/5\n"
        "job.queue.active = True\n"
        "job.queue.downloading_max = 2\n"
        "job.queue.start_at_once = 2\n"
        "job.queue.intermission = 60\n"
        "job.queue.startable = is_ignored=0 message= prio>0\n"
        "        [ prio>2 OR [ NOT [ traits=audio kind_25=jpg,png,tif,bmp ] ] ]\n"
        "job.queue.downloading = [ prio>1 [ down>3 OR started<2i ] ]\n"
    )
    env = {**os.environ, "PYRO_CONFIG_DIR": str(config_dir)}
    env.pop("PYRO_SCGI_URL", None)

    done = subprocess.run(
        [sys.executable, "-m", "pyrotorque", "--run-once", "queue", "-v"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert started(rt, hashes) == hashes[:2]
    assert "Startable matcher for 'queue' is: [ is_open=no is_active=no is_complete=no" in done.stderr
