"""rTorrent killed (SIGKILL, no session save) and started again in the middle of a burst of 500
metafiles into a real daemon's tree watch: in the end every metafile is loaded, each once, except
an item rTorrent itself lost in the kill (0.16 saves new items in the background), which the tree
watch notices and loads again."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sandbox.metafiles import make_metafile
from sandbox.rtorrent import SandboxFactory

from tests.support.foreground import start_foreground, stop_foreground, write_config
from tests.support.polling import wait_for

pytestmark = pytest.mark.rtorrent

BURST = 500


def test_rtorrent_killed_during_a_burst_loses_no_metafile(
    rtorrent_factory: SandboxFactory, tmp_path: Path
) -> None:
    sandbox = rtorrent_factory()
    watch = sandbox.directory / "burst-watch"
    watch.mkdir()
    config_dir = write_config(
        tmp_path / "cfg",
        sandbox.url,
        f"[TORQUE]\njob.treewatch.active = yes\njob.treewatch.path = {watch}\n",
        global_extra="rpc_timeout = 5\n",
    )
    metafiles = [make_metafile(f"burst-{index:04d}", size=16 << 10, seed=index) for index in range(BURST)]
    daemon = start_foreground(config_dir)
    try:
        wait_for(
            lambda: (config_dir / "run" / "treewatch-treewatch.state").exists(), "the first start's scan"
        )
        half = threading.Event()

        def feed() -> None:
            for index, meta in enumerate(metafiles):
                partial = watch / f".burst-{index:04d}.part"
                partial.write_bytes(meta.data)
                partial.rename(watch / f"burst-{index:04d}.torrent")
                if index == BURST // 2:
                    half.set()

        feeder = threading.Thread(target=feed)
        feeder.start()
        assert half.wait(60)
        sandbox.kill()  # a crash: whatever rTorrent had not saved yet is gone
        sandbox.start()
        feeder.join(60)
        expected = {meta.info_hash for meta in metafiles}
        wait_for(lambda: expected <= set(sandbox.item_hashes()), "every metafile of the burst", timeout=120)
        assert daemon.poll() is None
    finally:
        output = stop_foreground(daemon)
    assert len(sandbox.item_hashes()) == BURST
    assert "Traceback" not in output, output[-3000:]
    lines = output.splitlines()
    loaded = [line.split("Loaded '", 1)[1].split("'", 1)[0] for line in lines if "Loaded 'burst-" in line]
    # A load whose answer the kill cut off is found in rTorrent afterwards: "Already loaded", once.
    found = [
        line.split("loaded: '", 1)[1].split("'", 1)[0] for line in lines if "Already loaded: 'burst-" in line
    ]
    assert not set(loaded) & set(found)
    assert set(loaded) | set(found) == {meta.name for meta in metafiles}
    # A second load only for an item rTorrent lost (0.16 had not saved it yet), and the log says so.
    again = {name for name in loaded if loaded.count(name) > 1}
    told = " ".join(line for line in lines if "rTorrent lost" in line)
    assert all(f"/{name}.torrent" in told for name in again), (again, told)
