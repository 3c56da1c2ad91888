"""A burst of metafiles ready at the same moment, one of them corrupt, beside a real rTorrent: the
batch loads every good one (tied to its file), and the corrupt one is reported once and left as it is.
Both ways a burst arrives: 500 files renamed into a running watch (inotify), and found by a scan."""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sandbox.metafiles import make_metafile
from sandbox.rtorrent import RtorrentSandbox

from tests.integration.test_treewatch_live import LOGGER, Watch
from tests.support.polling import wait_for

BURST = 499  # and one corrupt file: 500


def _logged(caplog: pytest.LogCaptureFixture, text: str) -> Callable[[], bool]:
    return lambda: text in caplog.text


@pytest.fixture
def watch(rt: RtorrentSandbox, tmp_path: Path) -> Iterator[Watch]:
    made = Watch(rt, tmp_path)
    yield made
    made.close()


def test_a_burst_with_one_corrupt_file_loads_every_good_one(
    watch: Watch, caplog: pytest.LogCaptureFixture
) -> None:
    watch.run_once()  # the job ran before: what is there now arrived while it was down
    metas = [make_metafile(f"burst-{index}", seed=1000 + index) for index in range(BURST)]
    paths = [
        watch.write(f"burst/{index:03d}.torrent", meta.data, old=True) for index, meta in enumerate(metas)
    ]
    corrupt = metas[0].data[:-40]
    bad = watch.write("burst/100-corrupt.torrent", corrupt, old=True)
    job = watch.start_stopped()
    with caplog.at_level(logging.INFO, logger=LOGGER):
        job.rescan()  # one scan finds all of them at once: one batch
        job.rescan()  # a later scan stays quiet about the corrupt file
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and repr(str(bad)) in errors[0], errors
    assert bad.read_bytes() == corrupt
    assert sorted(watch.sandbox.item_hashes()) == sorted(meta.info_hash for meta in metas)
    tied = {meta.info_hash: watch.sandbox.rpc("d.tied_to_file", meta.info_hash) for meta in metas}
    assert tied == {meta.info_hash: str(path) for meta, path in zip(metas, paths, strict=True)}


def test_a_burst_renamed_into_a_running_watch_loads_every_good_one(
    watch: Watch, caplog: pytest.LogCaptureFixture
) -> None:
    staging = watch.sandbox.directory / f"staging-{uuid.uuid4().hex[:8]}"  # same file system: atomic
    staging.mkdir()
    (watch.tree / "burst").mkdir()
    metas = [make_metafile(f"renamed-{index}", seed=2000 + index) for index in range(BURST)]
    names = [f"{index:03d}.torrent" for index in range(BURST)]
    for name, meta in zip(names, metas, strict=True):
        (staging / name).write_bytes(meta.data)
    corrupt = metas[0].data[:-40]
    (staging / "250-corrupt.torrent").write_bytes(corrupt)
    names.insert(250, "250-corrupt.torrent")
    # Not a first start: there, files older than the start (these were written before it) are recorded.
    watch.run_once()
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        watch.start()
        # The watches are in place and the start's scan is over: what follows comes by inotify.
        wait_for(lambda: "Scanned " in caplog.text, "the start's scan")
        for name in names:
            os.rename(staging / name, watch.tree / "burst" / name)
        wanted = {meta.info_hash for meta in metas}
        wait_for(lambda: wanted <= set(watch.sandbox.item_hashes()), "the 499 good files loaded", timeout=120)
        wait_for(lambda: sum(r.getMessage().startswith("Loaded '") for r in caplog.records) == BURST)
    # 500 renames outrun the loads: the watcher gathered them into batches instead of 500 lone loads.
    assert any(r.getMessage().startswith("Gathered ") for r in caplog.records)
    bad = watch.tree / "burst" / "250-corrupt.torrent"
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and repr(str(bad)) in errors[0], errors
    assert bad.read_bytes() == corrupt
    assert sorted(watch.sandbox.item_hashes()) == sorted(wanted)
    tied = {meta.info_hash: watch.sandbox.rpc("d.tied_to_file", meta.info_hash) for meta in metas}
    assert tied == {
        meta.info_hash: str(watch.tree / "burst" / name)
        for meta, name in zip(metas, [n for n in names if "corrupt" not in n], strict=True)
    }


def test_a_metafile_written_under_a_temporary_name_is_a_lone_file(
    watch: Watch, caplog: pytest.LogCaptureFixture
) -> None:
    """As browsers, rsync and sync tools save: a hidden temporary file in the tree, renamed when done.
    The temporary file is no candidate, and its events do not make the metafile a burst to gather."""
    watch.run_once()
    metas = [make_metafile(f"saved-{index}", seed=3000 + index) for index in range(5)]
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        watch.start()
        wait_for(lambda: "Scanned " in caplog.text, "the start's scan")
        for index, meta in enumerate(metas):
            temporary = watch.tree / f".saved-{index}.torrent.part"
            temporary.write_bytes(meta.data)
            os.rename(temporary, watch.tree / f"saved-{index}.torrent")
            wait_for(_logged(caplog, f"Loaded {meta.name!r}"), f"{meta.name} loaded")
    assert not [r.getMessage() for r in caplog.records if r.getMessage().startswith("Gathered ")]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    tied = {meta.info_hash: watch.sandbox.rpc("d.tied_to_file", meta.info_hash) for meta in metas}
    assert tied == {meta.info_hash: str(watch.tree / f"saved-{i}.torrent") for i, meta in enumerate(metas)}


def test_a_folder_of_new_metafiles_moved_in_loads_at_once(
    watch: Watch, caplog: pytest.LogCaptureFixture
) -> None:
    """``mv`` of a finished folder into the tree: its files are complete, however new, so they load
    with the folder's scan instead of waiting for a retry as files still being written would."""
    watch.run_once()
    staging = watch.sandbox.directory / f"staging-{uuid.uuid4().hex[:8]}"  # same file system: atomic
    (staging / "season").mkdir(parents=True)
    metas = [make_metafile(f"moved-{index}", seed=4000 + index) for index in range(5)]
    ahead = time.time() + 60  # new for as long as the test runs, however slow the machine
    for index, meta in enumerate(metas):
        path = staging / "season" / f"{index}.torrent"
        path.write_bytes(meta.data)
        os.utime(path, (ahead, ahead))
    placeholder = staging / "season" / "still-coming.torrent"  # an empty one may still be written
    placeholder.touch()
    os.utime(placeholder, (ahead, ahead))
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        watch.start()
        wait_for(lambda: "Scanned " in caplog.text, "the start's scan")
        os.rename(staging, watch.tree / "show")
        wanted = {meta.info_hash for meta in metas}
        wait_for(lambda: wanted <= set(watch.sandbox.item_hashes()), "the 5 files loaded")
    scans = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Scanned ")]
    assert any(
        f"below {watch.tree / 'show'} " in line and "5 new, 1 still being written" in line for line in scans
    )
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
