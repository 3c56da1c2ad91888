"""The tree watch's event path: how soon a metafile renamed into the tree is loaded, alone and in bursts.

The floor loads the same kind of metafiles itself, with no watcher: read the file, ``load.raw`` with the
tie command, then the same ``d.hash`` probe until the item exists; a burst goes as ``load.raw`` in
``system.multicall`` batches of 50, then one ``d.hash`` multicall. Ours is a running TreeWatch job
(its inotify thread, default settings, so each load is also announced in rTorrent's log); the time
is from the rename to the job's "Loaded" log line. Both run against the same rTorrent, with its
benchmark items loaded, one after the other; what either loads is erased again.
"""

from __future__ import annotations

import logging
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from sandbox.metafiles import Metafile, make_metafile

from bench import register
from bench.common import BenchContext
from pyrotorque.config import Config
from pyrotorque.errors import HashNotFound
from pyrotorque.jobs.base import JobContext
from pyrotorque.jobs.treewatch import TreeWatch, TreeWatchOptions
from pyrotorque.rtorrent.client import RtorrentClient

SINGLES = 25
BURST = 500
BATCH = 50
LATENCY_TARGET, P99_TARGET, BURST_TARGET = 1.1, 2.0, 0.8


class _LoadedLines(logging.Handler):
    """Records when the job logs each "Loaded 'NAME'" line."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.seen: dict[str, float] = {}
        self.changed = threading.Condition()

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith("Loaded '"):
            with self.changed:
                self.seen[message.split("'")[1]] = time.perf_counter()
                self.changed.notify_all()

    def wait(self, names: set[str], timeout: float = 120) -> float:
        """The time the last of ``names`` was logged."""
        with self.changed:
            if not self.changed.wait_for(lambda: names <= self.seen.keys(), timeout):
                raise RuntimeError(f"{len(names - self.seen.keys())} file(s) were not loaded in {timeout} s")
            return max(self.seen[name] for name in names)


def _probe(client: RtorrentClient, info_hash: str) -> None:
    pause = 0.01
    while True:
        try:
            client.call("d.hash", info_hash)
            return
        except HashNotFound:
            time.sleep(pause)
            pause = min(pause * 2, 0.2)


def _floor_one(client: RtorrentClient, path: Path, meta: Metafile) -> float:
    started = time.perf_counter()
    data = path.read_bytes()
    client.call("load.raw", "", data, f"d.tied_to_file.set={path}")
    _probe(client, meta.info_hash)
    return time.perf_counter() - started


def _floor_burst(client: RtorrentClient, paths: list[Path], metas: list[Metafile]) -> float:
    started = time.perf_counter()
    for start in range(0, len(paths), BATCH):
        calls = [
            ("load.raw", ("", path.read_bytes(), f"d.tied_to_file.set={path}"))
            for path in paths[start : start + BATCH]
        ]
        client.multicall(calls)
    missing = [meta.info_hash for meta in metas]
    while missing:
        answers = client.multicall([("d.hash", (info_hash,)) for info_hash in missing])
        missing = [h for h, answer in zip(missing, answers, strict=True) if isinstance(answer, HashNotFound)]
    return time.perf_counter() - started


def _erase(client: RtorrentClient, metas: list[Metafile]) -> None:
    for start in range(0, len(metas), BATCH):
        client.multicall([("d.erase", (meta.info_hash,)) for meta in metas[start : start + BATCH]])


class _Run:
    """A staging folder beside the watched tree (same file system: renames are atomic)."""

    def __init__(self, root: Path) -> None:
        self.staging, self.tree, self.direct = root / "staging", root / "tree", root / "direct"
        for folder in (self.staging, self.tree, self.direct):
            folder.mkdir()
        self.serial = 0

    def metafiles(self, count: int, where: Path) -> tuple[list[Path], list[Metafile]]:
        paths, metas = [], []
        for _ in range(count):
            self.serial += 1
            meta = make_metafile(f"event{self.serial:06d}", size=64 << 10, seed=7)
            path = where / f"event{self.serial:06d}.torrent"
            path.write_bytes(meta.data)
            paths.append(path)
            metas.append(meta)
        return paths, metas


def _ours(run: _Run, lines: _LoadedLines, count: int) -> tuple[float, list[Metafile]]:
    paths, metas = run.metafiles(count, run.staging)
    started = time.perf_counter()
    for path in paths:
        os.rename(path, run.tree / path.name)
    return lines.wait({meta.name for meta in metas}) - started, metas


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _measure(client: RtorrentClient, run: _Run, lines: _LoadedLines) -> dict[str, list[float]]:
    figures: dict[str, list[float]] = {"floor": [], "ours": [], "floor burst": [], "ours burst": []}
    for _ in range(SINGLES):  # alternating, so load from other processes hits both alike
        paths, metas = run.metafiles(1, run.direct)
        figures["floor"].append(_floor_one(client, paths[0], metas[0]))
        _erase(client, metas)
        took, metas = _ours(run, lines, 1)
        figures["ours"].append(took)
        _erase(client, metas)
    for _ in range(2):
        paths, metas = run.metafiles(BURST, run.direct)
        figures["floor burst"].append(BURST / _floor_burst(client, paths, metas))
        _erase(client, metas)
        took, metas = _ours(run, lines, BURST)
        figures["ours burst"].append(BURST / took)
        _erase(client, metas)
    return figures


def _report(context: BenchContext, figures: dict[str, list[float]]) -> None:
    ms: Callable[[float], str] = lambda seconds: f"{seconds * 1000:.1f} ms"  # noqa: E731
    floor_p50 = statistics.median(figures["floor"])
    ours_p50, ours_p99 = statistics.median(figures["ours"]), _percentile(figures["ours"], 0.99)
    floor_rate, ours_rate = max(figures["floor burst"]), max(figures["ours burst"])
    print(
        f"\ntree watch events: one file renamed in ({SINGLES} times), a burst of {BURST} (twice), "
        f"{context.items:,} items in rTorrent"
    )
    print(
        f"  floor: p50 {ms(floor_p50)}, p99 {ms(_percentile(figures['floor'], 0.99))}; "
        f"burst {floor_rate:.0f} files/s"
    )
    print(f"  ours:  p50 {ms(ours_p50)}, p99 {ms(ours_p99)}; burst {ours_rate:.0f} files/s")
    for name, value, target, better in (
        ("latency p50 / floor p50", ours_p50 / floor_p50, LATENCY_TARGET, "<="),
        ("latency p99 / floor p50", ours_p99 / floor_p50, P99_TARGET, "<="),
        ("burst rate / floor rate", ours_rate / floor_rate, BURST_TARGET, ">="),
    ):
        met = value <= target if better == "<=" else value >= target
        print(f"  {name} = {value:.2f}  (target {better} {target:g}: {'met' if met else 'NOT met'})")


@register("treewatch_events", "tree watch: one file's load latency and a 500-file burst vs. direct loads")
def treewatch_events_bench(context: BenchContext) -> None:
    """Time single files and bursts through a running tree watch against loading them directly."""
    client = RtorrentClient(context.url)
    client.server_info()
    lines = _LoadedLines()
    log = logging.getLogger("bench.treewatch_events")
    log.addHandler(lines)
    log.setLevel(logging.INFO)
    log.propagate = False
    with tempfile.TemporaryDirectory(prefix="pyrotorque-bench-events-") as scratch:
        root = Path(scratch)
        run = _Run(root)
        (root / "config" / "run").mkdir(parents=True)
        context_ = JobContext(
            name="treewatch",
            client=RtorrentClient(context.url),
            config=Config(config_dir=root / "config"),
            log=log,
        )
        job = TreeWatch(context_, TreeWatchOptions(path=str(run.tree)))
        job.start()
        try:
            _ours(run, lines, 1)  # warm up: the watches are in place once a file is loaded
            figures = _measure(client, run, lines)
        finally:
            job.stop()
    _report(context, figures)
