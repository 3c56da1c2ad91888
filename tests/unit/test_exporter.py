"""The Prometheus exporter with a fake client: options, metric families, up=0, warnings, the HTTP server."""

from __future__ import annotations

import logging
import socket
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, cast

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from pyrotorque.config import Config, build_options
from pyrotorque.config.ini import Setting
from pyrotorque.config.jobs import JobConfig
from pyrotorque.errors import ConfigError, FaultError, RtorrentTimeout, TransportError
from pyrotorque.jobs.base import JobContext
from pyrotorque.jobs.exporter import ExporterOptions, RtorrentExporter
from pyrotorque.jobs.exporter.metrics import SYSTEM_METRICS, RtorrentCollector, build_groups
from pyrotorque.rtorrent.client import RtorrentClient, ServerInfo

LOGGER = "pyrotorque.job.exporter"

VIEWS = ["main", "default", "seeding"]

#: What each global command answers in the fake; 0.9.8 and 0.16 differ in a few names.
GLOBAL_VALUES: dict[str, int] = {
    "throttle.global_down.total": 1000,
    "throttle.global_up.total": 2000,
    "throttle.global_down.rate": 10,
    "throttle.global_up.rate": 20,
    "network.open_sockets": 7,
    "network.http.max_open": 32,
    "network.http.max_total_connections": 128,
    "pyrotorque.startup_time": 1_700_000_000,
}
COMMON = frozenset(GLOBAL_VALUES) - {"network.http.max_open", "network.http.max_total_connections"}
ITEM_METHODS = frozenset(
    {"d.hash", "d.name", "d.down.total", "d.up.total", "d.size_bytes", "d.message", "d.custom", "t.url"}
)
RPC_METHODS = frozenset({"view.list", "view.size", "d.multicall2", "t.multicall", "t.is_enabled"})


def server(line: str = "0.9.8") -> ServerInfo:
    http = "network.http.max_open" if line == "0.9.8" else "network.http.max_total_connections"
    return ServerInfo(
        client_version=tuple(int(part) for part in line.split(".")),
        library_version="0.13.8" if line == "0.9.8" else line,
        methods=COMMON | ITEM_METHODS | RPC_METHODS | {http},
        protocol="xml" if line == "0.9.8" else "json",
        client_version_text=line,
    )


class FakeClient:
    """Answers system.multicall and d.multicall2 from tables; ``down`` makes every call fail."""

    def __init__(self, info: ServerInfo | None = None) -> None:
        self.info = info or server()
        self.views = list(VIEWS)
        # hash -> d.* command -> value; trackers as [[url, enabled], ...]
        self.items: dict[str, dict[str, Any]] = {}
        self.down: Exception | None = None
        self.requests: list[tuple[str, Any]] = []
        self.fault_on: str | None = None

    def add_item(
        self, info_hash: str, name: str, *, tracker: str = "", message: str = "", **values: Any
    ) -> None:
        trackers = [[tracker, 1]] if tracker else []
        self.items[info_hash] = {
            "d.hash=": info_hash,
            "d.name=": name,
            "d.message=": message,
            "t.multicall=,t.url=,t.is_enabled=": trackers,
            **{f"d.{key.replace('__', '.')}=": value for key, value in values.items()},
        }

    def server_info(self) -> ServerInfo:
        self._fail_if_down()
        return self.info

    def _fail_if_down(self) -> None:
        if self.down is not None:
            raise self.down

    def multicall(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        self._fail_if_down()
        self.requests.append(("system.multicall", [method for method, _params in calls]))
        return [self._global(method, params) for method, params in calls]

    def _global(self, method: str, params: Sequence[Any]) -> Any:
        if not self.info.has(method):
            return FaultError(-506, f"method '{method}' not defined", method)
        if method == "view.list":
            return list(self.views)
        if method == "view.size":
            if params[1] not in self.views:
                return FaultError(-503, f"Could not find view: {params[1]}", method)
            return len(self.items) if params[1] in ("main", "default") else 0
        return GLOBAL_VALUES[method]

    def d_multicall(self, view: str, commands: Sequence[str]) -> list[list[Any]]:
        self._fail_if_down()
        # The client adds the missing "=" the same way.
        commands = [command if "=" in command else f"{command}=" for command in commands]
        self.requests.append(("d.multicall2", commands))
        if self.fault_on and self.fault_on in commands:
            raise FaultError(-506, "method not defined", "d.multicall2")
        return [[item.get(command, 0) for command in commands] for item in self.items.values()]


def make_collector(
    client: FakeClient,
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
    return RtorrentCollector(cast(RtorrentClient, client), prefix, built, log)


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


@pytest.mark.parametrize("line", ["0.9.8", "0.16"])
def test_system_group_names_types_and_values(line: str) -> None:
    client = FakeClient(server(line))
    client.add_item("A" * 40, "one")
    families = scrape(make_collector(client))

    assert value_of(families, "rtorrent_up") == 1
    assert families["rtorrent_scrape_duration_seconds"].type == "gauge"
    # Counters are exposed with _total; prometheus_client's parser names the family without it.
    assert families["rtorrent_downloaded_bytes"].type == "counter"
    assert value_of(families, "rtorrent_downloaded_bytes") == GLOBAL_VALUES["throttle.global_down.total"]
    assert families["rtorrent_upload_rate_bytes_per_second"].type == "gauge"
    assert value_of(families, "rtorrent_open_sockets") == 7
    http_method = "network.http.max_open" if line == "0.9.8" else "network.http.max_total_connections"
    assert value_of(families, "rtorrent_http_connections_limit") == GLOBAL_VALUES[http_method]
    assert value_of(families, "rtorrent_start_time_seconds") == 1_700_000_000
    info_labels = {"client_version": line, "library_version": client.info.library_version}
    assert value_of(families, "rtorrent_info", **info_labels) == 1
    assert {s.labels["view"]: s.value for s in samples(families["rtorrent_view_size"])} == {
        "main": 1,
        "default": 1,
        "seeding": 0,
    }


def test_system_metrics_the_server_lacks_are_left_out() -> None:
    families = scrape(make_collector(FakeClient()))
    # The fake offers neither memory nor file counters: no series that would read as a real 0.
    assert "rtorrent_memory_used_bytes" not in families
    assert "rtorrent_files_opened" not in families
    assert "rtorrent_open_files" not in families


def test_system_metric_names_are_unique_and_typed_by_their_suffix() -> None:
    names = [metric.name for metric in SYSTEM_METRICS]
    assert len(names) == len(set(names))
    for metric in SYSTEM_METRICS:
        assert (metric.kind == "counter") == metric.name.endswith("_total"), metric.name


def test_system_group_asks_view_sizes_in_the_same_request_once_it_knows_the_views() -> None:
    client = FakeClient()
    collector = make_collector(client)
    scrape(collector)
    assert len(client.requests) == 2  # first scrape: the views are new
    client.requests.clear()
    scrape(collector)
    assert len(client.requests) == 1
    client.views.append("fresh")
    client.requests.clear()
    families = scrape(collector)
    assert [method for method in client.requests[1][1]] == ["view.size"]
    assert value_of(families, "rtorrent_view_size", view="fresh") == 0


def test_a_view_that_vanished_is_left_out() -> None:
    client = FakeClient()
    collector = make_collector(client)
    scrape(collector)
    client.views.remove("seeding")
    families = scrape(collector)
    assert {s.labels["view"] for s in samples(families["rtorrent_view_size"])} == {"main", "default"}


def test_custom_prefix() -> None:
    families = scrape(make_collector(FakeClient(), prefix="rt2_"))
    assert "rt2_up" in families and "rt2_view_size" in families
    assert not [name for name in families if name.startswith("rtorrent_")]


# --- up = 0 ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "error", [TransportError("connection refused", "scgi:///x"), RtorrentTimeout("no answer", "scgi:///x")]
)
def test_rtorrent_down_exports_only_up_and_duration(
    error: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    client = FakeClient()
    client.down = error
    collector = make_collector(client, ("system", "tracker", "item"))
    with caplog.at_level(logging.INFO, logger=LOGGER):
        families = scrape(collector)
        scrape(collector)
    assert set(families) == {"rtorrent_up", "rtorrent_scrape_duration_seconds"}
    assert value_of(families, "rtorrent_up") == 0
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "did not answer" in warnings[0].getMessage()

    client.down = None
    with caplog.at_level(logging.INFO, logger=LOGGER):
        families = scrape(collector)
    assert value_of(families, "rtorrent_up") == 1
    assert "answers again" in caplog.records[-1].getMessage()
    assert (collector.scrapes, collector.failed_scrapes) == (3, 2)


def test_a_fault_leaves_out_one_group_only(caplog: pytest.LogCaptureFixture) -> None:
    client = FakeClient()
    client.add_item("A" * 40, "one", down__total=5)
    client.fault_on = "d.down.total="
    collector = make_collector(client, ("system", "item"))
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        families = scrape(collector)
        scrape(collector)
    assert value_of(families, "rtorrent_up") == 1
    assert "rtorrent_view_size" in families
    assert "rtorrent_item_down" not in families
    assert len([r for r in caplog.records if "left out of the scrape" in r.getMessage()]) == 1


# --- tracker group ---------------------------------------------------------------------------


def test_tracker_group_counts_items_and_messages_per_alias() -> None:
    client = FakeClient()
    client.add_item("A" * 40, "one", tracker="http://tracker.example.org/announce")
    client.add_item(
        "B" * 40, "two", tracker="https://tr.other.net:8443/a/b/announce", message="Tried all trackers"
    )
    client.add_item("C" * 40, "three", tracker="https://tr.other.net:8443/x/announce")
    client.add_item("D" * 40, "four")
    aliases = {"EXAMPLE": ["http://tracker.example.org/announce"]}
    families = scrape(make_collector(client, ("tracker",), aliases=aliases))
    counts = {s.labels["alias"]: s.value for s in samples(families["rtorrent_tracker_items"])}
    messages = {s.labels["alias"]: s.value for s in samples(families["rtorrent_tracker_message_items"])}
    assert counts == {"EXAMPLE": 1, "other.net": 2, "": 1}
    assert messages == {"EXAMPLE": 0, "other.net": 1, "": 0}
    (request,) = client.requests
    assert request == ("d.multicall2", ["d.message=", "t.multicall=,t.url=,t.is_enabled="])


# --- item group ------------------------------------------------------------------------------


def test_item_group_labels_values_and_types() -> None:
    client = FakeClient()
    hostile = 'evil"}\nrtorrent_up 0\n# '
    client.add_item("A" * 40, hostile, down__total=10, up__total=20, size_bytes=300)
    client.add_item("B" * 40, "two", down__total=11, up__total=21, size_bytes=400)
    families = scrape(make_collector(client, ("item",), item_stats=("down.total", "up.total", "size_bytes")))
    assert families["rtorrent_item_down"].type == "counter"
    assert families["rtorrent_item_size_bytes"].type == "gauge"
    assert value_of(families, "rtorrent_item_up", hash="A" * 40, name=hostile) == 20
    assert value_of(families, "rtorrent_item_size_bytes", hash="B" * 40, name="two") == 400
    # The hostile name stayed a label value: up is still the only up series.
    assert samples(families["rtorrent_up"]) == [Sample("rtorrent_up", {}, 1.0, None, None)]


def test_items_that_left_vanish_from_the_next_scrape() -> None:
    client = FakeClient()
    client.add_item("A" * 40, "one", down__total=1)
    client.add_item("B" * 40, "two", down__total=2)
    collector = make_collector(client, ("item",))
    assert {s.labels["hash"] for s in samples(scrape(collector)["rtorrent_item_down"])} == {
        "A" * 40,
        "B" * 40,
    }
    del client.items["A" * 40]
    assert {s.labels["hash"] for s in samples(scrape(collector)["rtorrent_item_down"])} == {"B" * 40}


def test_unknown_item_stats_and_labels_are_warned_about_once_and_left_out(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = FakeClient()
    client.add_item("A" * 40, "one", down__total=1)
    collector = make_collector(
        client, ("item",), item_stats=("down.total", "bogus_rate"), item_labels=("hash", "nope")
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
    assert client.requests[-1] == ("d.multicall2", ["d.hash=", "d.down.total="])


def test_item_group_rechecks_after_a_new_server_is_detected(caplog: pytest.LogCaptureFixture) -> None:
    client = FakeClient()
    collector = make_collector(client, ("item",), item_stats=("down.total", "bogus_rate"))
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        scrape(collector)
        client.info = server("0.16")
        scrape(collector)
    assert len(caplog.records) == 2


def test_non_numeric_values_leave_out_that_sample() -> None:
    client = FakeClient()
    client.add_item("A" * 40, "one", custom="")
    client.items["A" * 40]["d.custom=tm_completed"] = "1700000000"
    client.add_item("B" * 40, "two")
    client.items["B" * 40]["d.custom=tm_completed"] = ""
    families = scrape(make_collector(client, ("item",), item_stats=("custom=tm_completed",)))
    assert [s.labels["hash"] for s in samples(families["rtorrent_item_custom_tm_completed"])] == ["A" * 40]


# --- the job and its server ------------------------------------------------------------------


def exporter(client: FakeClient, options: ExporterOptions, name: str = "exporter") -> RtorrentExporter:
    context = JobContext(
        name=name,
        client=cast(RtorrentClient, client),
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

    def start(client: FakeClient, **options: Any) -> RtorrentExporter:
        job = exporter(client, ExporterOptions(port=0, **options))
        jobs.append(job)
        job.start()
        return job

    yield start
    for job in jobs:
        job.stop()


def test_start_with_rtorrent_down_serves_up_0(started: Callable[..., RtorrentExporter]) -> None:
    client = FakeClient()
    client.down = TransportError("refused", "scgi:///x")
    job = started(client)
    assert job.port
    status, text = http_get(job.port)
    assert status == 200
    families = {family.name: family for family in text_string_to_metric_families(text)}
    assert set(families) == {"rtorrent_up", "rtorrent_scrape_duration_seconds"}
    assert value_of(families, "rtorrent_up") == 0


def test_two_exporters_have_their_own_registries(started: Callable[..., RtorrentExporter]) -> None:
    first = started(FakeClient(), prefix="one_")
    second = started(FakeClient(), prefix="two_")
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
        job = exporter(FakeClient(), ExporterOptions(port=port))
        with pytest.raises(ConfigError, match=rf"cannot listen on 127\.0\.0\.1:{port}") as caught:
            job.start()
    assert caught.value.key == "job.exporter.port"
    job.stop()  # nothing started: still fine


def test_stop_frees_the_port_and_is_idempotent(started: Callable[..., RtorrentExporter]) -> None:
    job = started(FakeClient())
    port = job.port
    assert port
    job.stop()
    job.stop()
    assert job.port is None
    with socket.socket() as again:
        again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        again.bind(("127.0.0.1", port))  # raises if the server still held it


def test_run_does_no_rpc(started: Callable[..., RtorrentExporter], caplog: pytest.LogCaptureFixture) -> None:
    client = FakeClient()
    job = started(client)
    assert job.port
    http_get(job.port)
    client.requests.clear()
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        job.run()
    assert client.requests == []
    assert "1 scrape(s) served, 0 without rTorrent" in caplog.records[-1].getMessage()
