"""Tree watch scans over the benchmark's 10,000 items, whose metafiles all lie in the watched tree.

* steady: the scheduled reconciliation when every file was handled before (the hourly case);
* new: a scan that meets every file for the first time (parse 10,000 metafiles, one d.hash
  multicall to see they are all loaded already, record them).

The floor is one raw ``d.multicall2`` of ``d.hash`` over the same items: what any tree watch must ask
rTorrent at least once to know what is loaded. Timed round-robin with it.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from sandbox.metafiles import make_metafile

from bench import register
from bench.common import BenchContext, print_table, ratio_line, time_interleaved
from pyrotorque.config import Config
from pyrotorque.jobs.base import JobContext
from pyrotorque.jobs.treewatch import TreeWatch, TreeWatchOptions
from pyrotorque.jobs.treewatch.state import state_path
from pyrotorque.rtorrent.client import RtorrentClient

FOLDERS = 50
#: Older than the tree watch's settle time, so no file is left for "its writer" to finish.
AN_HOUR_AGO = time.time() - 3600


def _job(client: RtorrentClient, config_dir: Path, tree: Path, name: str = "treewatch") -> TreeWatch:
    context = JobContext(
        name=name,
        client=client,
        config=Config(config_dir=config_dir),
        log=logging.getLogger("bench.treewatch"),
    )
    return TreeWatch(context, TreeWatchOptions(path=str(tree), quiet=True))


def _write_tree(tree: Path, items: int) -> None:
    """The same metafiles the sandbox loaded (same names and seed), spread over FOLDERS folders."""
    for index in range(items):
        folder = tree / f"folder{index % FOLDERS:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"bench{index:05d}.torrent"
        path.write_bytes(make_metafile(f"bench{index:05d}", size=64 << 10, seed=1).data)
        os.utime(path, (AN_HOUR_AGO, AN_HOUR_AGO))


@register(
    "treewatch", "tree watch scans (steady, all new) over 10,000 loaded metafiles vs. one d.hash multicall"
)
def treewatch_bench(context: BenchContext) -> None:
    """Time a steady scan and a first-meeting scan against the d.hash floor."""
    client = RtorrentClient(context.url)
    client.server_info()
    with tempfile.TemporaryDirectory(prefix="pyrotorque-bench-tree-") as scratch:
        root = Path(scratch)
        tree, config_dir = root / "tree", root / "config"
        tree.mkdir()
        (config_dir / "run").mkdir(parents=True)
        # A previous run that saw an empty tree: its state makes every file below "new", not "first start".
        empty_run = _job(client, config_dir, tree)
        empty_run.run()
        empty_run.stop()
        empty_state = root / "empty.state"
        shutil.copy(state_path(config_dir, "treewatch"), empty_state)
        started = time.perf_counter()
        _write_tree(tree, context.items)
        written = time.perf_counter() - started

        steady_job = _job(client, config_dir, tree)
        steady_job.run()  # meets the files once; the timed runs below find nothing to do

        def floor() -> Any:
            return client.d_multicall("main", ["d.hash"])

        def new_scan() -> None:
            shutil.copy(empty_state, state_path(config_dir, "treewatch-new"))
            job = _job(client, config_dir, tree, "treewatch-new")
            job.run()

        timings, _ = time_interleaved(
            {"floor": floor, "steady": steady_job.run, "new": new_scan}, context.repeat
        )
        steady_job.stop()
        loaded = len(client.d_multicall("main", ["d.hash"]))
        if loaded != context.items:
            raise AssertionError(f"the scans changed rTorrent: {loaded} items instead of {context.items}")
    print_table(
        f"tree watch scans: {context.items:,} metafiles in {FOLDERS} folders (written in {written:.1f} s), "
        "all loaded already",
        [
            ("floor: one d.multicall2 of d.hash", timings["floor"]),
            ("scan, every file handled before", timings["steady"]),
            ("scan, every file new (parse + check)", timings["new"]),
        ],
        [
            ratio_line("steady scan / floor", timings["steady"], timings["floor"]),
            ratio_line("new-files scan / floor", timings["new"], timings["floor"]),
        ],
    )
