"""The Prometheus exporter against a real rTorrent: scrape its HTTP endpoint and check real values."""

from __future__ import annotations

import logging
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sandbox.metafiles import make_metafile
from sandbox.rtorrent import RtorrentSandbox, SandboxFactory, free_port

from pyrotorque.config import Config
from pyrotorque.config.ini import Setting
from pyrotorque.jobs.base import JobContext
from pyrotorque.jobs.exporter import ExporterOptions, RtorrentExporter
from pyrotorque.rtorrent.client import RtorrentClient

LOGGER = "pyrotorque.job.exporter"
EXAMPLE = "http://tracker.example.org:6969/announce"
OTHER = "https://tr.other.net:8443/a/announce"
ALL_GROUPS = ("system", "tracker", "item")


def exporter_for(url: str, **options: Any) -> RtorrentExporter:
    announce = {"example": Setting(EXAMPLE, "/cfg/config.ini", 3)}
    context = JobContext(
        name="exporter",
        client=RtorrentClient(url),
        config=Config(config_dir=Path("/nonexistent"), sections={"announce": announce}),
        log=logging.getLogger(LOGGER),
    )
    # No result cache unless a test asks: these tests look at each change in rTorrent at once.
    options.setdefault("scrape_cache", 0.0)
    return RtorrentExporter(context, ExporterOptions(port=free_port(), **options))


def start(exporters: list[RtorrentExporter], url: str, **options: Any) -> RtorrentExporter:
    job = exporter_for(url, **options)
    exporters.append(job)
    job.start()
    return job


def scrape(job: RtorrentExporter) -> dict[str, Any]:
    """GET /metrics over HTTP and parse the exposition text: family name -> family."""
    with urllib.request.urlopen(f"http://127.0.0.1:{job.options.port}/metrics", timeout=30) as response:
        assert response.status == 200
        text = response.read().decode()
    return {family.name: family for family in text_string_to_metric_families(text)}


def by_label(families: dict[str, Any], name: str, label: str) -> dict[str, float]:
    return {sample.labels[label]: sample.value for sample in families[name].samples}


def single(families: dict[str, Any], name: str) -> float:
    (sample,) = [s for s in families[name].samples if not s.name.endswith("_created")]
    return float(sample.value)


def test_scrape_reports_real_values_and_forgets_erased_items(
    rt: RtorrentSandbox, exporters: list[RtorrentExporter]
) -> None:
    metafiles = [make_metafile(f"ex{i}", size=(i + 1) * 16384, seed=i, tracker=EXAMPLE) for i in range(3)]
    metafiles += [make_metafile(f"other{i}", size=32768, seed=10 + i, tracker=OTHER) for i in range(2)]
    hashes = rt.load_metafiles(metafiles)
    rt.rpc("d.message.set", hashes[3], 'Tracker: [Failure reason "unregistered"]')
    job = start(exporters, rt.url, jobs=ALL_GROUPS, item_stats=("size_bytes", "up.total"))

    families = scrape(job)
    assert single(families, "rtorrent_up") == 1
    assert by_label(families, "rtorrent_view_size", "view")["main"] == len(hashes)
    assert by_label(families, "rtorrent_view_size", "view")["started"] == 0
    (info,) = families["rtorrent_info"].samples
    assert info.labels == {
        "client_version": rt.rpc("system.client_version", ""),
        "library_version": rt.rpc("system.library_version", ""),
    }
    assert single(families, "rtorrent_open_sockets_limit") == rt.rpc("network.max_open_sockets", "")
    assert single(families, "rtorrent_memory_limit_bytes") == rt.rpc("pieces.memory.max", "")
    assert single(families, "rtorrent_start_time_seconds") == rt.rpc("pyrotorque.startup_time", "")
    assert families["rtorrent_uploaded_bytes"].type == "counter"
    assert single(families, "rtorrent_uploaded_bytes") == rt.rpc("throttle.global_up.total", "")
    # Named differently on the two lines (network.http.max_open / max_total_connections): present on both.
    assert single(families, "rtorrent_http_connections_limit") > 0

    assert by_label(families, "rtorrent_tracker_items", "alias") == {"example": 3, "other.net": 2}
    assert by_label(families, "rtorrent_tracker_message_items", "alias") == {"example": 0, "other.net": 1}
    assert by_label(families, "rtorrent_tracker_error_items", "alias") == {"example": 0, "other.net": 1}
    # Traffic per alias: counters that add up the items' own totals (no peers here: rTorrent's zeros).
    for direction, command in (("uploaded", "d.up.total"), ("downloaded", "d.down.total")):
        family = families[f"rtorrent_tracker_{direction}_bytes"]
        assert family.type == "counter"
        totals = {s.labels["alias"]: s.value for s in family.samples if s.name.endswith("_total")}
        answers = rt.multicall([(command, [info_hash]) for info_hash in hashes])
        expected = {
            "example": float(sum(answer[0] for answer in answers[:3])),
            "other.net": float(sum(answer[0] for answer in answers[3:])),
        }
        assert totals == expected

    sizes = {
        s.labels["hash"]: (s.labels["name"], s.value) for s in families["rtorrent_item_size_bytes"].samples
    }
    assert sizes == {
        info_hash: (meta.name, meta.size) for info_hash, meta in zip(hashes, metafiles, strict=True)
    }
    assert families["rtorrent_item_up"].type == "counter"
    assert {
        s.labels["hash"] for s in families["rtorrent_item_up"].samples if s.name.endswith("_total")
    } == set(hashes)

    rt.erase_all()
    families = scrape(job)
    assert single(families, "rtorrent_up") == 1
    assert by_label(families, "rtorrent_view_size", "view")["main"] == 0
    assert by_label(families, "rtorrent_tracker_items", "alias") == {}
    # The traffic counters keep what the erased items moved.
    assert set(by_label(families, "rtorrent_tracker_uploaded_bytes", "alias")) == {"example", "other.net"}
    for name in ("rtorrent_item_size_bytes", "rtorrent_item_up"):
        assert name not in families or not families[name].samples


def test_up_follows_rtorrent_and_the_job_starts_while_it_is_down(
    rtorrent_factory: SandboxFactory, exporters: list[RtorrentExporter], caplog: pytest.LogCaptureFixture
) -> None:
    private = rtorrent_factory()
    private.load_items(2, prefix="up", seed=5)
    private.stop()
    job = start(exporters, private.url, jobs=ALL_GROUPS)  # must not need rTorrent

    families = scrape(job)
    rtorrent = {name for name in families if not name.startswith("pyrotorque_")}
    assert rtorrent == {"rtorrent_up", "rtorrent_scrape_duration_seconds"}
    assert single(families, "rtorrent_up") == 0
    assert single(families, "pyrotorque_rtorrent_request_errors") >= 1  # served with rTorrent down

    private.start()
    families = scrape(job)
    assert single(families, "rtorrent_up") == 1
    assert by_label(families, "rtorrent_view_size", "view")["main"] == 2

    private.stop()
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        families = scrape(job)
    assert single(families, "rtorrent_up") == 0
    assert "rtorrent_view_size" not in families
    assert any("did not answer" in record.getMessage() for record in caplog.records)

    private.start()
    assert single(scrape(job), "rtorrent_up") == 1


def test_unknown_item_stats_are_warned_about_and_labels_can_be_customs(
    rt: RtorrentSandbox, exporters: list[RtorrentExporter], caplog: pytest.LogCaptureFixture
) -> None:
    hashes = rt.load_items(2, prefix="cu", seed=7, commands=["d.custom1.set=shelf"])
    job = start(
        exporters,
        rt.url,
        jobs=("item",),
        item_stats=("size_bytes", "no_such_stat"),
        item_labels=("hash", "custom1", "custom=tm_loaded"),
    )
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        families = scrape(job)
    warnings = [record.getMessage() for record in caplog.records if record.name == LOGGER]
    assert len(warnings) == 1 and "'no_such_stat'" in warnings[0] and "item_stats" in warnings[0]
    samples = families["rtorrent_item_size_bytes"].samples
    assert {s.labels["hash"] for s in samples} == set(hashes)
    loaded = rt.rpc("d.custom", hashes[0], "tm_loaded")
    for sample in samples:
        assert sample.labels["custom1"] == "shelf"
        assert set(sample.labels) == {"hash", "custom1", "custom_tm_loaded"}
    assert any(s.labels["custom_tm_loaded"] == loaded for s in samples)
    assert "rtorrent_item_no_such_stat" not in families


def test_two_exporters_serve_side_by_side(rt: RtorrentSandbox, exporters: list[RtorrentExporter]) -> None:
    rt.load_items(1, prefix="two", seed=9)
    first = start(exporters, rt.url)
    second = start(exporters, rt.url, prefix="second_", jobs=("tracker",))
    first_names, second_names = set(scrape(first)), set(scrape(second))
    assert "rtorrent_view_size" in first_names and not any(n.startswith("second_") for n in first_names)
    assert {name for name in second_names if not name.startswith("pyrotorque_")} == {
        "second_up",
        "second_scrape_duration_seconds",
        "second_tracker_items",
        "second_tracker_message_items",
        "second_tracker_error_items",
        "second_tracker_uploaded_bytes",
        "second_tracker_downloaded_bytes",
    }
    assert not any(name.startswith(("process_", "python_")) for name in first_names | second_names)
