"""The one yes/no vocabulary (config.convert): configuration, conditions, URLs and legacy params agree."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from pyrotorque.conditions import values
from pyrotorque.conditions.parser import parse_condition
from pyrotorque.config import BadValue, parse_bool
from pyrotorque.config.convert import FALSE_WORDS, TRUE_WORDS, bool_word
from pyrotorque.config.jobs import legacy_value
from pyrotorque.errors import ConditionError, ConfigError
from pyrotorque.rtorrent.url import parse_url

TRUE = sorted(TRUE_WORDS)
FALSE = sorted(FALSE_WORDS)


def test_the_vocabulary() -> None:
    assert {"yes", "true", "on", "1", "y", "t", "+"} == TRUE_WORDS
    assert {"no", "false", "off", "0", "n", "f", "-"} == FALSE_WORDS
    assert not TRUE_WORDS & FALSE_WORDS


def test_the_condition_language_uses_the_same_words() -> None:
    assert values.TRUE_WORDS is TRUE_WORDS
    assert values.FALSE_WORDS is FALSE_WORDS


@pytest.mark.parametrize("word", [*TRUE, *(word.upper() for word in TRUE)])
def test_true_words_everywhere(word: str) -> None:
    assert bool_word(word) is True
    assert parse_bool(f" {word} ") is True
    assert values.parse_bool(word) is True
    assert parse_condition(f"is_open={word}").canonical() == "is_open=yes"
    assert parse_url(f"https://h/RPC2?verify={quote(word)}").verify_tls is True


@pytest.mark.parametrize("word", [*FALSE, *(word.upper() for word in FALSE)])
def test_false_words_everywhere(word: str) -> None:
    assert bool_word(word) is False
    assert parse_bool(f" {word} ") is False
    assert values.parse_bool(word) is False
    assert parse_condition(f"is_open={word}").canonical() == "is_open=no"
    assert parse_url(f"https://h/RPC2?verify={quote(word)}").verify_tls is False


@pytest.mark.parametrize(
    ("word", "verify"), [("y", True), ("t", True), ("%2B", True), ("n", False), ("-", False)]
)
def test_verify_accepts_the_short_words_now(word: str, verify: bool) -> None:
    # Before the vocabulary was shared, verify= knew only yes/true/1/on and no/false/0/off.
    assert parse_url(f"https://h/?verify={word}").verify_tls is verify


def test_a_bare_plus_in_a_url_query_is_a_blank() -> None:
    with pytest.raises(ConfigError, match="verify= must be yes or no"):
        parse_url("https://h/?verify=+")


@pytest.mark.parametrize("word", ["maybe", "", "2", "yes please", "ja"])
def test_other_words_are_refused_everywhere(word: str) -> None:
    assert bool_word(word) is None
    assert values.parse_bool(word) is None
    with pytest.raises(BadValue):
        parse_bool(word)
    with pytest.raises(ConfigError, match="verify= must be yes or no"):
        parse_url(f"https://h/?verify={quote(word)}")
    if word.strip() and " " not in word:
        with pytest.raises(ConditionError, match="Bad boolean value"):
            parse_condition(f"is_open={word}")


def test_legacy_params_use_the_vocabulary_but_keep_on_and_off_as_text() -> None:
    for word in TRUE_WORDS - {"on", "1"}:
        assert legacy_value(word) is True, word
    for word in FALSE_WORDS - {"off", "0"}:
        assert legacy_value(word) is False, word
    assert (legacy_value("1"), legacy_value("0")) == (1, 0)  # digits become numbers first, as in pyrocore
    assert (legacy_value("on"), legacy_value("off")) == ("on", "off")
