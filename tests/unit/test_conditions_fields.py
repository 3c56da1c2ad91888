"""Field conversions, tracker aliases, file kinds and traits."""

from __future__ import annotations

import pytest

from pyrotorque.conditions import FIELDS, FieldContext, announce_alias, lookup_field
from pyrotorque.conditions.fields import FILES, TRACKERS
from pyrotorque.conditions.traits import detect_traits, extension_of, file_histogram
from pyrotorque.names import release_kind

CONTEXT = FieldContext({"LT": ["http://tracker.example.org/announce"]}, now=10_000.0)


def convert(name: str, *raw: object) -> object:
    field = lookup_field(name)
    if field.contextual:
        return field.convert(CONTEXT, *raw)
    return field.convert(*raw)


def test_every_field_declares_commands() -> None:
    for field in FIELDS.values():
        assert field.commands, field.name
        for command in field.commands:
            assert command.startswith("d.") or command in (FILES, TRACKERS), (field.name, command)
            assert not command.endswith(".set")
    required = set(
        [
            "name",
            "hash",
            "alias",
            "size",
            "prio",
            "message",
            "is_ignored",
            "is_open",
            "is_active",
            "is_complete",
            "is_private",
            "is_multi_file",
            "path",
            "directory",
            "metafile",
            "done",
            "ratio",
            "up",
            "down",
            "uploaded",
            "xfer",
            "throttle",
            "loaded",
            "started",
            "completed",
            "stopped",
            "leechtime",
            "seedtime",
            "active",
            "last_xfer",
            "tagged",
            "views",
            "kind",
            "traits",
            "custom_1",
            "custom_5",
            "tracker",
            "files",
            "fno",
            "label",
            "is_ghost",
        ]
    )
    assert required <= set(FIELDS)


def test_dynamic_fields() -> None:
    assert lookup_field("kind_25").commands == (FILES,)
    assert lookup_field("custom_tm_loaded").commands == ("d.custom=tm_loaded",)
    assert lookup_field("d_peers_connected").commands == ("d.peers_connected",)
    assert lookup_field("custom_3").commands == ("d.custom3",)


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [
        ("hash", ("ABC",), "ABC"),
        ("size", (1234,), 1234),
        ("prio", ("2",), 2),
        ("is_ignored", (1,), True),
        ("is_open", (0,), False),
        ("ratio", (1500,), 1.5),
        ("done", (5, 10), 50.0),
        ("done", (0, 0), 0.0),
        ("xfer", (100, 23), 123),
        ("throttle", ("",), "NONE"),
        ("throttle", ("slow",), "slow"),
        ("loaded", ("1700000000",), 1700000000),
        ("loaded", ("",), 0),
        ("loaded", ("garbage",), 0),
        ("tagged", ("Foo  bar",), frozenset({"foo", "bar"})),
        ("views", (["Main", "seeding"],), frozenset({"main", "seeding"})),
        ("path", ("/d/x", "/d", "x", 1), "/d/x"),
        ("path", ("", "/d/x", "x", 1), "/d/x"),
        ("path", ("", "/d", "x.iso", 0), "/d/x.iso"),
        ("stopped", ("R100P200R300P400",), 400),
        ("stopped", ("R100",), 0),
        ("metafile", ("~/x.torrent",), None),
        ("tracker", ([["http://a/ann", 0], ["http://b/ann", 1]],), "http://b/ann"),
        ("tracker", ([],), ""),
        ("alias", ([["http://tracker.example.org/announce", 1]],), "LT"),
        ("alias", ([["http://tracker.example.org/other?x", 1]],), "LT"),
        ("alias", ([["udp://open.tracker.example.net:6969/ann", 1]],), "example.net"),
        ("files", ([["a.mkv", 10], ["b.nfo", 1]],), ("a.mkv", "b.nfo")),
        ("kind", ([["a.mkv", 10], ["b.nfo", 1]],), frozenset({"mkv", "nfo"})),
        ("kind_50", ([["a.mkv", 10], ["b.nfo", 1]],), frozenset({"mkv"})),
        ("traits", ("Artist - Album", [["01.flac", 90], ["cover.jpg", 10]]), frozenset({"audio", "flac"})),
    ],
)
def test_conversions(name: str, raw: tuple[object, ...], expected: object) -> None:
    result = convert(name, *raw)
    if name == "metafile":
        assert isinstance(result, str)
        assert not result.startswith("~")
    else:
        assert result == expected


def test_leechtime_and_seedtime_from_activations() -> None:
    # Started at 100, paused at 200, resumed at 300, completed at 350, paused at 500, resumed at 9000.
    log = "R100P200R300P500R9000"
    assert convert("leechtime", log, "350", "100") == 100 + 50
    assert convert("seedtime", log, "350") == 150 + (10_000 - 9000)
    # Incomplete and still running: leeching up to now.
    assert convert("leechtime", "R9000", "", "9000") == 1000
    assert convert("seedtime", "R9000", "") is None
    # No activation log: completed - started, if known.
    assert convert("leechtime", "", "500", "100") == 400
    assert convert("leechtime", "", "", "") is None


def test_two_resumes_in_a_row_restart_the_interval() -> None:
    # rTorrent went away while the item ran (no P logged): the gap between the resumes is unknown
    # and does not count. The peers' example: resumed at ...013 and ...082, completed at ...084.
    later = FieldContext({}, now=1377400000.0)
    leechtime = lookup_field("leechtime").convert
    assert leechtime(later, "R1377390013R1377390082", "1377390084", "1377390013") == 2
    assert lookup_field("seedtime").convert(later, "R1377390013R1377390082", "1377390084") == 10_000 - 84
    # The same for seeding: completed at 100, resumed at 200 and again at 900 (crash), paused at 950.
    assert convert("seedtime", "R50R200R900P950", "100") == 50
    # A resume after a pause still counts from that resume; a stray pause adds nothing.
    assert convert("leechtime", "R100P150P160R200R260P300", "", "100") == 50 + 40


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://tracker.example.org/announce", "LT"),
        ("http://tracker.example.org/announce.php?passkey=1", "LT"),
        ("https://tracker.example.org/announce", "example.org"),
        ("http://tracker.other.com:6969/announce", "other.com"),
        ("http://localhost:8080/announce", "localhost"),
        ("http://127.0.0.1:8080/announce", "127.0.0.1"),
        ("", ""),
        ("not a url", ""),
    ],
)
def test_announce_alias(url: str, expected: str) -> None:
    assert announce_alias(url, {"LT": ["http://tracker.example.org/announce"]}) == expected


@pytest.mark.parametrize(
    ("path", "extension"),
    [
        ("a/b.MKV", "mkv"),
        ("x.r01", "rar"),
        ("x.jpeg", "jpg"),
        ("x.mpeg", "mpg"),
        ("README", ""),
        ("d.x/f", ""),
    ],
)
def test_extensions(path: str, extension: str) -> None:
    assert extension_of(path) == extension


def test_histogram_rounds_percentages() -> None:
    assert file_histogram([("a.flac", 700), ("b.jpg", 250), ("c.txt", 50)]) == {
        "flac": 70,
        "jpg": 25,
        "txt": 5,
    }
    assert file_histogram([("a.flac", 0), ("b.jpg", 0)]) == {"flac": 50, "jpg": 50}
    assert file_histogram([]) == {}


@pytest.mark.parametrize(
    ("name", "trait"),
    [
        ("Some.Show.S01E02.720p.HDTV.x264", "tv"),
        ("Some Show S02 Complete", "tv"),
        ("Some.Show.1x02.Title", "tv"),
        ("Some Show Season 3", "tv"),
        ("Daily.Show.2024.05.17.WEB", "tv"),
        ("A.Film.2019.1080p.BluRay.x264", "movie"),
        ("A Film (1999)", "movie"),
        ("Backup of my files", None),
        ("Linux.ISO.Collection", None),
    ],
)
def test_name_traits(name: str, trait: str | None) -> None:
    assert release_kind(name) == trait


@pytest.mark.parametrize(
    ("name", "histogram", "expected"),
    [
        ("Album", {"flac": 90, "jpg": 10}, ("audio", "flac")),
        ("A.Film.2019.1080p.BluRay", {"mkv": 99, "nfo": 1}, ("movie", "mkv")),
        ("Some.Show.S01E01", {"rar": 100}, ("tv", "rar")),
        ("Holiday pictures", {"jpg": 100}, ("img", "jpg")),
        ("Manual", {"pdf": 60, "txt": 40}, ("docs", "pdf")),
        ("Home video", {"mp4": 100}, ("video", "mp4")),
        ("Mixed", {"flac": 50, "jpg": 50}, ()),
        ("Unknown", {"xyz": 100}, ()),
    ],
)
def test_detect_traits(name: str, histogram: dict[str, int], expected: tuple[str, ...]) -> None:
    assert detect_traits(name, histogram) == expected
