"""The queue's min_free against a real rTorrent (0.9.8 and 0.16): a small tmpfs as the download directory."""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sandbox.metafiles import make_metafile
from sandbox.rtorrent import RtorrentSandbox

from pyrotorque.jobs.queue_space import disk_of
from tests.integration.test_queue_live import LOGGER, queue_job, started

pytestmark = pytest.mark.rtorrent

KIB = 1 << 10


@pytest.fixture
def small_disk(rt: RtorrentSandbox) -> Iterator[Path]:
    """A 2 MiB tmpfs inside the sandbox (so 0.16 in its chroot sees it too); host path."""
    if os.geteuid() != 0:
        pytest.fail("mounting a tmpfs needs root (as make test has on the machines it runs on)")
    mount_point = rt.directory / "small-disk"
    mount_point.mkdir(exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount_point)], check=True)
    try:
        yield mount_point
    finally:
        rt.erase_all()  # closes the items' files, which would keep the mount busy
        result = subprocess.run(["umount", str(mount_point)], check=False, capture_output=True)
        if result.returncode:
            subprocess.run(["umount", "-l", str(mount_point)], check=True)
        mount_point.rmdir()


def load_into(rt: RtorrentSandbox, directory: Path, sizes: dict[str, int]) -> dict[str, str]:
    """Stopped items of these sizes with ``directory`` as their data directory, oldest first; name -> hash."""
    metafiles = [make_metafile(name, size=size, seed=size) for name, size in sizes.items()]
    commands = [f"d.directory.set={rt.rt_path(directory)}"]
    hashes = rt.load_metafiles(metafiles, commands=commands)
    for offset, info_hash in enumerate(hashes):
        rt.rpc("d.custom.set", info_hash, "tm_loaded", str(1_700_000_000 + offset))
    return dict(zip(sizes, hashes, strict=True))


def test_only_what_fits_on_the_small_disk_starts(
    rt: RtorrentSandbox, small_disk: Path, caplog: pytest.LogCaptureFixture
) -> None:
    free = disk_of(str(small_disk))
    assert free is not None and 1900 * KIB < free.free <= 2048 * KIB
    items = load_into(rt, small_disk, {"too-big": 3072 * KIB, "fits": 512 * KIB, "fits-alone": 1700 * KIB})
    assert rt.rpc("d.directory", items["fits"]) == rt.rt_path(small_disk)
    job = queue_job(rt.url, min_free="64k", start_at_once=3, downloading_max=9)
    job.map_paths(lambda path: str(rt.host_path(path)))

    with caplog.at_level(logging.INFO, logger=LOGGER):
        job.run()

    # too-big never fits; fits-alone would fit alone, not after the 512 KiB that "fits" reserves.
    order = [items["too-big"], items["fits"], items["fits-alone"]]
    assert started(rt, order) == [items["fits"]]
    skipped = sorted(r.getMessage() for r in caplog.records if r.getMessage().startswith("Not starting"))
    assert [message.split(" #")[0] for message in skipped] == [
        "Not starting 'fits-alone'",
        "Not starting 'too-big'",
    ]
    assert "needs 3.0 MiB" in skipped[1] and "0 bytes reserved" in skipped[1]
    assert "needs 1.7 MiB" in skipped[0] and "512.0 KiB reserved" in skipped[0]

    caplog.clear()
    with caplog.at_level(logging.INFO, logger=LOGGER):
        job.run()  # "fits" now downloads there and still reserves its bytes
    assert started(rt, order) == [items["fits"]]
    assert not [r for r in caplog.records if r.getMessage().startswith("Not starting")]  # logged once

    rt.rpc("d.erase", items["fits"])
    job.run()
    assert started(rt, order[::2]) == [items["fits-alone"]]
