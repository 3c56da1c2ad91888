"""The compiled matcher and sort keys give exactly what the tree evaluator and sort_rows give."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyrotorque.conditions import ItemQuery, lookup_field, parse_condition, parse_sort_fields
from pyrotorque.conditions.fields import FieldContext
from pyrotorque.conditions.items import RowLayout
from pyrotorque.conditions.sort import sort_rows
from pyrotorque.conditions.traits import FileList
from pyrotorque.errors import FaultError, HashNotFound
from tests.support.fake_rtorrent import FakeRtorrent

NOW = 1_716_000_000.0
ALIASES = {"ONE": ["http://t.one.org/announce"]}


@dataclass
class RawItem:
    hash: str
    name: str
    values: dict[str, Any] = field(default_factory=dict)
    custom: dict[str, Any] = field(default_factory=dict)  # raw: None and ints too
    files: list[tuple[str, int]] = field(default_factory=list)
    trackers: list[tuple[str, int]] = field(default_factory=list)

    def command(self, command: str) -> Any:
        command = command.rstrip("=")
        if command == "d.hash":
            return self.hash
        if command == "d.name":
            return self.name
        if command.startswith("d.custom="):
            return self.custom.get(command.split("=", 1)[1], "")
        if command in self.values:
            return self.values[command]
        if command == "d.size_bytes":
            return sum(size for _, size in self.files)
        if command == "d.is_multi_file":
            # Like rTorrent: a single-file item's only file is named like the item.
            return int(len(self.files) != 1 or self.files[0][0] != self.name)
        return self.values.get(command, "" if command in ("d.message", "d.base_path") else 0)


class RawClient:
    """Hands the items' values to the fetch code as they are, with no wire in between.

    The shared fake rTorrent (tests/support/fake_rtorrent.py) goes through XML-RPC, which cannot
    carry the raw values these property tests feed the converters (None, 2.5, 10**20): so this one
    stays, a client-level stand-in that answers d.multicall2 and the list multicall only.
    """

    def __init__(self, items: list[RawItem]) -> None:
        self.items = {item.hash: item for item in items}
        self.requests: list[tuple[str, Any]] = []

    def d_multicall(self, view: str, commands: Sequence[str]) -> list[list[Any]]:
        self.requests.append(("d.multicall2", (view, tuple(commands))))
        return [[item.command(command) for command in commands] for item in self.items.values()]

    def multicall(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        self.requests.append(("system.multicall", tuple((method, tuple(params)) for method, params in calls)))
        results: list[Any] = []
        for method, params in calls:
            item = self.items.get(params[0])
            if item is None:
                results.append(HashNotFound(-501, "info-hash not found"))
            elif method == "f.multicall":
                assert list(params[1:]) == ["", "f.path=", "f.size_bytes="]
                results.append([[path, size] for path, size in item.files])
            elif method == "t.multicall":
                assert list(params[1:]) == ["", "t.url=", "t.is_enabled="]
                results.append([[url, enabled] for url, enabled in item.trackers])
            else:
                results.append(FaultError(-506, f"method {method!r} not defined"))
        return results


# Valid terms over every kind of field, including fields whose converters are inlined (prio,
# is_ignored, message), those that are not (throttle, loaded, done, path), tags, d_METHOD, and
# terms over file and tracker lists.
TERMS = [
    "prio>1", "prio=2", "prio<=0", "prio!=3", "prio=1,3", "prio=!2",
    "is_ignored=0", "is_ignored=yes", "is_open=no", "is_complete=y",
    "message=", "message=!", "message=*timeout*", "message=/^$|ghost/", "message~[A-Z]",
    "name=a*", "name=/s\\d+e\\d+/", "name=Foo", "name=!b*", "name=[ab]*", "foo*",
    "size>1k", "size<=64", "xfer>0", "done=100", "done<50",
    "loaded<1d", "loaded>2024-05-17", "loaded=0", "started>1h", "seedtime>1h", "leechtime<1d",
    "tagged=foo", "tagged==foo", "tagged=", "tagged=!", "tagged=:", "tagged=:foo", "tagged!=:",
    "tagged=!:foo,bar", "views=main",
    "throttle=NONE", "path=/data/*", "label=foo*", "label=", "is_ghost=yes", "is_ghost=no",
    "custom_1=tv", "custom_origin=rss*",
    "d_peers_connected>0", "d_peers_connected=abc*",
    "kind=flac", "kind=", "kind_25=jpg,png", "kind_50=!mkv", "traits=audio", "traits=tv",
    "traits==video", "files=*.nfo", "files=", "files=/cover/",
    "alias=ONE", "alias=one.org", "tracker=http*", "tracker=",
]  # fmt: skip
SORTS = ["-prio", "prio", "loaded", "-loaded", "name", "-name", "size", "-tagged", "kind_25", "alias",
         "-throttle", "done", "-is_open", "d_peers_connected", "-seedtime", "-label", "is_ghost"]  # fmt: skip

conditions: st.SearchStrategy[str] = st.recursive(
    st.sampled_from(TERMS),
    lambda children: st.one_of(
        st.builds(lambda a, b: f"{a} {b}", children, children),
        st.builds(lambda a, b: f"[ {a} OR {b} ]", children, children),
        st.builds(lambda a: f"NOT {a}", children),
        st.builds(lambda a: f"[ NOT [ {a} ] ]", children),
    ),
    max_leaves=7,
)

RAW_NUMBERS = st.sampled_from([0, 1, 2, 3, 65536, -1, 2.5, True, None, "", "3", "x", 10**20])
RAW_TEXTS = st.sampled_from(["", "Foo", "ghost", "Tracker: timeout", "a.S01E02", 7, None, "NONE"])
RAW_STAMPS = st.sampled_from(["", "0", "1715990000", "1700000000", "junk", 1715999000, None])
NAMES = st.sampled_from(["Album", "a.S01E02", "bar.flac", "Foo", "b 1999 1080p", "x.mkv", "A"])
FILES = st.lists(
    st.tuples(st.sampled_from(["01.flac", "cover.jpg", "a.mkv", "x.nfo", "d/e.png", "noext"]),
              st.sampled_from([0, 1, 100, 900])),
    min_size=0, max_size=4,
)  # fmt: skip
TRACKERS = st.lists(
    st.tuples(
        st.sampled_from(["http://t.one.org/announce", "udp://x.two.org:80/a", ""]), st.sampled_from([0, 1])
    ),
    max_size=2,
)


@st.composite
def items(draw: st.DrawFn) -> list[RawItem]:
    result = []
    for number in range(draw(st.integers(1, 8))):
        name = draw(NAMES)
        files = draw(FILES) if draw(st.booleans()) else [(name, draw(st.sampled_from([0, 5, 700])))]
        values: dict[str, Any] = {
            command: draw(RAW_NUMBERS)
            for command in ("d.priority", "d.ignore_commands", "d.is_open", "d.complete", "d.up.rate",
                            "d.down.rate", "d.completed_chunks", "d.size_chunks", "d.peers_connected")
        }  # fmt: skip
        for command in ("d.message", "d.throttle_name", "d.custom1", "d.base_path", "d.directory"):
            values[command] = draw(RAW_TEXTS)
        values["d.views"] = draw(st.sampled_from([[], ["main"], ["Main", "x"], "main"]))
        custom = {key: draw(RAW_STAMPS) for key in ("tm_loaded", "tm_started", "tm_completed")}
        custom["activations"] = draw(
            st.sampled_from(["", "R1715900000", "R1715900000P1715950000R1715990000"])
        )
        custom["tags"] = draw(st.sampled_from(["", "foo", "Foo bar", "bar"]))
        custom["origin"] = draw(st.sampled_from(["", "rss", "RSS feed"]))
        result.append(RawItem(f"{number:040X}", name, values, custom, files, draw(TRACKERS)))
    return result


def reference(query: ItemQuery, client: RawClient) -> list[str]:
    """The tree evaluator over complete data, then the multi-pass reference sort."""
    rows = client.d_multicall("main", query.commands)
    files = {item.hash: (FileList([list(entry) for entry in item.files]),) for item in client.items.values()}
    trackers = {item.hash: [list(entry) for entry in item.trackers] for item in client.items.values()}
    layout = RowLayout(query.commands, FieldContext(ALIASES, NOW), files, trackers)
    kept = rows
    if query.condition is not None:
        evaluate, _ = query.condition.evaluator(lambda name: (layout.getter(name), False), NOW)
        kept = [row for row in rows if evaluate(row) is True]
    orders = [(layout.getter(sort.name), sort.descending) for sort in query.sort_fields]
    sort_rows(kept, orders, [lookup_field(sort.name).kind for sort in query.sort_fields])
    return [row[0] for row in kept]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conditions, st.lists(st.sampled_from(SORTS), max_size=3), items())
def test_fetch_equals_the_tree_evaluator(condition: str, sort: list[str], fake_items: list[RawItem]) -> None:
    client = RawClient(fake_items)
    query = ItemQuery(condition, ", ".join(sort), aliases=ALIASES)
    expected = reference(query, client)
    assert [item.hash for item in query.fetch(client, now=NOW)] == expected
    # The second fetch takes file lists from the cache.
    assert [item.hash for item in query.fetch(client, now=NOW)] == expected


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conditions, items(), st.booleans())
def test_first_pass_is_kleene_logic(condition: str, fake_items: list[RawItem], files_known: bool) -> None:
    """Before the lists arrive, an item is kept, dropped or undecided exactly as Kleene's logic says."""
    client = RawClient(fake_items)
    query = ItemQuery(condition, aliases=ALIASES)
    rows = client.d_multicall("main", query.commands)
    files: dict[str, tuple[Any, ...]] = {}
    if files_known:
        for row, item in zip(rows, client.items.values(), strict=True):
            files[item.hash] = query._lists.entry(row, FileList([list(entry) for entry in item.files]))
    layout = RowLayout(query.commands, FieldContext(ALIASES, NOW), files, {})
    multi = query.commands.index("d.is_multi_file") if "d.is_multi_file" in query.commands else None

    def no_derive(row: list[Any]) -> tuple[Any, ...]:
        raise AssertionError("single files are derived only when their list is missing")

    program = query._program.bind(NOW, layout.context, layout.getter)
    assert query.condition is not None
    evaluate, _ = query.condition.evaluator(
        lambda name: (layout.getter(name), lookup_field(name).deferred), NOW
    )
    for row in rows:
        if multi is not None and not files_known and not row[multi]:
            continue  # a single file's list is derived at once (checked by the fetch test)
        candidates, unknown = program.select([row], dict(files), no_derive)
        state = None if unknown else bool(candidates)
        assert state is evaluate(row), row


def test_generated_source_holds_no_user_text() -> None:
    text = 'name="x\'); import os #" message=/__import__/ custom_1=EVIL prio>1234567'
    query = ItemQuery(text, "-prio, name")
    source = query._program.source
    for fragment in ("import os", "__import__", "EVIL", "evil", "1234567", "x'"):
        assert fragment not in source
    assert "def _select" in source


@pytest.mark.parametrize(
    ("sort", "passes"),
    [
        ("-prio, loaded, name", [False]),  # numbers are negated: one pass
        ("prio -name", [True]),  # prio negated in the descending pass
        ("-name, -size", [True]),
        ("name, -tagged, -size", [True, False]),
        ("", []),
    ],
)
def test_sort_passes(sort: str, passes: list[bool]) -> None:
    query = ItemQuery(None, sort)
    program = query._program.bind(NOW, FieldContext(), lambda name: lambda row: None)
    assert [reverse for _, reverse in program.passes] == passes


def test_single_files_need_no_file_list_call() -> None:
    fake = FakeRtorrent()
    fake.add_item("A" * 40, "cover.JPG", [("cover.JPG", 10)])
    fake.add_item("B" * 40, "Photos", [("a.jpg", 5), ("b.flac", 6)])
    client = fake.client()
    query = ItemQuery("kind_25=jpg", "name")
    assert [item.name for item in query.fetch(client, now=NOW)] == ["cover.JPG", "Photos"]
    assert [params[0] for method, params in fake.calls() if method == "f.multicall"] == ["B" * 40]
    assert query.fetch(client, now=NOW)[0]["kind_25"] == frozenset({"jpg"})


def test_magnet_stand_ins_are_not_cached() -> None:
    info_hash = "C" * 40
    fake = FakeRtorrent()
    fake.add_item(info_hash, f"{info_hash}.meta", [(f"{info_hash}.meta", 1)])
    client = fake.client()
    query = ItemQuery("kind=meta")
    assert len(query.fetch(client, now=NOW)) == 1
    assert info_hash not in query._file_cache
    # The metadata arrived: the same hash is now the real item.
    fake.add_item(info_hash, "Real", [("a.mkv", 5), ("b.nfo", 1)])
    assert query.fetch(client, now=NOW) == []


def test_parse_once_bind_per_fetch_for_time_values() -> None:
    query = ItemQuery(parse_condition("loaded<1h"), parse_sort_fields("name"))
    fake = FakeRtorrent()
    fake.add_item("D" * 40, "x", custom={"tm_loaded": str(int(NOW) - 600)})
    assert len(query.fetch(fake.client(), now=NOW)) == 1
    assert query.fetch(fake.client(), now=NOW + 3600) == []
