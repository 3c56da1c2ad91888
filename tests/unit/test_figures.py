"""The daemon's figures (pyrotorque/figures.py), the jobs that count them, the exporter that serves them."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sandbox.metafiles import make_metafile

from pyrotorque.errors import TransportError
from pyrotorque.figures import (
    JOB_FAILURES,
    JOB_LAST_DURATION,
    JOB_LAST_END,
    JOB_LAST_SUCCESS,
    JOB_RUNNING,
    JOB_RUNS,
    QUEUE_STARTED,
    RULE_ITEM_FAILURES,
    RULE_ITEMS,
    TREEWATCH_LOADED,
    TREEWATCH_PENDING,
    TREEWATCH_REJECTED,
    TREEWATCH_WATCHES,
    DaemonFigures,
    FanOut,
    Snapshot,
)
from pyrotorque.jobs.exporter.daemon_group import DaemonGroup
from pyrotorque.jobs.exporter.metrics import RtorrentCollector, build_groups
from pyrotorque.jobs.runner import TickRunner
from pyrotorque.rtorrent.stats import ClientStats
from pyrotorque.tick_outcomes import ERROR, OK, UNREACHABLE
from tests.support.fake_rtorrent import FakeRtorrent
from tests.support.polling import wait_for
from tests.unit import test_action_job as actions
from tests.unit import test_queue as queues
from tests.unit.test_treewatch import Harness


class Clocks:
    """Wall and monotonic time that move only when told."""

    def __init__(self) -> None:
        self.wall, self.mono = 1_800_000_000.0, 100.0

    def figures(self) -> DaemonFigures:
        return DaemonFigures(clock=lambda: self.wall, monotonic=lambda: self.mono)


def test_ticks_count_runs_failures_and_the_last_duration_and_end() -> None:
    clocks = Clocks()
    figures = clocks.figures()
    figures.tick_started("queue")
    assert figures.snapshot()[JOB_RUNNING] == {("queue",): 1.0}
    clocks.mono += 0.25
    clocks.wall += 1
    figures.tick_ended("queue", OK)
    figures.tick_started("queue")
    clocks.mono += 2.0
    clocks.wall += 5
    figures.tick_ended("queue", UNREACHABLE, "connection refused")
    values = figures.snapshot()
    assert values[JOB_RUNS] == {("queue",): 2.0}
    assert values[JOB_FAILURES] == {("queue",): 1.0}
    assert values[JOB_LAST_DURATION] == {("queue",): 2.0}
    assert values[JOB_LAST_END] == {("queue",): 1_800_000_006.0}
    assert values[JOB_LAST_SUCCESS] == {("queue",): 1_800_000_001.0}
    assert values[JOB_RUNNING] == {("queue",): 0.0}


def test_a_job_that_never_failed_has_a_failures_series_at_zero() -> None:
    figures = Clocks().figures()
    figures.tick_started("stats")
    figures.tick_ended("stats", OK)
    assert figures.snapshot()[JOB_FAILURES] == {("stats",): 0.0}


def test_the_tick_runner_feeds_the_figures_and_the_board_alike() -> None:
    figures = Clocks().figures()

    class Board:
        def __init__(self) -> None:
            self.ended: list[tuple[str, str]] = []

        def tick_started(self, name: str) -> None:
            pass

        def tick_ended(self, name: str, outcome: str, error: str | None = None) -> None:
            self.ended.append((name, outcome))

    board = Board()

    def broken() -> None:
        raise ValueError("a bug")

    log = logging.getLogger("pyrotorque.test.figures")
    TickRunner("bad", broken, log, observer=FanOut(board, figures, None))()
    TickRunner("good", lambda: None, log, observer=FanOut(board, figures))()
    assert board.ended == [("bad", ERROR), ("good", OK)]
    values = figures.snapshot()
    assert values[JOB_RUNS] == {("bad",): 1.0, ("good",): 1.0}
    assert values[JOB_FAILURES] == {("bad",): 1.0, ("good",): 0.0}


def test_probes_are_read_at_snapshot_time_and_a_broken_one_is_left_out() -> None:
    figures = Clocks().figures()
    pending = [3]
    figures.probe(TREEWATCH_PENDING, ("tw",), lambda: pending[0])
    figures.probe(TREEWATCH_WATCHES, ("tw",), lambda: 1 // 0)
    pending[0] = 5
    values = figures.snapshot()
    assert values[TREEWATCH_PENDING] == {("tw",): 5.0}
    assert values[TREEWATCH_WATCHES] == {}
    figures.probe(TREEWATCH_PENDING, ("tw",), None)
    assert figures.snapshot()[TREEWATCH_PENDING] == {}


def test_keep_jobs_drops_the_gauges_of_jobs_gone_but_keeps_counters() -> None:
    figures = Clocks().figures()
    for name in ("old", "new"):
        figures.tick_started(name)
        figures.tick_ended(name, OK)
    figures.keep_jobs(["new"])
    values = figures.snapshot()
    assert set(values[JOB_LAST_END]) == {("new",)}
    assert set(values[JOB_RUNS]) == {("old",), ("new",)}


def parse(text: str) -> dict[str, dict[tuple[str, tuple[tuple[str, str], ...]], float]]:
    """Exposition text as family -> (sample name, labels) -> value."""
    families: dict[str, dict[tuple[str, tuple[tuple[str, str], ...]], float]] = {}
    for family in text_string_to_metric_families(text):
        families[family.name] = {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value for sample in family.samples
        }
    return families


def render(collector: object) -> dict[str, dict[tuple[str, tuple[tuple[str, str], ...]], float]]:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)  # type: ignore[arg-type]
    return parse(generate_latest(registry).decode())


def test_the_daemon_group_names_types_and_connection_figures() -> None:
    clocks = Clocks()
    figures = clocks.figures()
    figures.tick_started("queue")
    clocks.mono += 0.5
    figures.tick_ended("queue", OK)
    figures.add(QUEUE_STARTED, ("queue",), 2)
    figures.add(RULE_ITEMS, ("rule", "stop"), 3)
    stats = ClientStats()
    stats.record(100, 400, 0.25)
    stats.record(100, 600, 0.75)
    stats.record_failure(50)
    text = generate_latest(_registry(DaemonGroup(figures, stats))).decode()
    assert "# TYPE pyrotorque_job_runs_total counter" in text
    assert "# TYPE pyrotorque_job_last_duration_seconds gauge" in text
    assert "# TYPE pyrotorque_rtorrent_request_duration_seconds summary" in text
    families = parse(text)
    assert families["pyrotorque_job_runs"] == {("pyrotorque_job_runs_total", (("job", "queue"),)): 1.0}
    assert families["pyrotorque_job_last_duration_seconds"] == {
        ("pyrotorque_job_last_duration_seconds", (("job", "queue"),)): 0.5
    }
    started = families["pyrotorque_queue_items_started"]
    assert started[("pyrotorque_queue_items_started_total", (("job", "queue"),))] == 2.0
    rules = families["pyrotorque_rule_items"]
    assert rules[("pyrotorque_rule_items_total", (("action", "stop"), ("job", "rule")))] == 3.0
    assert families["pyrotorque_rtorrent_requests"][("pyrotorque_rtorrent_requests_total", ())] == 3.0
    errors = families["pyrotorque_rtorrent_request_errors"]
    assert errors[("pyrotorque_rtorrent_request_errors_total", ())] == 1.0
    latency = families["pyrotorque_rtorrent_request_duration_seconds"]
    assert latency[("pyrotorque_rtorrent_request_duration_seconds_count", ())] == 2.0
    assert latency[("pyrotorque_rtorrent_request_duration_seconds_sum", ())] == 1.0
    sent = families["pyrotorque_rtorrent_sent_bytes"]
    assert sent[("pyrotorque_rtorrent_sent_bytes_total", ())] == 250.0
    # No series yet, no family: a figure nobody counted is not served.
    assert "pyrotorque_treewatch_files_loaded" not in families


def _registry(group: DaemonGroup) -> CollectorRegistry:
    class Adapter:
        def collect(self) -> object:
            return group.collect()

    registry = CollectorRegistry(auto_describe=False)
    registry.register(Adapter())  # type: ignore[arg-type]
    return registry


def test_with_rtorrent_down_the_scrape_still_has_the_daemon_metrics() -> None:
    fake = FakeRtorrent()
    fake.down = True
    figures = Clocks().figures()
    figures.tick_started("queue")
    figures.tick_ended("queue", UNREACHABLE, "down")
    client = fake.client()
    log = logging.getLogger("pyrotorque.test.figures")
    groups = build_groups(["system"], "rtorrent_", aliases={}, item_stats=(), item_labels=(), log=log)
    collector = RtorrentCollector(client, "rtorrent_", groups, log, daemon=DaemonGroup(figures, client.stats))
    families = render(collector)
    assert families["rtorrent_up"][("rtorrent_up", ())] == 0.0
    assert families["pyrotorque_job_failures"][("pyrotorque_job_failures_total", (("job", "queue"),))] == 1
    errors = families["pyrotorque_rtorrent_request_errors"][("pyrotorque_rtorrent_request_errors_total", ())]
    assert errors >= 1
    assert {name for name in families if name.startswith("rtorrent_")} == {
        "rtorrent_up",
        "rtorrent_scrape_duration_seconds",
    }


# --- the jobs' counters -----------------------------------------------------------------------------


def test_the_queue_counts_the_items_it_started() -> None:
    fake = queues.rtorrent([{"d.name": "one"}, {"d.name": "two"}, {"d.name": "three"}])
    job = queues.queue(fake, start_at_once=2)
    job.start()
    assert job.context.figures.snapshot()[QUEUE_STARTED] == {("queue",): 0.0}
    job.run()
    assert job.context.figures.snapshot()[QUEUE_STARTED] == {("queue",): 2.0}


def test_a_rule_counts_items_acted_on_and_refused_per_action() -> None:
    fake = actions.rtorrent(
        [{"name": "a", "d.complete": 1, "d.state": 1}, {"name": "b", "d.complete": 1, "d.state": 1}]
    )
    fake.fail("d.stop", -501, "refused", target=actions.h(1))
    job = actions.action(fake, condition="is_complete=yes", action="stop")
    job.run()
    values = job.context.figures.snapshot()
    assert values[RULE_ITEMS] == {("rule", "stop"): 1.0}
    assert values[RULE_ITEM_FAILURES] == {("rule", "stop"): 1.0}


def test_the_tree_watch_counts_loads_rejections_pending_files_and_watches(tmp_path: Path) -> None:
    fake = FakeRtorrent()
    harness = Harness(tmp_path, fake)
    (harness.tree / "sub").mkdir()
    job = harness.job
    harness.write("sub/good.torrent", make_metafile("good").data)
    harness.write("broken.torrent", b"d4:infoi1ee")
    job.run()
    fake.down = True
    harness.write("later.torrent", make_metafile("later").data)
    with pytest.raises(TransportError):
        job.run()
    figures = job.context.figures
    values: Snapshot = figures.snapshot()
    assert values[TREEWATCH_LOADED] == {("treewatch",): 1.0}
    assert values[TREEWATCH_REJECTED] == {("treewatch", "invalid"): 1.0}
    assert values[TREEWATCH_PENDING] == {}  # a job not started serves no gauge
    job.start()  # the inotify thread, still without rTorrent
    try:
        wait_for(lambda: figures.snapshot()[TREEWATCH_WATCHES] == {("treewatch",): 2.0}, "two watches")
        values = figures.snapshot()
        assert values[TREEWATCH_PENDING] == {("treewatch",): 1.0}
        # Started, every reason has a series (at 0 for those not seen yet).
        assert values[TREEWATCH_REJECTED] == {
            ("treewatch", "invalid"): 1.0,
            ("treewatch", "too_big"): 0.0,
            ("treewatch", "not_loaded"): 0.0,
        }
    finally:
        job.stop()
    assert figures.snapshot()[TREEWATCH_WATCHES] == {}
