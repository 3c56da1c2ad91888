"""The tree watch's state file damaged between two runs, beside a real rTorrent: the job starts, says
what it did, loads what arrived while it was down and does not load again what the user erased."""

from __future__ import annotations

import logging
import shutil
import subprocess
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import pytest
from sandbox.metafiles import make_metafile
from sandbox.rtorrent import RtorrentSandbox

from pyrotorque.jobs.treewatch.state import backup_path, state_path
from tests.integration.test_treewatch_live import LOGGER, Watch
from tests.support.polling import wait_for

ERASED = make_metafile("state-erased-by-the-user", seed=81)
WHILE_DOWN = make_metafile("state-arrived-while-down", seed=82)


@pytest.fixture
def watch(rt: RtorrentSandbox, tmp_path: Path) -> Iterator[Watch]:
    made = Watch(rt, tmp_path)
    yield made
    made.close()


def first_run(watch: Watch) -> Path:
    """A run that loads one file, whose item the user then erases; returns the state file's path."""
    job = watch.start()
    job.rescan()  # first start: nothing there yet
    watch.write("erased.torrent", ERASED.data)
    wait_for(lambda: watch.loaded(ERASED), "the first file to load")
    job.stop()
    watch.sandbox.rpc("d.erase", ERASED.info_hash)
    watch.write("while-down.torrent", WHILE_DOWN.data, old=True)
    return state_path(watch.tmp_path, "treewatch")


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:-20])


def garble(path: Path) -> None:
    path.write_bytes(b"\x00\xffnot json at all")


def make_directory(path: Path) -> None:
    path.unlink()
    path.mkdir()


DAMAGE: dict[str, Callable[[Path], None]] = {
    "truncated": truncate,
    "garbage": garble,
    "directory": make_directory,
}


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_state_file_is_read_from_its_copy(
    watch: Watch, caplog: pytest.LogCaptureFixture, damage: str
) -> None:
    path = first_run(watch)
    DAMAGE[damage](path)

    with caplog.at_level(logging.INFO, logger=LOGGER):
        job = watch.start()
        job.rescan()
        wait_for(lambda: watch.loaded(WHILE_DOWN), "the file that arrived while the daemon was down")
        job.stop()

    assert watch.sandbox.item_hashes() == [WHILE_DOWN.info_hash]  # the erased one stays erased
    said = warnings(caplog)
    assert any(str(path) in line and "using its copy" in line for line in said), said


def test_both_copies_damaged_applies_the_first_start_rule_and_says_so(
    watch: Watch, caplog: pytest.LogCaptureFixture
) -> None:
    path = first_run(watch)
    garble(path)
    truncate(backup_path(path))

    with caplog.at_level(logging.INFO, logger=LOGGER):
        job = watch.start()
        job.rescan()
        job.stop()

    assert watch.sandbox.item_hashes() == []  # nothing old loaded, as at a first start
    said = warnings(caplog)
    assert any("Treating both as missing" in line for line in said), said
    # The next run has a good state again: a new file loads, the old ones stay as recorded.
    later = make_metafile("state-after-repair", seed=83)
    job = watch.start()
    job.rescan()
    watch.write("later.torrent", later.data)
    wait_for(lambda: watch.loaded(later), "a new file after the repair")
    assert watch.sandbox.item_hashes() == [later.info_hash]


def test_a_read_only_state_folder_keeps_the_job_working_and_says_so_once(
    watch: Watch, caplog: pytest.LogCaptureFixture
) -> None:
    run = watch.tmp_path / "run"
    run.mkdir(parents=True, exist_ok=True)
    if shutil.which("mount") is None:
        pytest.fail("mount(8) is needed to make a read-only folder for root")
    subprocess.run(["mount", "--bind", str(run), str(run)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(run)], check=True)
        files = [make_metafile(f"state-ro-{index}", seed=90 + index) for index in range(3)]
        with caplog.at_level(logging.INFO, logger=LOGGER):
            job = watch.start()
            job.rescan()
            for index, meta in enumerate(files):
                watch.write(f"ro-{index}.torrent", meta.data)
                wait_for(partial(watch.loaded, meta), "a file while the state cannot be saved")
                job.rescan()  # every scan saves, and fails again
            job.stop()
    finally:
        subprocess.run(["umount", str(run)], check=True)
    assert sorted(watch.sandbox.item_hashes()) == sorted(meta.info_hash for meta in files)
    cannot_save = [line for line in warnings(caplog) if line.startswith("Cannot save the tree watch state")]
    assert len(cannot_save) == 1, warnings(caplog)
