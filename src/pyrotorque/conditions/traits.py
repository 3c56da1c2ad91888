"""File type histograms (``kind_N``) and content traits (``traits``) of an item, from its file list.

Whether a video or an archive is a show or a film is the name's to say: :mod:`pyrotorque.names`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any, Final

from pyrotorque.names import release_kind

__all__ = [
    "TRAIT_EXTENSIONS",
    "FileList",
    "detect_traits",
    "extension_of",
    "file_histogram",
    "histogram_of",
    "kinds_at_least",
]

# Which content class each file extension belongs to (our own tables).
TRAIT_EXTENSIONS: Final[dict[str, frozenset[str]]] = {
    "audio": frozenset(
        {"flac", "mp3", "ogg", "opus", "wav", "dts", "ac3", "alac", "wma", "m4a", "aac", "ape"}
    ),
    "video": frozenset(
        {"avi", "mkv", "m4v", "vob", "mp4", "mpg", "m2ts", "ts", "ogv", "wmv", "webm", "mov", "divx"}
    ),
    "img": frozenset({"jpg", "png", "gif", "tif", "bmp", "svg", "webp"}),
    "docs": frozenset(
        {
            "chm",
            "pdf",
            "cbr",
            "cbz",
            "odt",
            "ods",
            "doc",
            "docx",
            "xls",
            "ppt",
            "epub",
            "mobi",
            "azw3",
            "djvu",
        }
    ),
    "misc": frozenset({"rar", "zip", "7z", "tgz", "bz2", "iso", "bin", "img"}),
}
# Containers whose content could be a show or a film, so a name pattern may refine them.
_REFINABLE: Final = frozenset({"video", "misc"})
_ALIASES: Final = {"jpeg": "jpg", "mpeg": "mpg", "tiff": "tif", "htm": "html"}
_RAR_PART: Final = re.compile(r"r\d\d")


def extension_of(path: str) -> str:
    """The normalized extension of a file path: lower-case, no dot; ``rNN`` counts as ``rar``."""
    base = path.rsplit("/", 1)[-1]
    if "." not in base:
        return ""
    extension = base.rsplit(".", 1)[-1].lower()
    if _RAR_PART.fullmatch(extension):
        return "rar"
    return _ALIASES.get(extension, extension)


class FileList(list[list[Any]]):
    """An item's ``(path, size)`` rows; remembers its histogram, as several fields need it."""

    histogram: dict[str, int] | None = None


def histogram_of(files: Sequence[Sequence[Any]]) -> dict[str, int]:
    """:func:`file_histogram`, computed once per :class:`FileList`."""
    if isinstance(files, FileList):
        if files.histogram is None:
            files.histogram = file_histogram(files)
        return files.histogram
    return file_histogram(files)


def file_histogram(files: Iterable[Sequence[Any]]) -> dict[str, int]:
    """Map each extension to its rounded percentage of the total size (files are ``(path, size)``)."""
    sizes: dict[str, int] = {}
    total = 0
    for entry in files:
        path, size = str(entry[0]), int(entry[1] or 0)
        extension = extension_of(path)
        sizes[extension] = sizes.get(extension, 0) + size
        total += size
    if total <= 0:
        # Empty payloads still have types: count files instead of bytes.
        counts: dict[str, int] = {}
        for entry in files:
            extension = extension_of(str(entry[0]))
            counts[extension] = counts.get(extension, 0) + 1
        number = sum(counts.values())
        return {ext: (count * 100 + number // 2) // number for ext, count in counts.items()} if number else {}
    return {ext: (size * 100 + total // 2) // total for ext, size in sizes.items()}


def kinds_at_least(histogram: dict[str, int], percent: int) -> frozenset[str]:
    """The (non-empty) extensions that make up at least ``percent`` % of the size."""
    return frozenset(ext for ext, share in histogram.items() if ext and share >= percent)


def detect_traits(name: str, histogram: dict[str, int]) -> tuple[str, ...]:
    """``(class, extension)`` of the main file type (more than half the size), or ``()``."""
    main = next((ext for ext, share in histogram.items() if ext and share > 50), None)
    if main is None:
        return ()
    for trait, extensions in TRAIT_EXTENSIONS.items():
        if main in extensions:
            if trait in _REFINABLE:
                trait = release_kind(name) or trait
            return (trait, main)
    return ()
