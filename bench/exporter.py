"""One Prometheus scrape of the exporter's item group (and its tracker group) against the RPC floor.

The floor is one plain ``d.multicall2`` over ``main`` with exactly the commands the group sends, made
with our client; a scrape adds turning the rows into metric families and rendering the exposition
text. The collector is timed on its own (the text the server renders, and for comparison
prometheus_client's ``generate_latest`` of every sample) and as a real HTTP GET of ``/metrics``;
everything is timed round-robin so other load hits all cases alike.
"""

from __future__ import annotations

import logging
import urllib.request
from pathlib import Path

from prometheus_client import generate_latest
from sandbox.rtorrent import free_port

from bench import register
from bench.common import BenchContext, print_table, ratio_line, time_interleaved
from pyrotorque.config import Config
from pyrotorque.jobs.base import JobContext
from pyrotorque.jobs.exporter import ExporterOptions, RtorrentExporter
from pyrotorque.jobs.exporter.exposition import render_text
from pyrotorque.jobs.exporter.metrics import ITEM_VIEW, TrackerGroup
from pyrotorque.rtorrent.client import RtorrentClient


def _started_job(url: str, groups: tuple[str, ...]) -> RtorrentExporter:
    context = JobContext(
        name="exporter",
        client=RtorrentClient(url),
        config=Config(config_dir=Path("/nonexistent")),
        log=logging.getLogger("pyrotorque.job.exporter"),
    )
    # No result cache: every timed scrape must collect (the cache would serve the first one).
    job = RtorrentExporter(context, ExporterOptions(port=free_port(), jobs=groups, scrape_cache=0.0))
    job.start()
    return job


def _http_scrape(job: RtorrentExporter) -> bytes:
    with urllib.request.urlopen(f"http://127.0.0.1:{job.port}/metrics", timeout=300) as response:
        body: bytes = response.read()
    return body


@register(
    "exporter", "one scrape of the item / tracker group over all items vs. one d.multicall2 of its fields"
)
def exporter_bench(context: BenchContext) -> None:
    """Print scrape / floor ratios for the item group and the tracker group."""
    item_job = _started_job(context.url, ("item",))
    tracker_job = _started_job(context.url, ("tracker",))
    client = RtorrentClient(context.url)
    options = item_job.options
    item_commands = [f"d.{name}=" for name in (*options.item_labels, *options.item_stats)]
    tracker_commands = list(TrackerGroup.COMMANDS)
    try:
        item_registry, tracker_registry = item_job.registry, tracker_job.registry
        assert item_registry is not None and tracker_registry is not None
        timings, results = time_interleaved(
            {
                "item floor": lambda: client.d_multicall(ITEM_VIEW, item_commands),
                "item collect": lambda: render_text(item_registry),
                "item generate_latest": lambda: generate_latest(item_registry),
                "item http": lambda: _http_scrape(item_job),
                "tracker floor": lambda: client.d_multicall(ITEM_VIEW, tracker_commands),
                "tracker collect": lambda: generate_latest(tracker_registry),
                "tracker http": lambda: _http_scrape(tracker_job),
            },
            context.repeat,
        )
    finally:
        item_job.stop()
        tracker_job.stop()
    items = len(results["item floor"])
    series = results["item collect"].count(b"\nrtorrent_item_")
    print_table(
        f"exporter: one scrape over {items:,} items ({series:,} item series, "
        f"{len(results['item http']) / 1e6:.1f} MB of exposition text)",
        [
            ("item floor: one d.multicall2, same commands", timings["item floor"]),
            ("item group: collect + render (as served)", timings["item collect"]),
            ("item group: collect + generate_latest", timings["item generate_latest"]),
            ("item group: HTTP GET /metrics", timings["item http"]),
            ("tracker floor: one d.multicall2, same commands", timings["tracker floor"]),
            ("tracker group: collect + render", timings["tracker collect"]),
            ("tracker group: HTTP GET /metrics", timings["tracker http"]),
        ],
        [
            f"item commands: {', '.join(item_commands)}; tracker commands: {', '.join(tracker_commands)}",
            ratio_line("item collect / floor", timings["item collect"], timings["item floor"]),
            ratio_line("item http / floor", timings["item http"], timings["item floor"]),
            ratio_line(
                "item collect + generate_latest / floor",
                timings["item generate_latest"],
                timings["item floor"],
            ),
            ratio_line("tracker collect / floor", timings["tracker collect"], timings["tracker floor"]),
            ratio_line("tracker http / floor", timings["tracker http"], timings["tracker floor"]),
        ],
    )
