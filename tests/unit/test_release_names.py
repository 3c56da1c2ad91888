"""Release-name parsing as its two users see it: the condition field and the template ``traits``.

The two users have never agreed on every name, and neither may change: a condition that matches today
must match tomorrow, and a template that renders a path today must render the same path. So each
table pins one user's result for the same names, and the names where they disagree are marked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pyrotorque.conditions.traits import detect_traits
from pyrotorque.jobs.treewatch.templates import template_namespace
from pyrotorque.metafile import Metafile

ROOT = Path("/var/torrent/watch")

# (name, condition class of a video payload, the template's traits in their order). The condition
# class is what ``traits=`` sees for an item whose main file is an .mkv: "tv", "movie", or "video"
# when the name says neither. The template's "kind" comes from the same rule as the condition (via
# the label), while its other keys come from the detail parser: the "DIFFER" rows are where the two
# rules disagree, so a template may see kind "tv" without a "show", or a "title" without kind "movie".
NAMES: list[tuple[str, str, list[tuple[str, Any]]]] = [
    (
        "Some.Show.S01E02.720p.HDTV.x264-GRP",
        "tv",
        [
            ("resolution", "720p"),
            ("codec", "x264"),
            ("source", "HDTV"),
            ("group", "GRP"),
            ("show", "Some Show"),
            ("season", 1),
            ("episode", 2),
        ],
    ),
    ("Some Show S02 Complete", "tv", [("show", "Some Show"), ("season", 2)]),
    ("Some.Show.1x02.Title", "tv", [("show", "Some Show"), ("season", 1), ("episode", 2)]),
    ("Show.12x345.x", "tv", [("show", "Show"), ("season", 12), ("episode", 345)]),
    ("Show.s1e2.x", "tv", [("show", "Show"), ("season", 1), ("episode", 2)]),
    ("Show.S1.x", "tv", [("show", "Show"), ("season", 1)]),
    ("Show.S01 E02.x", "tv", [("show", "Show"), ("season", 1), ("episode", 2)]),
    ("Show.S01-E02.x", "tv", [("show", "Show"), ("season", 1), ("episode", 2)]),
    ("Show.S01_E02.x", "tv", [("show", "Show"), ("season", 1), ("episode", 2)]),
    ("Show_S01E02_720p", "tv", [("resolution", "720p"), ("show", "Show"), ("season", 1), ("episode", 2)]),
    ("Show (S01E02)", "tv", [("show", "Show"), ("season", 1), ("episode", 2)]),
    ("Show [1x02]", "tv", [("show", "Show"), ("season", 1), ("episode", 2)]),
    ("Show.S01E02", "tv", [("show", "Show"), ("season", 1), ("episode", 2)]),
    ("Show.S01E02.MKV", "tv", [("extension", "mkv"), ("show", "Show"), ("season", 1), ("episode", 2)]),
    ("Show\n.S01E02", "tv", [("show", "Show"), ("season", 1), ("episode", 2)]),
    ("Show.S０1E02.x", "tv", [("show", "Show"), ("season", 1), ("episode", 2)]),  # any Unicode digit
    ("Show.ſ01E02.x", "tv", [("show", "Show"), ("season", 1), ("episode", 2)]),  # long s folds to s
    (
        "[Group] Show - S01E02 [1080p]",
        "tv",
        [("resolution", "1080p"), ("show", "Group] Show"), ("season", 1), ("episode", 2)],
    ),
    ("Daily.Show.2024.05.17.WEB", "tv", [("show", "Daily Show"), ("date", "2024-05-17")]),
    ("Daily Show 2024-05-17", "tv", [("show", "Daily Show"), ("date", "2024-05-17")]),
    ("Show.1999.12.31.x", "tv", [("show", "Show"), ("date", "1999-12-31")]),
    # Two episodes in one marker, separated: the details read the first one.
    (
        "Show.S01.E02.E03.720p",
        "tv",
        [("resolution", "720p"), ("show", "Show"), ("season", 1), ("episode", 2)],
    ),
    # ... not separated after a gap: the details read a season pack.
    ("Show.S01.E02E03.720p", "tv", [("resolution", "720p"), ("show", "Show"), ("season", 1)]),
    # The details take the first marker after the start; one at the very start gives nothing.
    ("S01E02.Show.S03E04", "tv", [("show", "S01E02 Show"), ("season", 3), ("episode", 4)]),
    # DIFFER: "Season N" is an episode marker for the condition only.
    ("Some Show Season 3", "tv", []),
    ("Some.Show.Season.3.1080p", "tv", [("resolution", "1080p")]),
    ("Show Season 2 2019", "tv", [("title", "Show Season 2"), ("year", 2019)]),
    # DIFFER: a marker at the very start of the name counts for the condition only.
    ("S01E02.Pilot.720p", "tv", [("resolution", "720p")]),
    ("1x02.Pilot", "tv", []),
    ("2024.05.17.Daily", "tv", []),
    (".S01E02.Show.S03E04", "tv", []),
    # DIFFER: several episodes without a separator (S01E02E03) count for the condition only.
    ("Show.S01E02E03.720p", "tv", [("resolution", "720p")]),
    ("Show.S01E02E03.2019.720p", "tv", [("resolution", "720p"), ("title", "Show S01E02E03"), ("year", 2019)]),
    # Not episode markers for either.
    ("Show.S123.x", "video", []),
    ("Show.S01E1234.x", "video", []),
    ("Show.1x2.x", "video", []),
    ("Show.2024.13.01.x", "video", [("title", "Show"), ("year", 2024)]),  # DIFFER: a year for the details
    ("Show.2024.12.32.x", "video", [("title", "Show"), ("year", 2024)]),  # DIFFER: a year for the details
    # Films.
    (
        "A.Film.2019.1080p.BluRay.x264",
        "movie",
        [
            ("resolution", "1080p"),
            ("codec", "x264"),
            ("source", "BluRay"),
            ("title", "A Film"),
            ("year", 2019),
        ],
    ),
    ("A Film (1999)", "movie", [("title", "A Film"), ("year", 1999)]),
    ("A.Film.1999", "movie", [("title", "A Film"), ("year", 1999)]),
    ("Film.2019", "movie", [("title", "Film"), ("year", 2019)]),
    ("Film_2019_1080p", "movie", [("resolution", "1080p"), ("title", "Film"), ("year", 2019)]),
    ("Film 2019 Germany", "movie", [("title", "Film"), ("year", 2019)]),  # "german" starts a word
    ("Film.2019.PROPER", "movie", [("title", "Film"), ("year", 2019)]),
    ("Film.2019.DVDRip", "movie", [("source", "DVDRip"), ("title", "Film"), ("year", 2019)]),
    ("Band - Album (2019)", "movie", [("title", "Band - Album"), ("year", 2019)]),
    (
        "2001.A.Space.Odyssey.1968.1080p",
        "movie",
        [("resolution", "1080p"), ("title", "2001 A Space Odyssey"), ("year", 1968)],
    ),
    (
        "Blade.Runner.2049.2017.1080p",
        "movie",
        [("resolution", "1080p"), ("title", "Blade Runner 2049"), ("year", 2017)],
    ),
    (
        "[Group] A Film (2019) [1080p]",
        "movie",
        [("resolution", "1080p"), ("title", "Group] A Film"), ("year", 2019)],
    ),
    (
        "Film.2019.1080p-2020",
        "movie",
        [("resolution", "1080p"), ("title", "Film 2019 1080p"), ("year", 2020)],
    ),
    (
        "Film.2019.x264-GRP.mkv",
        "movie",
        [("extension", "mkv"), ("codec", "x264"), ("group", "GRP"), ("title", "Film"), ("year", 2019)],
    ),
    (
        "Film.2019.1080p.BluRay-123",
        "movie",
        [("resolution", "1080p"), ("source", "BluRay"), ("title", "Film"), ("year", 2019)],
    ),
    (
        "Film.2019.1080p.BluRay-GRP.iso",
        "movie",
        [
            ("extension", "iso"),
            ("resolution", "1080p"),
            ("source", "BluRay"),
            ("group", "GRP"),
            ("title", "Film"),
            ("year", 2019),
        ],
    ),
    ("Film.2019\n1080p", "movie", [("resolution", "1080p"), ("title", "Film"), ("year", 2019)]),
    # DIFFER: the condition wants release words (or the end) after the year, the details do not.
    ("A Film 1999 Directors Cut", "video", [("title", "A Film"), ("year", 1999)]),
    ("Film.2019.Directors.Cut.1080p", "video", [("resolution", "1080p"), ("title", "Film"), ("year", 2019)]),
    ("Film.2019.mkv", "video", [("extension", "mkv"), ("title", "Film"), ("year", 2019)]),
    ("Film.2019.dvd", "video", [("source", "dvd"), ("title", "Film"), ("year", 2019)]),
    ("Film.2019.720i", "video", [("resolution", "720i"), ("title", "Film"), ("year", 2019)]),
    ("Film.2019.4k", "video", [("resolution", "4k"), ("title", "Film"), ("year", 2019)]),
    # DIFFER: the condition wants the name to start with something else than . _ - or a blank.
    (".hidden.2019.1080p", "video", [("resolution", "1080p"), ("title", "hidden"), ("year", 2019)]),
    ("-A.Film.2019.1080p", "video", [("resolution", "1080p"), ("title", "A Film"), ("year", 2019)]),
    # DIFFER: the condition does not look past a line break before the year.
    ("Two\nLines.2019.1080p", "video", [("resolution", "1080p"), ("title", "Two Lines"), ("year", 2019)]),
    # DIFFER: the details want a separator or the end right after the year.
    ("A.Film.2019[1080p]", "movie", [("resolution", "1080p")]),
    ("A.Film.2019(Extended)", "movie", []),
    ("A.Film.2019720p", "movie", []),
    # Neither.
    ("(2019) Film", "video", []),
    ("1984.1080p.BluRay", "video", [("resolution", "1080p"), ("source", "BluRay")]),
    ("Movie.1899.720p", "video", [("resolution", "720p")]),
    ("Film.２０１９.1080p", "video", [("resolution", "1080p")]),  # years are ASCII digits
    ("Backup of my files", "video", []),
    ("Linux.ISO.Collection", "video", []),
]


def namespace(name: str, main_file: str) -> dict[str, Any]:
    meta = Metafile(
        path=None,
        data=b"",
        info_hash="0123456789ABCDEF0123456789ABCDEF01234567",
        name=name,
        announce="",
        files=(((main_file,), 1000),),
        is_multi_file=True,
    )
    return template_namespace(meta, ROOT / "x.torrent", ROOT, [ROOT], {})


@pytest.mark.parametrize(("name", "condition", "details"), NAMES)
def test_condition_field_class(name: str, condition: str, details: list[tuple[str, Any]]) -> None:
    assert detect_traits(name, {"mkv": 100}) == (condition, "mkv")
    assert detect_traits(name, {"rar": 100}) == ("misc" if condition == "video" else condition, "rar")


@pytest.mark.parametrize(("name", "condition", "details"), NAMES)
def test_template_traits(name: str, condition: str, details: list[tuple[str, Any]]) -> None:
    kind = condition if condition in ("tv", "movie") else None
    video = namespace(name, "main.mkv")
    assert video["label"] == f"{condition}/mkv"
    assert list(video["traits"].items()) == [*details, ("kind", kind)]
    # Without a label (no main file type), kind is what the name alone suggests: the same rule.
    unknown = namespace(name, "main.xyz")
    assert unknown["label"] == ""
    assert list(unknown["traits"].items()) == [*details, ("kind", kind)]


def test_audio_with_a_year_has_details_but_no_kind() -> None:
    traits = namespace("Band - Album (2019)", "01.flac")["traits"]
    assert list(traits.items()) == [("title", "Band - Album"), ("year", 2019), ("kind", None)]
