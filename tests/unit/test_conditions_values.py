"""Every value type and unit of the condition language, over in-memory items with the real fields."""

from __future__ import annotations

import time
from datetime import datetime

import pytest

from pyrotorque.conditions import parse_condition
from pyrotorque.errors import ConditionError

NOW = time.mktime(datetime(2024, 5, 17, 12, 0, 0).timetuple())
MIN, HOUR, DAY = 60, 3600, 86400


def matches(condition: str, **item: object) -> bool:
    return parse_condition(condition).match(item, now=NOW)


@pytest.mark.parametrize(
    ("condition", "value", "expected"),
    [
        ("size=1024", 1024, True),
        ("size=1k", 1024, True),
        ("size=1K", 1024, True),
        ("size=1kb", 1024, True),
        ("size=1KiB", 1024, True),
        ("size=2b", 2, True),
        ("size=1m", 1024**2, True),
        ("size=1g", 1024**3, True),
        ("size=1t", 1024**4, True),
        ("size=1.5g", 1.5 * 1024**3, True),
        ("size>1.5g", 1.5 * 1024**3, False),
        ("size>=1.5g", 1.5 * 1024**3, True),
        ("size=+4g", 5 * 1024**3, True),
        ("size=-4g", 5 * 1024**3, False),
        ("size<4T", 5 * 1024**3, True),
        ("size=0b", 0, True),
        ("size=.5k", 512, True),
    ],
)
def test_byte_sizes(condition: str, value: int, expected: bool) -> None:
    assert matches(condition, size=value) is expected


@pytest.mark.parametrize("value", ["1x", "1.2.3", "k", "1 k", "1kk", "+", "1e5g", "abc"])
def test_bad_byte_sizes(value: str) -> None:
    with pytest.raises(ConditionError, match="Bad size value"):
        parse_condition(f'size="{value}"')


@pytest.mark.parametrize(
    ("condition", "value", "expected"),
    [
        ("prio=2", 2, True),
        ("prio=2.0", 2, True),
        ("prio>1", 2, True),
        ("prio<1", 2, False),
        ("prio=+1.5", 2, True),
        ("ratio>1.5", 2.0, True),
        ("ratio<.5", 0.25, True),
        ("done=100", 100.0, True),
        ("done=1e2", 100.0, True),
    ],
)
def test_numbers(condition: str, value: float, expected: bool) -> None:
    field = condition.split("=")[0].split(">")[0].split("<")[0]
    assert matches(condition, **{field: value}) is expected


@pytest.mark.parametrize("word", ["yes", "YES", "y", "true", "t", "1", "+", "on", "True"])
def test_true_words(word: str) -> None:
    assert matches(f"is_open={word}", is_open=True)
    assert not matches(f"is_open={word}", is_open=False)


@pytest.mark.parametrize("word", ["no", "n", "false", "f", "0", "-", "off", "No"])
def test_false_words(word: str) -> None:
    assert matches(f"is_open={word}", is_open=False)
    assert not matches(f"is_open={word}", is_open=True)


def test_bool_negation() -> None:
    assert matches("is_open=!yes", is_open=False)
    assert parse_condition("is_open=!1").canonical() == "is_open=!yes"


@pytest.mark.parametrize(
    ("condition", "age", "expected"),
    [
        # A delta D means "now - D"; "<D" (= "-D") is "within the last D", ">D" is "longer ago".
        ("started<2i", 1 * MIN, True),
        ("started<2i", 3 * MIN, False),
        ("started>2i", 3 * MIN, True),
        ("started>2i", 1 * MIN, False),
        ("started=-2i", 1 * MIN, True),
        ("started=+2i", 1 * MIN, False),
        ("completed>2d", 3 * DAY, True),
        ("completed>2d", 1 * DAY, False),
        ("loaded=-1h", 30 * MIN, True),
        ("loaded=-1h", 61 * MIN, False),
        ("loaded<30s", 29, True),
        ("loaded<30S", 31, False),
        ("loaded<1w", 6 * DAY, True),
        ("loaded<1w", 8 * DAY, False),
        ("loaded<1d2h", 25 * HOUR, True),
        ("loaded<1d2h", 27 * HOUR, False),
        ("loaded<1h30i", 89 * MIN, True),
        ("loaded<1h30i", 91 * MIN, False),
        ("loaded>1m", 32 * DAY, True),
        ("loaded>1m", 29 * DAY, False),
        ("loaded>1y", 367 * DAY, True),
        ("loaded>1y", 360 * DAY, False),
        ("loaded<1y2m3w4d5h6i7s", 400 * DAY, True),
    ],
)
def test_time_deltas(condition: str, age: int, expected: bool) -> None:
    field = condition[: next(i for i, c in enumerate(condition) if c in "<>=")]
    assert matches(condition, **{field: int(NOW - age)}) is expected


def test_time_not_null_fields_never_match_unset_times() -> None:
    for condition in ("started<2i", "started>2i", "started<2030-01-01", "started>1"):
        assert not matches(condition, started=0)
    assert matches("started=0", started=0)
    # "active" is a plain time field: unset reads as 0, which is "long ago".
    assert matches("active>1d", active=0)


def test_absolute_dates() -> None:
    moment = time.mktime(datetime(2010, 8, 15, 14, 50).timetuple())
    for date in ("2010-08-15t14:50", "2010-08-15T14:50:00", "08/15/2010T14:50", "15.08.2010T14:50"):
        assert matches(f"loaded>{date}", loaded=int(moment + 1)), date
        assert not matches(f"loaded>{date}", loaded=int(moment - 1)), date
        assert matches(f"loaded={date}", loaded=int(moment)), date
    assert matches('loaded>"2010-08-15 14"', loaded=int(moment))
    assert matches("loaded<2010-08-16", loaded=int(moment))
    assert matches("loaded=+1281876597", loaded=1281876598)


@pytest.mark.parametrize("value", ["2w1y", "1q", "2010-13-01", "2010-02-30", "yesterday", "1d-", "12:00"])
def test_bad_times(value: str) -> None:
    with pytest.raises(ConditionError, match="Bad time value"):
        parse_condition(f"loaded={value}")


@pytest.mark.parametrize(
    ("condition", "seconds", "expected"),
    [
        ("seedtime>1w", 8 * DAY, True),
        ("seedtime>1w", 6 * DAY, False),
        ("seedtime<1d", 3600, True),
        ("seedtime=3600", 3600, True),
        ("leechtime>2h30i", 3 * HOUR, True),
        ("leechtime=-1y", 364 * DAY, True),
        ("leechtime=+1m", 31 * DAY, True),
        ("leechtime=+1m", 29 * DAY, False),
    ],
)
def test_durations(condition: str, seconds: int, expected: bool) -> None:
    field = condition[: next(i for i, c in enumerate(condition) if c in "<>=")]
    assert matches(condition, **{field: seconds}) is expected


def test_unknown_durations_never_match() -> None:
    assert not matches("seedtime<1d", seedtime=None)
    assert not matches("seedtime>0", seedtime=None)
    with pytest.raises(ConditionError, match="Bad duration"):
        parse_condition("seedtime>2024-01-01")


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("tagged=foo", True),
        ("tagged=FOO", True),
        ("tagged=fo*", False),  # no globs for tags, whole words only
        ("tagged==foo", False),
        ("tagged=bar,baz", True),
        ("tagged=", False),
        ("tagged=!", True),
        ("tagged=!foo", False),
        ("views=seeding", True),
        ("views=Seeding", True),
        ("views==seeding", True),
    ],
)
def test_tag_sets(condition: str, expected: bool) -> None:
    item = {"tagged": frozenset({"foo", "bar"}), "views": frozenset({"seeding"})}
    assert parse_condition(condition).match(item, now=NOW) is expected


@pytest.mark.parametrize(
    ("condition", "tags", "expected"),
    [
        # pyrosimple's ":" prefix: the set is exactly this word (":" alone: exactly no words).
        ("tagged=:", frozenset(), True),
        ("tagged=:", frozenset({"foo"}), False),
        ("tagged!=:", frozenset(), False),
        ("tagged!=:", frozenset({"foo"}), True),
        ("tagged=!:", frozenset({"foo"}), True),
        ("tagged=:foo", frozenset({"foo"}), True),
        ("tagged=:FOO", frozenset({"foo"}), True),
        ("tagged=:foo", frozenset({"foo", "bar"}), False),
        ("tagged=:foo", frozenset({"f", "o"}), False),  # not pyrosimple's set of characters
        ("tagged=:foo", frozenset(), False),
        ("tagged!=:foo", frozenset({"foo", "bar"}), True),
        ("tagged=:foo,bar", frozenset({"foo", "bar"}), True),  # ":foo" OR bar
        ("tagged==:foo", frozenset({"foo"}), True),
        ('tagged=":foo"', frozenset({":foo"}), True),  # a quoted colon is part of the word
        ('tagged=":foo"', frozenset({"foo"}), False),
        ('tagged=":foo"', frozenset({":foo", "bar"}), True),
        ("tagged=::foo", frozenset({":foo"}), True),
        ("tagged=::foo", frozenset({":foo", "x"}), False),
    ],
)
def test_tag_colon_prefix(condition: str, tags: frozenset[str], expected: bool) -> None:
    parsed = parse_condition(condition)
    assert parsed.match({"tagged": tags}, now=NOW) is expected
    # The canonical form keeps the meaning.
    again = parse_condition(parsed.canonical())
    assert again.canonical() == parsed.canonical()
    assert again.match({"tagged": tags}, now=NOW) is expected


def test_tag_colon_canonical_forms() -> None:
    assert parse_condition("tagged=:").canonical() == "tagged=:"
    assert parse_condition("tagged=:Foo").canonical() == "tagged=:foo"
    assert parse_condition("tagged!=:").canonical() == "tagged=!:"
    assert parse_condition('tagged=":foo"').canonical() == 'tagged=":foo"'
    assert parse_condition("tagged=::foo").canonical() == 'tagged=:":foo"'


def test_files_match_any_path() -> None:
    files = ("cd1/01.flac", "cover.jpg")
    assert matches("files=*.jpg", files=files)
    assert matches("files=/flac$/", files=files)
    assert not matches("files=*.png", files=files)
    assert matches("files=", files=())
    assert matches("files=!", files=files)


@pytest.mark.parametrize(
    ("condition", "value", "expected"),
    [
        ("d_peers_connected>0", 3, True),
        ("d_peers_connected=0", 0, True),
        ("d_peers_connected<2", "1", True),
        ("d_peers_connected>0", "n/a", False),
        ("d_state_changed=-1.5", 1, True),
        ("d_local_id=abc*", "ABCDEF", True),
        ("d_local_id=/^a/", "abc", True),
    ],
)
def test_method_fields_guess_number_or_text(condition: str, value: object, expected: bool) -> None:
    field = condition[: next(i for i, c in enumerate(condition) if c in "<>=")]
    assert matches(condition, **{field: value}) is expected


def test_custom_fields_are_text() -> None:
    assert matches("custom_1=tv/*", custom_1="TV/show")
    assert matches("custom_targetdir=", custom_targetdir="")
    assert matches("custom_loaded_by=sonarr", custom_loaded_by="sonarr")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("kind_101=jpg", "kind_N: N > 100"),
        ("d_erase=1", "changes the item"),
        ("d_custom.set=1", "changes the item"),
        ("d_start=1", "changes the item"),
        ("d_priority.set=1", "changes the item"),
        ("d_views.push_back=1", "changes the item"),
        ("d_multicall2=1", "changes the item"),
        ("nosuchfield=1", "Unknown field 'nosuchfield'"),
    ],
)
def test_field_name_errors(name: str, message: str) -> None:
    with pytest.raises(ConditionError, match=message):
        parse_condition(name)


def test_reading_fields_is_allowed_for_read_commands() -> None:
    for name in ("d_is_open", "d_peers_connected", "d_up.rate", "d_timestamp.started", "d_custom1"):
        parse_condition(f"{name}=1")


@pytest.mark.parametrize(
    "condition",
    [
        "completed>" + "7" * 5000 + "d",
        "seedtime<" + "7" * 5000,
        "leechtime>" + "9" * 400 + "y",
        "size>" + "9" * 5000 + "g",
        "prio>" + "9" * 5000,
    ],
)
def test_a_number_beyond_pythons_range_is_a_condition_error_at_its_position(condition: str) -> None:
    with pytest.raises(ConditionError) as caught:
        parse_condition(condition)
    assert caught.value.position == condition.index(next(c for c in condition if c.isdigit()))
    assert "out of range" in str(caught.value)
