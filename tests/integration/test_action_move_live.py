"""``move=DIR`` on a real rTorrent (0.9.8 and 0.16): complete items with real payload move between the
disk and a tmpfs and back without a re-download; a daemon killed halfway through a copy loses nothing.

The tmpfs is mounted inside the sandbox directory, so 0.16 in its chroot sees it too.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sandbox.metafiles import make_metafile
from sandbox.rtorrent import RtorrentSandbox

import pyrotorque
from pyrotorque.clock import as_clock
from pyrotorque.config import Config
from pyrotorque.jobs.base import JobContext
from pyrotorque.jobs.rules import Action, ActionOptions
from pyrotorque.jobs.rules.data_move import partial_path, place
from pyrotorque.rtorrent.client import RtorrentClient
from tests.support.complete_items import load_complete
from tests.support.data_trees import digest, tmpfs

LOGGER = "pyrotorque.job.mover"
KIB = 1 << 10
MULTI_FILES = [("disc/one.bin", 300 * KIB), ("two.bin", 200 * KIB + 17), ("disc/empty", 0)]


@pytest.fixture
def other_disk(rt: RtorrentSandbox) -> Iterator[Path]:
    """A 128 MiB tmpfs inside the sandbox: another file system than the download directory's."""
    with tmpfs(rt.directory / "other-disk", "128m") as mount_point:
        try:
            yield mount_point
        finally:
            rt.erase_all()  # closes the items' files, which would keep the mount busy


def mover(rt: RtorrentSandbox, directory: Path, condition: str = "label=mv") -> Action:
    context = JobContext(
        name="mover",
        client=RtorrentClient(rt.url),
        config=Config(config_dir=Path("/nonexistent")),
        log=logging.getLogger(LOGGER),
        clock=as_clock(time.time),
    )
    job = Action(context, ActionOptions(condition=condition, action=f"move={rt.rt_path(directory)}"))
    job.map_paths(lambda path: str(rt.host_path(path)), rt.rt_path)
    job.start()
    return job


def state(rt: RtorrentSandbox, info_hash: str) -> dict[str, Any]:
    keys = ("d.directory", "d.complete", "d.completed_chunks", "d.state", "d.hashing")
    return {key: rt.rpc(key, info_hash) for key in keys}


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING]


def test_move_to_another_file_system_and_back(
    rt: RtorrentSandbox, other_disk: Path, caplog: pytest.LogCaptureFixture
) -> None:
    home = rt.download_dir
    multi = make_metafile("Multi.Item", MULTI_FILES, piece_length=16 * KIB, payload_dir=home)
    single = make_metafile("single.iso", size=400 * KIB, piece_length=16 * KIB, payload_dir=home)
    other = make_metafile("Other.Item", [("x.bin", 64 * KIB)], piece_length=16 * KIB, payload_dir=home)
    multi_hash, single_hash = load_complete(rt, home, [multi, single], label="mv")
    (other_hash,) = load_complete(rt, home, [other], label="stay")
    rt.rpc("d.start", multi_hash)  # one started, one stopped: each comes back as it was
    data = {"Multi.Item": digest(home / "Multi.Item"), "single.iso": digest(home / "single.iso")}
    chunks = {h: rt.rpc("d.completed_chunks", h) for h in (multi_hash, single_hash)}
    assert chunks[multi_hash] == 32 and chunks[single_hash] == 25
    other_before = (state(rt, other_hash), digest(home / "Other.Item"))

    for start, end in ((home, other_disk), (other_disk, home)):
        with caplog.at_level(logging.INFO, logger=LOGGER):
            mover(rt, end).run()
        assert errors(caplog) == []
        for name in data:
            assert digest(end / name) == data[name], f"{name} in {end}"
            assert not os.path.lexists(start / name)
        multi_now, single_now = state(rt, multi_hash), state(rt, single_hash)
        assert multi_now["d.directory"] == rt.rt_path(end / "Multi.Item")
        assert single_now["d.directory"] == rt.rt_path(end)
        assert (multi_now["d.state"], single_now["d.state"]) == (1, 0)
        assert rt.rpc("d.base_path", multi_hash) == rt.rt_path(end / "Multi.Item")  # opened there
        for info_hash, now in ((multi_hash, multi_now), (single_hash, single_now)):
            assert (now["d.complete"], now["d.completed_chunks"], now["d.hashing"]) == (
                1,
                chunks[info_hash],
                0,
            )
        assert (state(rt, other_hash), digest(home / "Other.Item")) == other_before
        assert not [p for p in os.listdir(end) if p.endswith(".pyrotorque-partial")]

    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        mover(rt, home).run()  # already there: nothing to do
    assert errors(caplog) == []
    assert digest(home / "Multi.Item") == data["Multi.Item"]
    assert rt.rpc("d.state", multi_hash) == 1


def test_a_copy_that_does_not_fit_leaves_the_item_complete_where_it_was(
    rt: RtorrentSandbox, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    home = rt.download_dir
    big = make_metafile("Big.Item", [("a.bin", 600 * KIB), ("b.bin", 600 * KIB)], payload_dir=home)
    (big_hash,) = load_complete(rt, home, [big], label="mv")
    rt.rpc("d.start", big_hash)
    before, data = state(rt, big_hash), digest(home / "Big.Item")
    with tmpfs(rt.directory / "tiny-disk", "1m") as tiny:
        with caplog.at_level(logging.INFO, logger=LOGGER):
            mover(rt, tiny).run()
        assert os.listdir(tiny) == []  # no partial copy left
    (failure,) = errors(caplog)
    assert failure.startswith("Could not move 'Big.Item' #") and "No space left on device" in failure
    assert state(rt, big_hash) == before and digest(home / "Big.Item") == data
    assert rt.rpc("d.custom", big_hash, "move_mover") == ""


# --- a daemon killed halfway through a copy --------------------------------------------------------------

RUN_ONE_TICK = """
import logging, sys, time
from pathlib import Path
from pyrotorque.clock import as_clock
from pyrotorque.config import Config
from pyrotorque.jobs.base import JobContext
from pyrotorque.jobs.rules import Action, ActionOptions
from pyrotorque.rtorrent.client import RtorrentClient

url, root, target = sys.argv[1:]
def host(path): return root + path if root else path
def inside(path): return path[len(root):] if root else path
context = JobContext(name="mover", client=RtorrentClient(url), config=Config(config_dir=Path("/x")),
                     log=logging.getLogger("mover"), clock=as_clock(time.time))
job = Action(context, ActionOptions(condition="label=mv", action="move=" + target))
job.map_paths(host, inside)
job.start()
job.run()
"""


def test_a_daemon_killed_mid_copy_loses_nothing_and_the_next_run_finishes(
    rt: RtorrentSandbox, other_disk: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Many files on the tmpfs, each fsynced on the way to the disk: the copy can be caught halfway.
    files = [(f"part{n:03}.bin", 256 * KIB) for n in range(160)]
    many = make_metafile("Many.Files", files, piece_length=256 * KIB, payload_dir=other_disk)
    (info_hash,) = load_complete(rt, other_disk, [many], label="mv")
    rt.rpc("d.start", info_hash)
    before, data = state(rt, info_hash), digest(other_disk / "Many.Files")
    archive = rt.directory / "archive"
    archive.mkdir()
    partial = partial_path(archive, "Many.Files")
    root = str(rt.host_path("/")).rstrip("/") if rt.chrooted else ""
    env = {**os.environ, "PYTHONPATH": str(Path(pyrotorque.__file__).parents[1])}
    argv = [sys.executable, "-c", RUN_ONE_TICK, rt.url, root, rt.rt_path(archive)]
    daemon = subprocess.Popen(argv, env=env)
    try:
        _poll_fast(lambda: partial.is_dir() and len(os.listdir(partial)) >= 2, daemon)
        daemon.send_signal(signal.SIGSTOP)  # hold it still to look: mid-copy by observation
        assert len(os.listdir(partial)) < len(files) and not os.path.lexists(archive / "Many.Files")
        daemon.kill()
    finally:
        daemon.kill()
        daemon.wait()
    assert daemon.returncode == -signal.SIGKILL

    # The item points at its old place, complete there; it was stopped for the move.
    assert digest(other_disk / "Many.Files") == data
    now = state(rt, info_hash)
    assert now["d.directory"] == before["d.directory"] and now["d.complete"] == 1
    assert now["d.completed_chunks"] == before["d.completed_chunks"] and now["d.state"] == 0
    assert rt.rpc("d.custom", info_hash, "move_mover") == f"1 {before['d.directory']}"

    with caplog.at_level(logging.INFO, logger=LOGGER):
        mover(rt, archive).run()  # the next run: the partial copy is redone, the item started again
    assert errors(caplog) == []
    assert digest(archive / "Many.Files") == data and not partial.exists()
    assert not os.path.lexists(other_disk / "Many.Files")
    after = state(rt, info_hash)
    assert after["d.directory"] == rt.rt_path(archive / "Many.Files") and after["d.state"] == 1
    assert (after["d.complete"], after["d.completed_chunks"]) == (1, before["d.completed_chunks"])
    assert rt.rpc("d.custom", info_hash, "move_mover") == ""


def test_a_move_interrupted_after_the_switch_is_finished_by_the_next_run(
    rt: RtorrentSandbox, other_disk: Path, caplog: pytest.LogCaptureFixture
) -> None:
    home = rt.download_dir
    item = make_metafile("Switched.Item", MULTI_FILES, piece_length=16 * KIB, payload_dir=home)
    (info_hash,) = load_complete(rt, home, [item], label="mv")
    rt.rpc("d.custom1.set", info_hash, "moved")  # the job's condition (label=mv) no longer matches it
    chunks, data = rt.rpc("d.completed_chunks", info_hash), digest(home / "Switched.Item")
    # What a daemon killed after step 5 leaves: the item switched to a verified copy, stopped and
    # closed, its marker set, the source still there.
    rt.rpc("d.custom.set", info_hash, "move_mover", f"1 {rt.rt_path(home / 'Switched.Item')}")
    rt.rpc("d.close", info_hash)
    place(home / "Switched.Item", other_disk, dict(MULTI_FILES))
    rt.rpc("d.directory_base.set", info_hash, rt.rt_path(other_disk / "Switched.Item"))

    with caplog.at_level(logging.INFO, logger=LOGGER):
        mover(rt, other_disk).run()
    assert errors(caplog) == []
    assert any(r.getMessage().startswith("Finished the interrupted move") for r in caplog.records)
    assert not os.path.lexists(home / "Switched.Item") and digest(other_disk / "Switched.Item") == data
    assert (rt.rpc("d.state", info_hash), rt.rpc("d.complete", info_hash)) == (1, 1)
    assert rt.rpc("d.completed_chunks", info_hash) == chunks
    assert rt.rpc("d.custom", info_hash, "move_mover") == ""


def _poll_fast(condition: Any, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    """Poll every millisecond (the copy is quick) until ``condition()``; fail if the process ends first."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, f"the mover ended first (exit {process.returncode})"
        assert time.monotonic() < deadline, "timed out waiting for the partial copy"
        time.sleep(0.001)
