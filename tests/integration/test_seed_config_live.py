"""The seed docs' pyrocore torque.ini, as written, in a real daemon against a real rTorrent (both lines).

Only the watch path is changed (to a temporary tree). A metafile dropped into the tree must be loaded by
the tree watch with the configured load commands applied, and then started by the queue.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sandbox.metafiles import make_metafile
from sandbox.rtorrent import RtorrentSandbox

from tests.support.foreground import start_foreground, stop_foreground, write_config
from tests.support.polling import wait_for

pytestmark = pytest.mark.rtorrent

SEED = Path(__file__).resolve().parents[1] / "data" / "seed-torque.ini"


def test_the_seed_torque_ini_loads_applies_commands_and_queues(rt: RtorrentSandbox, tmp_path: Path) -> None:
    watch = tmp_path / "watch"
    (watch / "music").mkdir(parents=True)
    seed = SEED.read_text()
    assert "job.treewatch.path = /var/torrent/watch\n" in seed
    config_dir = write_config(tmp_path / "cfg", rt.url, seed.replace("/var/torrent/watch", str(watch)))
    daemon = start_foreground(config_dir)
    try:
        wait_for(lambda: (config_dir / "run" / "treewatch-treewatch.state").exists(), "the first scan")
        meta = make_metafile(
            "Demo.Album.2024.FLAC",
            [("01.flac", 300_000), ("cover.jpg", 20_000), ("scan.tif", 20_000), ("album.nfo", 1_000)],
        )
        partial = watch / "music" / ".album.part"
        partial.write_bytes(meta.data)
        partial.rename(watch / "music" / "album.torrent")

        wait_for(lambda: meta.info_hash in rt.item_hashes(), "the tree watch to load the item")
        wait_for(lambda: rt.rpc("d.state", meta.info_hash) == 1, "the queue to start the item")
    finally:
        output = stop_foreground(daemon)

    assert daemon.returncode == 0, output
    priorities = dict(rt.rpc("f.multicall", meta.info_hash, "", "f.path=", "f.priority="))
    assert priorities == {"01.flac": 1, "cover.jpg": 2, "scan.tif": 0, "album.nfo": 2}
    assert rt.rpc("d.custom", meta.info_hash, "targetdir") == "/var/torrent/done/audio/flac/music"
    assert rt.rpc("d.priority", meta.info_hash) == 2  # queued + start: loaded startable, not "off"
    assert "Loaded 'Demo.Album.2024.FLAC'" in output and "[queued] [startable]" in output
    assert "Starting 'Demo.Album.2024.FLAC'" in output
