"""The log file can break in every way without stopping a job: its folder removed, the file deleted or
moved away by logrotate on a full disk, a read-only folder at start. The daemon says so once."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sandbox.rtorrent import RtorrentSandbox, SandboxFactory

from tests.faults.helpers import (
    drop,
    fd_targets,
    fill_up,
    mount_tmpfs,
    unmount,
    watch_dir,
    watch_land,
)
from tests.integration.test_daemon_cli import Daemonland, alive
from tests.support.polling import wait_for


@pytest.fixture
def sandbox(rtorrent_factory: SandboxFactory) -> RtorrentSandbox:
    return rtorrent_factory()


@pytest.fixture
def land(tmp_path: Path, sandbox: RtorrentSandbox) -> Iterator[Daemonland]:
    place = watch_land(tmp_path, sandbox, watch_dir(sandbox))
    yield place
    place.run("--stop")
    place.kill_leftover()


def watch_of(land: Daemonland) -> Path:
    text = (land.dir / "torque.ini").read_text()
    return Path(text.split("job.treewatch.path = ", 1)[1].split("\n", 1)[0])


def deleted_files_held(pid: int) -> list[str]:
    return [target for target in fd_targets(pid) if target.endswith(" (deleted)")]


def start(land: Daemonland) -> int:
    started = land.run()
    assert started.code == 0, started.err
    wait_for(lambda: "first start of tree watch" in land.log_text(), "the tree watch's first scan")
    return land.pid()


def test_log_deleted_then_its_folder_removed_every_file_still_loads(
    land: Daemonland, sandbox: RtorrentSandbox
) -> None:
    pid = start(land)
    watch = watch_of(land)

    land.log.unlink()  # the file alone: the next line creates it, stdout/stderr follow it
    wait_for(lambda: "Stats for" in land.log_text(), "a stats line in the new log")
    assert deleted_files_held(pid) == []

    shutil.rmtree(land.log.parent)
    metas = [drop(watch, f"after-rmtree-{n}", seed=n) for n in range(3)]
    wait_for(lambda: all(meta.info_hash in sandbox.item_hashes() for meta in metas), "3 of 3 files loaded")
    log = land.log_text()
    assert f"The log folder {land.log.parent} had disappeared; created it again" in log
    assert log.count("had disappeared") == 1
    assert all(f"Loaded '{meta.name}'" in log for meta in metas)
    assert deleted_files_held(pid) == []

    # The inotify thread lived through it: a later file is loaded by its event, not by a scan.
    later = drop(watch, "later")
    wait_for(lambda: later.info_hash in sandbox.item_hashes(), "a later file loaded")
    assert "Tree watch thread" not in land.log_text()
    assert alive(pid) and land.run("--status").code == 0


@pytest.fixture
def small_log_disk(land: Daemonland) -> Iterator[Path]:
    folder = land.log.parent
    mount_tmpfs(folder, "size=256k,mode=0755")
    yield folder
    land.run("--stop")
    land.kill_leftover()
    unmount(folder)


def test_log_moved_away_on_a_full_disk_loses_lines_not_jobs(
    land: Daemonland, sandbox: RtorrentSandbox, small_log_disk: Path
) -> None:
    pid = start(land)
    watch = watch_of(land)
    filler = fill_up(small_log_disk)
    # The next stats line fails to be written (the disk is full), then logrotate moves the log away.
    wait_for(lambda: not land.log.exists() or "Stats for" in land.log_text(), "the daemon to log on")
    land.log.rename(land.log.with_name("torque.log.1"))

    metas = [drop(watch, f"full-disk-{n}", seed=10 + n) for n in range(3)]
    wait_for(lambda: all(meta.info_hash in sandbox.item_hashes() for meta in metas), "3 of 3 files loaded")
    assert alive(pid) and land.run("--status").code == 0

    filler.unlink()  # space again: the log works, and says once what it lost
    wait_for(lambda: "line(s) lost" in land.log_text(), "the daemon to say what the log lost")
    log = land.log_text()
    assert log.count("line(s) lost") == 1
    assert f"The log file {land.log} could not be written from" in log
    assert "(No space left on device)" in log
    wait_for(lambda: "Stats for" in land.log_text().split("line(s) lost", 1)[1], "stats lines again")
    assert "Traceback" not in land.log_text()

    later = drop(watch, "after-the-disk-full")
    wait_for(lambda: later.info_hash in sandbox.item_hashes(), "a later file loaded by inotify")
    assert "Tree watch thread" not in land.log_text()


@pytest.fixture
def read_only_log_folder(land: Daemonland) -> Iterator[Path]:
    folder = land.log.parent
    mount_tmpfs(folder, "ro,size=64k")
    yield folder
    unmount(folder)


def test_read_only_log_folder_is_a_clear_error_at_start(land: Daemonland, read_only_log_folder: Path) -> None:
    refused = land.run()
    assert refused.code == 74
    assert refused.err.strip() == f"pyrotorque: cannot open the log file {land.log}: Read-only file system"
    assert not land.pid_file.exists()
    cron = land.run("--cron")
    assert cron.code == 74
    assert cron.err.strip() == f"pyrotorque: cannot open the log file {land.log}: Read-only file system"
