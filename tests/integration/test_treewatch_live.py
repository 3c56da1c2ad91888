"""TreeWatch against a real rTorrent: inotify, the startup scan, load modes, commands, bad files, outages."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sandbox.metafiles import Metafile, make_metafile
from sandbox.rtorrent import RtorrentSandbox, SandboxFactory

from pyrotorque.config import Config
from pyrotorque.config.ini import Setting
from pyrotorque.jobs.base import JobContext
from pyrotorque.jobs.treewatch import TreeWatch, TreeWatchOptions
from pyrotorque.jobs.treewatch.timing import TreeWatchTiming
from pyrotorque.rtorrent.client import RtorrentClient, version_tuple
from pyrotorque.rtorrent.limits import request_cap
from tests.support.polling import wait_for

LOGGER = "pyrotorque.job.treewatch"


def config_for(tmp_path: Path) -> Config:
    torque = {
        "job.treewatch.handler": Setting("pyrotorque.jobs.treewatch:TreeWatch", "t.ini", 1),
        "job.treewatch.schedule": Setting("hour=*", "t.ini", 2),
        "job.queue.handler": Setting("pyrotorque.jobs.queue:QueueManager", "t.ini", 3),
        "job.queue.schedule": Setting("second=*/15", "t.ini", 4),
    }
    return Config(config_dir=tmp_path, sections={"torque": torque})


class Watch:
    """A started TreeWatch job on a fresh tree inside the sandbox directory (visible to rTorrent 0.16)."""

    def __init__(self, sandbox: RtorrentSandbox, tmp_path: Path) -> None:
        self.sandbox = sandbox
        self.tmp_path = tmp_path
        self.tree = sandbox.directory / f"watch-{uuid.uuid4().hex[:8]}"
        self.tree.mkdir()
        self.woken: list[str] = []
        self.jobs: list[TreeWatch] = []

    def start(
        self, *, dry_run: bool = False, timing: TreeWatchTiming | None = None, **options: Any
    ) -> TreeWatch:
        context = JobContext(
            name="treewatch",
            client=RtorrentClient(self.sandbox.url),
            config=config_for(self.tmp_path),
            dry_run=dry_run,
            log=logging.getLogger(LOGGER),
            wake_kind=self.woken.append,
        )
        job = TreeWatch(context, TreeWatchOptions(path=str(self.tree), **options), timing=timing)
        self.jobs.append(job)
        job.start()
        return job

    def run_once(self) -> None:
        """A whole earlier run of the job (one scan, then stop), which leaves its state file behind."""
        job = self.start_stopped()
        job.rescan()
        job.stop()

    def start_stopped(self, **options: Any) -> TreeWatch:
        context = JobContext(
            name="treewatch",
            client=RtorrentClient(self.sandbox.url),
            config=config_for(self.tmp_path),
            log=logging.getLogger(LOGGER),
            wake_kind=self.woken.append,
        )
        job = TreeWatch(context, TreeWatchOptions(path=str(self.tree), **options))
        self.jobs.append(job)
        return job

    def write(self, relative: str, data: bytes, *, old: bool = False) -> Path:
        path = self.tree / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        if old:  # as if it had been there for a while (the scan leaves fresh files to their writer)
            stamp = time.time() - 60
            os.utime(path, (stamp, stamp))
        return path

    def loaded(self, meta: Metafile) -> bool:
        return meta.info_hash in self.sandbox.item_hashes()

    def close(self) -> None:
        for job in self.jobs:
            job.stop()
        shutil.rmtree(self.tree, ignore_errors=True)


@pytest.fixture
def watch(rt: RtorrentSandbox, tmp_path: Path) -> Iterator[Watch]:
    made = Watch(rt, tmp_path)
    yield made
    made.close()


def item(sandbox: RtorrentSandbox, meta: Metafile) -> dict[str, Any]:
    keys = ("d.name", "d.state", "d.priority", "d.tied_to_file", "d.custom1", "d.custom2")
    values = sandbox.multicall([(key, [meta.info_hash]) for key in keys])
    return {key: value[0] for key, value in zip(keys, values, strict=True)}


def test_nested_metafile_is_loaded_stopped_and_tied(watch: Watch, caplog: pytest.LogCaptureFixture) -> None:
    watch.start()
    meta = make_metafile("nested-item")
    with caplog.at_level(logging.INFO, logger=LOGGER):
        path = watch.write("tv/show/season1/nested.torrent", meta.data)
        wait_for(lambda: watch.loaded(meta))
        wait_for(lambda: "Loaded 'nested-item'" in caplog.text)
    details = item(watch.sandbox, meta)
    assert details["d.state"] == 0
    assert details["d.tied_to_file"] == str(path)
    assert f"Loaded 'nested-item' from '{path}' [normal]" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert path.read_bytes() == meta.data  # the metafile stays where it is


def test_lone_file_of_a_loaded_item_changes_nothing_of_it(
    watch: Watch, caplog: pytest.LogCaptureFixture
) -> None:
    """The lone file's question rides in its load's request; the duplicate load rTorrent ignores."""
    meta = make_metafile("loaded-before")
    watch.sandbox.load_metafiles([meta], commands=["d.custom1.set=by-hand"])
    wait_for(lambda: watch.loaded(meta))
    before = item(watch.sandbox, meta)
    watch.start(load_mode="start", cmd={"mark": "d.custom1.set=from-watch"})
    with caplog.at_level(logging.INFO, logger=LOGGER):
        path = watch.write("again/dup.torrent", meta.data)
        wait_for(lambda: "Already loaded: 'loaded-before'" in caplog.text)
    assert f"Already loaded: 'loaded-before' (#{meta.info_hash}) from '{path}'" in caplog.text
    assert "Loaded 'loaded-before'" not in caplog.text
    assert item(watch.sandbox, meta) == before  # not started, not tied, its custom1 kept
    assert before["d.state"] == 0 and before["d.custom1"] == "by-hand" and before["d.tied_to_file"] == ""


def test_flags_and_modes(watch: Watch) -> None:
    watch.start(
        load_mode="start",
        cmd={"a": "d.custom1.set=from-watch", "b": "{{# name }}d.custom2.set={{info_name}}"},
    )
    started = make_metafile("flag-start, $(x)")
    stopped = make_metafile("flag-load")
    by_mode = make_metafile("by-mode")
    watch.write("movies/a.start.torrent", started.data)
    watch.write("load/b.torrent", stopped.data)
    watch.write("c.torrent", by_mode.data)
    for meta in (started, stopped, by_mode):
        wait_for(lambda meta=meta: watch.loaded(meta))  # type: ignore[misc]
    assert item(watch.sandbox, started)["d.state"] == 1
    assert item(watch.sandbox, stopped)["d.state"] == 0
    assert item(watch.sandbox, by_mode)["d.state"] == 1
    details = item(watch.sandbox, started)
    assert (details["d.custom1"], details["d.custom2"]) == ("from-watch", "flag-start, $(x)")
    assert watch.woken == []


def test_queued_modes_follow_the_table_and_wake_the_queue(watch: Watch) -> None:
    watch.start(queued=True)
    normal = make_metafile("queued-normal")
    startable = make_metafile("queued-startable")
    watch.write("q/normal.torrent", normal.data)
    watch.write("start/startable.torrent", startable.data)
    for meta in (normal, startable):
        wait_for(lambda meta=meta: watch.loaded(meta))  # type: ignore[misc]
    wait_for(lambda: len(watch.woken) == 2)
    assert item(watch.sandbox, normal)["d.state"] == 0
    assert item(watch.sandbox, normal)["d.priority"] == 0
    assert item(watch.sandbox, startable)["d.state"] == 0
    assert item(watch.sandbox, startable)["d.priority"] == 2  # rTorrent's default, unchanged
    assert watch.woken == ["queue", "queue"]


def test_startup_scan_loads_what_arrived_since_the_last_run(watch: Watch) -> None:
    watch.run_once()  # the job ran before (its state file exists); then the daemon was down
    before = [make_metafile(f"before-{index}") for index in range(3)]
    for index, meta in enumerate(before):
        watch.write(f"old/{index}/item.torrent", meta.data, old=True)
    watch.start()
    for meta in before:
        wait_for(lambda meta=meta: watch.loaded(meta))  # type: ignore[misc]


def test_restart_does_not_load_an_erased_item_again(watch: Watch, caplog: pytest.LogCaptureFixture) -> None:
    """Loaded, erased by the user, daemon restarted: stays erased until the file is touched."""
    job = watch.start()
    erased = make_metafile("erase-me")
    path = watch.write("keep/erase-me.torrent", erased.data)
    wait_for(lambda: watch.loaded(erased))
    job.stop()
    # rTorrent's default erase handler deletes the tied metafile (d.delete_tied; seen on 0.9.8). A user
    # who keeps it (a remote or containerized rTorrent cannot delete it either) is what we model: untie.
    watch.sandbox.rpc("d.tied_to_file.set", erased.info_hash, "")
    watch.sandbox.rpc("d.erase", erased.info_hash)
    wait_for(lambda: not watch.loaded(erased))
    assert path.read_bytes() == erased.data
    arrived = make_metafile("arrived-while-down")
    watch.write("later/arrived.torrent", arrived.data, old=True)

    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        watch.start()  # a new instance: it knows only what the first one saved
        # The startup scan decides on every file before it loads any, so once the new file is
        # loaded, the erased one has been passed over.
        wait_for(lambda: watch.loaded(arrived))
        time.sleep(0.3)
        assert not watch.loaded(erased)
        assert "first start" not in caplog.text

        subprocess.run(["touch", str(path)], check=True)  # the user asks for a reload
        wait_for(lambda: watch.loaded(erased))
    assert item(watch.sandbox, erased)["d.tied_to_file"] == str(path)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_first_start_records_existing_files_without_loading(
    watch: Watch, caplog: pytest.LogCaptureFixture
) -> None:
    existing = make_metafile("there-at-first-start")
    watch.write("existing.torrent", existing.data, old=True)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        watch.start()
        wait_for(lambda: "first start of tree watch" in caplog.text)
        fresh = make_metafile("after-first-start")
        watch.write("fresh.torrent", fresh.data)
        wait_for(lambda: watch.loaded(fresh))
    assert not watch.loaded(existing)
    assert "1 existing metafile(s) recorded, not loaded; touch a file to load it" in caplog.text


def test_directory_moved_into_the_tree_is_loaded(watch: Watch, tmp_path: Path) -> None:
    watch.start()
    outside = watch.sandbox.directory / f"outside-{uuid.uuid4().hex[:8]}"
    metas = [make_metafile(f"moved-{index}") for index in range(2)]
    (outside / "sub").mkdir(parents=True)
    (outside / "one.torrent").write_bytes(metas[0].data)
    (outside / "sub" / "two.torrent").write_bytes(metas[1].data)
    time.sleep(0.2)
    outside.rename(watch.tree / "arrived")
    for meta in metas:
        wait_for(lambda meta=meta: watch.loaded(meta))  # type: ignore[misc]
    # And the moved directory is watched from now on.
    later = make_metafile("moved-later")
    (watch.tree / "arrived" / "sub" / "three.torrent").write_bytes(later.data)
    wait_for(lambda: watch.loaded(later))


def test_corrupt_file_is_logged_once_and_kept(watch: Watch, caplog: pytest.LogCaptureFixture) -> None:
    job = watch.start()
    good = make_metafile("after-corrupt")
    corrupt = good.data[:-40]
    with caplog.at_level(logging.INFO, logger=LOGGER):
        path = watch.write("bad.torrent", corrupt)
        wait_for(lambda: [r for r in caplog.records if r.levelno == logging.ERROR])
        job.run()  # the scheduled scan does not report it again
        watch.write("good.torrent", good.data)
        wait_for(lambda: watch.loaded(good))
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and str(path) in errors[0]
    assert path.read_bytes() == corrupt
    assert watch.sandbox.item_hashes() == [good.info_hash]


def test_metacharacters_in_the_file_name(watch: Watch) -> None:
    watch.start(cmd={"name": "d.custom1.set=%(pathname)s"})
    meta = make_metafile("meta-chars")
    marker = watch.tree / "INJECTED"
    name = f"a,b 'c\" d;$(touch {marker})`touch {marker}`*?[x].torrent"
    path = watch.write(f"we ird,dir/{name}", meta.data)
    wait_for(lambda: watch.loaded(meta))
    details = item(watch.sandbox, meta)
    assert details["d.tied_to_file"] == str(path)
    assert details["d.custom1"] == str(path)
    time.sleep(0.5)
    assert not marker.exists()
    assert watch.sandbox.item_hashes() == [meta.info_hash]


def test_dry_run_loads_nothing(watch: Watch, caplog: pytest.LogCaptureFixture) -> None:
    job = watch.start(dry_run=True)
    meta = make_metafile("dry-run")
    with caplog.at_level(logging.INFO, logger=LOGGER):
        path = watch.write("dry.torrent", meta.data)
        wait_for(lambda: "WOULD load" in caplog.text)
        job.run()
    assert f"WOULD load 'dry-run' from '{path}' [normal]" in caplog.text
    assert watch.sandbox.item_hashes() == []


def test_oversized_metafile(watch: Watch, caplog: pytest.LogCaptureFixture) -> None:
    """0.9.8: too big for one request, loaded by path. 0.16 in its chroot cannot see our path: an ERROR."""
    version = version_tuple(watch.sandbox.rpc("system.client_version"))
    cap = request_cap(version)
    piece_length = 1 << 23 if version < (0, 16) else 1 << 20
    meta = make_metafile("oversized", size=(cap // 20) * piece_length, piece_length=piece_length)
    assert len(meta.data) > cap  # base64 makes the request larger still
    watch.start()
    with caplog.at_level(logging.INFO, logger=LOGGER):
        path = watch.write("big/oversized.torrent", meta.data)
        if watch.sandbox.chrooted:
            wait_for(lambda: [r for r in caplog.records if r.levelno == logging.ERROR], timeout=30)
            (error,) = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
            assert str(path) in error and str(cap) in error
            assert watch.sandbox.item_hashes() == []
        else:
            wait_for(lambda: watch.loaded(meta), timeout=30)
            assert item(watch.sandbox, meta)["d.tied_to_file"] == str(path)
            # rTorrent shows the item before the job's own check sees it and logs the load.
            wait_for(lambda: "by path (too big to send)" in caplog.text)
    assert path.read_bytes() == meta.data


def test_rtorrent_down_keeps_the_file_pending(
    rtorrent_factory: SandboxFactory,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    private = rtorrent_factory()
    watch = Watch(private, tmp_path)
    try:
        # A real watcher thread waits in select for real; short retries keep the outage test quick.
        watch.start(timing=TreeWatchTiming(retry_first=0.2, retry_max=0.5))
        private.stop()
        meta = make_metafile("while-down")
        with caplog.at_level(logging.INFO, logger=LOGGER):
            path = watch.write("later/while-down.torrent", meta.data)
            wait_for(lambda: "stay pending" in caplog.text)
            time.sleep(1.0)  # a few failed retries
            private.start()
            wait_for(lambda: watch.loaded(meta))
            wait_for(lambda: "works again" in caplog.text)
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1
        assert item(private, meta)["d.tied_to_file"] == str(path)
    finally:
        watch.close()


def test_stop_is_idempotent_and_ends_watching(watch: Watch) -> None:
    job = watch.start()
    job.stop()
    job.stop()
    meta = make_metafile("after-stop")
    watch.write("after.torrent", meta.data)
    time.sleep(0.5)
    assert not watch.loaded(meta)
