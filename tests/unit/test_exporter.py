"""The Prometheus exporter against the fake rTorrent: options, metric families, up=0, warnings, HTTP."""

from __future__ import annotations

import logging
import socket
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from pyrotorque.config import Config, build_options
from pyrotorque.config.ini import Setting
from pyrotorque.config.jobs import JobConfig
from pyrotorque.errors import ConfigError, RtorrentTimeout, TransportError
from pyrotorque.jobs.base import JobContext
from pyrotorque.jobs.exporter import ExporterOptions, RtorrentExporter
from pyrotorque.jobs.exporter.metrics import SYSTEM_METRICS, RtorrentCollector, build_groups
from tests.support.fake_rtorrent import FakeRtorrent

LOGGER = "pyrotorque.job.exporter"

#: Global values the system group tests set on the fake, so none reads as a fresh rTorrent's 0.
GLOBAL_VALUES: dict[str, int] = {
    "throttle.global_down.total": 1000,
    "throttle.global_up.total": 2000,
    "throttle.global_down.rate": 10,
    "throttle.global_up.rate": 20,
    "network.open_sockets": 7,
    "network.http.max_open": 32,  # 0.9.8
    "network.http.max_total_connections": 128,  # 0.16
}
#: pyrotorque's torque.rc defines it; rTorrent itself has no such command.
STARTUP_TIME = 1_700_000_000


def fake_rtorrent(line: str = "0.9.8") -> FakeRtorrent:
    """A fake of ``line`` with ``GLOBAL_VALUES`` (those the line has) and torque.rc's startup stamp."""
    fake = FakeRtorrent(line)
    for method, value in GLOBAL_VALUES.items():
        if method in fake.commands:
            fake.set_global(method, value)
    fake.set_global("pyrotorque.startup_time", STARTUP_TIME)
    return fake


def make_collector(
    fake: FakeRtorrent,
    groups: Sequence[str] = ("system",),
    *,
    prefix: str = "rtorrent_",
    item_stats: Sequence[str] = ("down.total", "up.total"),
    item_labels: Sequence[str] = ("hash", "name"),
    aliases: dict[str, list[str]] | None = None,
) -> RtorrentCollector:
    log = logging.getLogger(LOGGER)
    built = build_groups(
        groups, prefix, aliases=aliases or {}, item_stats=item_stats, item_labels=item_labels, log=log
    )
    return RtorrentCollector(fake.client(), prefix, built, log)


def scrape(collector: RtorrentCollector) -> dict[str, Any]:
    """The exposition text of one scrape, parsed back: family name -> family."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    text = generate_latest(registry).decode()
    return {family.name: family for family in text_string_to_metric_families(text)}


def samples(family: Any) -> list[Sample]:
    return list(family.samples)


def value_of(families: dict[str, Any], metric: str, /, **labels: str) -> float:
    (match,) = [
        s.value for s in families[metric].samples if s.labels == labels and not s.name.endswith("_created")
    ]
    return float(match)


# --- options ---------------------------------------------------------------------------------


def job_config(**params: str) -> JobConfig:
    return JobConfig(
        name="exporter",
        handler=Setting("pyrotorque.jobs.exporter:RtorrentExporter", "/cfg/torque.ini", 1),
        schedule=Setting("hour=*", "/cfg/torque.ini", 2),
        params={
            key: Setting(value, "/cfg/torque.ini", 10 + n)
            for n, key in enumerate(params)
            for value in [params[key]]
        },
    )


def test_options_defaults_follow_torque_ini() -> None:
    assert ExporterOptions() == ExporterOptions(
        addr="127.0.0.1",
        port=8000,
        jobs=("system",),
        prefix="rtorrent_",
        item_stats=("down.total", "up.total"),
        item_labels=("hash", "name"),
    )


def test_options_parse_lists() -> None:
    options = build_options(
        ExporterOptions, job_config(jobs="system, item", item_stats="size_bytes,custom=tm_loaded")
    )
    assert options.jobs == ("system", "item")
    assert options.item_stats == ("size_bytes", "custom=tm_loaded")


def test_unknown_group_is_a_config_error_naming_key_file_and_line() -> None:
    with pytest.raises(ConfigError) as caught:
        build_options(ExporterOptions, job_config(port="9100", jobs="system,trackers"))
    error = caught.value
    assert (error.key, error.path, error.line) == ("job.exporter.jobs", "/cfg/torque.ini", 11)
    assert "'trackers'" in str(error) and "system, tracker, item" in str(error)


@pytest.mark.parametrize(
    ("key", "value", "complaint"),
    [
        ("item_stats", "erase", "changes the item"),
        ("item_labels", "hash,d.hash", "same name twice"),
        ("item_stats", "custom=a/b", "Unknown field"),
        ("prefix", "rt-", "not a valid start"),
        ("port", "70000", "at most 65535"),
    ],
)
def test_bad_option_values_are_config_errors(key: str, value: str, complaint: str) -> None:
    with pytest.raises(ConfigError, match=complaint) as caught:
        build_options(ExporterOptions, job_config(**{key: value}))
    assert caught.value.key == f"job.exporter.{key}"


# --- system group ----------------------------------------------------------------------------

#: The fake's views with one stopped, incomplete item loaded.
ONE_STOPPED_ITEM = {
    "main": 1, "default": 1, "name": 1, "active": 0, "started": 0, "stopped": 1, "complete": 0,
    "incomplete": 1, "hashing": 0, "seeding": 0, "leeching": 0,
}  # fmt: skip


@pytest.mark.parametrize("line", ["0.9.8", "0.16"])
def test_system_group_names_types_and_values(line: str) -> None:
    fake = fake_rtorrent(line)
    fake.add_item("A" * 40, "one")
    families = scrape(make_collector(fake))

    assert value_of(families, "rtorrent_up") == 1
    assert families["rtorrent_scrape_duration_seconds"].type == "gauge"
    # Counters are exposed with _total; prometheus_client's parser names the family without it.
    assert families["rtorrent_downloaded_bytes"].type == "counter"
    assert value_of(families, "rtorrent_downloaded_bytes") == GLOBAL_VALUES["throttle.global_down.total"]
    assert families["rtorrent_upload_rate_bytes_per_second"].type == "gauge"
    assert value_of(families, "rtorrent_open_sockets") == 7
    http_method = "network.http.max_open" if line == "0.9.8" else "network.http.max_total_connections"
    assert value_of(families, "rtorrent_http_connections_limit") == GLOBAL_VALUES[http_method]
    # A value the test left as a fresh rTorrent answers it.
    assert value_of(families, "rtorrent_preload_min_size_bytes") == 262144
    assert value_of(families, "rtorrent_start_time_seconds") == STARTUP_TIME
    info_labels = {"client_version": fake.version, "library_version": fake.library_version}
    assert value_of(families, "rtorrent_info", **info_labels) == 1
    view_sizes = {s.labels["view"]: s.value for s in samples(families["rtorrent_view_size"])}
    assert view_sizes == ONE_STOPPED_ITEM


@pytest.mark.parametrize("line", ["0.9.8", "0.16"])
def test_system_metrics_the_server_lacks_are_left_out(line: str) -> None:
    fake = fake_rtorrent(line)
    # An rTorrent built without memory or file counters, and not run with pyrotorque's torque.rc.
    for method in ("pieces.memory.current", "system.files.opened_counter", "pyrotorque.startup_time"):
        del fake.commands[method]
    families = scrape(make_collector(fake))
    # No series that would read as a real 0.
    assert "rtorrent_memory_used_bytes" not in families
    assert "rtorrent_files_opened" not in families
    assert "rtorrent_start_time_seconds" not in families
    # network.open_files is new in 0.16; the neighbours of the removed commands are still there.
    assert ("rtorrent_open_files" in families) == (line == "0.16")
    assert value_of(families, "rtorrent_memory_blocks") == 0
    assert value_of(families, "rtorrent_files_closed") == 0


def test_an_unset_startup_stamp_is_left_out() -> None:
    fake = fake_rtorrent()
    fake.set_global("pyrotorque.startup_time", 0)
    assert "rtorrent_start_time_seconds" not in scrape(make_collector(fake))


def test_system_metric_names_are_unique_and_typed_by_their_suffix() -> None:
    names = [metric.name for metric in SYSTEM_METRICS]
    assert len(names) == len(set(names))
    for metric in SYSTEM_METRICS:
        assert (metric.kind == "counter") == metric.name.endswith("_total"), metric.name


def test_system_group_asks_view_sizes_in_the_same_request_once_it_knows_the_views() -> None:
    fake = fake_rtorrent()
    collector = make_collector(fake)
    scrape(collector)
    assert len(fake.sent()) == 2  # first scrape: the views are new
    fake.clear()
    scrape(collector)
    (request,) = fake.sent()
    assert [call for call in request.calls if call[0] == "view.size"] == [
        ("view.size", ("", view)) for view in fake.views
    ]
    fake.views.append("fresh")
    fake.clear()
    families = scrape(collector)
    assert fake.sent()[1].calls == (("view.size", ("", "fresh")),)
    assert value_of(families, "rtorrent_view_size", view="fresh") == 0


def test_a_view_that_vanished_is_left_out() -> None:
    fake = fake_rtorrent()
    collector = make_collector(fake)
    scrape(collector)
    fake.views.remove("seeding")  # its view.size in the next scrape answers a fault
    families = scrape(collector)
    assert {s.labels["view"] for s in samples(families["rtorrent_view_size"])} == set(fake.views)
    assert "seeding" not in fake.views and "main" in fake.views


def test_custom_prefix() -> None:
    families = scrape(make_collector(fake_rtorrent(), prefix="rt2_"))
    assert "rt2_up" in families and "rt2_view_size" in families
    assert not [name for name in families if name.startswith("rtorrent_")]


# --- up = 0 ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "error", [TransportError("connection refused", "scgi:///x"), RtorrentTimeout("no answer", "scgi:///x")]
)
def test_rtorrent_down_exports_only_up_and_duration(
    error: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    fake = fake_rtorrent()
    fake.down = error
    collector = make_collector(fake, ("system", "tracker", "item"))
    with caplog.at_level(logging.INFO, logger=LOGGER):
        families = scrape(collector)
        scrape(collector)
    assert set(families) == {"rtorrent_up", "rtorrent_scrape_duration_seconds"}
    assert value_of(families, "rtorrent_up") == 0
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "did not answer" in warnings[0].getMessage()

    fake.down = False
    with caplog.at_level(logging.INFO, logger=LOGGER):
        families = scrape(collector)
    assert value_of(families, "rtorrent_up") == 1
    assert "answers again" in caplog.records[-1].getMessage()
    assert (collector.scrapes, collector.failed_scrapes) == (3, 2)


def test_a_fault_leaves_out_one_group_only(caplog: pytest.LogCaptureFixture) -> None:
    fake = fake_rtorrent()
    fake.add_item("A" * 40, "one", values={"d.down.total": 5})
    fake.fail("d.multicall2", -503, "Could not find view.")
    collector = make_collector(fake, ("system", "item"))
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        families = scrape(collector)
        scrape(collector)
    assert value_of(families, "rtorrent_up") == 1
    assert "rtorrent_view_size" in families
    assert "rtorrent_item_down" not in families
    left_out = [r.getMessage() for r in caplog.records if "left out of the scrape" in r.getMessage()]
    assert len(left_out) == 1 and "Could not find view." in left_out[0]


# --- tracker group ---------------------------------------------------------------------------


def test_tracker_group_counts_items_messages_and_errors_per_alias() -> None:
    fake = fake_rtorrent()
    fake.add_item("A" * 40, "one", trackers=[("http://tracker.example.org/announce", 1)])
    fake.add_item(
        "B" * 40,
        "two",
        trackers=[("https://tr.other.net:8443/a/b/announce", 1)],
        values={"d.message": "Tried all trackers."},
    )
    fake.add_item(
        "C" * 40,
        "three",
        trackers=[("https://tr.other.net:8443/x/announce", 1)],
        values={"d.message": "Storage error: [disk full]"},
    )
    fake.add_item("D" * 40, "four")
    aliases = {"EXAMPLE": ["http://tracker.example.org/announce"]}
    families = scrape(make_collector(fake, ("tracker",), aliases=aliases))
    counts = {s.labels["alias"]: s.value for s in samples(families["rtorrent_tracker_items"])}
    messages = {s.labels["alias"]: s.value for s in samples(families["rtorrent_tracker_message_items"])}
    errors = {s.labels["alias"]: s.value for s in samples(families["rtorrent_tracker_error_items"])}
    assert counts == {"EXAMPLE": 1, "other.net": 2, "": 1}
    assert messages == {"EXAMPLE": 0, "other.net": 2, "": 0}
    assert errors == {"EXAMPLE": 0, "other.net": 1, "": 0}  # a storage error is no tracker error
    assert fake.calls() == [
        (
            "d.multicall2",
            (
                "",
                "main",
                "d.hash=",
                "d.message=",
                "d.up.total=",
                "d.down.total=",
                "t.multicall=,t.url=,t.is_enabled=",
            ),
        )
    ]


def traffic(families: dict[str, Any], direction: str) -> dict[str, float]:
    family = families[f"rtorrent_tracker_{direction}_bytes"]
    assert family.type == "counter"
    return {s.labels["alias"]: s.value for s in family.samples if s.name.endswith("_total")}


def test_tracker_traffic_per_alias_only_grows() -> None:
    fake = fake_rtorrent()
    other = [("https://tr.other.net/announce", 1)]
    fake.add_item("A" * 40, "a", trackers=other, values={"d.up.total": 100, "d.down.total": 1000})
    fake.add_item("B" * 40, "b", trackers=other, values={"d.up.total": 50, "d.down.total": 500})
    fake.add_item("C" * 40, "c", values={"d.up.total": 7, "d.down.total": 70})
    collector = make_collector(fake, ("tracker",))
    first = scrape(collector)
    assert traffic(first, "uploaded") == {"other.net": 150, "": 7}
    assert traffic(first, "downloaded") == {"other.net": 1500, "": 70}

    fake.items["A" * 40].values["d.up.total"] = 130  # a uploads 30 more
    del fake.items["B" * 40]  # b is erased: its bytes stay counted
    later = scrape(collector)
    assert traffic(later, "uploaded") == {"other.net": 180, "": 7}
    assert traffic(later, "downloaded") == {"other.net": 1500, "": 70}
    assert {s.labels["alias"]: s.value for s in samples(later["rtorrent_tracker_items"])} == {
        "other.net": 1,
        "": 1,
    }

    fake.items["C" * 40].values["d.up.total"] = 2  # its total was reset: all of it is new
    assert traffic(scrape(collector), "uploaded") == {"other.net": 180, "": 9}


# --- item group ------------------------------------------------------------------------------


def test_item_group_labels_values_and_types() -> None:
    fake = fake_rtorrent()
    hostile = 'evil"}\nrtorrent_up 0\n# '
    fake.add_item("A" * 40, hostile, [("a.bin", 300)], values={"d.down.total": 10, "d.up.total": 20})
    fake.add_item("B" * 40, "two", [("b.bin", 400)], values={"d.down.total": 11, "d.up.total": 21})
    families = scrape(make_collector(fake, ("item",), item_stats=("down.total", "up.total", "size_bytes")))
    assert families["rtorrent_item_down"].type == "counter"
    assert families["rtorrent_item_size_bytes"].type == "gauge"
    assert value_of(families, "rtorrent_item_up", hash="A" * 40, name=hostile) == 20
    assert value_of(families, "rtorrent_item_size_bytes", hash="B" * 40, name="two") == 400
    # The hostile name stayed a label value: up is still the only up series.
    assert samples(families["rtorrent_up"]) == [Sample("rtorrent_up", {}, 1.0, None, None)]


def test_items_that_left_vanish_from_the_next_scrape() -> None:
    fake = fake_rtorrent()
    fake.add_item("A" * 40, "one", values={"d.down.total": 1})
    fake.add_item("B" * 40, "two", values={"d.down.total": 2})
    collector = make_collector(fake, ("item",))
    assert {s.labels["hash"] for s in samples(scrape(collector)["rtorrent_item_down"])} == {
        "A" * 40,
        "B" * 40,
    }
    collector.client.call("d.erase", "A" * 40)
    assert {s.labels["hash"] for s in samples(scrape(collector)["rtorrent_item_down"])} == {"B" * 40}


def test_unknown_item_stats_and_labels_are_warned_about_once_and_left_out(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake = fake_rtorrent()
    fake.add_item("A" * 40, "one", values={"d.down.total": 1})
    collector = make_collector(
        fake, ("item",), item_stats=("down.total", "bogus_rate"), item_labels=("hash", "nope")
    )
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        families = scrape(collector)
        scrape(collector)
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2, messages
    assert "item_stats" in messages[0] and "'bogus_rate'" in messages[0] and "0.9.8" in messages[0]
    assert "item_labels" in messages[1] and "'nope'" in messages[1]
    assert "rtorrent_item_bogus_rate" not in families
    assert samples(families["rtorrent_item_down"])[0].labels == {"hash": "A" * 40}
    assert fake.calls()[-1] == ("d.multicall2", ("", "main", "d.hash=", "d.down.total="))


def test_item_group_rechecks_after_a_new_server_is_detected(caplog: pytest.LogCaptureFixture) -> None:
    fake = fake_rtorrent()
    collector = make_collector(fake, ("item",), item_stats=("down.total", "bogus_rate"))
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        scrape(collector)
        scrape(collector)  # the same server: no second warning
        fake.down = True  # rTorrent restarts, as another version
        scrape(collector)
        collector.client.transport = fake_rtorrent("0.16")
        scrape(collector)
    warned = [r.getMessage() for r in caplog.records if "item_stats" in r.getMessage()]
    assert len(warned) == 2, warned
    assert "rTorrent 0.9.8 " in warned[0] and "rTorrent 0.16.17 " in warned[1]


def test_non_numeric_values_leave_out_that_sample() -> None:
    fake = fake_rtorrent()
    fake.add_item("A" * 40, "one", custom={"tm_completed": "1700000000"})
    fake.add_item("B" * 40, "two", custom={"tm_completed": ""})
    fake.add_item("C" * 40, "three")  # never set: rTorrent answers ""
    families = scrape(make_collector(fake, ("item",), item_stats=("custom=tm_completed",)))
    series = samples(families["rtorrent_item_custom_tm_completed"])
    assert [(s.labels["hash"], s.value) for s in series] == [("A" * 40, 1_700_000_000)]


# --- the job and its server ------------------------------------------------------------------


def exporter(fake: FakeRtorrent, options: ExporterOptions, name: str = "exporter") -> RtorrentExporter:
    context = JobContext(
        name=name,
        client=fake.client(),
        config=Config(config_dir=Path("/nonexistent")),
        log=logging.getLogger(f"pyrotorque.job.{name}"),
    )
    return RtorrentExporter(context, options)


def http_get(port: int) -> tuple[int, str]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        return response.status, response.read().decode()


@pytest.fixture
def started() -> Iterator[Callable[..., RtorrentExporter]]:
    jobs: list[RtorrentExporter] = []

    def start(fake: FakeRtorrent, **options: Any) -> RtorrentExporter:
        job = exporter(fake, ExporterOptions(port=0, **options))
        jobs.append(job)
        job.start()
        return job

    yield start
    for job in jobs:
        job.stop()


def test_start_with_rtorrent_down_serves_up_0(started: Callable[..., RtorrentExporter]) -> None:
    fake = fake_rtorrent()
    fake.down = True
    job = started(fake)
    assert job.port
    status, text = http_get(job.port)
    assert status == 200
    families = {family.name: family for family in text_string_to_metric_families(text)}
    rtorrent = {name for name in families if not name.startswith("pyrotorque_")}
    assert rtorrent == {"rtorrent_up", "rtorrent_scrape_duration_seconds"}
    assert value_of(families, "rtorrent_up") == 0
    # The daemon's own metrics need no rTorrent: the failed request is counted there.
    assert value_of(families, "pyrotorque_rtorrent_request_errors") >= 1


def test_daemon_metrics_can_be_turned_off(started: Callable[..., RtorrentExporter]) -> None:
    with_them, without = started(fake_rtorrent()), started(fake_rtorrent(), daemon_metrics=False)
    ports = [with_them.port, without.port]
    names = [
        {family.name for family in text_string_to_metric_families(http_get(port)[1])}
        for port in ports
        if port is not None
    ]
    assert "pyrotorque_rtorrent_requests" in names[0]
    assert not any(name.startswith("pyrotorque_") for name in names[1]) and "rtorrent_up" in names[1]


def test_two_exporters_have_their_own_registries(started: Callable[..., RtorrentExporter]) -> None:
    first = started(fake_rtorrent(), prefix="one_")
    second = started(fake_rtorrent(), prefix="two_")
    assert first.port and second.port and first.port != second.port
    _, text = http_get(first.port)
    names = {family.name for family in text_string_to_metric_families(text)}
    assert "one_up" in names
    assert not [name for name in names if name.startswith(("two_", "process_", "python_"))]


def test_port_in_use_names_address_and_port() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        job = exporter(fake_rtorrent(), ExporterOptions(port=port))
        with pytest.raises(ConfigError, match=rf"cannot listen on 127\.0\.0\.1:{port}") as caught:
            job.start()
    assert caught.value.key == "job.exporter.port"
    job.stop()  # nothing started: still fine


def test_stop_frees_the_port_and_is_idempotent(started: Callable[..., RtorrentExporter]) -> None:
    job = started(fake_rtorrent())
    port = job.port
    assert port
    job.stop()
    job.stop()
    assert job.port is None
    with socket.socket() as again:
        again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        again.bind(("127.0.0.1", port))  # raises if the server still held it


def test_run_does_no_rpc(started: Callable[..., RtorrentExporter], caplog: pytest.LogCaptureFixture) -> None:
    fake = fake_rtorrent()
    job = started(fake)
    assert job.port
    http_get(job.port)
    assert fake.sent()  # the scrape asked rTorrent
    fake.clear()
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        job.run()
    assert fake.requests == []  # not even a detection
    assert "1 scrape(s) served, 0 without rTorrent" in caplog.records[-1].getMessage()
