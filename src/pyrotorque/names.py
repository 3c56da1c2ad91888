"""What a release name says: an episode marker or a film year, and the release details around them.

Two rules read these names, and they have never agreed on every name; both are kept as they are,
because conditions and templates that work today must give the same answers tomorrow
(tests/unit/test_release_names.py has the table):

* :func:`release_kind` (the condition field ``traits``, the tree watch's ``label`` and
  ``traits.kind``) says ``tv`` for any episode marker, also ``Season 2``, several episodes run
  together (``S01E02E03``) and a marker at the very start of the name; it says ``movie`` for a
  year followed by release words (``1080p``, ``BluRay``, ``PROPER`` ...) or the end of the name.
* :func:`release_details` (the tree watch's other ``traits`` keys) reads the first marker after
  the start of the name as one episode or a season pack, so ``Season 2``, ``S01E02E03`` and a
  leading marker give no show; otherwise it takes the last year followed by a separator or the
  end, whatever comes after it, so ``Film 1999 Directors Cut`` has a title and a year.
"""

from __future__ import annotations

import re
from typing import Any, Final, Literal

__all__ = ["release_details", "release_kind"]

# What may stand before a marker or a year, what may follow one, and what may stand between the
# season and the episode.
_OPENER: Final = r"[\s._\-\[(]"
_CLOSER: Final = r"[\s._\-\])]"
_GAP: Final = r"[\s._-]"
_YEAR: Final = r"(?:19[2-9]\d|20\d\d)"
_AIR_DATE: Final = r"(?:19|20)\d\d[.\-](?:0[1-9]|1[0-2])[.\-](?:0[1-9]|[12]\d|3[01])"

# An episode marker, after an opener or at the start of the name, before a closer or the end.
_EPISODE_MARKER: Final = re.compile(
    rf"""(?ix)
    (?P<opener>^|{_OPENER})
    (?: s(?P<season>\d{{1,2}})                                      # S01
        (?:{_GAP}?e(?P<episode>\d{{1,3}})(?:{_GAP}?e\d{{1,3}})*)?     # S01E02, S01E02E03
      | (?P<xseason>\d{{1,2}})x(?P<xepisode>\d{{2,3}})               # 1x02
      | season{_GAP}?\d{{1,2}}                                       # Season 2
      | (?P<date>{_AIR_DATE})                                       # 2024.05.17
    )
    (?={_CLOSER}|$)
    """
)
_ENDS_MARKER: Final = re.compile(rf"(?={_CLOSER}|$)")

# A film for release_kind: a title (not starting with a separator), a year, then release words or
# the end. "." does not cross a line break here, and the words need no boundary ("Germany" counts).
_FILM_NAME: Final = re.compile(
    rf"""(?ix)
    ^[^\s._\-].*?{_OPENER}{_YEAR}{_CLOSER}*
    (?: $
      | (?:\d{{3,4}}p|bluray|blu-ray|bdrip|brrip|dvdrip|web-?dl|webrip|hdtv|remux|x26[45]|h\.?26[45]
         |hevc|xvid|proper|repack|extended|unrated|limited|internal|multi|german|french|\[|\()
    )
    """
)
# A film year for release_details: after an opener, before a closer or the end.
_FILM_YEAR: Final = re.compile(rf"{_OPENER}(?P<year>{_YEAR})(?={_CLOSER}|$)")

_RESOLUTION: Final = re.compile(r"(?i)(?<![a-z0-9])(\d{3,4}[pi]|4k|uhd)(?![a-z0-9])")
_CODEC: Final = re.compile(r"(?i)(?<![a-z0-9])(x26[45]|h\.?26[45]|hevc|avc|xvid|divx|av1)(?![a-z0-9])")
_SOURCE: Final = re.compile(
    r"(?i)(?<![a-z0-9])(blu-?ray|bdrip|brrip|dvdrip|web-?dl|webrip|hdtv|remux|dvd)(?![a-z0-9])"
)
_GROUP: Final = re.compile(r"-(?P<group>[A-Za-z0-9]+)$")
_KNOWN_EXTENSION: Final = re.compile(r"(?i)\.(mkv|avi|mp4|m4v|ts|m2ts|wmv|mpg|ogv|webm|mov|iso|rar|zip)$")


def release_kind(name: str) -> Literal["tv", "movie"] | None:
    """``tv`` or ``movie`` if the item name looks like one, else ``None``."""
    if _EPISODE_MARKER.search(name):
        return "tv"
    if _FILM_NAME.search(name):
        return "movie"
    return None


def _words(text: str) -> str:
    """Dots and underscores as spaces, single-spaced and stripped (``Show.Name`` -> ``Show Name``)."""
    return " ".join(re.sub(r"[._]+", " ", text).split()).strip(" -[(")


def _episode(marker: re.Match[str], text: str) -> dict[str, Any] | None:
    """The marker as release_details reads it: one episode, a season pack, an air date, or nothing.

    Only the first episode counts, and only when a closer follows it; with several episodes run
    together a season pack is left if a gap follows the season (``S01.E02E03``), else nothing is.
    """
    if marker["date"]:
        return {"date": marker["date"].replace(".", "-")}
    if marker["xseason"]:
        return {"season": int(marker["xseason"]), "episode": int(marker["xepisode"])}
    if marker["season"]:
        if marker["episode"] and _ENDS_MARKER.match(text, marker.end("episode")):
            return {"season": int(marker["season"]), "episode": int(marker["episode"])}
        if _ENDS_MARKER.match(text, marker.end("season")):
            return {"season": int(marker["season"])}
    return None  # "Season 2", or episodes run together right after the season


def _first_episode(stem: str) -> tuple[int, dict[str, Any]] | None:
    """Where the first marker release_details accepts starts, and what it says; None if none."""
    for marker in _EPISODE_MARKER.finditer(stem):
        if not marker["opener"]:
            continue  # a marker opening the name is no marker for the details
        episode = _episode(marker, stem)
        if episode is not None:
            return marker.start(), episode
    return None


def release_details(name: str) -> dict[str, Any]:
    """Show, season, episode, date, or title and year, plus release details parsed from a name."""
    info: dict[str, Any] = {}
    stem = name
    extension = _KNOWN_EXTENSION.search(stem)
    if extension:
        info["extension"] = extension.group(1).lower()
        stem = stem[: extension.start()]
    for key, pattern in (("resolution", _RESOLUTION), ("codec", _CODEC), ("source", _SOURCE)):
        found = pattern.search(stem)
        if found:
            info[key] = found.group(1)
    group = _GROUP.search(stem)
    if group and not group.group("group").isdigit():
        info["group"] = group.group("group")
    episode = _first_episode(stem)
    # Only the first accepted marker counts; when it starts the name (after an opener) there is
    # no show, and a year is looked for instead.
    if episode is not None and episode[0] > 0:
        start, marker = episode
        info["show"] = _words(stem[:start])
        info.update(marker)
        return info
    # The last plausible year counts: "2001 A Space Odyssey 1968" is from 1968.
    year = next(reversed(list(_FILM_YEAR.finditer(stem))), None)
    if year and year.start() > 0:
        info["title"] = _words(stem[: year.start()])
        info["year"] = int(year.group("year"))
    return info
