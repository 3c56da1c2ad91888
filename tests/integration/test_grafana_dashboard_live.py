"""docs/grafana-dashboard.json against a real Prometheus (Debian's package) scraping a real daemon's
exporter beside a real rTorrent: every query of every panel returns data."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sandbox.metafiles import make_metafile
from sandbox.rtorrent import RtorrentSandbox, free_port

from tests.support.metrics_daemon import TRACKER, MetricsDaemon, drop, metrics_daemon
from tests.support.polling import wait_for

pytestmark = pytest.mark.rtorrent

DASHBOARD = Path(__file__).parents[2] / "docs" / "grafana-dashboard.json"
#: What Grafana puts in for the dashboard's variables: every instance, and the rate window it would
#: pick for a 15 s scrape interval (4 x 15 s).
VARIABLES = {"$instance": ".+", "$__rate_interval": "1m"}


def prometheus_binary() -> str:
    """/usr/bin/prometheus (scripts/ensure-prometheus.sh installs it); under CI its absence fails."""
    found = shutil.which("prometheus") or (
        "/usr/bin/prometheus" if os.path.exists("/usr/bin/prometheus") else None
    )
    if found is None:
        message = "prometheus is not installed (run scripts/ensure-prometheus.sh)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):  # as tests/conftest.py reads it
            pytest.fail(message)
        pytest.skip(message)
    return found


def dashboard_queries() -> list[tuple[str, str]]:
    """(panel title, expression) of every target of every panel, rows' panels included."""
    dashboard = json.loads(DASHBOARD.read_text())
    queries = []
    pending = list(dashboard["panels"])
    while pending:
        panel = pending.pop(0)
        pending.extend(panel.get("panels", []))
        queries += [(panel["title"], target["expr"]) for target in panel.get("targets", [])]
    return queries


def grafana_expression(expr: str) -> str:
    for name, value in VARIABLES.items():
        expr = expr.replace(name, value)
    assert "$" not in expr, f"a dashboard variable the test does not know: {expr}"
    return expr


class Prometheus:
    """A Prometheus of our own in a temp dir, scraping one target every second."""

    def __init__(self, binary: str, directory: Path, target: str) -> None:
        self.port = free_port()
        config = directory / "prometheus.yml"
        config.write_text(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
            f"scrape_configs:\n  - job_name: pyrotorque\n    static_configs:\n      - targets: ['{target}']\n"
        )
        self.process = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={directory / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--log.level=warn",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    def get(self, path: str, **params: str) -> Any:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}{query}", timeout=10) as response:
            body = response.read().decode()
        return json.loads(body) if path.startswith("/api/") else body

    def query(self, expr: str) -> list[Any]:
        answer = self.get("/api/v1/query", query=expr)
        assert answer["status"] == "success", answer
        return list(answer["data"]["result"])

    def ready(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(
                f"prometheus ended: {self.process.stderr.read() if self.process.stderr else ''}"
            )
        try:
            self.get("/-/ready")
        except OSError:
            return False
        return True

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def binary() -> str:
    """Asked before the daemon starts: a missing Prometheus skips (fails under CI) at once."""
    return prometheus_binary()


@pytest.fixture
def prometheus_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "prometheus"
    directory.mkdir()
    return directory


@pytest.fixture
def daemon(rt: RtorrentSandbox, tmp_path: Path) -> Iterator[MetricsDaemon]:
    with metrics_daemon(rt, tmp_path) as running:
        yield running


def test_every_dashboard_query_returns_data(
    binary: str, rt: RtorrentSandbox, daemon: MetricsDaemon, prometheus_dir: Path
) -> None:
    queries = dashboard_queries()
    titles = {panel["title"] for panel in json.loads(DASHBOARD.read_text())["panels"]}
    assert {"Transfer", "Queue", "Trackers", "Daemon health"} <= titles
    # Items for the tracker and queue panels: loaded by the tree watch, started by the queue.
    for index in range(2):
        meta = make_metafile(f"metrics{index}", size=16384, seed=60 + index, tracker=TRACKER)
        drop(daemon.watch, f"{meta.name}.torrent", meta.data)
    drop(daemon.watch, "broken.torrent", b"d4:infoi1ee")
    loaded = ("pyrotorque_treewatch_files_loaded_total", (("job", "treewatch"),))
    wait_for(lambda: daemon.values().get(loaded) == 2, "the tree watch to load both")

    prometheus = Prometheus(binary, prometheus_dir, f"127.0.0.1:{daemon.port}")
    try:
        wait_for(prometheus.ready, "Prometheus to be ready")
        # A few scrapes: rate() and increase() need two samples in their window.
        wait_for(
            lambda: [r for r in prometheus.query("count_over_time(rtorrent_up[1m]) >= 4")],
            "four scrapes of the exporter",
        )
        assert not prometheus.query('rtorrent_up{instance="nowhere"}')  # an empty answer is seen as such
        empty = [(title, expr) for title, expr in queries if not prometheus.query(grafana_expression(expr))]
    finally:
        prometheus.stop()
    assert len(queries) >= 20
    assert empty == [], f"queries without data: {empty}"
