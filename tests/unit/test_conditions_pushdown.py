"""The d.multicall.filtered filter: its text for every pushable term, what is left alone, exactness.

``evaluate_filter`` (tests/support/rtorrent_filter.py) is a model of how rTorrent evaluates the subset
of its command language we generate (the contract and live tests check the real thing agrees). With
it, property tests check that the filter keeps exactly the rows our evaluation of the pushed terms
keeps; the fake rTorrent filters with it, so the fetching tests below send real filter requests.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyrotorque.conditions import ItemQuery, parse_condition
from pyrotorque.conditions.fetch import FilteringItemClient
from pyrotorque.conditions.pushdown import PUSHABLE_FIELDS, push_down
from pyrotorque.errors import ProtocolError
from tests.support.fake_rtorrent import FakeRtorrent
from tests.support.rtorrent_filter import FILTER_WORDS, evaluate_filter, truth

NOW = 1_716_000_000.0


def pushed(condition: str) -> str | None:
    result = push_down(parse_condition(condition).root)
    return result.expression if result is not None else None


# --- the filter text -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "expression"),
    [
        ("is_open=yes", "d.is_open="),
        ("is_open=no", "not=$d.is_open="),
        ("is_open=!yes", "not=$d.is_open="),
        ("is_open=!no", "d.is_open="),
        ("is_active=1", "d.is_active="),
        ("is_complete=no", "not=$d.complete="),
        ("is_ignored=0", "not=$d.ignore_commands="),
        ("is_private=yes", "d.is_private="),
        ("is_multi_file=no", "not=$d.is_multi_file="),
        ("is_open=yes,no", "or={d.is_open=,not=$d.is_open=}"),
        ("prio=2", "equal=d.priority=,value=2"),
        ("prio==2", "equal=d.priority=,value=2"),
        ("prio>0", "greater=d.priority=,value=0"),
        ("prio>=2", "greater=d.priority=,value=1"),
        ("prio<2", "less=d.priority=,value=2"),
        ("prio<=1", "less=d.priority=,value=2"),
        ("prio!=2", 'or={"less=d.priority=,value=2","greater=d.priority=,value=2"}'),
        ("prio<>3", 'or={"less=d.priority=,value=3","greater=d.priority=,value=3"}'),
        ("prio=1,3", 'or={"equal=d.priority=,value=1","equal=d.priority=,value=3"}'),
        ("prio>1.5", "greater=d.priority=,value=1"),
        ("prio<2.5", "less=d.priority=,value=3"),
        ("prio>=0", "greater=d.priority=,value=-1"),
        ("size>1.5k", "greater=d.size_bytes=,value=1536"),
        ("size>=1g", "greater=d.size_bytes=,value=1073741823"),
        ("size=64k", "equal=d.size_bytes=,value=65536"),
        ("fno>1", "greater=d.size_files=,value=1"),
        ("up>0", "greater=d.up.rate=,value=0"),
        ("down=0", "equal=d.down.rate=,value=0"),
        ("uploaded<1m", "less=d.up.total=,value=1048576"),
        ("ratio>=0.25", "greater=d.ratio=,value=249"),
        ("ratio>1", "greater=d.ratio=,value=1000"),
        ("ratio=1.5", "equal=d.ratio=,value=1500"),
        ("message=", "not=$d.message="),
        ('message=""', "not=$d.message="),
        ("message=!", "d.message="),
        (
            "is_open=no is_active=no is_complete=no",
            "and={not=$d.is_open=,not=$d.is_active=,not=$d.complete=}",
        ),
        (
            "is_ignored=0 message= prio>0 [ prio>2 OR [ NOT [ traits=audio kind_25=jpg,png,tif,bmp ] ] ]",
            'and={not=$d.ignore_commands=,not=$d.message=,"greater=d.priority=,value=0"}',
        ),
        ("[ prio=3 OR is_complete=yes ]", 'or={"equal=d.priority=,value=3",d.complete=}'),
        ("NOT is_open=yes", "not=$d.is_open="),
        ("NOT prio=3", 'not="$equal=d.priority=,value=3"'),
        ("NOT [ prio=1 OR message=! ]", 'not="$or={\\"equal=d.priority=,value=1\\",d.message=}"'),
        (
            "[ NOT [ prio>0 prio<3 ] ]",
            'not="$and={\\"greater=d.priority=,value=0\\",\\"less=d.priority=,value=3\\"}"',
        ),
        ("prio>=1 prio<=2", 'and={"greater=d.priority=,value=0","less=d.priority=,value=3"}'),
    ],
)
def test_filter_text(condition: str, expression: str) -> None:
    assert pushed(condition) == expression


@pytest.mark.parametrize(
    "condition",
    [
        "name=foo",
        "foo",
        "message=foo",
        "message=foo,*bar",
        "message=/^$/",
        "custom_1=",
        "tagged=",
        "kind=mkv",
        "traits=audio",
        "alias=x",
        "tracker=x",
        "files=*.nfo",
        "loaded>1d",
        "started<2i",
        "completed=0",
        "seedtime>1w",
        "done=100",
        "xfer>0",
        "d_priority=1",
        "throttle=slow",
        "views=x",
        "prio=1.5",  # never true for an integer: nothing worth pushing
        "ratio=0.0005",
        "prio>1e30",
        "prio<1e30",  # always true
        "NOT prio<1e30",
        "[ prio=3 OR name=x ]",
        "NOT [ prio=3 name=x ]",
    ],
)
def test_not_pushable(condition: str) -> None:
    assert pushed(condition) is None


def test_only_pushable_conjuncts_are_pushed() -> None:
    result = push_down(parse_condition("name=x* prio>1 [ kind=mkv OR is_open=yes ] is_open=no tagged=a").root)
    assert result is not None
    assert result.terms == ("prio=+1", "is_open=no")
    assert result.expression == 'and={"greater=d.priority=,value=1",not=$d.is_open=}'
    assert result.commands() == {"and", "greater", "d.priority", "value", "not", "d.is_open"}
    nested = push_down(parse_condition("[ [ prio>1 name=x ] is_active=yes ]").root)
    assert nested is not None and nested.terms == ("prio=+1", "is_active=yes")


_TEXT_FIELDS = ["name", "message", "custom_1", "custom_foo", "tagged", "kind", "throttle", "alias", "path"]
_PUSHABLE_ATOMS = [
    *(f"{field}={value}" for field in ("is_open", "is_active", "is_complete", "is_ignored",
                                         "is_private", "is_multi_file") for value in ("yes", "no", "!1")),
    *(f"{field}{op}{value}" for field in ("prio", "fno", "up", "down", "uploaded")
      for op in ("=", "!=", "<", ">", "<=", ">=") for value in ("0", "1", "2", "3", "4", "1.5")),
    *(f"{field}{op}{value}" for field in ("size", "uploaded")
      for op in ("=", "!=", "<", ">", "<=", ">=") for value in ("0", "1k", "1.5k", "64k", "0.001m", "1025b")),
    *(f"ratio{op}{value}" for op in ("=", "!=", "<", ">", "<=", ">=")
      for value in ("0", "0.25", "1", "1.5", "0.0015", "2.0001")),
    "message=", "message=!", "prio=1,3", "prio=!1,!3",
]  # fmt: skip


@st.composite
def conditions(draw: st.DrawFn) -> str:
    """Conditions mixing pushable terms and text terms with arbitrary values, ORs and NOTs."""
    words = st.text(
        st.characters(
            min_codepoint=33,
            max_codepoint=0x2FF,
            exclude_categories=("Cc", "Zs", "Zl", "Zp"),
            exclude_characters="[]\"'\\,!=<>~",
        ),
        min_size=1,
    )

    def atom() -> st.SearchStrategy[str]:
        text = st.builds(lambda field, word: f'{field}="{word}"', st.sampled_from(_TEXT_FIELDS), words)
        return st.one_of(st.sampled_from(_PUSHABLE_ATOMS), text)

    group = st.lists(atom(), min_size=1, max_size=3).flatmap(
        lambda parts: st.sampled_from([" ".join(parts), " OR ".join(parts)]).flatmap(
            lambda joined: st.sampled_from([f"[ {joined} ]", f"NOT [ {joined} ]"])
        )
    )
    parts = draw(st.lists(st.one_of(atom(), atom(), group), min_size=1, max_size=4))
    return " ".join(parts)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(conditions())
def test_no_condition_text_reaches_the_filter(condition: str) -> None:
    result = push_down(parse_condition(condition).root)
    if result is None:
        return
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_.]*", result.expression))
    assert words <= FILTER_WORDS, (condition, result.expression)
    assert re.fullmatch(r'[a-z0-9_.=,{}"\\$-]+', result.expression), result.expression
    assert result.commands() <= FILTER_WORDS


# --- the model of rTorrent's evaluation (tests/support/rtorrent_filter.py) ------------------------

_ROW_COMMANDS = {
    "d.is_open": st.integers(0, 1), "d.is_active": st.integers(0, 1), "d.complete": st.integers(0, 1),
    "d.ignore_commands": st.integers(0, 1), "d.is_private": st.integers(0, 1),
    "d.is_multi_file": st.integers(0, 1), "d.priority": st.integers(0, 4),
    "d.size_bytes": st.sampled_from([0, 1, 1023, 1024, 1025, 1535, 1536, 1537, 65535, 65536, 65537, 2**40]),
    "d.size_files": st.integers(0, 5), "d.up.rate": st.integers(0, 3), "d.down.rate": st.integers(0, 3),
    "d.up.total": st.sampled_from([0, 1, 2, 3, 4, 1023, 1024, 1025, 1536, 65536]),
    "d.ratio": st.sampled_from([0, 1, 249, 250, 251, 999, 1000, 1001, 1499, 1500, 1501, 2000, 2001]),
    "d.message": st.sampled_from(["", "Tracker: timeout", " "]),
}  # fmt: skip


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(conditions(), st.lists(st.fixed_dictionaries(_ROW_COMMANDS), min_size=1, max_size=8))
def test_filter_keeps_exactly_what_the_pushed_terms_keep(condition: str, rows: list[dict[str, Any]]) -> None:
    result = push_down(parse_condition(condition).root)
    if result is None:
        return
    terms = parse_condition(" ".join(result.terms))
    for row in rows:
        item = {
            "is_open": bool(row["d.is_open"]), "is_active": bool(row["d.is_active"]),
            "is_complete": bool(row["d.complete"]), "is_ignored": bool(row["d.ignore_commands"]),
            "is_private": bool(row["d.is_private"]), "is_multi_file": bool(row["d.is_multi_file"]),
            "prio": row["d.priority"], "size": row["d.size_bytes"], "fno": row["d.size_files"],
            "up": row["d.up.rate"], "down": row["d.down.rate"], "uploaded": row["d.up.total"],
            "ratio": row["d.ratio"] / 1000.0, "message": row["d.message"],
        }  # fmt: skip
        assert truth(evaluate_filter(result.expression, row)) == terms.match(item, NOW), (
            condition,
            result.expression,
            row,
        )


def test_pushable_fields_are_covered() -> None:
    assert {
        "is_open", "is_active", "is_started", "is_hashing", "is_complete", "is_ignored", "is_private",
        "is_multi_file",
        "prio", "size", "fno", "up", "down", "uploaded", "ratio", "message",
    } == PUSHABLE_FIELDS  # fmt: skip


# --- fetching with a client that can filter -----------------------------------------------------


def filtering_fake(rows: list[dict[str, Any]], missing: str | None = None) -> FakeRtorrent:
    """A fake rTorrent with items of these d.* values; ``missing`` is a command it lacks."""
    fake = FakeRtorrent()
    for row in rows:
        fake.add_item(row["d.hash"], row["d.name"], values=row)
    if missing is not None:
        del fake.commands[missing]
    return fake


def _sent(fake: FakeRtorrent) -> list[tuple[str, Any]]:
    """Each item fetch: its method, and the filter of a filtered one."""
    calls = fake.calls()
    return [(method, params[2] if method == "d.multicall.filtered" else None) for method, params in calls]


def _rows() -> list[dict[str, Any]]:
    base = {"d.is_open": 0, "d.is_active": 0, "d.complete": 0, "d.message": "", "d.ignore_commands": 0}
    return [
        {**base, "d.hash": "A" * 40, "d.name": "a", "d.priority": 2},
        {**base, "d.hash": "B" * 40, "d.name": "b", "d.priority": 0},
        {**base, "d.hash": "C" * 40, "d.name": "c", "d.priority": 2, "d.is_open": 1, "d.complete": 1},
        {**base, "d.hash": "D" * 40, "d.name": "d", "d.priority": 3, "d.message": "x"},
    ]


def test_fetch_sends_the_filter_and_falls_back() -> None:
    fake = filtering_fake(_rows())
    client = fake.client()
    assert isinstance(client, FilteringItemClient)
    query = ItemQuery("is_open=no message= prio>0", "name")
    assert [item.name for item in query.fetch(client)] == ["a"]
    assert _sent(fake) == [
        ("d.multicall.filtered", 'and={not=$d.is_open=,not=$d.message=,"greater=d.priority=,value=0"}')
    ]
    fake.clear()
    assert [item.name for item in ItemQuery("name=*", "name").fetch(client)] == ["a", "b", "c", "d"]
    assert [item.name for item in ItemQuery("prio>0", "name", pushdown=False).fetch(client)] == [
        "a",
        "c",
        "d",
    ]
    assert [method for method, _ in _sent(fake)] == ["d.multicall2", "d.multicall2"]


@pytest.mark.parametrize("missing", ["d.multicall.filtered", "greater", "d.message"])
def test_no_filter_without_every_method(missing: str) -> None:
    fake = filtering_fake(_rows(), missing)
    assert [item.name for item in ItemQuery("message= prio>0", "name").fetch(fake.client())] == ["a", "c"]
    assert [method for method, _ in _sent(fake)] == ["d.multicall2"]


def test_a_bad_filtered_answer_is_a_protocol_error() -> None:
    fake = filtering_fake(_rows())
    fake.commands["d.multicall.filtered"] = lambda *params: {"faultCode": 1}
    with pytest.raises(ProtocolError, match=r"d\.multicall\.filtered"):
        ItemQuery("prio>0").fetch(fake.client())


def _many(dropped: int, kept: int) -> list[dict[str, Any]]:
    base = {"d.is_open": 0, "d.is_active": 0, "d.complete": 0, "d.message": "", "d.ignore_commands": 0}
    rows = []
    for number in range(dropped + kept):
        prio = 0 if number < dropped else 2
        rows.append({**base, "d.hash": f"{number:040X}", "d.name": f"n{number:05d}", "d.priority": prio})
    return rows


def _methods(fake: FakeRtorrent) -> list[str]:
    methods = [method for method, _ in _sent(fake)]
    fake.clear()
    return methods


def test_filter_that_drops_little_is_given_up_for_the_plain_fetch() -> None:
    fake = filtering_fake(_many(dropped=10, kept=990))
    client = fake.client()
    query = ItemQuery("prio>0", "name")
    results = [len(query.fetch(client)) for _ in range(4)]
    assert results == [990] * 4  # same answer whichever way it was fetched
    # First filtered (size unknown), then one plain fetch measures a 1% drop: plain from then on.
    assert _methods(fake) == ["d.multicall.filtered", "d.multicall2", "d.multicall2", "d.multicall2"]


def test_filter_that_drops_most_rows_is_kept() -> None:
    fake = filtering_fake(_many(dropped=900, kept=100))
    client = fake.client()
    query = ItemQuery("prio>0", "name")
    results = [len(query.fetch(client)) for _ in range(4)]
    assert results == [100] * 4
    assert _methods(fake) == [
        "d.multicall.filtered",
        "d.multicall2",
        "d.multicall.filtered",
        "d.multicall.filtered",
    ]


def test_filter_is_measured_again_when_it_stops_paying() -> None:
    fake = filtering_fake(_many(dropped=900, kept=100))
    client = fake.client()
    query = ItemQuery("prio>0", "name")
    for _ in range(3):
        query.fetch(client)
    _methods(fake)
    for item in fake.items.values():  # the user raised every priority: the filter now drops nothing
        item.values["d.priority"] = 2
    assert len(query.fetch(client)) == 1000
    assert len(query.fetch(client)) == 1000
    assert _methods(fake) == ["d.multicall.filtered", "d.multicall2"]


@pytest.mark.parametrize(("count", "paused"), [(10, False), (2500, True)])
def test_collector_is_paused_while_many_rows_are_matched(
    count: int, paused: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc

    from pyrotorque.conditions import fetch as fetch_module

    seen: list[bool] = []

    class SpyItem(fetch_module.Item):
        def __init__(self, row: list[Any], layout: Any) -> None:
            seen.append(gc.isenabled())
            super().__init__(row, layout)

    monkeypatch.setattr(fetch_module, "Item", SpyItem)
    assert gc.isenabled()
    items = ItemQuery("prio>0", "name", pushdown=False).fetch(filtering_fake(_many(0, count)).client())
    assert len(items) == count
    assert set(seen) == {not paused}
    assert gc.isenabled()  # restored afterwards
