"""The item group's own text rendering gives exactly prometheus_client's generate_latest output."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.openmetrics.exposition import generate_latest as _untyped_openmetrics_latest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.utils import floatToGoString as _untyped_float_to_go_string

from pyrotorque.jobs.exporter.exposition import render, render_openmetrics, render_text
from pyrotorque.jobs.exporter.families import MetricKind, number
from pyrotorque.jobs.exporter.item_table import ItemFamily, ItemTable, go_float
from tests.unit.test_exporter import fake_rtorrent, make_collector

floatToGoString: Callable[[float], str] = _untyped_float_to_go_string
openmetrics_latest: Callable[..., bytes] = _untyped_openmetrics_latest
ESCAPINGS = ("underscores", "allow-utf-8")

HOSTILE_NAMES = [
    'evil"}\nrtorrent_up 0\n# ',
    "back\\slash\\",
    'quote"in"side',
    "new\nline\n",
    "ünïcödé ☃ 名前 \U0001f600",
    "",
    "\\n literally",
    "# HELP x y",
]


class Listed:
    """Families, as a collector."""

    def __init__(self, families: Sequence[Metric]) -> None:
        self.families = list(families)

    def collect(self) -> list[Metric]:
        return self.families


def item_families(
    label_names: Sequence[str], stats: Sequence[tuple[str, MetricKind]], rows: list[list[Any]]
) -> list[Metric]:
    table = ItemTable(label_names, rows)
    return [
        ItemFamily(name, f"d.{name}= per item", kind, table, column)
        for column, (name, kind) in enumerate(stats, start=len(label_names))
    ]


def reference_families(
    label_names: Sequence[str], stats: Sequence[tuple[str, MetricKind]], rows: list[list[Any]]
) -> list[Metric]:
    """The same data through prometheus_client's own family classes, as the item group built it before."""
    families: list[Metric] = []
    width = len(label_names)
    for column, (name, kind) in enumerate(stats, start=width):
        family_type = CounterMetricFamily if kind == "counter" else GaugeMetricFamily
        family = family_type(name, f"d.{name}= per item", labels=label_names)
        for row in rows:
            value = number(row[column])
            if value is not None:
                family.add_metric(["" if cell is None else str(cell) for cell in row[:width]], value)
        families.append(family)
    return families


# --- numbers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        0,
        1,
        9,
        10,
        999_999,
        1_000_000,
        1_000_001,
        1_234_567,
        10_000_000,
        123_456_789_012,
        2**53 - 1,
        2**53,
        2**53 + 1,
        10**16,
        10**17 + 3,
        2**64,
        -1,
        -1_000_000,
        -(2**53) - 1,
        True,
        False,
        0.5,
        1e6,
        1.5e7,
        -0.0,
        1e-7,
        math.inf,
        -math.inf,
        math.nan,
        "17",
        "1e6",
        "",
        "abc",
        None,
        [1],
    ],
)
def test_go_float_is_float_to_go_string_of_the_number(value: Any) -> None:
    as_number = number(value)
    assert go_float(value) == (None if as_number is None else floatToGoString(as_number))


@given(st.integers(min_value=-(2**70), max_value=2**70))
def test_go_float_of_any_int(value: int) -> None:
    assert go_float(value) == floatToGoString(float(value))


@given(st.integers(min_value=2**53 - 10**6, max_value=2**53 + 10**6))
def test_go_float_of_ints_near_the_exact_limit(value: int) -> None:
    assert go_float(value) == floatToGoString(float(value))


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_go_float_of_any_float(value: float) -> None:
    assert go_float(value) == floatToGoString(value)


# --- families --------------------------------------------------------------------------------

STATS: list[tuple[str, MetricKind]] = [
    ("rtorrent_item_down_total", "counter"),
    ("rtorrent_item_size_bytes", "gauge"),
    ("rtorrent_item_custom_x", "gauge"),
]


def hostile_rows() -> list[list[Any]]:
    rows: list[list[Any]] = []
    for index, name in enumerate(HOSTILE_NAMES):
        info_hash = f"{index:040X}"
        rows.append([info_hash, name, index * 1_234_567, 2**53 + index, str(index)])
    rows.append(["F" * 40, None, True, 0.25, ""])  # a missing label, a bool, a float, a non-number
    rows.append(["E" * 40, 'x"y', 10**20, -5, "nan"])
    return rows


@pytest.mark.parametrize("escaping", ESCAPINGS)
@pytest.mark.parametrize(
    "label_names",
    [("hash", "name"), ("name", "hash"), (), ("hash",), ("name", "name"), ("zeta", "alpha")],
    ids=lambda names: ",".join(names) or "none",
)
def test_item_text_is_generate_latest_of_the_same_data(label_names: tuple[str, ...], escaping: str) -> None:
    rows = [row[: len(label_names)] + row[2:] for row in hostile_rows()]
    reference = Listed(reference_families(label_names, STATS, rows))
    families = item_families(label_names, STATS, rows)
    expected = generate_latest(reference, escaping=escaping)
    assert render_text(Listed(families), escaping) == expected
    # The families' samples (what every other encoder reads) are the reference's too.
    assert generate_latest(Listed(families), escaping=escaping) == expected
    expected_om = openmetrics_latest(reference, escaping=escaping, version="1.0.0")
    assert render_openmetrics(Listed(families), escaping) == expected_om
    assert openmetrics_latest(Listed(families), escaping=escaping, version="1.0.0") == expected_om


@pytest.mark.parametrize("prefix", ["pyro:torrent_", "rtorrent_"])
def test_names_that_need_escaping_are_left_to_prometheus_client(prefix: str) -> None:
    stats: list[tuple[str, MetricKind]] = [
        (f"{prefix}item_up_total", "counter"),
        (f"{prefix}item_ratio", "gauge"),
    ]
    label_names = ("hash", "1st") if prefix == "rtorrent_" else ("hash", "name")
    rows = [[f"{index:040X}", name, index, index / 3] for index, name in enumerate(HOSTILE_NAMES)]
    reference = Listed(reference_families(label_names, stats, rows))
    families = item_families(label_names, stats, rows)
    assert not any(isinstance(family, ItemFamily) and family.plain_names() for family in families)
    for escaping in (*ESCAPINGS, "dots", "values"):
        if escaping in ESCAPINGS:
            assert render_text(Listed(families), escaping) == generate_latest(reference, escaping=escaping)
            assert render_openmetrics(Listed(families), escaping) == openmetrics_latest(
                reference, escaping=escaping, version="1.0.0"
            )
        else:
            with pytest.raises(ValueError, match="escaping"):
                render_text(Listed(families), escaping)


def test_item_text_parses_back_to_the_same_series() -> None:
    rows = [row[:2] + row[2:4] for row in hostile_rows()]
    stats = STATS[:2]
    text = render_text(Listed(item_families(("hash", "name"), stats, rows))).decode()
    parsed = {family.name: family for family in text_string_to_metric_families(text)}
    assert parsed["rtorrent_item_down"].type == "counter"
    assert parsed["rtorrent_item_size_bytes"].type == "gauge"
    down = {sample.labels["hash"]: sample for sample in parsed["rtorrent_item_down"].samples}
    for index, name in enumerate(HOSTILE_NAMES):
        assert down[f"{index:040X}"].labels["name"] == name
        assert down[f"{index:040X}"].value == index * 1_234_567
    assert down["F" * 40].labels["name"] == "" and down["F" * 40].value == 1.0  # no name, a bool
    sizes = [sample.value for sample in parsed["rtorrent_item_size_bytes"].samples]
    assert sizes[: len(HOSTILE_NAMES)] == [float(2**53 + index) for index in range(len(HOSTILE_NAMES))]
    assert sizes[-2:] == [0.25, -5.0]


@given(
    st.lists(
        st.tuples(st.text(), st.text(), st.integers(min_value=-(2**60), max_value=2**60) | st.floats()),
        max_size=20,
    )
)
def test_item_text_matches_for_any_labels_and_values(rows: list[tuple[str, str, Any]]) -> None:
    table_rows = [list(row) for row in rows]
    stats: list[tuple[str, MetricKind]] = [("rtorrent_item_up_total", "counter")]
    reference = Listed(reference_families(("hash", "name"), stats, table_rows))
    families = Listed(item_families(("hash", "name"), stats, table_rows))
    assert render_text(families) == generate_latest(reference)
    assert render_openmetrics(families) == openmetrics_latest(reference)


def test_ordinary_families_around_item_families_keep_their_order() -> None:
    up = GaugeMetricFamily("rtorrent_up", "1 if up")
    up.add_metric([], 1)
    views = GaugeMetricFamily("rtorrent_view_size", 'views "quoted"\\ help\nline', labels=["view"])
    views.add_metric(['ma"in\\'], 3)
    rows = hostile_rows()
    items = item_families(("hash", "name"), STATS, rows)
    mixed: list[Metric] = [up, items[0], views, *items[1:], up]
    expected = generate_latest(Listed([up, *reference_families(("hash", "name"), STATS, rows)[:1]]))
    expected += generate_latest(Listed([views, *reference_families(("hash", "name"), STATS, rows)[1:], up]))
    assert render_text(Listed(mixed)) == expected
    references = reference_families(("hash", "name"), STATS, rows)
    assert render_openmetrics(Listed(mixed)) == openmetrics_latest(
        Listed([up, references[0], views, *references[1:], up])
    )


# --- a whole scrape --------------------------------------------------------------------------


def test_a_scrape_renders_as_prometheus_client_would() -> None:
    fake = fake_rtorrent()
    for index, name in enumerate(HOSTILE_NAMES):
        fake.add_item(
            f"{index:040X}",
            name or "unnamed",
            [("a.bin", 300 + index)],
            values={"d.down.total": 10**index, "d.up.total": 7 * index},
        )
    collector = make_collector(fake, ("system", "item"), item_stats=("down.total", "up.total", "size_bytes"))
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    body, content_type = render(registry, "")
    families = list(collector.scrape(5.0))
    assert any(isinstance(family, ItemFamily) for family in families)
    # The same collection through generate_latest (a scrape collects afresh, so compare with its families).
    assert body.count(b"\nrtorrent_item_down_total{") == len(HOSTILE_NAMES)
    assert content_type.startswith("text/plain; version=0.0.4")
    stable = [family for family in families if not family.name.startswith(("rtorrent_scrape", "pyrotorque_"))]
    assert render_text(Listed(stable)) == generate_latest(Listed(stable))
    parsed = {family.name: family for family in text_string_to_metric_families(body.decode())}
    assert {sample.labels["name"] for sample in parsed["rtorrent_item_up"].samples} == {
        name or "unnamed" for name in HOSTILE_NAMES
    }


#: What Prometheus 2 and 3 send (from their scrape_protocols defaults), and other headers.
ACCEPT_HEADERS = [
    "",
    "text/plain",
    "text/plain;version=0.0.4",
    "text/plain;version=1.0.0;escaping=allow-utf-8",
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
    "text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
    "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,"
    "application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,"
    "text/plain;version=0.0.4;q=0.2,*/*;q=0.1",
    "application/openmetrics-text",
    "application/openmetrics-text;version=1.0.0;escaping=dots",
    "application/openmetrics-text;version=2.0.0",
]


@pytest.mark.parametrize("accept", ACCEPT_HEADERS)
def test_every_accept_header_gets_what_prometheus_client_renders(accept: str) -> None:
    fake = fake_rtorrent()
    fake.add_item("A" * 40, 'a "quoted" name', values={"d.down.total": 5, "d.up.total": 6_000_000})
    fake.add_item("B" * 40, "ünï\\code\n", values={"d.down.total": 2**60, "d.up.total": 0})
    collector = make_collector(fake, ("system", "item"))
    families = [family for family in collector.scrape(5.0) if not family.name.startswith("pyrotorque_")]
    encoder, content_type = choose_encoder(accept)
    body, served_type = render(Listed(families), accept)
    assert served_type == content_type
    assert body == encoder(Listed(families))
    if "openmetrics" in content_type:
        assert body.endswith(b"# EOF\n") and body.count(b"# EOF") == 1
