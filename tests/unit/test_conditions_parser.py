"""The condition grammar: spec §6.5 acceptance table, §6.4 canonical forms, errors and quirk decisions."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from pyrotorque.conditions import parse_condition
from pyrotorque.conditions.values import ValueKind
from pyrotorque.errors import ConditionError


@dataclass(frozen=True)
class Spec:
    name: str
    kind: ValueKind


TEST_FIELDS: dict[str, ValueKind] = {"num": "number", "flag": "bool", "tags": "tags", "name": "pattern"}


def lookup(name: str) -> Spec:
    if name in TEST_FIELDS:
        return Spec(name, TEST_FIELDS[name])
    raise ConditionError(f"Unknown field {name!r}")


ITEMS = {
    "T1": {"name": "T1", "num": 1, "flag": True, "tags": frozenset({"a", "b"})},
    "F0": {"name": "F0", "num": 0, "flag": False, "tags": frozenset()},
    "T11": {"name": "T11", "num": 11, "flag": True, "tags": frozenset({"b"})},
}


def matching(condition: str, default_field: str | None = "name") -> set[str]:
    matcher = parse_condition(condition, default_field, lookup=lookup)
    return {key for key, item in ITEMS.items() if matcher.match(item)}


ACCEPTANCE = [
    ("flag=y", {"T1", "T11"}),
    ("num=-1", {"F0"}),
    ("num=-2", {"F0", "T1"}),
    ("num=+99", set()),
    ("num>10", {"T11"}),
    ("num>11", set()),
    ("num>=11", {"T11"}),
    ("num<=11", {"T1", "F0", "T11"}),
    ("num<11", {"F0", "T1"}),
    ("num<>1", {"F0", "T11"}),
    ("num!=1", {"F0", "T11"}),
    ("T?", {"T1"}),
    ("T*", {"T1", "T11"}),
    ("tags=a", {"T1"}),
    ("tags=b", {"T1", "T11"}),
    ("tags=a,b", {"T1", "T11"}),
    ("tags==b", {"T11"}),
    ("tags=", {"F0"}),
    ("tags=!", {"T1", "T11"}),
    ("tags=!a", {"F0", "T11"}),
]


@pytest.mark.parametrize(("condition", "expected"), ACCEPTANCE)
def test_acceptance_table(condition: str, expected: set[str]) -> None:
    assert matching(condition) == expected


@pytest.mark.parametrize(
    "condition",
    ["", "   ", "num=foo", "num>-1", "num>+1", "flag=foo", "unknown=", "[ num=1", "num=1 OR OR flag=1",
     "num=1 OR", "[ num=1 OR ]", "OR num=1"],
)  # fmt: skip
def test_rejection_list(condition: str) -> None:
    with pytest.raises(ConditionError):
        parse_condition(condition, lookup=lookup)


def test_no_field_name_without_default_field() -> None:
    with pytest.raises(ConditionError, match="Field name missing"):
        parse_condition("no field name", None, lookup=lookup)


CANONICAL = [
    ("num>1", "num=+1"),
    ("num<=1", "num=!+1"),
    ("num<1", "num=-1"),
    ("num>=1", "num=!-1"),
    ("num!=1", "num=!1"),
    ("num<>1", "num=!1"),
    ("flag=y", "flag=yes"),
    ("flag=0", "flag=no"),
    ("some*name", "name=some*name"),
    ("foo bar", "name=foo name=bar"),
    ("foo,bar", "name=foo,bar"),
    ("foo OR bar", "[ name=foo OR name=bar ]"),
    ("NOT a", "[ NOT [ name=a ] ]"),
    ("a [ b c ]", "name=a name=b name=c"),
    ("a [ b OR c ]", "name=a [ name=b OR name=c ]"),
    ("name~fo+", "name=/fo+/"),
    ("name==foo", "name=foo"),
    ("tags==b", "tags==b"),
    ('name="a b"', 'name="a b"'),
    ('name=""', "name="),
    ("name=/a,b/,c", 'name="/a,b/",c'),
    ("num>1,2", "num=+1,+2"),
]


@pytest.mark.parametrize(("condition", "canonical"), CANONICAL)
def test_canonical_form(condition: str, canonical: str) -> None:
    matcher = parse_condition(condition, lookup=lookup)
    assert matcher.canonical() == canonical
    assert str(matcher) == canonical
    # The canonical form parses back to itself.
    assert parse_condition(canonical, lookup=lookup).canonical() == canonical


@pytest.mark.parametrize(
    ("condition", "message", "position"),
    [
        ("", "No conditions given", None),
        ("num=foo", "Bad numerical value 'foo'", 4),
        ("num>-1", "cannot be followed by '-'", 4),
        ("num>+1", r"cannot be followed by '\+'", 4),
        ("num<=!1", "cannot be followed by '!'", 5),
        ("flag=foo", "Bad boolean value 'foo'", 5),
        ("flag=y unknown=", "Unknown field 'unknown'", 7),
        ("flag=y [ num=1", "too many open", 7),
        ("num=1 ]", "too many closing", 6),
        ("]", "too many closing", 0),
        ("num=1 OR OR flag=1", "Right-hand side of OR missing", 9),
        ("num=1 OR", "Right-hand side of OR missing", 6),
        ("[ num=1 OR ]", "Right-hand side of OR missing", 11),
        ("OR num=1", "Left-hand side of OR missing", 0),
        ("[ OR num=1 ]", "Left-hand side of OR missing", 2),
        ("NOT", "NOT must be followed", 0),
        ("flag=y NOT", "NOT must be followed", 7),
        ("NOT ]", "NOT must be followed", 4),
        ("[ ]", "Empty group", 2),
        ("name=a,", "Empty value at the end", 6),
        ("name=,a", "Empty value in a list", 5),
        ("name=/(/", "Bad regular expression", 5),
        ('name="abc', 'Unterminated " quote', 5),
        ("9x=1", "Bad field name '9x'", 0),
        ("name>a", "cannot be compared", 0),
        ("flag~y", "cannot be matched with '~'", 0),
    ],
)
def test_errors_name_the_position(condition: str, message: str, position: int | None) -> None:
    with pytest.raises(ConditionError, match=message) as info:
        parse_condition(condition, lookup=lookup)
    assert info.value.position == position
    assert info.value.text == condition


def test_error_text_points_at_the_token() -> None:
    with pytest.raises(ConditionError) as info:
        parse_condition("flag=y num=foo", lookup=lookup)
    assert str(info.value).splitlines()[-1] == " " * 4 + " " * 11 + "^"


# --- quirk decisions (docs/conditions.md "Decisions") ---------------------------------------------


def test_backslashes_survive_in_regexes() -> None:
    matcher = parse_condition(r"name=/s\d+e\d+/", lookup=lookup)
    assert matcher.match({"name": "Show.S01E02"})
    assert not matcher.match({"name": "Show.SxxExx"})


def test_regex_source_is_not_lower_cased() -> None:
    # \D (a non-digit) must not turn into \d.
    matcher = parse_condition(r"name=/^\D+$/", lookup=lookup)
    assert matcher.match({"name": "abc"})
    assert not matcher.match({"name": "123"})


@pytest.mark.parametrize("condition", ["name=/ABC/", "name=/abc/i", "name=ABC", "name=a?C", "name~AbC"])
def test_globs_and_regexes_ignore_case(condition: str) -> None:
    matcher = parse_condition(condition, lookup=lookup)
    assert matcher.match({"name": "abc"})
    assert matcher.match({"name": "ABC"})


def test_regex_searches_but_glob_matches_the_whole_value() -> None:
    assert parse_condition("name=/b/", lookup=lookup).match({"name": "abc"})
    assert not parse_condition("name=b", lookup=lookup).match({"name": "abc"})
    assert parse_condition("name=*b*", lookup=lookup).match({"name": "abc"})


def test_not_inside_a_group_negates_only_the_next_term() -> None:
    assert matching("flag=y NOT num=1") == {"T11"}
    assert matching("NOT num=1 flag=y") == {"F0", "T1", "T11"} - {"T1"}  # NOT (num=1 AND flag=y)
    assert matching("[ NOT num=1 flag=y ]") == {"F0", "T11"}
    assert matching("num=1 OR NOT flag=y") == {"T1", "F0"}
    assert matching("NOT NOT num=1") == {"T1"}


def test_not_at_start_of_a_group_negates_the_whole_group() -> None:
    assert matching("NOT num=1 OR num=0") == {"T11"}
    assert matching("[ NOT flag=y tags=a ]") == {"F0", "T11"}


def test_or_binds_weaker_than_and() -> None:
    assert matching("flag=y num=1 OR num=0") == {"T1", "F0"}


def test_comparison_applies_to_every_value() -> None:
    # Not the original's "prio>1,2 = (>1 OR ==2)": each value gets the operator.
    assert matching("num>20,10") == {"T11"}
    assert matching("num<1,2") == {"F0", "T1"}


def test_value_negation_is_per_value() -> None:
    assert matching("tags=!a,b") == {"F0", "T11", "T1"}
    assert matching("num=!1,!0") == {"T1", "F0", "T11"}
    assert matching("num=!1") == {"F0", "T11"}


def test_empty_value_means_empty_field() -> None:
    assert parse_condition("name=", lookup=lookup).match({"name": ""})
    assert parse_condition('name=""', lookup=lookup).match({"name": None})
    assert not parse_condition("name=", lookup=lookup).match({"name": "x"})
    assert parse_condition("name=!", lookup=lookup).match({"name": "x"})


def test_quotes_group_text_and_protect_special_characters() -> None:
    assert parse_condition('name="a b"', lookup=lookup).match({"name": "A B"})
    assert parse_condition("'a b'", lookup=lookup).match({"name": "a b"})
    assert parse_condition('name="a,b"', lookup=lookup).match({"name": "a,b"})
    assert parse_condition('name="!x"', lookup=lookup).match({"name": "!x"})
    # As with pyrocore, a whole quoted term is still a term.
    assert parse_condition('"name=a b*"', lookup=lookup).canonical() == 'name="a b*"'
    assert parse_condition('name="="', lookup=lookup).match({"name": "="})
    # Quoted keywords are plain words for the default field.
    assert parse_condition('"OR"', lookup=lookup).match({"name": "or"})
    assert parse_condition('"NOT" "["', lookup=lookup).canonical() == "name=NOT name=["
    assert parse_condition(r'name="say \"hi\""', lookup=lookup).match({"name": 'say "hi"'})


def test_whitespace_includes_newlines() -> None:
    assert matching("flag=y\n[ num=1\nOR num=0 ]\n") == {"T1"}


def test_keywords_need_whitespace_around_them() -> None:
    # "[x]" is a glob character class for the default field, not a group.
    assert parse_condition("T[1]", lookup=lookup).match({"name": "t1"})
    assert parse_condition("orchid", lookup=lookup).canonical() == "name=orchid"


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    with pytest.raises(ConditionError, match="nested too deeply"):
        parse_condition("[ " * 200 + "a" + " ]" * 200, lookup=lookup)
    with pytest.raises(ConditionError, match="nested too deeply"):
        parse_condition("NOT " * 500 + "a", lookup=lookup)


def test_field_names_are_reported() -> None:
    matcher = parse_condition("flag=y [ num>1 OR NOT tags=a ] foo", lookup=lookup)
    assert matcher.field_names() == {"flag", "num", "tags", "name"}


def test_seed_examples_parse_with_the_real_fields() -> None:
    startable = parse_condition(
        "is_ignored=0 message= prio>0\n[ prio>2 OR [ NOT [ traits=audio kind_25=jpg,png,tif,bmp ] ] ]"
    )
    assert startable.canonical() == (
        "is_ignored=no message= prio=+0 [ prio=+2 OR [ NOT [ traits=audio kind_25=jpg,png,tif,bmp ] ] ]"
    )
    downloading = parse_condition("is_active=1 is_complete=0 [ prio>1 [ down>3 OR started<2i ] ]")
    assert downloading.canonical() == "is_active=yes is_complete=no prio=+1 [ down=+3 OR started=-2i ]"
    default = parse_condition("is_ignored=no done=0 message=/^$|ghost/ prio>0")
    assert default.canonical() == "is_ignored=no done=0 message=/^$|ghost/ prio=+0"


def test_backslashes_inside_quotes() -> None:
    # Inside quotes, \\ is one backslash and \" a quote; any other backslash stays.
    assert parse_condition(r'name="a\\"', lookup=lookup).match({"name": "a\\"})
    assert parse_condition(r"'name=/s\d+/'", lookup=lookup).match({"name": "s01"})
    canonical = parse_condition(r"""'a"\\'""", lookup=lookup).canonical()
    assert canonical == r'name="a\"\\"'
    assert parse_condition(canonical, lookup=lookup).match({"name": 'a"\\'})


@pytest.mark.parametrize(
    ("condition", "position"),
    [
        ("name={{d.name}}", 5),
        ("custom_1={{d.alias}}", 9),  # pyrosimple renders this per item; we refuse it
        ("prio>1 path={{d.directory}}*", 12),
        ("prio>1 {{ name }}", 7),  # a bare value (the default field)
        ("custom_1={%if d.alias%}x{%endif%}", 9),
        ("name=a*,b{{x}}", 9),
        ("name=!{{x}}", 6),
        ("name~x{{2}}", 6),
        ("tagged=:{{x}}", 8),
        ("prio>{{x}}", 5),
        ('message="a b"{{x}}', 13),  # quoted text, then an unquoted template
        ("[ alias={{tracker_alias}} OR prio=3 ]", 8),
    ],
)
def test_template_values_are_errors_with_their_position(condition: str, position: int) -> None:
    with pytest.raises(ConditionError, match="is a template") as info:
        parse_condition(condition)
    assert info.value.position == position
    assert info.value.text == condition
    assert condition[position] == "{"


@pytest.mark.parametrize(
    ("condition", "name", "canonical"),
    [
        ('name="{{x}}"', "{{x}}", 'name="{{x}}"'),  # quoted braces are text
        ('name={"{"x}}', "{{x}}", 'name="{{x}}"'),
        ("name=a{b}", "a{b}", "name=a{b}"),  # single braces are no template
        ("name=a}}", "a}}", "name=a}}"),
        ("name=%}", "%}", "name=%}"),
    ],
)
def test_braces_that_are_not_templates(condition: str, name: str, canonical: str) -> None:
    parsed = parse_condition(condition)
    assert parsed.match({"name": name}, now=0.0)
    assert parsed.canonical() == canonical
    assert parse_condition(canonical).canonical() == canonical
