"""All jobs in one real daemon while rTorrent goes away and comes back (both lines).

Nothing may be lost: a metafile dropped while rTorrent is down is loaded and started after its return,
the exporter says ``up 0`` meanwhile, and the daemon never exits.
"""

from __future__ import annotations

import socket
import urllib.request
from pathlib import Path

import pytest
from sandbox.metafiles import make_metafile
from sandbox.rtorrent import SandboxFactory

from tests.support.foreground import start_foreground, stop_foreground, write_config
from tests.support.polling import wait_for

pytestmark = pytest.mark.rtorrent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def scrape_up(port: int) -> str | None:
    """The value of ``rtorrent_up``, or None when the exporter does not answer."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
            text = answer.read().decode()
    except OSError:
        return None
    values = [line.split()[1] for line in text.splitlines() if line.startswith("rtorrent_up ")]
    return values[0] if values else None


def drop(watch: Path, name: str) -> str:
    meta = make_metafile(name, size=64 << 10, seed=11)
    partial = watch / f".{name}.part"
    partial.write_bytes(meta.data)
    partial.rename(watch / f"{name}.torrent")
    return meta.info_hash


def test_jobs_survive_rtorrent_going_away_and_lose_nothing(
    rtorrent_factory: SandboxFactory, tmp_path: Path
) -> None:
    sandbox = rtorrent_factory()
    watch = tmp_path / "watch"
    watch.mkdir()
    port = free_port()
    config_dir = write_config(
        tmp_path / "cfg",
        sandbox.url,
        "[TORQUE]\n"
        "job.connstats.schedule = second=*/2\n"
        "job.queue.active = yes\n"
        "job.queue.schedule = second=*\n"
        "job.treewatch.active = yes\n"
        f"job.treewatch.path = {watch}\n"
        "job.treewatch.load_mode = start\n"
        "job.treewatch.queued = yes\n"
        "job.exporter.active = yes\n"
        f"job.exporter.port = {port}\n",
        global_extra="rpc_timeout = 5\n",
    )
    daemon = start_foreground(config_dir)
    try:
        wait_for(lambda: scrape_up(port) == "1.0", "the exporter to see rTorrent")
        before = drop(watch, "before-outage")
        wait_for(
            lambda: before in sandbox.item_hashes() and sandbox.rpc("d.state", before) == 1, "the first item"
        )

        sandbox.stop()
        wait_for(lambda: scrape_up(port) == "0.0", "the exporter to report rTorrent down")
        during = drop(watch, "during-outage")
        assert daemon.poll() is None

        sandbox.start()
        wait_for(lambda: during in sandbox.item_hashes(), "the file dropped during the outage to be loaded")
        wait_for(lambda: sandbox.rpc("d.state", during) == 1, "the queue to start it")
        wait_for(lambda: scrape_up(port) == "1.0", "the exporter to see rTorrent again")
        assert (watch / "during-outage.torrent").exists()  # loaded, never moved or deleted
        assert daemon.poll() is None
    finally:
        output = stop_foreground(daemon)

    assert daemon.returncode == 0, output
    assert "Traceback" not in output, output
