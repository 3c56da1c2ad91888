"""The exporter's daemon metrics in a real daemon beside a real rTorrent: they move when jobs run, fail,
start items and load files, and they are served while rTorrent is frozen (docs/exporter.md)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sandbox.metafiles import make_metafile
from sandbox.rtorrent import RtorrentSandbox

from tests.support.metrics_daemon import TRACKER, MetricsDaemon, drop, metrics_daemon
from tests.support.polling import wait_for

pytestmark = pytest.mark.rtorrent

Values = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def job(values: Values, metric: str, name: str, **labels: str) -> float:
    return values.get((metric, tuple(sorted({"job": name, **labels}.items()))), -1.0)


def test_daemon_metrics_move_with_the_jobs(rt: RtorrentSandbox, tmp_path: Path) -> None:
    with metrics_daemon(rt, tmp_path) as daemon:
        first = wait_for(lambda: _ticked(daemon), "every job's first tick")
        assert job(first, "pyrotorque_job_failures_total", "broken") >= 1
        assert job(first, "pyrotorque_job_failures_total", "queue") == 0
        assert job(first, "pyrotorque_treewatch_files_loaded_total", "treewatch") == 0
        assert job(first, "pyrotorque_treewatch_inotify_watches", "treewatch") == 1
        assert job(first, "pyrotorque_treewatch_files_pending", "treewatch") == 0
        assert job(first, "pyrotorque_queue_items_started_total", "queue") == 0

        metafiles = [make_metafile(f"metrics{i}", size=16384, seed=40 + i, tracker=TRACKER) for i in range(2)]
        for meta in metafiles:
            drop(daemon.watch, f"{meta.name}.torrent", meta.data)
        drop(daemon.watch, "broken.torrent", b"d4:infoi1ee")

        def moved() -> Values | None:
            now = daemon.values()
            done = (
                job(now, "pyrotorque_treewatch_files_loaded_total", "treewatch") == 2
                and job(now, "pyrotorque_treewatch_files_rejected_total", "treewatch", reason="invalid") == 1
                and job(now, "pyrotorque_queue_items_started_total", "queue") == 2
                and job(now, "pyrotorque_rule_items_total", "labeller", action="label") >= 2
            )
            return now if done else None

        later = wait_for(moved, "the loads, the starts and the labels")
        assert rt.multicall([("d.state", [meta.info_hash]) for meta in metafiles]) == [[1], [1]]
        for name in ("broken", "queue", "labeller", "exporter"):
            assert job(later, "pyrotorque_job_runs_total", name) > job(
                first, "pyrotorque_job_runs_total", name
            )
        runs, failures = (
            job(later, f"pyrotorque_job_{what}_total", "broken") for what in ("runs", "failures")
        )
        assert failures == runs  # every tick of the broken job fails
        assert (
            later[("pyrotorque_rtorrent_requests_total", ())]
            > first[("pyrotorque_rtorrent_requests_total", ())]
        )
        assert later[("pyrotorque_rtorrent_request_duration_seconds_count", ())] > 0
        end = job(later, "pyrotorque_job_last_end_timestamp_seconds", "queue")
        assert abs(end - time.time()) < 60

        # Frozen rTorrent: once the cached answer is old, the scrape answers up 0 within its deadline,
        # and still has the daemon's figures.
        rt.freeze()
        try:
            frozen = wait_for(lambda: _down(daemon), "a scrape with up 0")
        finally:
            rt.thaw()
        assert job(frozen, "pyrotorque_treewatch_files_loaded_total", "treewatch") == 2
        assert ("rtorrent_tracker_items", (("alias", "example.org"),)) not in frozen


def _down(daemon: MetricsDaemon) -> Values | None:
    values = daemon.values()
    return values if values[("rtorrent_up", ())] == 0 else None


def _ticked(daemon: MetricsDaemon) -> Values | None:
    values = daemon.values()
    names = ("broken", "queue", "labeller", "exporter")
    return values if all(job(values, "pyrotorque_job_runs_total", name) >= 1 for name in names) else None
