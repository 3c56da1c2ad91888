"""What a tree watch command template sees for one metafile: its variables, the ``h`` helpers, and
the path flags."""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Final

from pyrotorque.bunch import Bunch
from pyrotorque.conditions.fields import announce_alias
from pyrotorque.conditions.traits import detect_traits, file_histogram
from pyrotorque.durations import format_duration
from pyrotorque.names import release_details, release_kind
from pyrotorque.rtorrent.commands import rtorrent_escape
from pyrotorque.sizes import human_size

if TYPE_CHECKING:
    from pyrotorque.metafile import Metafile


def path_flags(pathname: Path, root: Path) -> frozenset[str]:
    """Flags of a metafile: its path components below ``root`` and the dot-parts of its file name.

    ``root/tv/start/foo.torrent`` and ``root/movies/foo.start.torrent`` both carry ``start``;
    folders above the root never count. A path outside ``root`` gives only the file name parts.
    """
    # String operations, not PurePosixPath: this runs for every file loaded.
    parent, name = os.path.split(os.path.abspath(pathname))
    base = os.path.abspath(root)
    prefix = base if base.endswith("/") else base + "/"
    below = parent[len(prefix) :].split("/") if f"{parent}/".startswith(prefix) else []
    return frozenset(part for part in (*below, name, *name.split(".")) if part and part != ".")


def _main_file(metafile: Metafile) -> str:
    """The file name that decides ``filetype``: the name of a single file, else the largest file."""
    if not metafile.is_multi_file or not metafile.files:
        return metafile.name
    parts, _length = max(metafile.files, key=lambda entry: (entry[1], entry[0][-1] if entry[0] else ""))
    return parts[-1] if parts else ""


def _iso(timestamp: float) -> str:
    """A Unix time as local ``YYYY-MM-DD HH:MM:SS``."""
    return datetime.fromtimestamp(float(timestamp)).isoformat(" ", "seconds")


def _duration(seconds: float) -> str:
    """Seconds as ``1d 2h 3m 4s`` (zero parts left out, no weeks)."""
    return format_duration(seconds)


def _pathname(path: str) -> str:
    """The file name without its last extension (``/a/b.c.torrent`` -> ``b.c``)."""
    return os.path.splitext(os.path.basename(path))[0]


def _percent(ratio: float) -> str:
    """A ratio as a percentage: ``0.25`` -> ``25.0%``."""
    return f"{float(ratio) * 100:.1f}%"


def _subst(pattern: str, replacement: str, text: str) -> str:
    """``re.sub`` with the text last, so it reads well in a template."""
    return re.sub(pattern, replacement, str(text))


def _json(value: Any) -> str:
    """A value as JSON with sorted keys."""
    return json.dumps(value, sort_keys=True, default=str)


def _rtescape(text: Any) -> str:
    """One more level of escaping, for a value inside a command string rTorrent parses again."""
    return rtorrent_escape(str(text))


#: The helper functions of a template, by name.
HELPER_FUNCTIONS: Final[Mapping[str, Callable[..., Any]]] = {
    "sz": human_size,
    "iso": _iso,
    "duration": _duration,
    "pc": _percent,
    "strip": lambda text: str(text).strip(),
    "subst": _subst,
    "json": _json,
    "mtime": os.path.getmtime,
    "now": time.time,
    "pathbase": os.path.basename,
    "pathname": _pathname,
    "pathext": lambda path: os.path.splitext(path)[1],
    "pathdir": os.path.dirname,
    "rtescape": _rtescape,
}


class Helpers:
    """The ``h`` object of a template: each helper function as an attribute (``h.pathname``)."""

    def __init__(self, functions: Mapping[str, Callable[..., Any]]) -> None:
        self.__dict__.update(functions)

    def __getattr__(self, name: str) -> Any:  # only reached for unknown names
        raise AttributeError(f"no helper h.{name}; known: {', '.join(sorted(HELPER_FUNCTIONS))}")


HELPERS: Final = Helpers(HELPER_FUNCTIONS)


def _label_and_traits(metafile: Metafile) -> tuple[str, Bunch]:
    """The ``label`` (content class and main extension, e.g. ``tv/mkv``) and the ``traits`` of a metafile."""
    histogram = file_histogram(("/".join(parts), length) for parts, length in metafile.files)
    label_parts = detect_traits(metafile.name, histogram)
    if label_parts:
        kind = label_parts[0] if label_parts[0] in ("tv", "movie") else None
    else:
        kind = release_kind(metafile.name)
    # kind and the details come from two rules that disagree on some names (see names.py),
    # and templates rely on both as they are.
    traits = Bunch(release_details(metafile.name))
    traits["kind"] = kind
    return "/".join(label_parts), traits


def template_namespace(
    metafile: Metafile,
    pathname: Path,
    root: Path,
    roots: Sequence[Path],
    aliases: Mapping[str, Sequence[str]],
) -> dict[str, Any]:
    """The variables and helpers a load command template sees for one metafile under ``root``.

    ``pathname`` must lie under ``root`` (one of ``roots``); raises ValueError otherwise.
    """
    absolute = os.path.abspath(pathname)
    base = os.path.abspath(root)
    relative = PurePosixPath(absolute).parent.relative_to(PurePosixPath(base))
    label, traits = _label_and_traits(metafile)
    namespace: dict[str, Any] = {
        name: function for name, function in HELPER_FUNCTIONS.items() if name != "pathname"
    }
    namespace.update(
        h=HELPERS,
        pathname=absolute,
        info_hash=metafile.info_hash,
        info_name=metafile.name,
        tracker_alias=announce_alias(metafile.announce, aliases),
        watch_path=tuple(os.path.abspath(path) for path in roots),
        relpath="" if str(relative) == "." else str(relative),
        flags=path_flags(Path(absolute), Path(base)),
        filetype=os.path.splitext(_main_file(metafile))[1],
        traits=traits,
        label=label,
        size=metafile.size,
        commands=[],
    )
    return namespace
