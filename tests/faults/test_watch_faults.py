"""The tree watch's inotify side under faults: the root replaced, a scan's pending file with no event
to follow, the watch limit reached and raised, an event queue overflow. Real inotify, real rTorrent."""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sandbox.metafiles import make_metafile
from sandbox.rtorrent import RtorrentSandbox, SandboxFactory

from pyrotorque.jobs.base import JobContext
from pyrotorque.jobs.treewatch import TreeWatch, TreeWatchOptions
from pyrotorque.jobs.treewatch.timing import TreeWatchTiming
from pyrotorque.rtorrent.client import RtorrentClient
from tests.faults.helpers import drop, watch_dir, watch_land
from tests.integration.test_treewatch_live import LOGGER, config_for
from tests.support.polling import wait_for

INOTIFY = Path("/proc/sys/fs/inotify")


@pytest.mark.parametrize("how", ["rm -rf", "mv"])
def test_a_replaced_watch_root_is_watched_again(
    how: str, rtorrent_factory: SandboxFactory, tmp_path: Path
) -> None:
    sandbox = rtorrent_factory()
    root = watch_dir(sandbox)
    land = watch_land(tmp_path, sandbox, root)
    try:
        assert land.run().code == 0
        wait_for(lambda: "first start of tree watch" in land.log_text(), "the tree watch's first scan")
        before = drop(root, "before", seed=1)
        wait_for(lambda: before.info_hash in sandbox.item_hashes(), "a file loaded before")
        if how == "rm -rf":
            shutil.rmtree(root)
        else:
            root.rename(root.with_name("watch.old"))
        root.mkdir()
        after = drop(root, "after", seed=2)
        wait_for(lambda: after.info_hash in sandbox.item_hashes(), "a file in the new root loaded")
        (root / "sub").mkdir()
        deeper = drop(root / "sub", "deeper", seed=3)
        wait_for(lambda: deeper.info_hash in sandbox.item_hashes(), "a file in a new folder loaded")
        log = land.log_text()
        said = "was removed" if how == "rm -rf" else "was moved away"
        assert f"Watch root '{root}' {said}; new metafiles below it are found again once it exists" in log
        assert f"Watch root '{root}' exists again" in log
        assert "Traceback" not in log
    finally:
        land.run("--stop")
        land.kill_leftover()


class Job:
    """A started TreeWatch in this process, on a tree below the sandbox (visible to 0.16 too)."""

    def __init__(
        self,
        sandbox: RtorrentSandbox,
        tmp_path: Path,
        tree: Path,
        timing: TreeWatchTiming,
        trace: bool = False,
    ) -> None:
        self.client = RtorrentClient(sandbox.url)
        context = JobContext(
            name="treewatch",
            client=self.client,
            config=config_for(tmp_path),
            log=logging.getLogger(LOGGER),
        )
        options = TreeWatchOptions(path=str(tree), trace_inotify=trace)
        self.job = TreeWatch(context, options, timing=timing)

    def start(self) -> TreeWatch:
        self.job.start()
        return self.job


@pytest.fixture
def jobs() -> Iterator[list[Job]]:
    made: list[Job] = []
    yield made
    for job in made:
        job.job.stop()


def test_a_file_a_scheduled_scan_finds_still_being_written_is_retried_without_an_event(
    rt: RtorrentSandbox, tmp_path: Path, jobs: list[Job], caplog: pytest.LogCaptureFixture
) -> None:
    tree = rt.directory / f"watch-{os.getpid()}-{time.monotonic_ns()}"
    tree.mkdir()
    jobs.append(Job(rt, tmp_path, tree, TreeWatchTiming(), trace=True))
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        job = jobs[-1].start()
        wait_for(lambda: "first start of tree watch" in caplog.text, "the first scan")
        meta = make_metafile("linked-in", size=64 << 10, seed=21)
        outside = rt.directory / f"{tree.name}-linked-in.torrent"
        outside.write_bytes(meta.data)
        # A hard link makes no event the watch follows (IN_CREATE of a file, no close-after-write), and
        # its fresh mtime makes the scan leave the file for a retry.
        os.link(outside, tree / "linked-in.torrent")
        now = time.time()
        os.utime(tree / "linked-in.torrent", (now, now))
        # The watcher thread wakes for that IN_CREATE and waits again; only then comes the scan.
        wait_for(lambda: "inotify event CREATE on 'linked-in.torrent'" in caplog.text, "the IN_CREATE")
        job.run()  # the scheduled scan, in the scheduler's thread
        assert "1 still being written" in caplog.text
        assert meta.info_hash not in rt.item_hashes()
        # retry_first is 2 s; the next scheduled scan would come only an hour later.
        wait_for(lambda: meta.info_hash in rt.item_hashes(), "the pending file's retry")
    shutil.rmtree(tree, ignore_errors=True)
    outside.unlink()


def root_inotify_watches() -> int:
    """The inotify watches all processes hold right now (all run as root here)."""
    total = 0
    for fdinfo in Path("/proc").glob("[0-9]*/fdinfo/*"):
        try:
            total += sum(line.startswith("inotify wd:") for line in fdinfo.read_text().splitlines())
        except OSError:
            continue
    return total


@pytest.fixture
def inotify_limits() -> Iterator[dict[str, int]]:
    saved = {name: int((INOTIFY / name).read_text()) for name in ("max_user_watches", "max_queued_events")}
    yield saved
    for name, value in saved.items():
        (INOTIFY / name).write_text(f"{value}\n")


def test_after_the_watch_limit_raising_it_helps_without_a_restart(
    rt: RtorrentSandbox,
    tmp_path: Path,
    jobs: list[Job],
    inotify_limits: dict[str, int],
    caplog: pytest.LogCaptureFixture,
) -> None:
    tree = rt.directory / f"limit-{os.getpid()}-{time.monotonic_ns()}"
    for n in range(40):
        (tree / f"folder-{n:02d}").mkdir(parents=True)
    jobs.append(Job(rt, tmp_path, tree, TreeWatchTiming(watch_retry=0.5)))
    with caplog.at_level(logging.INFO, logger=LOGGER):
        # Room for the root and a few folders; the window with the low limit lasts until the error.
        limit = root_inotify_watches() + 4
        (INOTIFY / "max_user_watches").write_text(f"{limit}\n")
        try:
            job = jobs[-1].start()
            wait_for(lambda: "inotify watch limit reached" in caplog.text, "the watch limit error")
        finally:
            (INOTIFY / "max_user_watches").write_text(f"{inotify_limits['max_user_watches']}\n")
        error = next(r.getMessage() for r in caplog.records if "watch limit reached" in r.getMessage())
        assert f"(fs.inotify.max_user_watches = {limit}," in error
        assert "sysctl fs.inotify.max_user_watches=" in error
        assert "retried every 0.5 s" in error
        wait_for(lambda: "inotify watches work again" in caplog.text, "the watches to be added")
        assert caplog.text.count("watch limit reached") == 1
        assert job._watcher is not None and job._watcher.watched == 41
        # Every folder is watched now: a file in the last one is loaded by its event.
        meta = drop(tree / "folder-39", "in-the-last-folder", seed=31)
        wait_for(lambda: meta.info_hash in rt.item_hashes(), "a file in a folder once over the limit")
    shutil.rmtree(tree, ignore_errors=True)


def test_an_event_queue_overflow_rescans_and_loses_nothing(
    rtorrent_factory: SandboxFactory,
    tmp_path: Path,
    jobs: list[Job],
    inotify_limits: dict[str, int],
    caplog: pytest.LogCaptureFixture,
) -> None:
    sandbox = rtorrent_factory()
    tree = watch_dir(sandbox)
    jobs.append(Job(sandbox, tmp_path, tree, TreeWatchTiming(settle=0.5, retry_first=0.2)))
    with caplog.at_level(logging.INFO, logger=LOGGER):
        # The queue size is taken when inotify is opened: lowered only around the job's start.
        (INOTIFY / "max_queued_events").write_text("8\n")
        try:
            job = jobs[-1].start()
        finally:
            (INOTIFY / "max_queued_events").write_text(f"{inotify_limits['max_queued_events']}\n")
        wait_for(lambda: "first start of tree watch" in caplog.text, "the first scan")
        in_flight = jobs[-1].client.transport._in_flight._sockets  # type: ignore[attr-defined]
        sandbox.freeze()
        try:
            first = drop(tree, "first", seed=40)
            wait_for(lambda: bool(in_flight), "the watcher thread to wait on the frozen rTorrent")
            metas = [first] + [drop(tree, f"burst-{n:02d}", seed=41 + n) for n in range(40)]
        finally:
            sandbox.thaw()
        wait_for(
            lambda: all(meta.info_hash in sandbox.item_hashes() for meta in metas), "all 41 files loaded"
        )
        assert "inotify event queue overflowed; rescanning the watch tree" in caplog.text
        for meta in metas:
            assert caplog.text.count(f"Loaded '{meta.name}'") == 1, meta.name
        assert job._watcher is not None and job._watcher.alive
