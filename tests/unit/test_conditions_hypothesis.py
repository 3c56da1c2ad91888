"""Property tests: whatever the input, the parser returns a matcher or raises ConditionError."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyrotorque.conditions import parse_condition
from pyrotorque.errors import ConditionError

ITEM = {
    "name": "Some.Show.S01E02.1080p",
    "hash": "ABCDEF0123456789ABCDEF0123456789ABCDEF01",
    "prio": 2,
    "size": 123456789,
    "is_open": False,
    "is_complete": True,
    "loaded": 1700000000,
    "started": 0,
    "seedtime": None,
    "tagged": frozenset({"foo"}),
    "kind_25": frozenset({"mkv"}),
    "files": ("a.mkv", "b.nfo"),
    "message": "",
    "d_peers_connected": 3,
    "custom_1": "tv",
}

FIELD_NAMES = [*ITEM, "kind_101", "nosuch", "d_erase", "9x", ""]
OPERATORS = ["=", "==", "!=", "<>", "<", "<=", ">", ">=", "~", "=!", "=+", "=-", ""]
VALUES = ["", "1", "+1", "-1", "1.5", "2k", "1g", "yes", "no", "2i", "1d2h", "2w1y", "2024-05-17", "*", "a*",
          "/x/", "/(/", "/a,b/i", "!", "a,b", ",", "foo", '"a b"', "'x", "\\d", "[", "]", "[!a]"]  # fmt: skip
KEYWORDS = ["[", "]", "OR", "NOT", "[", "]"]


def check(text: str) -> None:
    try:
        matcher = parse_condition(text)
    except ConditionError as exc:
        assert exc.text == text
        assert exc.position is None or 0 <= exc.position <= len(text)
        return
    # A parsed condition evaluates and prints, and its canonical form is stable.
    canonical = matcher.canonical()
    again = parse_condition(canonical)
    assert again.canonical() == canonical
    assert matcher.match(ITEM, now=1716000000.0) == again.match(ITEM, now=1716000000.0)


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=60))
def test_random_strings(text: str) -> None:
    check(text)


@settings(max_examples=300)
@given(st.text(alphabet="[]!=<>~,/\"' \\aOR NOT*?+-.:1kgi\n", max_size=40))
def test_random_special_characters(text: str) -> None:
    check(text)


term = st.builds(
    lambda field, operator, value: f"{field}{operator}{value}",
    st.sampled_from(FIELD_NAMES),
    st.sampled_from(OPERATORS),
    st.sampled_from(VALUES),
)
soup = st.lists(st.one_of(term, st.sampled_from(KEYWORDS), st.sampled_from(VALUES)), max_size=14)


@settings(max_examples=1000)
@given(soup)
def test_random_token_soups(tokens: list[str]) -> None:
    check(" ".join(tokens))


well_formed: st.SearchStrategy[str] = st.recursive(
    term.filter(lambda text: not text.startswith(("kind_101", "nosuch", "d_erase", "9x"))),
    lambda children: st.one_of(
        st.builds(lambda a, b: f"{a} {b}", children, children),
        st.builds(lambda a, b: f"[ {a} OR {b} ]", children, children),
        st.builds(lambda a: f"NOT {a}", children),
        st.builds(lambda a: f"[ {a} ]", children),
    ),
    max_leaves=8,
)


@settings(max_examples=500)
@given(well_formed)
def test_nested_conditions_round_trip(text: str) -> None:
    check(text)
