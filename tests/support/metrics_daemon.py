"""A real daemon whose jobs move every daemon metric, with its exporter on a free port.

Used by the daemon metrics test and the Grafana dashboard test (Prometheus scrapes this daemon).
The jobs: the exporter, a queue, a tree watch that leaves starting to the queue, a rule that labels
items, and a job whose tick always fails (a user job on PYTHONPATH, outside our package).
"""

from __future__ import annotations

import os
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from sandbox.rtorrent import RtorrentSandbox, free_port

from tests.support.foreground import start_foreground, stop_foreground, write_config
from tests.support.polling import wait_for

BROKEN = '''
from pyrotorque import Job


class Broken(Job):
    """A job with a bug in its tick."""

    def run(self) -> None:
        raise ZeroDivisionError("bug in the tick")
'''

TRACKER = "http://tracker.example.org:6969/announce"


@dataclass
class MetricsDaemon:
    """The running daemon, its exporter's port and its watch tree."""

    process: subprocess.Popen[str]
    port: int
    watch: Path

    def text(self) -> str:
        """One scrape of the exporter, as exposition text."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=30) as response:
            assert response.status == 200
            return str(response.read().decode())

    def values(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        """One scrape: (sample name, sorted labels) -> value."""
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(self.text())
            for sample in family.samples
        }


def drop(watch: Path, name: str, data: bytes) -> None:
    """Move a finished metafile into the tree (old enough that the watch need not wait for a writer)."""
    temporary = watch.parent / f"{name}.part"
    temporary.write_bytes(data)
    old = time.time() - 60
    os.utime(temporary, (old, old))
    os.replace(temporary, watch / name)


def _torque(port: int, watch: Path) -> str:
    return (
        "[TORQUE]\n"
        "job.connstats.active = no\n"
        "job.exporter.active = yes\n"
        f"job.exporter.port = {port}\n"
        "job.exporter.jobs = system, tracker, item\n"
        "job.exporter.schedule = second=*\n"
        "job.queue.active = yes\n"
        "job.queue.schedule = second=*\n"
        "job.queue.start_at_once = 5\n"
        "job.treewatch.active = yes\n"
        f"job.treewatch.path = {watch}\n"
        "job.treewatch.queued = yes\n"
        "job.treewatch.load_mode = start\n"
        "job.broken.handler = metricsjobs.broken:Broken\n"
        "job.broken.schedule = second=*\n"
        "job.labeller.handler = Action\n"
        "job.labeller.schedule = second=*\n"
        "job.labeller.condition = name=metrics*\n"
        "job.labeller.action = label=seen\n"
    )


@contextmanager
def metrics_daemon(rt: RtorrentSandbox, root: Path) -> Iterator[MetricsDaemon]:
    """Start the daemon (``pyrotorque --fg``) beside ``rt``; stop it after the block."""
    package = root / "userpkg" / "metricsjobs"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "broken.py").write_text(BROKEN)
    watch = root / "watch"
    watch.mkdir()
    port = free_port()
    config_dir = write_config(root / "cfg", rt.url, _torque(port, watch), "rpc_timeout = 5\n")
    old_path = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(package.parent), old_path]))
    try:
        process = start_foreground(config_dir)
    finally:
        if old_path is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = old_path
    daemon = MetricsDaemon(process, port, watch)
    try:
        wait_for(lambda: _answers(daemon), "the exporter to answer")
        yield daemon
    finally:
        print(stop_foreground(process))  # shown by pytest when the test failed


def _answers(daemon: MetricsDaemon) -> bool:
    if daemon.process.poll() is not None:
        raise AssertionError(f"the daemon ended with {daemon.process.returncode}")
    try:
        daemon.text()
    except OSError:
        return False
    return True
